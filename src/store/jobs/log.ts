/**
 * Durable internal queues on the embedded log: every job's state in memory (a time heap per
 * queue says which is due next), its payload only in the log. Enqueue, ack, retry, dead-letter
 * and purge are answered once their records are durable; a lease is answered at once (if a crash
 * loses its record, the job is only leased again sooner, which at-least-once work allows).
 */
import { randomUUID } from 'node:crypto';
import { Reader, type Writer } from '../log/codec.js';
import { segmentOf, type SegmentLog } from '../log/segment-log.js';
import { Upkeep, type LogModule } from '../log/upkeep.js';
import type { StoreModule } from '../kernel.js';
import { TimeHeap } from '../structures.js';
import type {
  DurableQueues,
  EnqueueOptions,
  Job,
  JobCounts,
  JobState,
  LeaseRef,
  NewJob,
  RetryOptions,
} from './types.js';

const T = { ENQ: 1, STATE: 2, DEL: 3, PURGE: 4, RESET: 5 } as const;
const LEASED = 1;
const DEAD = 2;
/** a member of its group (NewJob.group): written with the group's name after the state */
const GROUPED = 4;
const SNAP_BYTES_PER_JOB = 96;

interface Rec {
  queue: string;
  id: string;
  at: number;
  attempts: number;
  flags: number;
  lastError: string | null;
  enqueuedAt: number;
  group: string | null;
  pos: number;
  size: number;
}

interface Queue {
  /** id → seq */
  ids: Map<string, number>;
  /**
   * (at, seq) of every job that may be leased; entries go stale and are checked against the job
   * (a job waiting behind an earlier one of its group is pushed again when it heads the group)
   */
  heap: TimeHeap;
  /** group → the seqs of its members, in enqueue order: only the first may be leased */
  groups: Map<string, number[]>;
}

const member = (j: Rec) => (j.flags & (GROUPED | DEAD)) === GROUPED;

export class LogJobs implements DurableQueues, LogModule {
  private readonly jobs = new Map<number, Rec>();
  private readonly queues = new Map<string, Queue>();
  private nextSeq = 1;
  readonly upkeep: Upkeep;

  constructor(
    readonly log: SegmentLog,
    snapshotDir: string | undefined,
    sync: boolean,
    private readonly wake: (queue: string) => void,
  ) {
    this.upkeep = new Upkeep(this, snapshotDir, 'jobs', sync);
  }

  /** What the kernel runs: upkeep with the checkpoint, a snapshot and close at stop, reset. */
  module(): StoreModule {
    return {
      tables: [],
      maintain: () => this.upkeep.run(),
      close: async () => {
        await this.upkeep.snapshot();
        await this.log.close();
      },
      afterReset: () => {
        this.clear();
        this.log.append(T.RESET, () => {});
        return this.log.durable();
      },
    };
  }

  /** Rebuilds the state from the snapshot and the log after it. */
  load(): void {
    const from = this.upkeep.load();
    this.log.replay(from, (type, r, pos, size) => this.apply(type, r, pos, size));
    for (const [seq, j] of this.jobs) if (!(j.flags & DEAD)) this.q(j.queue).heap.push(j.at, seq);
  }

  private apply(type: number, r: Reader, pos: number, size: number): void {
    switch (type) {
      case T.ENQ: {
        const seq = r.f64();
        const rec = readState(r);
        this.put(seq, { ...rec, queue: r.str(), id: r.str(), pos, size });
        return;
      }
      case T.STATE: {
        const seq0 = r.f64();
        const j = this.jobs.get(seq0);
        const at = r.f64();
        const attempts = r.f64();
        const flags = r.u8();
        const lastError = r.optStr();
        if (!j) return;
        const was = member(j);
        j.at = at;
        j.attempts = attempts;
        j.flags = flags;
        j.lastError = lastError;
        if (was && !member(j)) this.leaveGroup(j.queue, seq0, j);
        return;
      }
      case T.DEL:
        for (let n = r.u32(); n > 0; n--) this.drop(r.f64());
        return;
      case T.PURGE:
        this.dropQueue(r.str());
        return;
      case T.RESET:
        this.clear();
        return;
      default:
        throw new Error(`unknown job record type ${type}`);
    }
  }

  private q(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = { ids: new Map(), heap: new TimeHeap(), groups: new Map() }));
    return q;
  }

  private put(seq: number, j: Rec): void {
    const old = this.jobs.get(seq);
    if (old) this.log.release(old.pos, old.size);
    this.jobs.set(seq, j);
    const q = this.q(j.queue);
    q.ids.set(j.id, seq);
    if (!old && member(j)) {
      // in enqueue order (seqs only grow, except when a restart replays them)
      let g = q.groups.get(j.group!);
      if (!g) q.groups.set(j.group!, (g = []));
      let i = g.length;
      while (i > 0 && g[i - 1]! > seq) i--;
      g.splice(i, 0, seq);
    }
    this.log.retain(j.pos, j.size);
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
  }

  /** Forgets the job; true when the next job of its group now heads it. */
  private drop(seq: number): boolean {
    const j = this.jobs.get(seq);
    if (!j) return false;
    const next = member(j) && this.leaveGroup(j.queue, seq, j);
    this.jobs.delete(seq);
    this.queues.get(j.queue)?.ids.delete(j.id);
    this.log.release(j.pos, j.size);
    return next;
  }

  /** The job leaves its group; when it headed the group the next member may now be leased. */
  private leaveGroup(queue: string, seq: number, j: Rec): boolean {
    const q = this.queues.get(queue);
    const g = q?.groups.get(j.group!);
    const i = g ? g.indexOf(seq) : -1;
    if (i < 0) return false;
    g!.splice(i, 1);
    if (g!.length === 0) q!.groups.delete(j.group!);
    else if (i === 0) {
      const next = this.jobs.get(g![0]!)!;
      q!.heap.push(next.at, g![0]!);
      return true;
    }
    return false;
  }

  /** waits behind an earlier job of its group */
  private waiting(q: Queue, seq: number, j: Rec): boolean {
    return member(j) && q.groups.get(j.group!)![0] !== seq;
  }

  /** The job a heap entry (at, seq) of the queue stands for, unless the entry went stale. */
  private current(queue: string, q: Queue, at: number, seq: number): Rec | undefined {
    const j = this.jobs.get(seq);
    if (!j || j.queue !== queue || j.flags & DEAD || j.at !== at || this.waiting(q, seq, j)) return undefined;
    return j;
  }

  private appendDel(seqs: number[]): void {
    this.log.append(T.DEL, (w) => {
      w.u32(seqs.length);
      for (const seq of seqs) w.f64(seq);
    });
  }

  private dropQueue(name: string): number {
    const q = this.queues.get(name);
    if (!q) return 0;
    const n = q.ids.size;
    for (const seq of [...q.ids.values()]) this.drop(seq);
    this.queues.delete(name);
    return n;
  }

  private clear(): void {
    for (const j of this.jobs.values()) this.log.release(j.pos, j.size);
    this.jobs.clear();
    this.queues.clear();
  }

  private appendEnq(seq: number, j: Omit<Rec, 'pos' | 'size'>, payload: Buffer): void {
    const pos = this.log.append(T.ENQ, (w) => {
      w.f64(seq);
      writeState(w, j);
      w.str(j.queue);
      w.str(j.id);
      w.bytes(payload);
    });
    this.put(seq, { ...j, pos, size: this.log.lastSize });
  }

  private appendState(seq: number, j: Rec): void {
    this.log.append(T.STATE, (w) => {
      w.f64(seq);
      w.f64(j.at);
      w.f64(j.attempts);
      w.u8(j.flags);
      w.optStr(j.lastError);
    });
  }

  private payload(j: Rec): Buffer {
    const r = new Reader(this.log.read(j.pos, j.size));
    r.f64();
    readState(r);
    r.str();
    r.str();
    return Buffer.from(r.bytes());
  }

  private job(j: Rec, now: number): Job {
    const out: Job = {
      queue: j.queue,
      id: j.id,
      payload: this.payload(j),
      at: j.at,
      attempts: j.attempts,
      enqueuedAt: j.enqueuedAt,
      state: stateOf(j, now),
    };
    if (j.lastError !== null) out.lastError = j.lastError;
    return out;
  }

  /** The job a lease names, if the lease still holds it. */
  private held(queue: string, lease: LeaseRef): [number, Rec] | undefined {
    const seq = this.queues.get(queue)?.ids.get(lease.id);
    const j = seq === undefined ? undefined : this.jobs.get(seq);
    if (!j || !(j.flags & LEASED) || j.flags & DEAD || j.attempts !== lease.attempt) return undefined;
    return [seq!, j];
  }

  // ── DurableQueues ─────────────────────────────────────────────────────────

  async enqueue(
    queue: string,
    jobs: NewJob[],
    now: number,
    opts: EnqueueOptions = {},
  ): Promise<{ id: string; duplicate: boolean }[]> {
    const q = this.q(queue);
    let due = false;
    const fresh = new Set<string>();
    const out = jobs.map((nj) => {
      const id = nj.id ?? randomUUID();
      let attempts = 0;
      const held = q.ids.get(id);
      if (held !== undefined) {
        const old = this.jobs.get(held)!;
        const expired =
          opts.expiredMark !== undefined &&
          !fresh.has(id) &&
          old.lastError === opts.expiredMark &&
          !(old.flags & DEAD) &&
          (old.flags & LEASED || old.at <= now);
        if (!expired) return { id, duplicate: true };
        // its window closed: the old job goes first, so a replay sees the id free again
        attempts = old.attempts;
        this.drop(held);
        this.appendDel([held]);
      }
      fresh.add(id);
      const seq = this.nextSeq++;
      const j = {
        queue,
        id,
        at: nj.dueAt,
        attempts,
        flags: nj.group === undefined ? 0 : GROUPED,
        lastError: null,
        enqueuedAt: now,
        group: nj.group ?? null,
      };
      this.appendEnq(seq, j, nj.payload);
      q.heap.push(j.at, seq);
      if (j.at <= now) due = true;
      return { id, duplicate: false };
    });
    await this.log.durable();
    if (due) this.wake(queue);
    return out;
  }

  async lease(queue: string, max: number, leaseMs: number, now: number): Promise<Job[]> {
    const q = this.queues.get(queue);
    if (!q) return [];
    const out: Job[] = [];
    const heap = q.heap;
    while (out.length < max && heap.size && heap.peekAt() <= now) {
      const at = heap.peekAt();
      const seq = heap.peekSeq();
      heap.pop();
      const j = this.current(queue, q, at, seq);
      if (!j) continue;
      j.attempts++;
      j.flags |= LEASED;
      j.at = now + leaseMs;
      heap.push(j.at, seq);
      this.appendState(seq, j);
      out.push(this.job(j, now));
    }
    return out;
  }

  async ack(queue: string, leases: LeaseRef[]): Promise<boolean[]> {
    const gone: number[] = [];
    let next = false;
    const out = leases.map((l) => {
      const h = this.held(queue, l);
      if (!h) return false;
      if (this.drop(h[0])) next = true;
      gone.push(h[0]);
      return true;
    });
    if (gone.length) {
      this.appendDel(gone);
      await this.log.durable();
    }
    if (next) this.wake(queue);
    return out;
  }

  async releaseLeases(queue: string, now: number): Promise<number> {
    const q = this.queues.get(queue);
    if (!q) return 0;
    let n = 0;
    for (const seq of q.ids.values()) {
      const j = this.jobs.get(seq);
      if (!j || j.flags & DEAD || !(j.flags & LEASED) || j.at <= now) continue;
      j.flags &= ~LEASED;
      j.at = now;
      q.heap.push(now, seq);
      this.appendState(seq, j);
      n++;
    }
    if (n) {
      await this.log.durable();
      this.wake(queue);
    }
    return n;
  }

  async retry(queue: string, lease: LeaseRef, at: number, error: string, opts: RetryOptions = {}): Promise<boolean> {
    const h = this.held(queue, lease);
    if (!h) return false;
    const [seq, j] = h;
    const next = opts.leaveGroup && member(j) && this.leaveGroup(queue, seq, j);
    if (opts.leaveGroup) j.flags &= ~GROUPED;
    j.flags &= ~LEASED;
    j.at = at;
    j.lastError = error;
    this.q(queue).heap.push(at, seq);
    this.appendState(seq, j);
    await this.log.durable();
    if (next) this.wake(queue);
    return true;
  }

  async deadLetter(queue: string, lease: LeaseRef, reason: string): Promise<boolean> {
    const h = this.held(queue, lease);
    if (!h) return false;
    const [seq, j] = h;
    const next = member(j) && this.leaveGroup(queue, seq, j);
    j.flags = DEAD;
    j.lastError = reason;
    this.appendState(seq, j);
    await this.log.durable();
    if (next) this.wake(queue);
    return true;
  }

  async inspect(queue: string, now: number, opts: { state?: JobState; limit: number }): Promise<Job[]> {
    const q = this.queues.get(queue);
    if (!q) return [];
    const picked: [number, Rec][] = [];
    for (const seq of q.ids.values()) {
      const j = this.jobs.get(seq)!;
      if (!opts.state || stateOf(j, now) === opts.state) picked.push([seq, j]);
    }
    picked.sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
    return picked.slice(0, opts.limit).map(([, j]) => this.job(j, now));
  }

  async counts(queue: string, now: number): Promise<JobCounts> {
    const c: JobCounts = { ready: 0, delayed: 0, leased: 0, dead: 0 };
    const q = this.queues.get(queue);
    if (q) for (const seq of q.ids.values()) c[stateOf(this.jobs.get(seq)!, now)]++;
    return c;
  }

  async nextDueAt(queue: string, now: number): Promise<number | undefined> {
    const q = this.queues.get(queue);
    if (!q) return undefined;
    // the heap's front may be stale: drop such entries (they would be skipped by lease anyway)
    const heap = q.heap;
    while (heap.size) {
      if (this.current(queue, q, heap.peekAt(), heap.peekSeq())) break;
      heap.pop();
    }
    if (!heap.size) return undefined;
    return heap.peekAt() > now ? heap.peekAt() : now;
  }

  async purge(queue: string): Promise<number> {
    const n = this.dropQueue(queue);
    this.log.append(T.PURGE, (w) => w.str(queue));
    await this.log.durable();
    return n;
  }

  // ── snapshot and compaction ───────────────────────────────────────────────

  snapshotBytes(): number {
    return this.jobs.size * SNAP_BYTES_PER_JOB;
  }

  snapshot(w: Writer): void {
    w.f64(this.nextSeq);
    w.u32(this.jobs.size);
    for (const [seq, j] of this.jobs) {
      w.f64(seq);
      writeState(w, j);
      w.str(j.queue);
      w.str(j.id);
      w.f64(j.pos);
      w.f64(j.size);
    }
  }

  restore(r: Reader): void {
    this.nextSeq = r.f64();
    for (let n = r.u32(); n > 0; n--) {
      const seq = r.f64();
      const s = readState(r);
      this.put(seq, { ...s, queue: r.str(), id: r.str(), pos: r.f64(), size: r.f64() });
    }
  }

  relocate(segments: Set<number>): void {
    for (const [seq, j] of this.jobs) {
      if (segments.has(segmentOf(j.pos))) this.appendEnq(seq, j, this.payload(j));
    }
  }
}

function writeState(w: Writer, j: Omit<Rec, 'pos' | 'size' | 'queue' | 'id'>): void {
  w.f64(j.at);
  w.f64(j.attempts);
  w.u8(j.flags);
  w.f64(j.enqueuedAt);
  w.optStr(j.lastError);
  if (j.flags & GROUPED) w.str(j.group!);
}

function readState(r: Reader): Omit<Rec, 'pos' | 'size' | 'queue' | 'id'> {
  const s = { at: r.f64(), attempts: r.f64(), flags: r.u8(), enqueuedAt: r.f64(), lastError: r.optStr() };
  return { ...s, group: s.flags & GROUPED ? r.str() : null };
}

function stateOf(j: Rec, now: number): JobState {
  if (j.flags & DEAD) return 'dead';
  if (j.flags & LEASED && j.at > now) return 'leased';
  return j.at <= now ? 'ready' : 'delayed';
}
