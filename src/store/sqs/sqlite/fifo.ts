/** The FIFO deduplication window in SQL (five minutes; scope '' = queue, or the message group). */
import type Database from 'better-sqlite3';
import type { NewMessage, QueueRef } from '../types.js';

export class DedupTable {
  private readonly s;
  constructor(db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      sel: p('SELECT message_id, seq, expires_at FROM fifo_dedup WHERE queue_id = ? AND scope = ? AND dedup_id = ?'),
      put: p(
        `INSERT INTO fifo_dedup (queue_id, scope, dedup_id, message_id, seq, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (queue_id, scope, dedup_id) DO UPDATE SET message_id = excluded.message_id, seq = excluded.seq,
           expires_at = excluded.expires_at`,
      ),
      drop: p('DELETE FROM fifo_dedup WHERE queue_id = ?'),
    };
  }

  private scope(queue: QueueRef, m: NewMessage): string {
    return queue.dedupScope === 'messageGroup' ? (m.groupId ?? '') : '';
  }

  find(queue: QueueRef, m: NewMessage, now: number): { messageId: string; seq: number } | undefined {
    if (!m.dedupId) return undefined;
    const r = this.s.sel.get(queue.id, this.scope(queue, m), m.dedupId) as
      { message_id: string; seq: number; expires_at: number } | undefined;
    return r && r.expires_at > now ? { messageId: r.message_id, seq: r.seq } : undefined;
  }

  record(queue: QueueRef, m: NewMessage, seq: number, expiresAt: number): void {
    if (m.dedupId) this.s.put.run(queue.id, this.scope(queue, m), m.dedupId, m.messageId, seq, expiresAt);
  }

  clear(queueId: number): void {
    this.s.drop.run(queueId);
  }
}
