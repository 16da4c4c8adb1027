/**
 * SQS messages on the embedded log. The state of every message (queue, visibility, receive
 * count, times, group, where its body is) lives in memory; the body lives only in the log. Each
 * verb changes the memory state and appends one record per operation (a SEND per message), so
 * the log replayed from the last snapshot rebuilds exactly this state.
 *
 * What waits for the disk (see PARITY.md): send, delete, visibility changes, purges, moves and
 * queue deletion are answered once their records are durable. A receive is answered at once: if
 * a crash loses its record, the message only becomes visible again sooner, as at-least-once
 * delivery allows. Because a receive can hand out a message whose SEND record a crash then loses,
 * sequence numbers restart well above the last one the log holds after an unclean stop, so a
 * receipt handle never names a later message.
 */
import { randomUUID } from 'node:crypto';
import { Reader, type Writer } from '../../log/codec.js';
import { segmentOf, type SegmentLog } from '../../log/segment-log.js';
import { Upkeep, type LogModule } from '../../log/upkeep.js';
import { decodeExtras, encodeExtras, sequenceNumber } from '../codec.js';
import { ATTEMPT_WINDOW_MS, DEDUP_WINDOW_MS, exceedsMaxReceives, expired } from '../rules.js';
import type {
  DeleteOutcome,
  MessageCounts,
  NewMessage,
  PeekedMessage,
  QueueRef,
  QueueRow,
  ReceiptRef,
  ReceiveOptions,
  SendResult,
  StoredMessage,
  VisibilityOutcome,
} from '../types.js';
import { QueueIndex } from '../queue-index.js';
import { type Body, type Msg, patchSendState, readSendBody, readSendState, T, writeSend } from './records.js';

/** estimated snapshot bytes per message */
const SNAP_BYTES_PER_MSG = 72;

/** How far sequence numbers jump after an unclean stop (more than one process ever hands out unsynced). */
const SEQ_GAP = 2 ** 24;

interface Dedup {
  messageId: string;
  seq: number;
  expiresAt: number;
}
interface Attempt {
  expiresAt: number;
  /** [seq, receive count, received at] of each message the attempt returned */
  list: number[];
}

const dedupKey = (queueId: number, scope: string, dedupId: string) => `${queueId}\u0000${scope}\u0000${dedupId}`;
const attemptKey = (queueId: number, attemptId: string) => `${queueId}\u0000${attemptId}`;

export class LogMessages implements LogModule {
  readonly msgs = new Map<number, Msg>();
  readonly dedup = new Map<string, Dedup>();
  readonly attempts = new Map<string, Attempt>();
  private readonly indexes = new Map<number, QueueIndex>();
  nextSeq = 1;
  readonly upkeep: Upkeep;

  constructor(
    readonly log: SegmentLog,
    private readonly queue: (id: number) => QueueRow | undefined,
    private readonly notify: (queueId: number) => void,
    opts: { snapshotDir?: string; durability: 'fsync' | 'os' },
  ) {
    this.upkeep = new Upkeep(this, opts.snapshotDir, 'sqs', opts.durability === 'fsync');
  }

  // ── snapshot and compaction (store/log/upkeep.ts) ─────────────────────────

  snapshotBytes(): number {
    return this.msgs.size * SNAP_BYTES_PER_MSG;
  }

  snapshot(w: Writer): void {
    w.f64(this.nextSeq);
    w.u32(this.msgs.size);
    for (const [seq, m] of this.msgs) {
      w.f64(seq);
      w.f64(m.queueId);
      w.f64(m.visibleAt);
      w.f64(m.receiveCount);
      w.f64(m.sentAt);
      w.f64(m.firstReceiveAt);
      w.optStr(m.group);
      w.f64(m.pos);
      w.f64(m.size);
    }
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
    for (let n = r.u32(); n > 0; n--) {
      const seq = r.f64();
      const m: Msg = {
        queueId: r.f64(),
        visibleAt: r.f64(),
        receiveCount: r.f64(),
        sentAt: r.f64(),
        firstReceiveAt: r.f64(),
        group: r.optStr(),
        pos: r.f64(),
        size: r.f64(),
      };
      this.msgs.set(seq, m);
      this.log.retain(m.pos, m.size);
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
    const log = this.log;
    for (const m of this.msgs.values()) {
      if (!segments.has(segmentOf(m.pos))) continue;
      const payload = log.read(m.pos, m.size);
      const pos = log.append(T.SEND, (w) => {
        w.ensure(payload.length);
        payload.copy(w.buf, w.n);
        patchSendState(w.buf, w.n, m);
        w.n += payload.length;
      });
      log.release(m.pos, m.size);
      m.pos = pos;
      m.size = log.lastSize;
      log.retain(m.pos, m.size);
    }
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
    for (const [seq, m] of this.msgs) {
      const q = this.queue(m.queueId);
      if (!q) {
        orphans.add(m.queueId);
        continue;
      }
      const inflight = m.receiveCount > 0 && m.visibleAt > now;
      this.index(m.queueId, q.fifo).add(seq, m.visibleAt, m.sentAt, m.group, inflight, now);
    }
    // the queue's deletion reached the database but not its DROP record
    for (const id of orphans) this.forgetQueue(id);
  }

  /** Applies one record to the memory state (replay). */
  private apply(type: number, r: Reader, pos: number, size: number): void {
    switch (type) {
      case T.SEND: {
        const { seq, m } = readSendState(r);
        const old = this.msgs.get(seq);
        if (old) this.log.release(old.pos, old.size);
        this.msgs.set(seq, { ...m, pos, size });
        this.log.retain(pos, size);
        if (seq >= this.nextSeq) this.nextSeq = seq + 1;
        return;
      }
      case T.STATE: {
        for (let n = r.u32(); n > 0; n--) {
          const seq = r.f64();
          const visibleAt = r.f64();
          const receiveCount = r.f64();
          const firstReceiveAt = r.f64();
          const m = this.msgs.get(seq);
          if (!m) continue;
          m.visibleAt = visibleAt;
          m.receiveCount = receiveCount;
          m.firstReceiveAt = firstReceiveAt;
        }
        return;
      }
      case T.DELETE:
        for (let n = r.u32(); n > 0; n--) this.forgetMsg(r.f64());
        return;
      case T.DROP: {
        const queueId = r.f64();
        const upto = r.f64();
        for (const [seq, m] of this.msgs) if (m.queueId === queueId && seq <= upto) this.forgetMsg(seq);
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

  private forgetMsg(seq: number): void {
    const m = this.msgs.get(seq);
    if (!m) return;
    this.msgs.delete(seq);
    this.log.release(m.pos, m.size);
  }

  private clearPrefix(map: Map<string, unknown>, queueId: number): void {
    const prefix = `${queueId}\u0000`;
    for (const k of map.keys()) if (k.startsWith(prefix)) map.delete(k);
  }

  private clearAll(): void {
    for (const m of this.msgs.values()) this.log.release(m.pos, m.size);
    this.msgs.clear();
    this.dedup.clear();
    this.attempts.clear();
    this.indexes.clear();
  }

  index(queueId: number, fifo: boolean): QueueIndex {
    let ix = this.indexes.get(queueId);
    if (!ix) this.indexes.set(queueId, (ix = new QueueIndex(fifo)));
    return ix;
  }

  private ix(q: QueueRef): QueueIndex {
    return this.index(q.id, q.fifo);
  }

  // ── records ───────────────────────────────────────────────────────────────

  private appendSend(seq: number, m: Omit<Msg, 'pos' | 'size'>, b: Body): Msg {
    const pos = this.log.append(T.SEND, (w) => writeSend(w, seq, m, b));
    const size = this.log.lastSize;
    const old = this.msgs.get(seq);
    if (old) {
      this.log.release(old.pos, old.size);
      old.queueId = m.queueId;
      old.visibleAt = m.visibleAt;
      old.receiveCount = m.receiveCount;
      old.sentAt = m.sentAt;
      old.firstReceiveAt = m.firstReceiveAt;
      old.pos = pos;
      old.size = size;
      this.log.retain(pos, size);
      return old;
    }
    const msg: Msg = { ...m, pos, size };
    this.msgs.set(seq, msg);
    this.log.retain(pos, size);
    return msg;
  }

  private appendStates(seqs: number[]): void {
    if (seqs.length === 0) return;
    this.log.append(T.STATE, (w) => {
      w.u32(seqs.length);
      for (const seq of seqs) {
        const m = this.msgs.get(seq)!;
        w.f64(seq);
        w.f64(m.visibleAt);
        w.f64(m.receiveCount);
        w.f64(m.firstReceiveAt);
      }
    });
  }

  private appendDeletes(seqs: number[]): void {
    if (seqs.length === 0) return;
    this.log.append(T.DELETE, (w) => {
      w.u32(seqs.length);
      for (const seq of seqs) w.f64(seq);
    });
  }

  /** The body fields of a message, read back from the log. */
  body(m: Msg): Body {
    return readSendBody(new Reader(this.log.read(m.pos, m.size)));
  }

  /** A message carried over from elsewhere (migration) with its seq and state. */
  carryOver(seq: number, state: Omit<Msg, 'pos' | 'size'>, body: Body, now: number): void {
    const q = this.queue(state.queueId);
    if (!q) return;
    const known = this.msgs.has(seq);
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

  // ── send ──────────────────────────────────────────────────────────────────

  async send(queue: QueueRef, messages: NewMessage[], now: number): Promise<SendResult[]> {
    const out: SendResult[] = [];
    const ix = this.ix(queue);
    let visibleNow = false;
    for (const msg of messages) {
      if (queue.fifo) {
        const dup = this.findDup(queue, msg, now);
        if (dup) {
          out.push({ messageId: dup.messageId, sequenceNumber: sequenceNumber(dup.seq), duplicate: true });
          continue;
        }
      }
      const seq = this.nextSeq++;
      const state = {
        queueId: queue.id,
        visibleAt: now + msg.delayMs,
        receiveCount: 0,
        sentAt: now,
        firstReceiveAt: 0,
        group: msg.groupId ?? null,
      };
      this.appendSend(seq, state, {
        messageId: msg.messageId,
        md5: msg.md5OfBody,
        senderId: msg.senderId,
        dedupId: msg.dedupId ?? null,
        attrs: encodeExtras(msg),
        body: msg.body,
      });
      ix.add(seq, state.visibleAt, now, state.group, false, now);
      if (state.visibleAt <= now) visibleNow = true;
      if (queue.fifo) {
        // a later message of the same batch may duplicate this one
        this.recordDup(queue, msg, seq, now + DEDUP_WINDOW_MS);
        out.push({ messageId: msg.messageId, sequenceNumber: sequenceNumber(seq), duplicate: false });
      } else out.push({ messageId: msg.messageId, duplicate: false });
    }
    await this.log.durable();
    if (visibleNow) this.notify(queue.id);
    return out;
  }

  private scope(queue: QueueRef, m: NewMessage): string {
    return queue.dedupScope === 'messageGroup' ? (m.groupId ?? '') : '';
  }

  private findDup(queue: QueueRef, m: NewMessage, now: number): Dedup | undefined {
    if (!m.dedupId) return undefined;
    const d = this.dedup.get(dedupKey(queue.id, this.scope(queue, m), m.dedupId));
    return d && d.expiresAt > now ? d : undefined;
  }

  private recordDup(queue: QueueRef, m: NewMessage, seq: number, expiresAt: number): void {
    if (!m.dedupId) return;
    this.restoreDedup(queue.id, this.scope(queue, m), m.dedupId, m.messageId, seq, expiresAt);
  }

  // ── receive ───────────────────────────────────────────────────────────────

  async receive(queue: QueueRef, opts: ReceiveOptions): Promise<StoredMessage[]> {
    if (queue.fifo && opts.attemptId) {
      const again = this.retryAttempt(queue, opts);
      if (again) return again;
    }
    const out: StoredMessage[] = [];
    const ix = this.ix(queue);
    const now = opts.now;
    const visibleAt = now + opts.visibilityMs;
    const delivered: number[] = [];
    const deleted: number[] = [];
    // With VisibilityTimeout=0 a message claimed in an earlier round is visible again at once:
    // it goes back to the index untouched, so each message appears at most once per response.
    const seen = new Set<number>();
    for (let round = 0; round < 8 && out.length < opts.max; round++) {
      const taken = ix.take(now, opts.max - out.length);
      let fresh = 0;
      for (const seq of taken) {
        const m = this.msgs.get(seq);
        if (seen.has(seq)) {
          if (m) ix.claimed(seq, visibleAt, m.sentAt, m.group);
          continue;
        }
        fresh++;
        if (!m || m.queueId !== queue.id || m.visibleAt > now) {
          ix.lost(seq, null);
          continue;
        }
        m.visibleAt = visibleAt;
        m.receiveCount++;
        if (m.firstReceiveAt === 0) m.firstReceiveAt = now;
        ix.claimed(seq, visibleAt, m.sentAt, m.group);
        seen.add(seq);
        if (expired(m.sentAt, queue.retentionMs, now)) {
          this.remove(ix, seq, m);
          deleted.push(seq);
          continue;
        }
        const redrive = queue.redrive;
        if (redrive && exceedsMaxReceives(m.receiveCount, redrive)) {
          const dlq = this.queue(redrive.deadLetterQueueId);
          if (dlq) {
            this.moveToDeadLetter(queue, seq, m, dlq, now);
            continue;
          }
        }
        delivered.push(seq);
        out.push(this.stored(seq, m, now));
      }
      if (fresh === 0) break;
    }
    this.appendDeletes(deleted);
    this.appendStates(delivered);
    // an attempt that found nothing pins nothing: its retry (or a long poll) looks again
    if (queue.fifo && opts.attemptId && out.length) {
      const list: number[] = [];
      for (const msg of out) list.push(msg.seq, msg.receiveCount, msg.receivedAt);
      this.putAttempt(queue.id, opts.attemptId, now + ATTEMPT_WINDOW_MS, list);
    }
    return out;
  }

  private stored(seq: number, m: Msg, receivedAt: number): StoredMessage {
    const b = this.body(m);
    const x = decodeExtras(b.attrs);
    const s: StoredMessage = {
      seq,
      messageId: b.messageId,
      body: b.body,
      md5OfBody: b.md5,
      sentAt: m.sentAt,
      receiveCount: m.receiveCount,
      firstReceiveAt: m.firstReceiveAt || receivedAt,
      receivedAt,
      senderId: b.senderId,
    };
    if (x.attributes) {
      s.attributes = x.attributes;
      if (x.md5OfAttributes) s.md5OfAttributes = x.md5OfAttributes;
    }
    if (x.systemAttributes) {
      s.systemAttributes = x.systemAttributes;
      if (x.md5OfSystemAttributes) s.md5OfSystemAttributes = x.md5OfSystemAttributes;
    }
    if (x.deadLetterSourceArn) s.deadLetterSourceArn = x.deadLetterSourceArn;
    if (m.group !== null) s.groupId = m.group;
    if (b.dedupId !== null) {
      s.dedupId = b.dedupId;
      s.sequenceNumber = sequenceNumber(seq);
    }
    return s;
  }

  private putAttempt(queueId: number, attemptId: string, expiresAt: number, list: number[]): void {
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

  private remove(ix: QueueIndex, seq: number, m: Msg): void {
    ix.removed(seq, m.group);
    this.forgetMsg(seq);
  }

  /**
   * The message keeps its id, body, attributes and receive count (ApproximateReceiveCount
   * counts receives across queues). A standard DLQ keeps the original enqueue time, so
   * retention counts from it; a FIFO DLQ resets it and takes the message id as the
   * deduplication id, as AWS documents. The claim of this receive is undone.
   */
  private moveToDeadLetter(queue: QueueRef, seq: number, m: Msg, dlq: QueueRow, now: number): void {
    const b = this.body(m);
    const x = decodeExtras(b.attrs);
    x.deadLetterSourceArn = queue.arn;
    const sentAt = dlq.fifo ? now : m.sentAt;
    this.ix(queue).removed(seq, m.group);
    this.appendSend(
      seq,
      {
        queueId: dlq.id,
        visibleAt: now,
        receiveCount: m.receiveCount - 1,
        sentAt,
        firstReceiveAt: m.firstReceiveAt,
        group: m.group,
      },
      { ...b, attrs: encodeExtras(x), dedupId: dlq.fifo ? b.messageId : b.dedupId },
    );
    this.index(dlq.id, dlq.fifo).add(seq, now, sentAt, m.group, false, now);
    setImmediate(() => this.notify(dlq.id));
  }

  /** A FIFO receive retried with the same attempt id gets the same messages while untouched. */
  private retryAttempt(queue: QueueRef, opts: ReceiveOptions): StoredMessage[] | undefined {
    const a = this.attempts.get(attemptKey(queue.id, opts.attemptId!));
    if (!a || a.expiresAt <= opts.now || a.list.length === 0) return undefined;
    const l = a.list;
    for (let i = 0; i < l.length; i += 3) {
      const m = this.msgs.get(l[i]!);
      if (!m || m.queueId !== queue.id || m.receiveCount !== l[i + 1] || m.visibleAt <= opts.now) return undefined;
    }
    const ix = this.ix(queue);
    const visibleAt = opts.now + opts.visibilityMs;
    const out: StoredMessage[] = [];
    const seqs: number[] = [];
    for (let i = 0; i < l.length; i += 3) {
      const seq = l[i]!;
      const m = this.msgs.get(seq)!;
      m.visibleAt = visibleAt;
      ix.visibilityChanged(seq, visibleAt, m.sentAt, m.group, opts.now);
      seqs.push(seq);
      out.push(this.stored(seq, m, l[i + 2]!));
    }
    this.appendStates(seqs);
    return out;
  }

  // ── delete, visibility ────────────────────────────────────────────────────

  /**
   * Why a receipt handle does not act on its message, or undefined when it does: the same rule as
   * rows.ts receiptProblem (gone, stale: received again since, expired: a FIFO handle past its
   * visibility timeout).
   */
  private problem(m: Msg | undefined, queue: QueueRef, ref: ReceiptRef, now: number) {
    if (!m || m.queueId !== queue.id) return 'gone' as const;
    if (m.receiveCount !== ref.receiveCount) return 'stale' as const;
    if (queue.fifo && m.visibleAt <= now) return 'expired' as const;
    return undefined;
  }

  async deleteMessages(queue: QueueRef, refs: ReceiptRef[], now: number): Promise<DeleteOutcome[]> {
    const ix = this.ix(queue);
    const done = new Set<number>();
    const out = refs.map((ref): DeleteOutcome => {
      if (done.has(ref.seq)) return 'deleted';
      const m = this.msgs.get(ref.seq);
      const problem = this.problem(m, queue, ref, now);
      // standard queues: a stale or unknown handle succeeds without deleting
      if (problem) return queue.fifo ? problem : 'gone';
      this.remove(ix, ref.seq, m!);
      done.add(ref.seq);
      return 'deleted';
    });
    if (done.size === 0) return out;
    this.appendDeletes([...done]);
    await this.log.durable();
    return out;
  }

  async changeVisibility(
    queue: QueueRef,
    entries: { ref: ReceiptRef; visibilityMs: number }[],
    now: number,
  ): Promise<VisibilityOutcome[]> {
    const ix = this.ix(queue);
    let visible = false;
    const changed: number[] = [];
    const out = entries.map(({ ref, visibilityMs }): VisibilityOutcome => {
      const m = this.msgs.get(ref.seq);
      const problem = this.problem(m, queue, ref, now);
      if (problem) return problem;
      m!.visibleAt = now + visibilityMs;
      ix.visibilityChanged(ref.seq, now + visibilityMs, m!.sentAt, m!.group, now);
      if (visibilityMs === 0) visible = true;
      changed.push(ref.seq);
      return 'ok';
    });
    if (changed.length) {
      this.appendStates(changed);
      await this.log.durable();
    }
    if (visible) this.notify(queue.id);
    return out;
  }

  // ── purge, drop ───────────────────────────────────────────────────────────

  /** Every message of the queue sent so far is gone (purge): the index forgets them at once. */
  purge(queue: QueueRef): Promise<void> {
    this.dropMessages(queue.id);
    // a purge also empties the FIFO deduplication cache
    if (queue.fifo) this.appendClear(T.DEDUP_CLEAR, queue.id);
    return this.log.durable();
  }

  /** The queue was deleted: its messages, deduplication entries and receive attempts go. */
  dropQueue(queueId: number): Promise<void> {
    this.forgetQueue(queueId);
    return this.log.durable();
  }

  private forgetQueue(queueId: number): void {
    this.dropMessages(queueId);
    this.appendClear(T.DEDUP_CLEAR, queueId);
    this.appendClear(T.ATTEMPT_CLEAR, queueId);
    this.indexes.delete(queueId);
  }

  private dropMessages(queueId: number): void {
    const ix = this.indexes.get(queueId);
    if (ix) {
      for (const seq of ix.sample(Infinity)) {
        const m = this.msgs.get(seq);
        if (m && m.queueId === queueId) this.forgetMsg(seq);
      }
      ix.clear();
    } else {
      for (const [seq, m] of this.msgs) if (m.queueId === queueId) this.forgetMsg(seq);
    }
    const upto = this.nextSeq - 1;
    this.log.append(T.DROP, (w) => {
      w.f64(queueId);
      w.f64(upto);
    });
  }

  private appendClear(type: number, queueId: number): void {
    this.clearPrefix(type === T.DEDUP_CLEAR ? this.dedup : this.attempts, queueId);
    this.log.append(type, (w) => w.f64(queueId));
  }

  // ── reads ─────────────────────────────────────────────────────────────────

  counts(queue: QueueRef, now: number): MessageCounts {
    return this.ix(queue).counts(now);
  }

  nextVisibleAt(queue: QueueRef, now: number): number | undefined {
    return this.ix(queue).nextVisibleAt(now);
  }

  peek(queue: QueueRef, now: number, limit: number): PeekedMessage[] {
    const out: PeekedMessage[] = [];
    for (const seq of this.ix(queue).sample(limit)) {
      const m = this.msgs.get(seq);
      if (!m || m.queueId !== queue.id) continue;
      const b = this.body(m);
      const x = decodeExtras(b.attrs);
      const p: PeekedMessage = {
        messageId: b.messageId,
        body: b.body,
        sentAt: m.sentAt,
        receiveCount: m.receiveCount,
        visibleAt: m.visibleAt,
        state: m.visibleAt <= now ? 'visible' : m.receiveCount > 0 ? 'inflight' : 'delayed',
      };
      if (x.attributes) p.attributes = x.attributes;
      if (m.group !== null) p.groupId = m.group;
      if (b.dedupId !== null) {
        p.dedupId = b.dedupId;
        p.sequenceNumber = sequenceNumber(seq);
      }
      out.push(p);
    }
    return out.sort((a, b) => a.visibleAt - b.visibleAt);
  }

  // ── redrive, retention ────────────────────────────────────────────────────

  /** Moves visible messages from source to the queue destinationFor picks; see SqsStore. */
  async moveMessages(
    source: QueueRef,
    destinationFor: (arn: string | undefined) => QueueRef | undefined,
    max: number,
    now: number,
  ): Promise<{ moved: number; failed: number }> {
    const touched = new Set<number>();
    let moved = 0;
    let failed = 0;
    const ix = this.ix(source);
    for (const seq of ix.take(now, max)) {
      const m = this.msgs.get(seq);
      if (!m || m.queueId !== source.id || m.visibleAt > now) {
        ix.lost(seq, m?.group ?? null);
        continue;
      }
      const b = this.body(m);
      const x = decodeExtras(b.attrs);
      const dest = destinationFor(x.deadLetterSourceArn);
      ix.claimed(seq, now, m.sentAt, m.group);
      if (!dest || !this.queue(dest.id)) {
        // nowhere to go: it stays where it was
        failed++;
        ix.visibilityChanged(seq, now, m.sentAt, m.group, now);
        continue;
      }
      delete x.deadLetterSourceArn;
      ix.removed(seq, m.group);
      // a redriven message is a new message: new id, new enqueue time, retention starts again
      this.appendSend(
        seq,
        { queueId: dest.id, visibleAt: now, receiveCount: 0, sentAt: now, firstReceiveAt: 0, group: m.group },
        { ...b, messageId: randomUUID(), attrs: encodeExtras(x) },
      );
      this.ix(dest).add(seq, now, now, m.group, false, now);
      touched.add(dest.id);
      moved++;
    }
    await this.log.durable();
    for (const id of touched) this.notify(id);
    return { moved, failed };
  }

  /**
   * Drops expired deduplication entries and receive attempts, and visible messages whose
   * retention has passed (oldest first, up to `limit` per queue); returns how many went.
   */
  sweep(queues: QueueRef[], now: number, limit: number): number {
    let removed = sweepFront(this.dedup, now) + sweepFront(this.attempts, now);
    for (const q of queues) {
      const ix = this.ix(q);
      const seqs = ix.expiredFront(now - q.retentionMs, limit);
      const gone: number[] = [];
      for (const seq of seqs) {
        const m = this.msgs.get(seq);
        if (!m) continue;
        this.remove(ix, seq, m);
        gone.push(seq);
      }
      this.appendDeletes(gone);
      removed += gone.length;
    }
    return removed;
  }

  /** Admin reset: everything goes, and a RESET record says so to the next replay. */
  reset(): Promise<void> {
    this.clearAll();
    this.log.append(T.RESET, () => {});
    return this.log.durable();
  }
}

/**
 * Deletes the entries at the front of a map kept in insertion order whose time has passed.
 * Entries are inserted with now + a fixed window, so the map is in expiry order.
 */
function sweepFront(map: Map<string, { expiresAt: number }>, now: number): number {
  let n = 0;
  for (const [k, v] of map) {
    if (v.expiresAt > now) break;
    map.delete(k);
    n++;
  }
  return n;
}
