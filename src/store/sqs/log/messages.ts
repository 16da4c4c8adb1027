/**
 * SQS messages on the embedded log: the verbs of SqsStore over the state of state.ts. The
 * state of every message lives in memory (table.ts), its body only in the log. Each verb changes
 * the state and appends one record per operation (a SEND per message), so the log replayed from
 * the last snapshot rebuilds exactly this state.
 *
 * What waits for the disk (see PARITY.md): send, delete, visibility changes, purges, moves and
 * queue deletion are answered once their records are durable. A receive is answered at once: if
 * a crash loses its record, the message only becomes visible again sooner, as at-least-once
 * delivery allows. Because a receive can hand out a message whose SEND record a crash then loses,
 * sequence numbers restart well above the last one the log holds after an unclean stop, so a
 * receipt handle never names a later message.
 */
import { randomUUID } from 'node:crypto';
import type { SegmentLog } from '../../log/segment-log.js';
import { decodeExtras, encodeExtras, sequenceNumber } from '../codec.js';
import type { QueueIndex } from '../queue-index.js';
import { ATTEMPT_WINDOW_MS, DEDUP_WINDOW_MS, exceedsMaxReceives, expired } from '../rules.js';
import { judgeReceipt, withExtras } from '../rows.js';
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
import { T } from './records.js';
import { attemptKey, type Dedup, dedupKey, MessageState } from './state.js';

export class LogMessages extends MessageState {
  constructor(
    log: SegmentLog,
    queue: (id: number) => QueueRow | undefined,
    private readonly notify: (queueId: number) => void,
    opts: { snapshotDir?: string; durability: 'fsync' | 'os' },
  ) {
    super(log, queue, opts);
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
      const visibleAt = now + msg.delayMs;
      const group = msg.groupId ?? null;
      this.appendSend(
        seq,
        { queueId: queue.id, visibleAt, receiveCount: 0, sentAt: now, firstReceiveAt: 0, group },
        {
          messageId: msg.messageId,
          md5: msg.md5OfBody,
          senderId: msg.senderId,
          dedupId: msg.dedupId ?? null,
          attrs: encodeExtras(msg),
          body: msg.body,
        },
      );
      ix.add(seq, visibleAt, now, group, false, now);
      if (visibleAt <= now) visibleNow = true;
      if (queue.fifo) {
        // a later message of the same batch may duplicate this one
        if (msg.dedupId)
          this.restoreDedup(queue.id, this.scope(queue, msg), msg.dedupId, msg.messageId, seq, now + DEDUP_WINDOW_MS);
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

  // ── receive ───────────────────────────────────────────────────────────────

  async receive(queue: QueueRef, opts: ReceiveOptions): Promise<StoredMessage[]> {
    if (queue.fifo && opts.attemptId) {
      const again = this.retryAttempt(queue, opts);
      if (again) return again;
    }
    const t = this.t;
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
        const i = t.slot(seq);
        if (seen.has(seq)) {
          if (i !== undefined) ix.claimed(seq, visibleAt, t.sentAt[i]!, t.group[i] ?? null);
          continue;
        }
        fresh++;
        if (i === undefined || t.queueId[i] !== queue.id || t.visibleAt[i]! > now) {
          ix.lost(seq, null);
          continue;
        }
        t.visibleAt[i] = visibleAt;
        t.receiveCount[i]!++;
        if (t.firstReceiveAt[i] === 0) t.firstReceiveAt[i] = now;
        const group = t.group[i] ?? null;
        ix.claimed(seq, visibleAt, t.sentAt[i]!, group);
        seen.add(seq);
        if (expired(t.sentAt[i]!, queue.retentionMs, now)) {
          ix.removed(seq, group);
          this.forget(seq);
          deleted.push(seq);
          continue;
        }
        const redrive = queue.redrive;
        if (redrive && exceedsMaxReceives(t.receiveCount[i]!, redrive)) {
          const dlq = this.queue(redrive.deadLetterQueueId);
          if (dlq) {
            this.moveToDeadLetter(queue, seq, i, dlq, now);
            continue;
          }
        }
        delivered.push(seq);
        out.push(this.stored(seq, i, now));
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

  private stored(seq: number, i: number, receivedAt: number): StoredMessage {
    const t = this.t;
    const b = this.body(i);
    const s: StoredMessage = {
      seq,
      messageId: b.messageId,
      body: b.body,
      md5OfBody: b.md5,
      sentAt: t.sentAt[i]!,
      receiveCount: t.receiveCount[i]!,
      firstReceiveAt: t.firstReceiveAt[i] || receivedAt,
      receivedAt,
      senderId: b.senderId,
    };
    withExtras(s, b.attrs);
    const group = t.group[i] ?? null;
    if (group !== null) s.groupId = group;
    if (b.dedupId !== null) {
      s.dedupId = b.dedupId;
      s.sequenceNumber = sequenceNumber(seq);
    }
    return s;
  }

  /**
   * The message keeps its id, body, attributes and receive count (ApproximateReceiveCount
   * counts receives across queues). A standard DLQ keeps the original enqueue time, so
   * retention counts from it; a FIFO DLQ resets it and takes the message id as the
   * deduplication id, as AWS documents. The claim of this receive is undone.
   */
  private moveToDeadLetter(queue: QueueRef, seq: number, i: number, dlq: QueueRow, now: number): void {
    const t = this.t;
    const b = this.body(i);
    const x = decodeExtras(b.attrs);
    x.deadLetterSourceArn = queue.arn;
    const sentAt = dlq.fifo ? now : t.sentAt[i]!;
    const group = t.group[i] ?? null;
    this.ix(queue).removed(seq, group);
    this.appendSend(
      seq,
      {
        queueId: dlq.id,
        visibleAt: now,
        receiveCount: t.receiveCount[i]! - 1,
        sentAt,
        firstReceiveAt: t.firstReceiveAt[i]!,
        group,
      },
      { ...b, attrs: encodeExtras(x), dedupId: dlq.fifo ? b.messageId : b.dedupId },
    );
    this.index(dlq.id, dlq.fifo).add(seq, now, sentAt, group, false, now);
    setImmediate(() => this.notify(dlq.id));
  }

  /** A FIFO receive retried with the same attempt id gets the same messages while untouched. */
  private retryAttempt(queue: QueueRef, opts: ReceiveOptions): StoredMessage[] | undefined {
    const a = this.attempts.get(attemptKey(queue.id, opts.attemptId!));
    if (!a || a.expiresAt <= opts.now || a.list.length === 0) return undefined;
    const t = this.t;
    const l = a.list;
    for (let k = 0; k < l.length; k += 3) {
      const i = t.slot(l[k]!);
      if (i === undefined || t.queueId[i] !== queue.id || t.receiveCount[i] !== l[k + 1] || t.visibleAt[i]! <= opts.now)
        return undefined;
    }
    const ix = this.ix(queue);
    const visibleAt = opts.now + opts.visibilityMs;
    const out: StoredMessage[] = [];
    const seqs: number[] = [];
    for (let k = 0; k < l.length; k += 3) {
      const seq = l[k]!;
      const i = t.slot(seq)!;
      t.visibleAt[i] = visibleAt;
      ix.visibilityChanged(seq, visibleAt, t.sentAt[i]!, t.group[i] ?? null, opts.now);
      seqs.push(seq);
      out.push(this.stored(seq, i, l[k + 2]!));
    }
    this.appendStates(seqs);
    return out;
  }

  // ── delete, visibility ────────────────────────────────────────────────────

  /** Why a receipt handle does not act on its message (rows.ts receiptProblem), or undefined. */
  private problem(i: number | undefined, queue: QueueRef, ref: ReceiptRef, now: number) {
    if (i === undefined) return 'gone' as const;
    const t = this.t;
    return judgeReceipt(t.queueId[i]!, t.receiveCount[i]!, t.visibleAt[i]!, queue.id, ref, queue.fifo, now);
  }

  async deleteMessages(queue: QueueRef, refs: ReceiptRef[], now: number): Promise<DeleteOutcome[]> {
    const ix = this.ix(queue);
    const t = this.t;
    const done = new Set<number>();
    const out = refs.map((ref): DeleteOutcome => {
      if (done.has(ref.seq)) return 'deleted';
      const i = t.slot(ref.seq);
      const problem = this.problem(i, queue, ref, now);
      // standard queues: a stale or unknown handle succeeds without deleting
      if (problem) return queue.fifo ? problem : 'gone';
      ix.removed(ref.seq, t.group[i!] ?? null);
      this.forget(ref.seq);
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
    const t = this.t;
    let visible = false;
    const changed: number[] = [];
    const out = entries.map(({ ref, visibilityMs }): VisibilityOutcome => {
      const i = t.slot(ref.seq);
      const problem = this.problem(i, queue, ref, now);
      if (problem) return problem;
      t.visibleAt[i!] = now + visibilityMs;
      ix.visibilityChanged(ref.seq, now + visibilityMs, t.sentAt[i!]!, t.group[i!] ?? null, now);
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

  // ── reads ─────────────────────────────────────────────────────────────────

  counts(queue: QueueRef, now: number): MessageCounts {
    return this.ix(queue).counts(now);
  }

  nextVisibleAt(queue: QueueRef, now: number): number | undefined {
    return this.ix(queue).nextVisibleAt(now);
  }

  peek(queue: QueueRef, now: number, limit: number): PeekedMessage[] {
    const t = this.t;
    const out: PeekedMessage[] = [];
    for (const seq of this.ix(queue).sample(limit)) {
      const i = t.slot(seq);
      if (i === undefined || t.queueId[i] !== queue.id) continue;
      const b = this.body(i);
      const x = decodeExtras(b.attrs);
      const at = t.visibleAt[i]!;
      const p: PeekedMessage = {
        messageId: b.messageId,
        body: b.body,
        sentAt: t.sentAt[i]!,
        receiveCount: t.receiveCount[i]!,
        visibleAt: at,
        state: at <= now ? 'visible' : t.receiveCount[i]! > 0 ? 'inflight' : 'delayed',
      };
      if (x.attributes) p.attributes = x.attributes;
      const group = t.group[i] ?? null;
      if (group !== null) p.groupId = group;
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
    const t = this.t;
    const touched = new Set<number>();
    let moved = 0;
    let failed = 0;
    const ix = this.ix(source);
    for (const seq of ix.take(now, max)) {
      const i = t.slot(seq);
      if (i === undefined || t.queueId[i] !== source.id || t.visibleAt[i]! > now) {
        ix.lost(seq, i === undefined ? null : (t.group[i] ?? null));
        continue;
      }
      const b = this.body(i);
      const x = decodeExtras(b.attrs);
      const dest = destinationFor(x.deadLetterSourceArn);
      const group = t.group[i] ?? null;
      ix.claimed(seq, now, t.sentAt[i]!, group);
      if (!dest || !this.queue(dest.id)) {
        // nowhere to go: it stays where it was
        failed++;
        ix.visibilityChanged(seq, now, t.sentAt[i]!, group, now);
        continue;
      }
      delete x.deadLetterSourceArn;
      ix.removed(seq, group);
      // a redriven message is a new message: new id, new enqueue time, retention starts again
      this.appendSend(
        seq,
        { queueId: dest.id, visibleAt: now, receiveCount: 0, sentAt: now, firstReceiveAt: 0, group },
        { ...b, messageId: randomUUID(), attrs: encodeExtras(x) },
      );
      this.ix(dest).add(seq, now, now, group, false, now);
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
      const ix: QueueIndex = this.ix(q);
      const gone: number[] = [];
      for (const seq of ix.expiredFront(now - q.retentionMs, limit)) {
        const i = this.t.slot(seq);
        if (i === undefined) continue;
        ix.removed(seq, this.t.group[i] ?? null);
        this.forget(seq);
        gone.push(seq);
      }
      this.appendDeletes(gone);
      removed += gone.length;
    }
    return removed;
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
