/**
 * Message verbs on PostgreSQL, safe with any number of Wharf nodes on one database:
 * - standard receives claim rows with FOR UPDATE SKIP LOCKED, so no message is handed to two
 *   receivers inside its visibility timeout;
 * - FIFO group rows serialize senders (a group's sequence numbers follow its commit order) and
 *   receivers (SKIP LOCKED: one receive serves a group at a time); a group's head is re-read
 *   after its row is locked, with a fresh snapshot, so no sender's message is ever orphaned;
 * - deduplication ids are unique keys, claimed with INSERT ... ON CONFLICT.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { decodeExtras, encodeExtras, sequenceNumber } from '../codec.js';
import type {
  DeleteOutcome,
  MessageCounts,
  NewMessage,
  PeekedMessage,
  QueueRef,
  ReceiptRef,
  ReceiveOptions,
  SendResult,
  StoredMessage,
  VisibilityOutcome,
} from '../types.js';
import type { Db } from '../../postgres/db.js';
import { receiptProblem, toPeeked, toStoredMessage, type BodyColumns, type StateColumns } from '../rows.js';
import { ATTEMPT_WINDOW_MS, DEDUP_WINDOW_MS, exceedsMaxReceives, expired, isNoisy } from '../rules.js';

type Row = StateColumns & BodyColumns;

const PURGED = '(SELECT purged_to FROM queues WHERE id = $1)';
/**
 * A condition that is always true and makes the statement's transaction commit without waiting
 * for its WAL flush (an InitPlan, run once). Used by the standard receive claim, as the embedded
 * log answers a receive before its record is on disk: a claim a database crash loses only makes
 * the message visible again sooner (its handle then deletes nothing), which at-least-once
 * delivery allows. Sends, deletes and visibility changes keep synchronous commit.
 */
const NO_FLUSH_WAIT = "(SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL";

export class PgMessages {
  /** queues this node has seen tenants (MessageGroupId) on: fair queues */
  private readonly fair = new Set<number>();

  constructor(
    private readonly db: Db,
    private readonly touched: (queueId: number) => void,
  ) {}

  // ── send ──────────────────────────────────────────────────────────────────

  async send(queue: QueueRef, messages: NewMessage[], now: number): Promise<SendResult[]> {
    const out = queue.fifo ? await this.sendFifo(queue, messages, now) : await this.sendStandard(queue, messages, now);
    // delayed messages too: the service wakes this node's receives for them, but a receive parked
    // on another node must look again to set its timer by the delay
    this.touched(queue.id);
    return out;
  }

  private async sendStandard(queue: QueueRef, ms: NewMessage[], now: number): Promise<SendResult[]> {
    if (ms.some((m) => m.groupId !== undefined)) this.fair.add(queue.id);
    await this.db.query(
      `INSERT INTO messages (queue_id, visible_at, sent_at, group_id, message_id, body, md5, attrs, sender_id)
       SELECT $1, $2::bigint + d, $2, g, i, b, m, a, s
       FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS t(d, g, i, b, m, a, s)`,
      [
        queue.id,
        now,
        ms.map((m) => m.delayMs),
        ms.map((m) => m.groupId ?? null),
        ms.map((m) => m.messageId),
        ms.map((m) => m.body),
        ms.map((m) => m.md5OfBody),
        ms.map((m) => encodeExtras(m)),
        ms.map((m) => m.senderId),
      ],
    );
    return ms.map((m) => ({ messageId: m.messageId, duplicate: false }));
  }

  private async sendFifo(queue: QueueRef, ms: NewMessage[], now: number): Promise<SendResult[]> {
    const scope = (m: NewMessage) => (queue.dedupScope === 'messageGroup' ? (m.groupId ?? '') : '');
    const key = (m: NewMessage) => `${scope(m)}\u0000${m.dedupId}`;
    // a later message of the same batch may duplicate an earlier one: the first one claims the id
    const first = new Map<string, NewMessage>();
    for (const m of ms) if (!first.has(key(m))) first.set(key(m), m);
    const claims = [...first.values()];
    return this.db.tx(async (c) => {
      // 1. lock the groups (sorted, so concurrent senders never deadlock); a new group's head is
      //    its first message, visible after the queue's delay
      const groups = [...new Set(ms.map((m) => m.groupId!))].sort();
      await c.query(
        `INSERT INTO fifo_groups (queue_id, group_id, head_visible_at)
         SELECT $1, g, $2 FROM unnest($3::text[]) AS g
         ON CONFLICT (queue_id, group_id) DO UPDATE SET head_visible_at = fifo_groups.head_visible_at`,
        [queue.id, now + ms[0].delayMs, groups],
      );
      // 2. claim the deduplication ids; the ones that come back are new (or past their window)
      const won = await c.query<{ scope: string; dedup_id: string; seq: number }>(
        `INSERT INTO fifo_dedup (queue_id, scope, dedup_id, message_id, seq, expires_at)
         SELECT $1, s, d, i, nextval(pg_get_serial_sequence('messages', 'seq')), $3
         FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS t(s, d, i, o) ORDER BY o
         ON CONFLICT (queue_id, scope, dedup_id) DO UPDATE
           SET message_id = excluded.message_id, seq = excluded.seq, expires_at = excluded.expires_at
           WHERE fifo_dedup.expires_at <= $2
         RETURNING scope, dedup_id, seq`,
        [
          queue.id,
          now,
          now + DEDUP_WINDOW_MS,
          claims.map(scope),
          claims.map((m) => m.dedupId!),
          claims.map((m) => m.messageId),
        ],
      );
      const seqOf = new Map(won.rows.map((r) => [`${r.scope}\u0000${r.dedup_id}`, r.seq]));
      const fresh = claims.filter((m) => seqOf.has(key(m)));
      // 3. the messages themselves, with the sequence numbers claimed above
      if (fresh.length) {
        await c.query(
          `INSERT INTO messages (seq, queue_id, visible_at, sent_at, group_id, message_id, body, md5, attrs, sender_id, dedup_id)
           SELECT q, $1, $2::bigint + d, $2, g, i, b, m, a, s, x
           FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
             AS t(q, d, g, i, b, m, a, s, x)`,
          [
            queue.id,
            now,
            fresh.map((m) => seqOf.get(key(m))),
            fresh.map((m) => m.delayMs),
            fresh.map((m) => m.groupId),
            fresh.map((m) => m.messageId),
            fresh.map((m) => m.body),
            fresh.map((m) => m.md5OfBody),
            fresh.map((m) => encodeExtras(m)),
            fresh.map((m) => m.senderId),
            fresh.map((m) => m.dedupId),
          ],
        );
      }
      // 4. duplicates answer with the first message's id and sequence number
      const dupKeys = claims.filter((m) => !seqOf.has(key(m)));
      const existing = new Map<string, { message_id: string; seq: number }>();
      if (dupKeys.length) {
        const r = await c.query<{ scope: string; dedup_id: string; message_id: string; seq: number }>(
          `SELECT d.scope, d.dedup_id, d.message_id, d.seq FROM fifo_dedup d
           JOIN unnest($2::text[], $3::text[]) AS t(s, x) ON d.scope = t.s AND d.dedup_id = t.x
           WHERE d.queue_id = $1`,
          [queue.id, dupKeys.map(scope), dupKeys.map((m) => m.dedupId!)],
        );
        for (const row of r.rows) existing.set(`${row.scope}\u0000${row.dedup_id}`, row);
      }
      await this.refreshHeads(c, queue.id, groups);
      return ms.map((m): SendResult => {
        const k = key(m);
        if (first.get(k) === m && seqOf.has(k)) {
          return { messageId: m.messageId, sequenceNumber: sequenceNumber(seqOf.get(k)!), duplicate: false };
        }
        const orig = first.get(k) === m ? existing.get(k) : undefined;
        if (orig) return { messageId: orig.message_id, sequenceNumber: sequenceNumber(orig.seq), duplicate: true };
        const winner = first.get(k)!;
        const seq = seqOf.get(k) ?? existing.get(k)?.seq ?? 0;
        return {
          messageId: seqOf.has(k) ? winner.messageId : (existing.get(k)?.message_id ?? winner.messageId),
          sequenceNumber: sequenceNumber(seq),
          duplicate: true,
        };
      });
    });
  }

  /**
   * Re-reads the oldest message of each group (whose rows this transaction has locked) and
   * stores its visibility as the group's head; drops groups left without messages.
   */
  private async refreshHeads(c: pg.PoolClient, queueId: number, groups: string[]): Promise<void> {
    if (!groups.length) return;
    await c.query(
      `WITH h AS (
         SELECT DISTINCT ON (group_id) group_id, visible_at FROM messages
         WHERE queue_id = $1 AND group_id = ANY($2::text[]) AND seq > ${PURGED}
         ORDER BY group_id, seq
       ), upd AS (
         UPDATE fifo_groups g SET head_visible_at = h.visible_at FROM h
         WHERE g.queue_id = $1 AND g.group_id = h.group_id
       )
       DELETE FROM fifo_groups g WHERE g.queue_id = $1 AND g.group_id = ANY($2::text[])
         AND NOT EXISTS (SELECT 1 FROM h WHERE h.group_id = g.group_id)`,
      [queueId, groups],
    );
  }

  // ── receive ───────────────────────────────────────────────────────────────

  async receive(queue: QueueRef, opts: ReceiveOptions): Promise<StoredMessage[]> {
    if (queue.fifo) {
      // a claimed head that moves to the DLQ (or expired) lets the group go on: look again
      const out: StoredMessage[] = [];
      for (let round = 0; round < 4 && out.length < opts.max; round++) {
        const { got, claimed } = await this.receiveFifo(queue, { ...opts, max: opts.max - out.length });
        out.push(...got);
        if (got.length === claimed) break;
      }
      return out;
    }
    const out: StoredMessage[] = [];
    const noisy = await this.noisyTenants(queue, opts.now);
    for (let round = 0; round < 8 && out.length < opts.max; round++) {
      // quiet tenants first; noisy ones only when the quiet ones have nothing
      let rows = noisy.length ? await this.claim(queue, opts, opts.max - out.length, noisy) : [];
      if (rows.length < opts.max - out.length)
        rows = rows.concat(await this.claim(queue, opts, opts.max - out.length - rows.length));
      if (rows.length === 0) break;
      if (!this.fair.has(queue.id) && rows.some((r) => r.group_id !== null)) this.fair.add(queue.id);
      const keep = await this.screen(queue, rows, opts.now);
      for (const r of keep) out.push(toStoredMessage(r, r, opts.now));
      if (keep.length === rows.length) break;
    }
    return out;
  }

  private async claim(queue: QueueRef, o: ReceiveOptions, limit: number, exclude?: string[]): Promise<Row[]> {
    const r = await this.db.query<Row>(
      `WITH c AS (
         SELECT seq FROM messages
         WHERE queue_id = $1 AND visible_at <= $2 AND seq > ${PURGED}
           ${exclude ? 'AND (group_id IS NULL OR group_id <> ALL($5::text[]))' : ''}
         ORDER BY visible_at LIMIT $3
         FOR UPDATE SKIP LOCKED
       )
       UPDATE messages m SET visible_at = $4, receive_count = m.receive_count + 1,
         first_receive_at = coalesce(m.first_receive_at, $2)
       FROM c WHERE m.seq = c.seq AND ${NO_FLUSH_WAIT}
       RETURNING m.*`,
      exclude
        ? [queue.id, o.now, limit, o.now + o.visibilityMs, exclude]
        : [queue.id, o.now, limit, o.now + o.visibilityMs],
    );
    return r.rows.sort((a, b) => a.visible_at - b.visible_at || a.seq - b.seq);
  }

  /**
   * Fair queues: the tenants with many messages in flight, from the in-flight messages that
   * come back soonest (at most 10,000 of them: the shares of a large in-flight set are sampled).
   */
  private async noisyTenants(queue: QueueRef, now: number): Promise<string[]> {
    if (!this.fair.has(queue.id)) return [];
    const r = await this.db.query<{ group_id: string | null; n: number; total: number }>(
      `SELECT group_id, count(*)::int AS n, sum(count(*)) OVER ()::int AS total FROM (
         SELECT group_id FROM messages WHERE queue_id = $1 AND visible_at > $2 AND receive_count > 0
         ORDER BY visible_at LIMIT 10000) s
       GROUP BY group_id`,
      [queue.id, now],
    );
    return r.rows.filter((x) => x.group_id !== null && isNoisy(x.n, x.total)).map((x) => x.group_id!);
  }

  /**
   * Claimed messages past their retention are dropped; those past maxReceiveCount move to the
   * dead-letter queue (their claim undone); the rest are delivered.
   */
  private async screen(queue: QueueRef, rows: Row[], now: number): Promise<Row[]> {
    const dead = rows.filter((r) => expired(r.sent_at, queue.retentionMs, now));
    const over = rows.filter((r) => !dead.includes(r) && exceedsMaxReceives(r.receive_count, queue.redrive));
    if (!dead.length && !over.length) return rows;
    if (dead.length)
      await this.db.query('DELETE FROM messages WHERE seq = ANY($1::bigint[])', [dead.map((r) => r.seq)]);
    const moved = over.length ? await this.moveToDeadLetter(queue, over, now) : new Set<number>();
    if (queue.fifo) {
      const groups = [...new Set([...dead, ...over].map((r) => r.group_id).filter((g): g is string => !!g))];
      if (groups.length) await this.db.tx((c) => this.lockAndRefresh(c, queue.id, groups));
    }
    return rows.filter((r) => !dead.includes(r) && (!over.includes(r) || !moved.has(r.seq)));
  }

  /** As on SQLite: id, body, attributes and receive count stay; see LogMessages (store/sqs/log/messages.ts). */
  private async moveToDeadLetter(queue: QueueRef, rows: Row[], now: number): Promise<Set<number>> {
    const dlqId = queue.redrive!.deadLetterQueueId;
    return this.db.tx(async (c) => {
      const dlq = await c.query<{ fifo: boolean }>('SELECT fifo FROM queues WHERE id = $1', [dlqId]);
      if (!dlq.rows.length) return new Set<number>();
      const fifo = dlq.rows[0].fifo;
      const groups = [...new Set(rows.map((r) => r.group_id).filter((g): g is string => !!g))].sort();
      if (fifo && groups.length) {
        await c.query(
          `INSERT INTO fifo_groups (queue_id, group_id, head_visible_at) SELECT $1, g, $2 FROM unnest($3::text[]) AS g
           ON CONFLICT (queue_id, group_id) DO UPDATE SET head_visible_at = fifo_groups.head_visible_at`,
          [dlqId, now, groups],
        );
      }
      for (const r of rows) {
        const x = decodeExtras(r.attrs);
        x.deadLetterSourceArn = queue.arn;
        await c.query(
          `UPDATE messages SET queue_id = $2, visible_at = $3, receive_count = receive_count - 1, sent_at = $4,
             attrs = $5, dedup_id = $6 WHERE seq = $1`,
          [r.seq, dlqId, now, fifo ? now : r.sent_at, encodeExtras(x), fifo ? r.message_id : r.dedup_id],
        );
      }
      if (fifo && groups.length) await this.refreshHeads(c, dlqId, groups);
      this.touched(dlqId);
      return new Set(rows.map((r) => r.seq));
    });
  }

  private async receiveFifo(queue: QueueRef, o: ReceiveOptions): Promise<{ got: StoredMessage[]; claimed: number }> {
    const got = await this.db.tx(async (c): Promise<{ again?: StoredMessage[]; rows: Row[] }> => {
      if (o.attemptId) {
        const again = await this.retryAttempt(c, queue, o);
        if (again) return { again, rows: [] };
      }
      const groups = (
        await c.query<{ group_id: string }>(
          `SELECT group_id FROM fifo_groups WHERE queue_id = $1 AND head_visible_at <= $2
           ORDER BY head_visible_at LIMIT $3 FOR UPDATE SKIP LOCKED`,
          [queue.id, o.now, o.max],
        )
      ).rows.map((r) => r.group_id);
      if (!groups.length) return { rows: [] };
      const cands = await c.query<{ seq: number; group_id: string; visible_at: number }>(
        `SELECT m.seq, m.group_id, m.visible_at FROM unnest($2::text[]) WITH ORDINALITY AS g(id, o)
         CROSS JOIN LATERAL (
           SELECT seq, group_id, visible_at FROM messages
           WHERE queue_id = $1 AND group_id = g.id AND seq > ${PURGED} ORDER BY seq LIMIT $3
         ) m ORDER BY g.o, m.seq`,
        [queue.id, groups, o.max],
      );
      // as many messages of one group as possible, in order, while they are visible
      const pick: number[] = [];
      const stopped = new Set<string>();
      for (const r of cands.rows) {
        if (pick.length >= o.max) break;
        if (stopped.has(r.group_id)) continue;
        if (r.visible_at > o.now) stopped.add(r.group_id);
        else pick.push(r.seq);
      }
      let rows: Row[] = [];
      if (pick.length) {
        rows = (
          await c.query<Row>(
            `UPDATE messages SET visible_at = $2, receive_count = receive_count + 1,
               first_receive_at = coalesce(first_receive_at, $3)
             WHERE seq = ANY($1::bigint[]) RETURNING *`,
            [pick, o.now + o.visibilityMs, o.now],
          )
        ).rows;
        const order = new Map(pick.map((s, i) => [s, i]));
        rows.sort((a, b) => order.get(a.seq)! - order.get(b.seq)!);
      }
      await this.refreshHeads(c, queue.id, groups);
      if (o.attemptId && rows.length) {
        await c.query(
          `INSERT INTO receive_attempts (queue_id, attempt_id, expires_at, messages) VALUES ($1, $2, $3, $4)
           ON CONFLICT (queue_id, attempt_id) DO UPDATE SET expires_at = excluded.expires_at, messages = excluded.messages`,
          [
            queue.id,
            o.attemptId,
            o.now + ATTEMPT_WINDOW_MS,
            JSON.stringify(rows.map((r) => [r.seq, r.receive_count, o.now])),
          ],
        );
      }
      return { rows };
    });
    if (got.again) return { got: got.again, claimed: got.again.length };
    const keep = await this.screen(queue, got.rows, o.now);
    return { got: keep.map((r) => toStoredMessage(r, r, o.now)), claimed: got.rows.length };
  }

  /** A FIFO receive retried with the same attempt id gets the same messages while untouched. */
  private async retryAttempt(
    c: pg.PoolClient,
    queue: QueueRef,
    o: ReceiveOptions,
  ): Promise<StoredMessage[] | undefined> {
    const a = await c.query<{ expires_at: number; messages: string }>(
      'SELECT expires_at, messages FROM receive_attempts WHERE queue_id = $1 AND attempt_id = $2',
      [queue.id, o.attemptId],
    );
    if (!a.rows.length || a.rows[0].expires_at <= o.now) return undefined;
    const list = JSON.parse(a.rows[0].messages) as [number, number, number][];
    if (!list.length) return undefined;
    const groups = (
      await c.query<{ group_id: string }>(`SELECT DISTINCT group_id FROM messages WHERE seq = ANY($1::bigint[])`, [
        list.map((x) => x[0]),
      ])
    ).rows.map((r) => r.group_id);
    await c.query(
      'SELECT 1 FROM fifo_groups WHERE queue_id = $1 AND group_id = ANY($2::text[]) ORDER BY group_id FOR UPDATE',
      [queue.id, groups],
    );
    const rows = (await c.query<Row>('SELECT * FROM messages WHERE seq = ANY($1::bigint[])', [list.map((x) => x[0])]))
      .rows;
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    for (const [seq, rc] of list) {
      const r = bySeq.get(seq);
      if (!r || r.queue_id !== queue.id || r.receive_count !== rc || r.visible_at <= o.now) return undefined;
    }
    await c.query('UPDATE messages SET visible_at = $2 WHERE seq = ANY($1::bigint[])', [
      list.map((x) => x[0]),
      o.now + o.visibilityMs,
    ]);
    await this.refreshHeads(c, queue.id, groups);
    return list.map(([seq, , receivedAt]) => toStoredMessage(bySeq.get(seq)!, bySeq.get(seq)!, receivedAt));
  }

  // ── delete, visibility ────────────────────────────────────────────────────

  async deleteMessages(queue: QueueRef, refs: ReceiptRef[], now: number): Promise<DeleteOutcome[]> {
    if (!queue.fifo) {
      // a stale or unknown handle succeeds without deleting: one statement says all we need
      const r = await this.db.query<{ seq: number }>(
        `DELETE FROM messages m USING unnest($2::bigint[], $3::int[]) AS h(seq, rc)
         WHERE m.seq = h.seq AND m.receive_count = h.rc AND m.queue_id = $1 RETURNING m.seq`,
        [queue.id, refs.map((x) => x.seq), refs.map((x) => x.receiveCount)],
      );
      const done = new Set(r.rows.map((x) => x.seq));
      return refs.map((x) => (done.has(x.seq) ? 'deleted' : 'gone'));
    }
    const out = await this.db.tx(async (c) => {
      const rows = await this.lockedStates(
        c,
        queue.id,
        refs.map((r) => r.seq),
      );
      const doomed: number[] = [];
      const outcomes = refs.map((ref): DeleteOutcome => {
        const problem = receiptProblem(rows.get(ref.seq), queue.id, ref, true, now);
        if (problem) return problem;
        if (!doomed.includes(ref.seq)) doomed.push(ref.seq);
        return 'deleted';
      });
      if (doomed.length) await c.query('DELETE FROM messages WHERE seq = ANY($1::bigint[])', [doomed]);
      await this.refreshHeads(c, queue.id, [...new Set([...rows.values()].map((s) => s.group_id!))]);
      return outcomes;
    });
    if (out.includes('deleted')) this.touched(queue.id);
    return out;
  }

  /** Locks the FIFO groups of these messages (sorted), then reads the messages' state. */
  private async lockedStates(c: pg.PoolClient, queueId: number, seqs: number[]): Promise<Map<number, Row>> {
    const groups = (
      await c.query<{ group_id: string }>(
        'SELECT DISTINCT group_id FROM messages WHERE seq = ANY($1::bigint[]) AND queue_id = $2',
        [seqs, queueId],
      )
    ).rows.map((r) => r.group_id);
    await this.lockGroups(c, queueId, groups);
    const rows = (await c.query<Row>('SELECT * FROM messages WHERE seq = ANY($1::bigint[])', [seqs])).rows;
    return new Map(rows.map((r) => [r.seq, r]));
  }

  private async lockGroups(c: pg.PoolClient, queueId: number, groups: string[]): Promise<void> {
    if (groups.length) {
      await c.query(
        'SELECT 1 FROM fifo_groups WHERE queue_id = $1 AND group_id = ANY($2::text[]) ORDER BY group_id FOR UPDATE',
        [queueId, groups],
      );
    }
  }

  private async lockAndRefresh(c: pg.PoolClient, queueId: number, groups: string[]): Promise<void> {
    await this.lockGroups(c, queueId, groups);
    await this.refreshHeads(c, queueId, groups);
  }

  async changeVisibility(
    queue: QueueRef,
    entries: { ref: ReceiptRef; visibilityMs: number }[],
    now: number,
  ): Promise<VisibilityOutcome[]> {
    let sooner = false;
    const out = await this.db.tx(async (c) => {
      const seqs = entries.map((e) => e.ref.seq);
      const rows = queue.fifo
        ? await this.lockedStates(c, queue.id, seqs)
        : new Map(
            (await c.query<Row>('SELECT * FROM messages WHERE seq = ANY($1::bigint[]) FOR UPDATE', [seqs])).rows.map(
              (r) => [r.seq, r],
            ),
          );
      const outcomes: VisibilityOutcome[] = [];
      for (const { ref, visibilityMs } of entries) {
        const problem = receiptProblem(rows.get(ref.seq), queue.id, ref, queue.fifo, now);
        if (problem) outcomes.push(problem);
        else {
          await c.query('UPDATE messages SET visible_at = $2 WHERE seq = $1', [ref.seq, now + visibilityMs]);
          if (now + visibilityMs < rows.get(ref.seq)!.visible_at) sooner = true;
          outcomes.push('ok');
        }
      }
      if (queue.fifo) await this.refreshHeads(c, queue.id, [...new Set([...rows.values()].map((s) => s.group_id!))]);
      return outcomes;
    });
    // a message visible sooner than before: receives parked on other nodes may sleep past it (the
    // service wakes this node's); heartbeats that extend a timeout wake nobody
    if (sooner) this.touched(queue.id);
    return out;
  }

  // ── reads ─────────────────────────────────────────────────────────────────

  async counts(queue: QueueRef, now: number): Promise<MessageCounts> {
    const r = await this.db.query<MessageCounts>(
      `SELECT count(*) FILTER (WHERE visible_at <= $2)::int AS visible,
              count(*) FILTER (WHERE visible_at > $2 AND receive_count > 0)::int AS "notVisible",
              count(*) FILTER (WHERE visible_at > $2 AND receive_count = 0)::int AS delayed
       FROM messages WHERE queue_id = $1 AND seq > ${PURGED}`,
      [queue.id, now],
    );
    return r.rows[0];
  }

  async nextVisibleAt(queue: QueueRef, now: number): Promise<number | undefined> {
    const sql = queue.fifo
      ? 'SELECT min(head_visible_at) AS t FROM fifo_groups WHERE queue_id = $1 AND head_visible_at > $2'
      : `SELECT min(visible_at) AS t FROM messages WHERE queue_id = $1 AND visible_at > $2 AND seq > ${PURGED}`;
    const r = await this.db.query<{ t: number | null }>(sql, [queue.id, now]);
    return r.rows[0].t ?? undefined;
  }

  async peek(queue: QueueRef, now: number, limit: number): Promise<PeekedMessage[]> {
    const r = await this.db.query<Row>(
      `SELECT * FROM messages WHERE queue_id = $1 AND seq > ${PURGED} ORDER BY visible_at LIMIT $2`,
      [queue.id, limit],
    );
    return r.rows.map((row) => toPeeked(row, row, now));
  }

  // ── redrive, retention ────────────────────────────────────────────────────

  async moveMessages(
    source: QueueRef,
    destinationFor: (arn: string | undefined) => QueueRef | undefined,
    max: number,
    now: number,
  ): Promise<{ moved: number; failed: number }> {
    const touched = new Set<number>();
    const result = await this.db.tx(async (c) => {
      const rows = (
        await c.query<Row>(
          `SELECT * FROM messages WHERE queue_id = $1 AND visible_at <= $2 AND seq > ${PURGED}
           ORDER BY visible_at LIMIT $3 FOR UPDATE SKIP LOCKED`,
          [source.id, now, max],
        )
      ).rows;
      let moved = 0;
      let failed = 0;
      const srcGroups = new Set<string>();
      for (const r of rows) {
        const x = decodeExtras(r.attrs);
        const dest = destinationFor(x.deadLetterSourceArn);
        const exists = dest && (await c.query('SELECT 1 FROM queues WHERE id = $1', [dest.id])).rows.length;
        if (!dest || !exists) {
          failed++;
          continue;
        }
        delete x.deadLetterSourceArn;
        if (dest.fifo && r.group_id) {
          await c.query(
            `INSERT INTO fifo_groups (queue_id, group_id, head_visible_at) VALUES ($1, $2, $3)
             ON CONFLICT (queue_id, group_id) DO UPDATE SET head_visible_at = fifo_groups.head_visible_at`,
            [dest.id, r.group_id, now],
          );
        }
        // a redriven message is a new message: new id, new enqueue time, retention starts again
        await c.query(
          `UPDATE messages SET queue_id = $2, visible_at = $3, sent_at = $3, receive_count = 0, first_receive_at = NULL,
             message_id = $4, attrs = $5 WHERE seq = $1`,
          [r.seq, dest.id, now, randomUUID(), encodeExtras(x)],
        );
        if (dest.fifo && r.group_id) await this.refreshHeads(c, dest.id, [r.group_id]);
        if (source.fifo && r.group_id) srcGroups.add(r.group_id);
        touched.add(dest.id);
        moved++;
      }
      if (srcGroups.size) await this.lockAndRefresh(c, source.id, [...srcGroups].sort());
      return { moved, failed };
    });
    for (const id of touched) this.touched(id);
    return result;
  }

  /** Drops visible messages past their retention at the front of the queue. */
  async sweepRetention(q: QueueRef, now: number, limit: number): Promise<number> {
    const r = await this.db.query<{ group_id: string | null }>(
      `DELETE FROM messages WHERE seq IN (
         SELECT seq FROM messages WHERE queue_id = $1 AND visible_at <= $2 AND sent_at <= $3
         ORDER BY visible_at LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING group_id`,
      [q.id, now, now - q.retentionMs, limit],
    );
    if (q.fifo) {
      const groups = [...new Set(r.rows.map((x) => x.group_id).filter((g): g is string => !!g))].sort();
      if (groups.length) await this.db.tx((c) => this.lockAndRefresh(c, q.id, groups));
    }
    return r.rowCount ?? 0;
  }
}
