/**
 * Message verbs of the SQLite store: SQL rows for durability, a QueueIndex per queue for the
 * order of receives. Every verb runs inside the engine's per-turn transaction; the index is
 * updated only with what SQL confirmed.
 */
import { randomUUID } from 'node:crypto';
import { decodeExtras, encodeExtras, sequenceNumber } from '../codec.js';
import { receiptProblem, toPeeked, toStoredMessage } from '../rows.js';
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
import type { SqliteEngine } from '../../sqlite/engine.js';
import { DedupTable } from './fifo.js';
import { MessageTables, type NewRow, type StateRow } from './messages.js';
import { QueueIndex } from './queue-index.js';
import { ATTEMPT_WINDOW_MS, DEDUP_WINDOW_MS, exceedsMaxReceives, expired } from '../rules.js';

const DROP_CHUNK = 5000;

export class SqliteMessages {
  private readonly m: MessageTables;
  private readonly dedup: DedupTable;
  private readonly indexes = new Map<number, QueueIndex>();
  /** messages waiting to be deleted because their queue was purged or deleted */
  private pendingDrops: number[] = [];
  private dropping = false;
  private readonly s;

  constructor(
    private readonly engine: SqliteEngine,
    private readonly queue: (id: number) => QueueRow | undefined,
    private readonly notify: (queueId: number) => void,
    onDropsDone: () => void,
  ) {
    const db = engine.db;
    this.m = new MessageTables(db);
    this.dedup = new DedupTable(db);
    this.onDropsDone = onDropsDone;
    this.s = {
      selAttempt: db.prepare('SELECT expires_at, messages FROM receive_attempts WHERE queue_id = ? AND attempt_id = ?'),
      putAttempt: db.prepare(
        `INSERT INTO receive_attempts (queue_id, attempt_id, expires_at, messages) VALUES (?, ?, ?, ?)
         ON CONFLICT (queue_id, attempt_id) DO UPDATE SET expires_at = excluded.expires_at, messages = excluded.messages`,
      ),
    };
    engine.onBeforeCommit(() => this.m.collect());
  }

  private readonly onDropsDone: () => void;

  /**
   * Rebuilds every queue's index from the state rows, in sequence order. Messages of queues
   * being dropped (`drops`: queue id → last seq to drop) are deleted instead.
   */
  load(fifo: (queueId: number) => boolean, drops: Map<number, number>, now: number): void {
    for (const [seq, queueId, visibleAt, receiveCount, sentAt, group] of this.m.loadAll()) {
      const cut = drops.get(queueId);
      if (cut !== undefined && seq <= cut) {
        this.pendingDrops.push(seq);
        continue;
      }
      const inflight = receiveCount > 0 && visibleAt > now;
      this.index(queueId, fifo(queueId)).add(seq, visibleAt, sentAt, group, inflight, now);
    }
    if (this.pendingDrops.length) setImmediate(() => this.continueDrops());
  }

  index(queueId: number, fifo: boolean): QueueIndex {
    let ix = this.indexes.get(queueId);
    if (!ix) this.indexes.set(queueId, (ix = new QueueIndex(fifo)));
    return ix;
  }

  private ix(q: QueueRef): QueueIndex {
    return this.index(q.id, q.fifo);
  }

  // ── send ──────────────────────────────────────────────────────────────────

  send(queue: QueueRef, messages: NewMessage[], now: number): Promise<SendResult[]> {
    let visibleNow = false;
    const ix = this.ix(queue);
    return this.engine
      .write(() => {
        const out: SendResult[] = [];
        const rows: NewRow[] = [];
        for (const msg of messages) {
          if (queue.fifo) {
            const dup = this.dedup.find(queue, msg, now);
            if (dup) {
              out.push({ messageId: dup.messageId, sequenceNumber: sequenceNumber(dup.seq), duplicate: true });
              continue;
            }
          }
          const seq = this.m.allocSeq();
          rows.push({
            seq,
            queueId: queue.id,
            visibleAt: now + msg.delayMs,
            receiveCount: 0,
            sentAt: now,
            firstReceiveAt: null,
            groupId: msg.groupId ?? null,
            messageId: msg.messageId,
            body: msg.body,
            md5: msg.md5OfBody,
            attrs: encodeExtras(msg),
            senderId: msg.senderId,
            dedupId: msg.dedupId ?? null,
          });
          if (queue.fifo) {
            // a later message of the same batch may duplicate this one
            this.dedup.record(queue, msg, seq, now + DEDUP_WINDOW_MS);
            out.push({ messageId: msg.messageId, sequenceNumber: sequenceNumber(seq), duplicate: false });
          } else out.push({ messageId: msg.messageId, duplicate: false });
        }
        this.m.insert(rows);
        for (const r of rows) {
          ix.add(r.seq, r.visibleAt, now, r.groupId, false, now);
          if (r.visibleAt <= now) visibleNow = true;
        }
        return out;
      })
      .then((out) => {
        if (visibleNow) this.notify(queue.id);
        return out;
      });
  }

  // ── receive ───────────────────────────────────────────────────────────────

  receive(queue: QueueRef, opts: ReceiveOptions): Promise<StoredMessage[]> {
    return this.engine.write(() => {
      if (queue.fifo && opts.attemptId) {
        const again = this.retryAttempt(queue, opts);
        if (again) return again;
      }
      const out: StoredMessage[] = [];
      const ix = this.ix(queue);
      const visibleAt = opts.now + opts.visibilityMs;
      // With VisibilityTimeout=0 a message claimed in an earlier round is visible again at once:
      // it goes back to the index untouched, so each message appears at most once per response.
      const seen = new Map<number, StateRow>();
      for (let round = 0; round < 8 && out.length < opts.max; round++) {
        const taken = ix.take(opts.now, opts.max - out.length);
        const seqs = seen.size ? taken.filter((seq) => !seen.has(seq)) : taken;
        if (seqs.length < taken.length) {
          for (const seq of taken) {
            const s = seen.get(seq);
            if (s) ix.claimed(seq, visibleAt, s.sent_at, s.group_id);
          }
        }
        if (seqs.length === 0) break;
        const claimed = new Map(this.m.claim(seqs, opts.now, visibleAt).map((s) => [s.seq, s]));
        const deliver: StateRow[] = [];
        for (const seq of seqs) {
          const s = claimed.get(seq);
          if (!s) {
            ix.lost(seq, null);
            continue;
          }
          ix.claimed(seq, visibleAt, s.sent_at, s.group_id);
          seen.set(seq, s);
          if (this.screen(queue, s, opts.now)) deliver.push(s);
        }
        if (deliver.length === 0) continue;
        const bodies = this.m.bodies(deliver.map((s) => s.seq));
        for (const s of deliver) out.push(toStoredMessage(s, bodies.get(s.seq)!, opts.now));
      }
      // an attempt that found nothing pins nothing: its retry (or a long poll) looks again
      if (queue.fifo && opts.attemptId && out.length) {
        const list = out.map((msg) => [msg.seq, msg.receiveCount, msg.receivedAt]);
        this.s.putAttempt.run(queue.id, opts.attemptId, opts.now + ATTEMPT_WINDOW_MS, JSON.stringify(list));
      }
      return out;
    });
  }

  /**
   * A claimed message is delivered unless its retention has passed (it is dropped) or this
   * receive would exceed maxReceiveCount (it moves to the dead-letter queue instead).
   */
  private screen(queue: QueueRef, s: StateRow, now: number): boolean {
    const ix = this.ix(queue);
    if (expired(s.sent_at, queue.retentionMs, now)) {
      this.m.remove([s.seq]);
      ix.removed(s.seq, s.group_id);
      return false;
    }
    const redrive = queue.redrive;
    if (redrive && exceedsMaxReceives(s.receive_count, redrive)) {
      const dlq = this.queue(redrive.deadLetterQueueId);
      if (dlq) {
        this.moveToDeadLetter(queue, s, dlq, now);
        return false;
      }
    }
    return true;
  }

  /**
   * The message keeps its id, body, attributes and receive count (ApproximateReceiveCount
   * counts receives across queues). A standard DLQ keeps the original enqueue time, so
   * retention counts from it; a FIFO DLQ resets it and takes the message id as the
   * deduplication id, as AWS documents.
   */
  private moveToDeadLetter(queue: QueueRef, s: StateRow, dlq: QueueRow, now: number): void {
    const body = this.m.body(s.seq)!;
    const extras = decodeExtras(body.attrs);
    extras.deadLetterSourceArn = queue.arn;
    const sentAt = dlq.fifo ? now : s.sent_at;
    this.m.unclaim(s.seq, now);
    this.m.move(s.seq, dlq.id, now, sentAt);
    this.m.setExtras(s.seq, encodeExtras(extras), dlq.fifo ? body.message_id : body.dedup_id);
    this.ix(queue).removed(s.seq, s.group_id);
    this.index(dlq.id, dlq.fifo).add(s.seq, now, sentAt, s.group_id, false, now);
    setImmediate(() => this.notify(dlq.id));
  }

  /** A FIFO receive retried with the same attempt id gets the same messages while untouched. */
  private retryAttempt(queue: QueueRef, opts: ReceiveOptions): StoredMessage[] | undefined {
    const a = this.s.selAttempt.get(queue.id, opts.attemptId) as { expires_at: number; messages: string } | undefined;
    if (!a || a.expires_at <= opts.now) return undefined;
    const list = JSON.parse(a.messages) as [number, number, number][];
    if (list.length === 0) return undefined;
    const states = this.m.states(list.map((x) => x[0]));
    for (const [seq, rc] of list) {
      const s = states.get(seq);
      if (!s || s.queue_id !== queue.id || s.receive_count !== rc || s.visible_at <= opts.now) return undefined;
    }
    const bodies = this.m.bodies(list.map((x) => x[0]));
    const ix = this.ix(queue);
    const visibleAt = opts.now + opts.visibilityMs;
    return list.map(([seq, , receivedAt]) => {
      const s = states.get(seq)!;
      this.m.setVisible(seq, visibleAt);
      ix.visibilityChanged(seq, visibleAt, s.sent_at, s.group_id, opts.now);
      return toStoredMessage(s, bodies.get(seq)!, receivedAt);
    });
  }

  // ── delete, visibility ────────────────────────────────────────────────────

  deleteMessages(queue: QueueRef, refs: ReceiptRef[], now: number): Promise<DeleteOutcome[]> {
    return this.engine.write(() => {
      const ix = this.ix(queue);
      if (!queue.fifo) {
        // standard queues: a stale or unknown handle succeeds without deleting, so one
        // statement that deletes only what matches says all the caller needs
        const done = new Set(this.m.removeMatching(queue.id, refs));
        for (const seq of done) ix.removed(seq, null);
        return refs.map((r) => (done.has(r.seq) ? 'deleted' : 'gone'));
      }
      const states = this.m.states(refs.map((r) => r.seq));
      const doomed: StateRow[] = [];
      const out = refs.map((ref): DeleteOutcome => {
        const s = states.get(ref.seq);
        const problem = receiptProblem(s, queue.id, ref, true, now);
        if (problem) return problem;
        if (!doomed.includes(s!)) doomed.push(s!);
        return 'deleted';
      });
      this.m.remove(doomed.map((s) => s.seq));
      for (const s of doomed) ix.removed(s.seq, s.group_id);
      return out;
    });
  }

  changeVisibility(
    queue: QueueRef,
    entries: { ref: ReceiptRef; visibilityMs: number }[],
    now: number,
  ): Promise<VisibilityOutcome[]> {
    let visible = false;
    return this.engine
      .write(() => {
        const states = this.m.states(entries.map((e) => e.ref.seq));
        const ix = this.ix(queue);
        return entries.map(({ ref, visibilityMs }): VisibilityOutcome => {
          const s = states.get(ref.seq);
          const problem = receiptProblem(s, queue.id, ref, queue.fifo, now);
          if (problem || !s) return problem ?? 'gone';
          this.m.setVisible(ref.seq, now + visibilityMs);
          ix.visibilityChanged(ref.seq, now + visibilityMs, s.sent_at, s.group_id, now);
          s.visible_at = now + visibilityMs;
          if (visibilityMs === 0) visible = true;
          return 'ok';
        });
      })
      .then((out) => {
        if (visible) this.notify(queue.id);
        return out;
      });
  }

  // ── purge, drop ───────────────────────────────────────────────────────────

  /** Forgets every message of the queue now and deletes their rows a chunk per turn. */
  drop(queueId: number): void {
    const ix = this.indexes.get(queueId);
    if (!ix) return;
    for (const seq of ix.sample(Infinity)) this.pendingDrops.push(seq);
    ix.clear();
    this.continueDrops();
  }

  forget(queueId: number): void {
    this.drop(queueId);
    this.indexes.delete(queueId);
  }

  clearDedup(queueId: number): void {
    this.dedup.clear(queueId);
  }

  lastSeq(): number {
    return this.m.lastSeq();
  }

  private continueDrops(): void {
    if (this.dropping) return;
    this.dropping = true;
    const step = () => {
      try {
        const part = this.pendingDrops.splice(0, DROP_CHUNK);
        this.engine.writeNoWait(() => this.m.remove(part));
      } catch {
        // closing: the markers stay, and the drop resumes at the next start
        this.pendingDrops = [];
        this.dropping = false;
        return;
      }
      if (this.pendingDrops.length) setImmediate(step);
      else {
        this.dropping = false;
        this.onDropsDone();
      }
    };
    step();
  }

  // ── reads ─────────────────────────────────────────────────────────────────

  counts(queue: QueueRef, now: number): MessageCounts {
    return this.ix(queue).counts(now);
  }

  nextVisibleAt(queue: QueueRef, now: number): number | undefined {
    return this.ix(queue).nextVisibleAt(now);
  }

  peek(queue: QueueRef, now: number, limit: number): PeekedMessage[] {
    const seqs = this.ix(queue).sample(limit);
    const states = this.m.states(seqs);
    const bodies = this.m.bodies(seqs);
    const out: PeekedMessage[] = [];
    for (const seq of seqs) {
      const s = states.get(seq);
      const b = bodies.get(seq);
      if (!s || !b || s.queue_id !== queue.id) continue;
      const p = toPeeked(s, b, now);
      out.push(p);
    }
    return out.sort((a, b) => a.visibleAt - b.visibleAt);
  }

  // ── redrive, retention ────────────────────────────────────────────────────

  /** Moves visible messages from source to the queue destinationFor picks; see SqsStore. */
  moveMessages(
    source: QueueRef,
    destinationFor: (arn: string | undefined) => QueueRef | undefined,
    max: number,
    now: number,
  ): Promise<{ moved: number; failed: number }> {
    const touched = new Set<number>();
    return this.engine
      .write(() => {
        let moved = 0;
        let failed = 0;
        const ix = this.ix(source);
        const seqs = ix.take(now, max);
        const states = this.m.states(seqs);
        const keep: number[] = [];
        for (const seq of seqs) {
          const s = states.get(seq);
          const body = s && this.m.body(seq);
          if (!s || !body || s.visible_at > now) {
            ix.lost(seq, s?.group_id ?? null);
            continue;
          }
          const x = decodeExtras(body.attrs);
          const dest = destinationFor(x.deadLetterSourceArn);
          if (!dest || !this.queue(dest.id)) {
            failed++;
            keep.push(seq);
            continue;
          }
          delete x.deadLetterSourceArn;
          // a redriven message is a new message: new id, new enqueue time, retention starts again
          this.m.redrive(seq, dest.id, now);
          this.m.setMessageId(seq, randomUUID(), encodeExtras(x));
          ix.claimed(seq, now, s.sent_at, s.group_id);
          ix.removed(seq, s.group_id);
          this.ix(dest).add(seq, now, now, s.group_id, false, now);
          touched.add(dest.id);
          moved++;
        }
        // messages with nowhere to go stay where they were
        for (const seq of keep) {
          const s = states.get(seq)!;
          ix.claimed(seq, now, s.sent_at, s.group_id);
          ix.visibilityChanged(seq, now, s.sent_at, s.group_id, now);
        }
        return { moved, failed };
      })
      .then((r) => {
        for (const id of touched) this.notify(id);
        return r;
      });
  }

  /** Drops visible messages whose retention has passed, oldest first, up to `limit` per queue. */
  sweepRetention(q: QueueRef, now: number, limit: number): number {
    const ix = this.ix(q);
    const seqs = ix.expiredFront(now - q.retentionMs, limit);
    if (!seqs.length) return 0;
    const states = q.fifo ? this.m.states(seqs) : undefined;
    this.m.remove(seqs);
    for (const seq of seqs) ix.removed(seq, states?.get(seq)?.group_id ?? null);
    return seqs.length;
  }

  reset(): void {
    this.indexes.clear();
    this.pendingDrops = [];
  }
}
