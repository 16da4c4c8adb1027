/**
 * The SQS module's state on the embedded log, and how it is kept: the message table
 * (table.ts), the FIFO deduplication window and receive attempts, the receive index of each
 * queue; the records every change appends; the replay that rebuilds it all at start; the
 * snapshot and compaction hooks of store/log/upkeep.ts. The SQS verbs (messages.ts) build on it.
 */
import { Reader, type Writer } from '../../log/codec.js';
import { segmentOf, type SegmentLog } from '../../log/segment-log.js';
import { Upkeep, type LogModule } from '../../log/upkeep.js';
import { QueueIndex } from '../queue-index.js';
import type { QueueRef, QueueRow } from '../types.js';
import { type Body, patchSendState, readSendBody, readSendState, T, writeSend } from './records.js';
import { MsgTable, type MsgState } from './table.js';

/** estimated snapshot bytes per message */
const SNAP_BYTES_PER_MSG = 72;

/** How far sequence numbers jump after an unclean stop (more than one process ever hands out unsynced). */
const SEQ_GAP = 2 ** 24;

export interface Dedup {
  messageId: string;
  seq: number;
  expiresAt: number;
}
export interface Attempt {
  expiresAt: number;
  /** [seq, receive count, received at] of each message the attempt returned */
  list: number[];
}

export const dedupKey = (queueId: number, scope: string, dedupId: string) => `${queueId}\u0000${scope}\u0000${dedupId}`;
export const attemptKey = (queueId: number, attemptId: string) => `${queueId}\u0000${attemptId}`;

export class MessageState implements LogModule {
  readonly t = new MsgTable();
  readonly dedup = new Map<string, Dedup>();
  readonly attempts = new Map<string, Attempt>();
  private readonly indexes = new Map<number, QueueIndex>();
  nextSeq = 1;
  readonly upkeep: Upkeep;

  constructor(
    readonly log: SegmentLog,
    protected readonly queue: (id: number) => QueueRow | undefined,
    opts: { snapshotDir?: string; durability: 'fsync' | 'os' },
  ) {
    this.upkeep = new Upkeep(this, opts.snapshotDir, 'sqs', opts.durability === 'fsync');
  }

  // ── snapshot and compaction (store/log/upkeep.ts) ─────────────────────────

  snapshotBytes(): number {
    return this.t.count * SNAP_BYTES_PER_MSG;
  }

  snapshot(w: Writer): void {
    const t = this.t;
    w.f64(this.nextSeq);
    w.u32(t.count);
    t.forEach((seq, i) => {
      w.f64(seq);
      w.f64(t.queueId[i]!);
      w.f64(t.visibleAt[i]!);
      w.f64(t.receiveCount[i]!);
      w.f64(t.sentAt[i]!);
      w.f64(t.firstReceiveAt[i]!);
      w.optStr(t.group[i]);
      w.f64(t.pos[i]!);
      w.f64(t.size[i]!);
    });
    w.u32(this.dedup.size);
    for (const [k, d] of this.dedup) {
      w.str(k);
      w.str(d.messageId);
      w.f64(d.seq);
      w.f64(d.expiresAt);
    }
    w.u32(this.attempts.size);
    for (const [k, a] of this.attempts) {
      w.str(k);
      w.f64(a.expiresAt);
      w.u32(a.list.length);
      for (const v of a.list) w.f64(v);
    }
  }

  restore(r: Reader): void {
    this.nextSeq = r.f64();
    const s: MsgState = { queueId: 0, visibleAt: 0, receiveCount: 0, sentAt: 0, firstReceiveAt: 0, group: null };
    const count = r.u32();
    this.t.reserve(count);
    for (let n = count; n > 0; n--) {
      const seq = r.f64();
      s.queueId = r.f64();
      s.visibleAt = r.f64();
      s.receiveCount = r.f64();
      s.sentAt = r.f64();
      s.firstReceiveAt = r.f64();
      s.group = r.optStr();
      const pos = r.f64();
      const size = r.f64();
      this.t.put(seq, s, pos, size);
      this.log.retain(pos, size);
    }
    for (let n = r.u32(); n > 0; n--) this.dedup.set(r.str(), { messageId: r.str(), seq: r.f64(), expiresAt: r.f64() });
    for (let n = r.u32(); n > 0; n--) {
      const key = r.str();
      const expiresAt = r.f64();
      const list: number[] = [];
      for (let k = r.u32(); k > 0; k--) list.push(r.f64());
      this.attempts.set(key, { expiresAt, list });
    }
  }

  /** Each live message in these segments gets its SEND record again, with its state as it is now. */
  relocate(segments: Set<number>): void {
    const { log, t } = this;
    t.forEach((_, i) => {
      if (!segments.has(segmentOf(t.pos[i]!))) return;
      const payload = log.read(t.pos[i]!, t.size[i]!);
      const pos = log.append(T.SEND, (w) => {
        w.ensure(payload.length);
        payload.copy(w.buf, w.n);
        patchSendState(w.buf, w.n, t.state(i));
        w.n += payload.length;
      });
      log.release(t.pos[i]!, t.size[i]!);
      t.pos[i] = pos;
      t.size[i] = log.lastSize;
      log.retain(pos, log.lastSize);
    });
  }

  /**
   * Rebuilds the state from the snapshot and the log after it; then builds every queue's index
   * as of `now`. Messages of queues that no longer exist are dropped.
   */
  load(now: number): void {
    const snapAt = this.upkeep.load();
    let tail = 0;
    this.log.replay(snapAt, (type, r, pos, size) => {
      tail++;
      this.apply(type, r, pos, size);
    });
    // records after the snapshot: the last stop was not clean (a clean one snapshots at the end)
    if (tail > 0) this.nextSeq += SEQ_GAP;
    const orphans = new Set<number>();
    const t = this.t;
    // in seq order: each queue's (and FIFO group's) messages come back in the order they were sent
    for (const i of t.ordered()) {
      const seq = t.seq[i]!;
      const q = this.queue(t.queueId[i]!);
      if (!q) {
        orphans.add(t.queueId[i]!);
        continue;
      }
      const inflight = t.receiveCount[i]! > 0 && t.visibleAt[i]! > now;
      this.index(q.id, q.fifo).add(seq, t.visibleAt[i]!, t.sentAt[i]!, t.group[i] ?? null, inflight, now);
    }
    // the queue's deletion reached the database but not its DROP record
    for (const id of orphans) this.forgetQueue(id);
  }

  /** Applies one record to the memory state (replay). */
  private apply(type: number, r: Reader, pos: number, size: number): void {
    const t = this.t;
    switch (type) {
      case T.SEND: {
        const { seq, m } = readSendState(r);
        const old = t.slot(seq);
        if (old !== undefined) this.log.release(t.pos[old]!, t.size[old]!);
        t.put(seq, m, pos, size);
        this.log.retain(pos, size);
        if (seq >= this.nextSeq) this.nextSeq = seq + 1;
        return;
      }
      case T.STATE: {
        for (let n = r.u32(); n > 0; n--) {
          const i = t.slot(r.f64());
          const visibleAt = r.f64();
          const receiveCount = r.f64();
          const firstReceiveAt = r.f64();
          if (i === undefined) continue;
          t.visibleAt[i] = visibleAt;
          t.receiveCount[i] = receiveCount;
          t.firstReceiveAt[i] = firstReceiveAt;
        }
        return;
      }
      case T.DELETE:
        for (let n = r.u32(); n > 0; n--) this.forget(r.f64());
        return;
      case T.DROP: {
        const queueId = r.f64();
        const upto = r.f64();
        t.forEach((seq, i) => {
          if (t.queueId[i] === queueId && seq <= upto) this.forget(seq);
        });
        return;
      }
      case T.DEDUP: {
        const key = dedupKey(r.f64(), r.str(), r.str());
        this.dedup.delete(key);
        this.dedup.set(key, { messageId: r.str(), seq: r.f64(), expiresAt: r.f64() });
        return;
      }
      case T.DEDUP_CLEAR:
        this.clearPrefix(this.dedup, r.f64());
        return;
      case T.ATTEMPT: {
        const key = attemptKey(r.f64(), r.str());
        const expiresAt = r.f64();
        const list: number[] = [];
        for (let n = r.u32() * 3; n > 0; n--) list.push(r.f64());
        this.attempts.delete(key);
        this.attempts.set(key, { expiresAt, list });
        return;
      }
      case T.ATTEMPT_CLEAR:
        this.clearPrefix(this.attempts, r.f64());
        return;
      case T.RESET:
        this.clearAll();
        return;
      default:
        throw new Error(`unknown SQS record type ${type}`);
    }
  }

  /** The message is gone: its slot is freed and its SEND record is dead. */
  protected forget(seq: number): void {
    const i = this.t.slot(seq);
    if (i === undefined) return;
    this.log.release(this.t.pos[i]!, this.t.size[i]!);
    this.t.remove(seq);
  }

  private clearPrefix(map: Map<string, unknown>, queueId: number): void {
    const prefix = `${queueId}\u0000`;
    for (const k of map.keys()) if (k.startsWith(prefix)) map.delete(k);
  }

  private clearAll(): void {
    const t = this.t;
    t.forEach((_, i) => this.log.release(t.pos[i]!, t.size[i]!));
    t.clear();
    this.dedup.clear();
    this.attempts.clear();
    this.indexes.clear();
  }

  index(queueId: number, fifo: boolean): QueueIndex {
    let ix = this.indexes.get(queueId);
    if (!ix) this.indexes.set(queueId, (ix = new QueueIndex(fifo)));
    return ix;
  }

  protected ix(q: QueueRef): QueueIndex {
    return this.index(q.id, q.fifo);
  }

  // ── records ───────────────────────────────────────────────────────────────

  /** Writes a message's SEND record (new, moved or rewritten) and puts its state; returns its slot. */
  protected appendSend(seq: number, s: MsgState, b: Body): number {
    const pos = this.log.append(T.SEND, (w) => writeSend(w, seq, s, b));
    const size = this.log.lastSize;
    const old = this.t.slot(seq);
    if (old !== undefined) this.log.release(this.t.pos[old]!, this.t.size[old]!);
    this.log.retain(pos, size);
    return this.t.put(seq, s, pos, size);
  }

  protected appendStates(seqs: number[]): void {
    if (seqs.length === 0) return;
    const t = this.t;
    this.log.append(T.STATE, (w) => {
      w.u32(seqs.length);
      for (const seq of seqs) {
        const i = t.slot(seq)!;
        w.f64(seq);
        w.f64(t.visibleAt[i]!);
        w.f64(t.receiveCount[i]!);
        w.f64(t.firstReceiveAt[i]!);
      }
    });
  }

  protected appendDeletes(seqs: number[]): void {
    if (seqs.length === 0) return;
    this.log.append(T.DELETE, (w) => {
      w.u32(seqs.length);
      for (const seq of seqs) w.f64(seq);
    });
  }

  /** The body fields of the message in slot i, read back from the log. */
  body(i: number): Body {
    return readSendBody(new Reader(this.log.read(this.t.pos[i]!, this.t.size[i]!)));
  }

  /** A message carried over from elsewhere (migration) with its seq and state. */
  carryOver(seq: number, state: MsgState, body: Body, now: number): void {
    const q = this.queue(state.queueId);
    if (!q) return;
    const known = this.t.slot(seq) !== undefined;
    this.appendSend(seq, state, body);
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    if (known) return;
    const inflight = state.receiveCount > 0 && state.visibleAt > now;
    this.index(q.id, q.fifo).add(seq, state.visibleAt, state.sentAt, state.group, inflight, now);
  }

  /** Remembers a deduplication id (re-inserted at the end: the map stays in expiry order for the sweep). */
  restoreDedup(queueId: number, scope: string, dedupId: string, messageId: string, seq: number, expiresAt: number) {
    const key = dedupKey(queueId, scope, dedupId);
    this.dedup.delete(key);
    this.dedup.set(key, { messageId, seq, expiresAt });
    this.log.append(T.DEDUP, (w) => {
      w.f64(queueId);
      w.str(scope);
      w.str(dedupId);
      w.str(messageId);
      w.f64(seq);
      w.f64(expiresAt);
    });
  }

  protected putAttempt(queueId: number, attemptId: string, expiresAt: number, list: number[]): void {
    const key = attemptKey(queueId, attemptId);
    this.attempts.delete(key);
    this.attempts.set(key, { expiresAt, list });
    this.log.append(T.ATTEMPT, (w) => {
      w.f64(queueId);
      w.str(attemptId);
      w.f64(expiresAt);
      w.u32(list.length / 3);
      for (const v of list) w.f64(v);
    });
  }

  protected appendClear(type: typeof T.DEDUP_CLEAR | typeof T.ATTEMPT_CLEAR, queueId: number): void {
    this.clearPrefix(type === T.DEDUP_CLEAR ? this.dedup : this.attempts, queueId);
    this.log.append(type, (w) => w.f64(queueId));
  }

  /** Every message of the queue sent so far is gone: from the index at once, and a DROP record says so. */
  protected dropMessages(queueId: number): void {
    const ix = this.indexes.get(queueId);
    const t = this.t;
    if (ix) {
      for (const seq of ix.sample(Infinity)) {
        const i = t.slot(seq);
        if (i !== undefined && t.queueId[i] === queueId) this.forget(seq);
      }
      ix.clear();
    } else {
      t.forEach((seq, i) => {
        if (t.queueId[i] === queueId) this.forget(seq);
      });
    }
    const upto = this.nextSeq - 1;
    this.log.append(T.DROP, (w) => {
      w.f64(queueId);
      w.f64(upto);
    });
  }

  protected forgetQueue(queueId: number): void {
    this.dropMessages(queueId);
    this.appendClear(T.DEDUP_CLEAR, queueId);
    this.appendClear(T.ATTEMPT_CLEAR, queueId);
    this.indexes.delete(queueId);
  }

  /** Admin reset: everything goes, and a RESET record says so to the next replay. */
  reset(): Promise<void> {
    this.clearAll();
    this.log.append(T.RESET, () => {});
    return this.log.durable();
  }
}
