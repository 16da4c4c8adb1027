/** Compact containers for the in-memory receive index: no per-element objects. */

/** A growable ring buffer of (seq, sentAt) pairs. */
export class PairDeque {
  private a: Float64Array;
  private b: Float64Array;
  private head = 0;
  private len = 0;

  constructor(capacity = 16) {
    this.a = new Float64Array(capacity);
    this.b = new Float64Array(capacity);
  }

  get length(): number {
    return this.len;
  }

  push(seq: number, sentAt: number): void {
    if (this.len === this.a.length) this.grow();
    const i = (this.head + this.len) % this.a.length;
    this.a[i] = seq;
    this.b[i] = sentAt;
    this.len++;
  }

  /** seq at position i from the front */
  seqAt(i: number): number {
    return this.a[(this.head + i) % this.a.length];
  }

  sentAt(i: number): number {
    return this.b[(this.head + i) % this.b.length];
  }

  shift(): number {
    const seq = this.a[this.head];
    this.head = (this.head + 1) % this.a.length;
    this.len--;
    if (this.len === 0) this.head = 0;
    else if (this.a.length > 1024 && this.len < this.a.length / 4) this.shrink();
    return seq;
  }

  /** Removes the element at position i (used near the front: FIFO groups). */
  removeAt(i: number): void {
    for (let j = i; j > 0; j--) {
      const to = (this.head + j) % this.a.length;
      const from = (this.head + j - 1) % this.a.length;
      this.a[to] = this.a[from];
      this.b[to] = this.b[from];
    }
    this.shift();
  }

  indexOf(seq: number, limit = this.len): number {
    const n = Math.min(limit, this.len);
    for (let i = 0; i < n; i++) if (this.seqAt(i) === seq) return i;
    return -1;
  }

  clear(): void {
    this.head = 0;
    this.len = 0;
  }

  private resize(capacity: number): void {
    const a = new Float64Array(capacity);
    const b = new Float64Array(capacity);
    for (let i = 0; i < this.len; i++) {
      a[i] = this.seqAt(i);
      b[i] = this.sentAt(i);
    }
    this.a = a;
    this.b = b;
    this.head = 0;
  }

  private grow(): void {
    this.resize(this.a.length * 2);
  }

  private shrink(): void {
    this.resize(Math.max(16, this.a.length / 2));
  }
}

/**
 * A binary min-heap of (time, seq), ordered by time then seq (so messages due at the same
 * moment come out oldest first); entries may go stale and are checked by the caller.
 */
export class TimeHeap {
  private at: number[] = [];
  private seq: number[] = [];

  get size(): number {
    return this.at.length;
  }

  push(at: number, seq: number): void {
    const a = this.at;
    const s = this.seq;
    let i = a.length;
    a.push(at);
    s.push(seq);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] < at || (a[p] === at && s[p] <= seq)) break;
      a[i] = a[p];
      s[i] = s[p];
      i = p;
    }
    a[i] = at;
    s[i] = seq;
  }

  peekAt(): number {
    return this.at.length ? this.at[0] : Infinity;
  }

  peekSeq(): number {
    return this.seq[0];
  }

  pop(): void {
    const a = this.at;
    const s = this.seq;
    const lastAt = a.pop()!;
    const lastSeq = s.pop()!;
    const n = a.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (a[c + 1] < a[c] || (a[c + 1] === a[c] && s[c + 1] < s[c]))) c++;
      if (a[c] > lastAt || (a[c] === lastAt && s[c] >= lastSeq)) break;
      a[i] = a[c];
      s[i] = s[c];
      i = c;
    }
    a[i] = lastAt;
    s[i] = lastSeq;
  }

  clear(): void {
    this.at = [];
    this.seq = [];
  }
}
