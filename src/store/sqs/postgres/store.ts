/**
 * The SQS store on PostgreSQL, for several Wharf nodes on one database. Nodes keep no state
 * of their own beyond caches: queue rows are cached and invalidated through LISTEN/NOTIFY (and
 * re-read after a few seconds in any case); sends and visibility changes are announced the
 * same way, so a long poll on one node wakes for a message sent through another.
 */
import pg from 'pg';
import type {
  DeleteOutcome,
  MessageCounts,
  MoveTaskRow,
  NewMessage,
  PeekedMessage,
  QueueRef,
  QueueRow,
  ReceiptRef,
  ReceiveOptions,
  SendResult,
  SqsStore,
  StoredMessage,
  VisibilityOutcome,
} from '../types.js';
import type { Db } from '../../postgres/db.js';
import type { PostgresKernel } from '../../postgres/kernel.js';
import { TASK_COLUMNS, taskValues, toTask, type TaskColumns } from '../rows.js';
import { PgMessages } from './messages.js';

// bigint columns hold epoch milliseconds and sequences, all below 2^53
pg.types.setTypeParser(20, (v) => Number(v));

const CACHE_MS = 5000;
const DROP_CHUNK = 5000;

interface QueueDbRow {
  id: number;
  account: string;
  region: string;
  name: string;
  fifo: boolean;
  attributes: string;
  tags: string;
  created_at: number;
  last_modified_at: number;
}

function toQueue(r: QueueDbRow): QueueRow {
  return {
    id: r.id,
    account: r.account,
    region: r.region,
    name: r.name,
    fifo: r.fifo,
    attributes: JSON.parse(r.attributes),
    tags: JSON.parse(r.tags),
    createdAt: r.created_at,
    lastModifiedAt: r.last_modified_at,
  };
}

const qkey = (account: string, region: string, name: string) => `${account}\u0000${region}\u0000${name}`;

/** wake-up keys: messages may be visible on a queue; queues changed (cached rows go stale) */
const MESSAGES = 'sqs:m:';
const QUEUES = 'sqs:q';

export class PostgresSqsStore implements SqsStore {
  private readonly db: Db;
  private readonly msgs: PgMessages;
  private readonly byKey = new Map<string, { row: QueueRow | undefined; at: number }>();
  private readonly byId = new Map<number, { row: QueueRow | undefined; at: number }>();
  private readonly available: Array<(queueId: number) => void> = [];
  private readonly changed: Array<() => void> = [];
  private draining = false;
  private readonly inflightCache = new Map<number, { at: number; n: number }>();

  constructor(private readonly kernel: PostgresKernel) {
    this.db = kernel.db;
    this.msgs = new PgMessages(this.db, (id) => kernel.wake(`${MESSAGES}${id}`));
    kernel.onWake((key) => {
      if (key === QUEUES) this.forgetQueues();
      else if (key.startsWith(MESSAGES)) {
        const id = Number(key.slice(MESSAGES.length));
        for (const l of this.available) l(id);
      }
    });
    // notifications may have been missed while the listener was down
    kernel.onMissedWakeups(() => {
      this.forgetQueues();
      for (const l of this.available) for (const id of this.byId.keys()) l(id);
    });
    kernel.plug({
      tables: [
        'queues',
        'deleted_queues',
        'drops',
        'messages',
        'fifo_groups',
        'fifo_dedup',
        'receive_attempts',
        'move_tasks',
      ],
      afterReset: () => kernel.wake(QUEUES),
    });
  }

  private forgetQueues(): void {
    this.byKey.clear();
    this.byId.clear();
    for (const l of this.changed) l();
  }

  onAvailable(listener: (queueId: number) => void): void {
    this.available.push(listener);
  }

  onQueuesChanged(listener: () => void): void {
    this.changed.push(listener);
  }

  // ── queues ────────────────────────────────────────────────────────────────

  private remember(row: QueueRow): QueueRow {
    const at = Date.now();
    this.byKey.set(qkey(row.account, row.region, row.name), { row, at });
    this.byId.set(row.id, { row, at });
    return row;
  }

  async createQueue(q: Omit<QueueRow, 'id'>): Promise<{ queue: QueueRow; created: boolean }> {
    const ins = await this.db.query<QueueDbRow>(
      `INSERT INTO queues (account, region, name, fifo, attributes, tags, created_at, last_modified_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account, region, name) DO NOTHING RETURNING *`,
      [
        q.account,
        q.region,
        q.name,
        q.fifo,
        JSON.stringify(q.attributes),
        JSON.stringify(q.tags),
        q.createdAt,
        q.lastModifiedAt,
      ],
    );
    if (ins.rows.length) {
      this.kernel.wake(QUEUES);
      return { queue: this.remember(toQueue(ins.rows[0])), created: true };
    }
    const existing = await this.db.query<QueueDbRow>(
      'SELECT * FROM queues WHERE account = $1 AND region = $2 AND name = $3',
      [q.account, q.region, q.name],
    );
    return { queue: this.remember(toQueue(existing.rows[0])), created: false };
  }

  async getQueue(account: string, region: string, name: string): Promise<QueueRow | undefined> {
    const hit = this.byKey.get(qkey(account, region, name));
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.row;
    const r = await this.db.query<QueueDbRow>('SELECT * FROM queues WHERE account = $1 AND region = $2 AND name = $3', [
      account,
      region,
      name,
    ]);
    if (!r.rows.length) {
      this.byKey.set(qkey(account, region, name), { row: undefined, at: Date.now() });
      return undefined;
    }
    // keep the same object while nothing changed, so per-queue caches above stay valid
    const row = toQueue(r.rows[0]);
    const old = this.byId.get(row.id)?.row;
    if (old && JSON.stringify(old) === JSON.stringify(row)) return this.remember(old);
    return this.remember(row);
  }

  async getQueueById(id: number): Promise<QueueRow | undefined> {
    const hit = this.byId.get(id);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.row;
    const r = await this.db.query<QueueDbRow>('SELECT * FROM queues WHERE id = $1', [id]);
    if (!r.rows.length) {
      this.byId.set(id, { row: undefined, at: Date.now() });
      return undefined;
    }
    return this.getQueue(r.rows[0].account, r.rows[0].region, r.rows[0].name);
  }

  async listQueues(account: string, region: string, prefix = ''): Promise<QueueRow[]> {
    const r = await this.db.query<QueueDbRow>(
      `SELECT * FROM queues WHERE account = $1 AND region = $2 AND starts_with(name, $3) ORDER BY name COLLATE "C"`,
      [account, region, prefix],
    );
    return r.rows.map(toQueue);
  }

  async allQueues(): Promise<QueueRow[]> {
    return (await this.db.query<QueueDbRow>('SELECT * FROM queues ORDER BY id')).rows.map(toQueue);
  }

  async setQueueAttributes(id: number, attributes: Record<string, string>, now: number): Promise<QueueRow> {
    const r = await this.db.query<QueueDbRow>(
      'UPDATE queues SET attributes = $2, last_modified_at = $3 WHERE id = $1 RETURNING *',
      [id, JSON.stringify(attributes), now],
    );
    this.kernel.wake(QUEUES);
    return this.remember(toQueue(r.rows[0]));
  }

  async setQueueTags(id: number, tags: Record<string, string>): Promise<QueueRow> {
    const r = await this.db.query<QueueDbRow>('UPDATE queues SET tags = $2 WHERE id = $1 RETURNING *', [
      id,
      JSON.stringify(tags),
    ]);
    this.kernel.wake(QUEUES);
    return this.remember(toQueue(r.rows[0]));
  }

  async deleteQueue(id: number, now: number): Promise<void> {
    await this.db.tx(async (c) => {
      const q = await c.query<QueueDbRow>('DELETE FROM queues WHERE id = $1 RETURNING *', [id]);
      if (!q.rows.length) return;
      const { account, region, name } = q.rows[0];
      await c.query(
        `INSERT INTO deleted_queues (account, region, name, deleted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account, region, name) DO UPDATE SET deleted_at = excluded.deleted_at`,
        [account, region, name, now],
      );
      await c.query(
        `INSERT INTO drops (queue_id, to_seq) VALUES ($1, (SELECT coalesce(max(seq), 0) FROM messages WHERE queue_id = $1))
         ON CONFLICT (queue_id) DO UPDATE SET to_seq = excluded.to_seq`,
        [id],
      );
      for (const t of ['fifo_groups', 'fifo_dedup', 'receive_attempts'])
        await c.query(`DELETE FROM ${t} WHERE queue_id = $1`, [id]);
      await c.query('DELETE FROM move_tasks WHERE source_queue_id = $1', [id]);
    });
    this.kernel.wake(QUEUES); // forgets the cached rows here too
    this.kernel.wake(`${MESSAGES}${id}`);
  }

  async deletedRecently(
    account: string,
    region: string,
    name: string,
    now: number,
    withinMs: number,
  ): Promise<boolean> {
    const r = await this.db.query<{ deleted_at: number }>(
      'SELECT deleted_at FROM deleted_queues WHERE account = $1 AND region = $2 AND name = $3',
      [account, region, name],
    );
    return r.rows.length > 0 && now - r.rows[0].deleted_at < withinMs;
  }

  // ── messages ──────────────────────────────────────────────────────────────

  send(queue: QueueRef, messages: NewMessage[], now: number): Promise<SendResult[]> {
    return this.msgs.send(queue, messages, now);
  }

  async receive(queue: QueueRef, opts: ReceiveOptions): Promise<StoredMessage[]> {
    const got = await this.msgs.receive(queue, opts);
    // keep this node's in-flight estimate current between refreshes
    const hit = this.inflightCache.get(queue.id);
    if (hit) hit.n += got.length;
    return got;
  }

  async deleteMessages(queue: QueueRef, refs: ReceiptRef[], now: number): Promise<DeleteOutcome[]> {
    const out = await this.msgs.deleteMessages(queue, refs, now);
    const hit = this.inflightCache.get(queue.id);
    if (hit) hit.n = Math.max(0, hit.n - out.filter((o) => o === 'deleted').length);
    return out;
  }

  changeVisibility(
    queue: QueueRef,
    entries: { ref: ReceiptRef; visibilityMs: number }[],
    now: number,
  ): Promise<VisibilityOutcome[]> {
    return this.msgs.changeVisibility(queue, entries, now);
  }

  async purge(queue: QueueRef, now: number, minIntervalMs: number): Promise<boolean> {
    // the watermark makes the messages disappear at once on every node; rows go in the background
    const r = await this.db.tx(async (c) => {
      const u = await c.query(
        `UPDATE queues SET last_purge_at = $2,
           purged_to = (SELECT coalesce(max(seq), 0) FROM messages WHERE queue_id = $1)
         WHERE id = $1 AND (last_purge_at IS NULL OR last_purge_at <= $3)`,
        [queue.id, now, now - minIntervalMs],
      );
      if (u.rowCount !== 1) return false;
      await c.query('DELETE FROM fifo_groups WHERE queue_id = $1', [queue.id]);
      // a purge also empties the FIFO deduplication cache
      await c.query('DELETE FROM fifo_dedup WHERE queue_id = $1', [queue.id]);
      return true;
    });
    if (r) this.drainSoon();
    return r;
  }

  counts(queue: QueueRef, now: number): Promise<MessageCounts> {
    return this.msgs.counts(queue, now);
  }

  nextVisibleAt(queue: QueueRef, now: number): Promise<number | undefined> {
    return this.msgs.nextVisibleAt(queue, now);
  }

  async inflight(queue: QueueRef, now: number): Promise<number> {
    const hit = this.inflightCache.get(queue.id);
    if (hit && Math.abs(now - hit.at) < 1000) return hit.n;
    const n = (await this.msgs.counts(queue, now)).notVisible;
    this.inflightCache.set(queue.id, { at: now, n });
    return n;
  }

  peek(queue: QueueRef, now: number, limit: number): Promise<PeekedMessage[]> {
    return this.msgs.peek(queue, now, limit);
  }

  // ── redrive ───────────────────────────────────────────────────────────────

  async createMoveTask(t: MoveTaskRow): Promise<void> {
    await this.db.query(
      `INSERT INTO move_tasks (task_handle, source_queue_id, source_arn, destination_arn, max_per_second, status,
         started_at, moved, to_move, failure_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      taskValues(t),
    );
  }

  async listMoveTasks(sourceQueueId: number): Promise<MoveTaskRow[]> {
    const r = await this.db.query<TaskColumns>(
      'SELECT * FROM move_tasks WHERE source_queue_id = $1 ORDER BY started_at DESC',
      [sourceQueueId],
    );
    return r.rows.map(toTask);
  }

  async activeMoveTasks(): Promise<MoveTaskRow[]> {
    const r = await this.db.query<TaskColumns>("SELECT * FROM move_tasks WHERE status IN ('RUNNING', 'CANCELLING')");
    return r.rows.map(toTask);
  }

  async getMoveTask(taskHandle: string): Promise<MoveTaskRow | undefined> {
    const r = await this.db.query<TaskColumns>('SELECT * FROM move_tasks WHERE task_handle = $1', [taskHandle]);
    return r.rows[0] && toTask(r.rows[0]);
  }

  async updateMoveTask(taskHandle: string, patch: Partial<MoveTaskRow>): Promise<void> {
    const sets: string[] = [];
    const vals: unknown[] = [taskHandle];
    for (const [k, v] of Object.entries(patch)) {
      const col = TASK_COLUMNS[k as keyof MoveTaskRow];
      if (!col) continue;
      vals.push(v ?? null);
      sets.push(`${col} = $${vals.length}`);
    }
    if (sets.length) await this.db.query(`UPDATE move_tasks SET ${sets.join(', ')} WHERE task_handle = $1`, vals);
  }

  moveMessages(
    source: QueueRef,
    destinationFor: (deadLetterSourceArn: string | undefined) => QueueRef | undefined,
    max: number,
    now: number,
  ): Promise<{ moved: number; failed: number }> {
    return this.msgs.moveMessages(source, destinationFor, max, now);
  }

  // ── maintenance ──────────────────────────────────────────────────────────

  async sweep(queues: QueueRef[], now: number): Promise<number> {
    let removed = 0;
    removed += (await this.db.query('DELETE FROM fifo_dedup WHERE expires_at <= $1', [now])).rowCount ?? 0;
    removed += (await this.db.query('DELETE FROM receive_attempts WHERE expires_at <= $1', [now])).rowCount ?? 0;
    await this.db.query('DELETE FROM deleted_queues WHERE deleted_at <= $1', [now - 60 * 60 * 1000]);
    for (const q of queues) removed += await this.msgs.sweepRetention(q, now, 1000);
    await this.drain();
    return removed;
  }

  private drainSoon(): void {
    setImmediate(() => {
      this.drain().catch(() => {});
    });
  }

  /** Deletes the rows of purged messages and of deleted queues, a chunk at a time. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      const purged = await this.db.query<{ id: number; purged_to: number }>(
        'SELECT id, purged_to FROM queues WHERE purged_to > drained_to',
      );
      const dropped = await this.db.query<{ queue_id: number; to_seq: number }>('SELECT queue_id, to_seq FROM drops');
      const work = [
        ...purged.rows.map((r) => ({
          queue: r.id,
          to: r.purged_to,
          done: 'UPDATE queues SET drained_to = $2 WHERE id = $1',
        })),
        ...dropped.rows.map((r) => ({
          queue: r.queue_id,
          to: r.to_seq,
          done: 'DELETE FROM drops WHERE queue_id = $1 AND to_seq = $2',
        })),
      ];
      for (const w of work) {
        for (;;) {
          const r = await this.db.query(
            `DELETE FROM messages WHERE seq IN (
               SELECT seq FROM messages WHERE queue_id = $1 AND seq <= $2 LIMIT ${DROP_CHUNK})`,
            [w.queue, w.to],
          );
          if ((r.rowCount ?? 0) < DROP_CHUNK) break;
        }
        await this.db.query(w.done, [w.queue, w.to]);
      }
    } finally {
      this.draining = false;
    }
  }
}
