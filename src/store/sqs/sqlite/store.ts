/**
 * The SQS store of the embedded backend: queues, deleted-queue memory and move tasks in SQLite
 * (each verb inside the engine's per-turn transaction), messages in the embedded log
 * (store/sqs/log/). Queue rows are few and read on every request, so they are cached here; this
 * process is the only writer of its data directory.
 */
import type Database from 'better-sqlite3';
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
import type { SqliteEngine } from '../../sqlite/engine.js';
import type { SqliteKernel } from '../../sqlite/kernel.js';
import { LogMessages } from '../log/messages.js';
import { migrateSqlMessages } from '../log/migrate.js';
import { TaskTable } from './tasks.js';

interface QueueDbRow {
  id: number;
  account: string;
  region: string;
  name: string;
  fifo: number;
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
    fifo: r.fifo === 1,
    attributes: JSON.parse(r.attributes),
    tags: JSON.parse(r.tags),
    createdAt: r.created_at,
    lastModifiedAt: r.last_modified_at,
  };
}

const qkey = (account: string, region: string, name: string) => `${account}\u0000${region}\u0000${name}`;

export class SqliteSqsStore implements SqsStore {
  private readonly engine: SqliteEngine;
  private readonly db: Database.Database;
  private readonly byKey = new Map<string, QueueRow>();
  private readonly byId = new Map<number, QueueRow>();
  private readonly listeners: Array<(queueId: number) => void> = [];
  private readonly msgs: LogMessages;
  private readonly tasks: TaskTable;
  private readonly s;

  /** `now`: the injected clock; the index is rebuilt at start as of this time */
  constructor(
    private readonly kernel: SqliteKernel,
    opts: { now?: () => number } = {},
  ) {
    this.engine = kernel.engine;
    const db = (this.db = this.engine.db);
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insQueue: p(
        `INSERT INTO queues (account, region, name, fifo, attributes, tags, created_at, last_modified_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) DO NOTHING`,
      ),
      selQueueByKey: p('SELECT * FROM queues WHERE account = ? AND region = ? AND name = ?'),
      updQueueAttrs: p('UPDATE queues SET attributes = ?, last_modified_at = ? WHERE id = ?'),
      updQueueTags: p('UPDATE queues SET tags = ? WHERE id = ?'),
      delQueue: p('DELETE FROM queues WHERE id = ?'),
      insDeleted: p(
        `INSERT INTO deleted_queues (account, region, name, deleted_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (account, region, name) DO UPDATE SET deleted_at = excluded.deleted_at`,
      ),
      selDeleted: p('SELECT deleted_at FROM deleted_queues WHERE account = ? AND region = ? AND name = ?'),
      setPurge: p('UPDATE queues SET last_purge_at = ? WHERE id = ? AND (last_purge_at IS NULL OR last_purge_at <= ?)'),
      sweepDeleted: p('DELETE FROM deleted_queues WHERE deleted_at <= ?'),
    };
    this.tasks = new TaskTable(db);
    const log = kernel.openLog('sqs');
    this.msgs = new LogMessages(
      log.log,
      (id) => this.byId.get(id),
      (id) => kernel.wake(`sqs:m:${id}`),
      { snapshotDir: log.dir, durability: log.durability },
    );
    for (const r of db.prepare('SELECT * FROM queues').all() as QueueDbRow[]) this.cache(toQueue(r));
    const now = (opts.now ?? Date.now)();
    this.msgs.load(now);
    // a data directory written before the log: its messages move into the log once
    migrateSqlMessages(this.engine, this.msgs, now);
    kernel.onWake((key) => {
      if (!key.startsWith('sqs:m:')) return;
      const id = Number(key.slice(6));
      for (const l of this.listeners) l(id);
    });
    kernel.plug({
      tables: ['queues', 'deleted_queues', 'move_tasks'],
      maintain: () => this.msgs.upkeep.run(),
      // a clean stop leaves a snapshot at the log's end: the next start reads no log
      close: async () => {
        await this.msgs.upkeep.snapshot();
        await log.log.close();
      },
      afterReset: () => {
        this.byId.clear();
        this.byKey.clear();
        return this.msgs.reset();
      },
    });
  }

  private cache(q: QueueRow): QueueRow {
    this.byKey.set(qkey(q.account, q.region, q.name), q);
    this.byId.set(q.id, q);
    return q;
  }

  onAvailable(listener: (queueId: number) => void): void {
    this.listeners.push(listener);
  }

  // ── queues ────────────────────────────────────────────────────────────────

  async createQueue(q: Omit<QueueRow, 'id'>): Promise<{ queue: QueueRow; created: boolean }> {
    return this.engine.write(() => {
      const info = this.s.insQueue.run(
        q.account,
        q.region,
        q.name,
        q.fifo ? 1 : 0,
        JSON.stringify(q.attributes),
        JSON.stringify(q.tags),
        q.createdAt,
        q.lastModifiedAt,
      );
      const row = toQueue(this.s.selQueueByKey.get(q.account, q.region, q.name) as QueueDbRow);
      return { queue: this.cache(row), created: info.changes === 1 };
    });
  }

  async getQueue(account: string, region: string, name: string): Promise<QueueRow | undefined> {
    return this.byKey.get(qkey(account, region, name));
  }

  async getQueueById(id: number): Promise<QueueRow | undefined> {
    return this.byId.get(id);
  }

  async listQueues(account: string, region: string, prefix = ''): Promise<QueueRow[]> {
    const out: QueueRow[] = [];
    for (const q of this.byId.values()) {
      if (q.account === account && q.region === region && q.name.startsWith(prefix)) out.push(q);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async allQueues(): Promise<QueueRow[]> {
    return [...this.byId.values()];
  }

  async setQueueAttributes(id: number, attributes: Record<string, string>, now: number): Promise<QueueRow> {
    return this.engine.write(() => {
      this.s.updQueueAttrs.run(JSON.stringify(attributes), now, id);
      return this.cache({ ...this.byId.get(id)!, attributes, lastModifiedAt: now });
    });
  }

  async setQueueTags(id: number, tags: Record<string, string>): Promise<QueueRow> {
    return this.engine.write(() => {
      this.s.updQueueTags.run(JSON.stringify(tags), id);
      return this.cache({ ...this.byId.get(id)!, tags });
    });
  }

  async deleteQueue(id: number, now: number): Promise<void> {
    const q = this.byId.get(id);
    if (!q) return;
    const gone = this.engine.write(() => {
      this.s.delQueue.run(id);
      this.s.insDeleted.run(q.account, q.region, q.name, now);
      this.tasks.dropQueue(id);
    });
    this.byKey.delete(qkey(q.account, q.region, q.name));
    this.byId.delete(q.id);
    // if a crash keeps the DROP record but not the row (or the reverse), the next start drops
    // the messages of a queue it does not know
    await Promise.all([gone, this.msgs.dropQueue(id)]);
  }

  async deletedRecently(account: string, region: string, name: string, now: number, withinMs: number) {
    const r = this.s.selDeleted.get(account, region, name) as { deleted_at: number } | undefined;
    return !!r && now - r.deleted_at < withinMs;
  }

  // ── messages ──────────────────────────────────────────────────────────────

  send(queue: QueueRef, messages: NewMessage[], now: number): Promise<SendResult[]> {
    return this.msgs.send(queue, messages, now);
  }

  receive(queue: QueueRef, opts: ReceiveOptions): Promise<StoredMessage[]> {
    return this.msgs.receive(queue, opts);
  }

  deleteMessages(queue: QueueRef, refs: ReceiptRef[], now: number): Promise<DeleteOutcome[]> {
    return this.msgs.deleteMessages(queue, refs, now);
  }

  changeVisibility(
    queue: QueueRef,
    entries: { ref: ReceiptRef; visibilityMs: number }[],
    now: number,
  ): Promise<VisibilityOutcome[]> {
    return this.msgs.changeVisibility(queue, entries, now);
  }

  async purge(queue: QueueRef, now: number, minIntervalMs: number): Promise<boolean> {
    let purged: Promise<void> | undefined;
    await this.engine.write(() => {
      // in the same turn as the check: a message sent after the purge is not purged
      if (this.s.setPurge.run(now, queue.id, now - minIntervalMs).changes === 1) purged = this.msgs.purge(queue);
    });
    if (!purged) return false;
    await purged;
    return true;
  }

  async counts(queue: QueueRef, now: number): Promise<MessageCounts> {
    return this.msgs.counts(queue, now);
  }

  async inflight(queue: QueueRef, now: number): Promise<number> {
    return this.msgs.counts(queue, now).notVisible;
  }

  async nextVisibleAt(queue: QueueRef, now: number): Promise<number | undefined> {
    return this.msgs.nextVisibleAt(queue, now);
  }

  async peek(queue: QueueRef, now: number, limit: number): Promise<PeekedMessage[]> {
    return this.msgs.peek(queue, now, limit);
  }

  // ── redrive ───────────────────────────────────────────────────────────────

  async createMoveTask(t: MoveTaskRow): Promise<void> {
    await this.engine.write(() => this.tasks.insert(t));
  }

  async listMoveTasks(sourceQueueId: number): Promise<MoveTaskRow[]> {
    return this.tasks.bySource(sourceQueueId);
  }

  async activeMoveTasks(): Promise<MoveTaskRow[]> {
    return this.tasks.active();
  }

  async getMoveTask(taskHandle: string): Promise<MoveTaskRow | undefined> {
    return this.tasks.one(taskHandle);
  }

  async updateMoveTask(taskHandle: string, patch: Partial<MoveTaskRow>): Promise<void> {
    await this.engine.write(() => this.tasks.update(taskHandle, patch));
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
    await this.engine.write(() => this.s.sweepDeleted.run(now - 60 * 60 * 1000));
    // expired messages at the front of each queue; the rest go when a receive meets them
    return this.msgs.sweep(queues, now, 1000);
  }
}
