/**
 * The in-memory state of every message on the embedded log, as columns: one slot per message
 * in typed arrays (queue, visibility, receive count, times, where its SEND record is) and one
 * array of group ids, with an open-addressing hash from seq to slot, also in typed arrays. A
 * million messages cost about 85 MB (52 bytes of columns, 24 of index, 8 of group ids) and no
 * per-message objects, so the garbage collector has nothing to trace and a restart allocates nothing per message (a JavaScript Map of a million
 * entries costs more time to fill than everything else a restart does).
 */

/** The state a SEND record carries (everything but where the record is). */
export interface MsgState {
  queueId: number;
  visibleAt: number;
  receiveCount: number;
  sentAt: number;
  /** 0: never received */
  firstReceiveAt: number;
  group: string | null;
}

/** seq → slot: linear probing, deletion by backward shift (no tombstones); seq 0 marks a free cell */
class SeqIndex {
  private keys = new Float64Array(2048);
  private vals = new Int32Array(2048);
  private mask = 2047;
  size = 0;

  private home(seq: number): number {
    const lo = seq >>> 0;
    const hi = (seq / 4294967296) >>> 0;
    return (Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0) & this.mask;
  }

  get(seq: number): number | undefined {
    const keys = this.keys;
    for (let i = this.home(seq); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === seq) return this.vals[i];
      if (k === 0) return undefined;
    }
  }

  set(seq: number, slot: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    const keys = this.keys;
    for (let i = this.home(seq); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === seq || k === 0) {
        if (k === 0) this.size++;
        keys[i] = seq;
        this.vals[i] = slot;
        return;
      }
    }
  }

  delete(seq: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(seq);
    while (keys[i] !== seq) {
      if (keys[i] === 0) return;
      i = (i + 1) & mask;
    }
    this.size--;
    // shift back every later entry of the probe run that may sit in the freed cell
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const h = this.home(keys[j]!);
      if (j > i ? h <= i || h > j : h <= i && h > j) {
        keys[i] = keys[j]!;
        this.vals[i] = this.vals[j]!;
        i = j;
      }
    }
    keys[i] = 0;
  }

  clear(): void {
    this.keys = new Float64Array(2048);
    this.vals = new Int32Array(2048);
    this.mask = 2047;
    this.size = 0;
  }

  /** Room for n entries without growing. */
  reserve(n: number): void {
    let cap = this.keys.length;
    while (cap < n * 2) cap *= 2;
    if (cap > this.keys.length) this.rehash(cap);
  }

  private rehash(cap: number): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.set(keys[i]!, vals[i]!);
  }
}

export class MsgTable {
  private readonly slots = new SeqIndex();
  private free: number[] = [];
  private top = 0;
  // queue ids, receive counts and record sizes fit 32 bits; times, positions and seqs do not
  queueId = new Int32Array(1024);
  visibleAt = new Float64Array(1024);
  receiveCount = new Int32Array(1024);
  sentAt = new Float64Array(1024);
  firstReceiveAt = new Float64Array(1024);
  pos = new Float64Array(1024);
  size = new Int32Array(1024);
  /** the seq in each slot, 0 when the slot is free */
  seq = new Float64Array(1024);
  group: (string | null)[] = [];

  get count(): number {
    return this.slots.size;
  }

  slot(seq: number): number | undefined {
    return this.slots.get(seq);
  }

  /** Adds a message, or replaces the state of one the table holds; returns its slot. */
  put(seq: number, s: MsgState, pos: number, size: number): number {
    let i = this.slots.get(seq);
    if (i === undefined) {
      i = this.free.length ? this.free.pop()! : this.top++;
      if (i >= this.queueId.length) this.grow(this.queueId.length * 2);
      this.slots.set(seq, i);
      this.seq[i] = seq;
    }
    this.queueId[i] = s.queueId;
    this.visibleAt[i] = s.visibleAt;
    this.receiveCount[i] = s.receiveCount;
    this.sentAt[i] = s.sentAt;
    this.firstReceiveAt[i] = s.firstReceiveAt;
    this.group[i] = s.group;
    this.pos[i] = pos;
    this.size[i] = size;
    return i;
  }

  remove(seq: number): void {
    const i = this.slots.get(seq);
    if (i === undefined) return;
    this.slots.delete(seq);
    this.seq[i] = 0;
    this.group[i] = null;
    this.free.push(i);
  }

  state(i: number): MsgState {
    return {
      queueId: this.queueId[i]!,
      visibleAt: this.visibleAt[i]!,
      receiveCount: this.receiveCount[i]!,
      sentAt: this.sentAt[i]!,
      firstReceiveAt: this.firstReceiveAt[i]!,
      group: this.group[i] ?? null,
    };
  }

  /** Calls fn(seq, slot) for every message, in no particular order; fn may remove it. */
  forEach(fn: (seq: number, slot: number) => void): void {
    const seqs = this.seq;
    for (let i = 0; i < this.top; i++) if (seqs[i] !== 0) fn(seqs[i]!, i);
  }

  /** The slots of every message in seq order. */
  ordered(): Int32Array {
    const out = new Int32Array(this.count);
    let n = 0;
    for (let i = 0; i < this.top; i++) if (this.seq[i] !== 0) out[n++] = i;
    const seqs = this.seq;
    return out.sort((a, b) => seqs[a]! - seqs[b]!);
  }

  /** Room for n messages without growing (a restart knows how many come). */
  reserve(n: number): void {
    let cap = this.queueId.length;
    while (cap < n) cap *= 2;
    if (cap > this.queueId.length) this.grow(cap);
    this.slots.reserve(n);
  }

  clear(): void {
    this.slots.clear();
    this.free = [];
    this.seq.fill(0, 0, this.top);
    this.top = 0;
    this.group = [];
  }

  private grow(n: number): void {
    const g = <A extends Float64Array | Int32Array>(a: A): A => {
      const b = new (a.constructor as new (n: number) => A)(n);
      b.set(a);
      return b;
    };
    this.queueId = g(this.queueId);
    this.visibleAt = g(this.visibleAt);
    this.receiveCount = g(this.receiveCount);
    this.sentAt = g(this.sentAt);
    this.firstReceiveAt = g(this.firstReceiveAt);
    this.pos = g(this.pos);
    this.size = g(this.size);
    this.seq = g(this.seq);
  }
}
