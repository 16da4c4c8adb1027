/**
 * A data directory written by Wharf before the log (messages in the SQLite tables `messages`
 * and `bodies`, FIFO windows in `fifo_dedup` and `receive_attempts`) opens under this version:
 * at start, before anything is served, its messages are written into the log with their seqs and
 * state, the log is synced, and then the rows are deleted. If a crash interrupts it, the next
 * start does it again: a SEND record for a seq the log already holds replaces it, so nothing is
 * doubled. Messages of queues whose purge or deletion had not finished (`drop:<queue>` markers)
 * are not carried over.
 */
import type { SqliteEngine } from '../../sqlite/engine.js';
import type { LogMessages } from './messages.js';

interface OldRow {
  seq: number;
  queue_id: number;
  visible_at: number;
  receive_count: number;
  sent_at: number;
  first_receive_at: number | null;
  group_id: string | null;
  message_id: string;
  body: string;
  md5: string;
  attrs: string | null;
  sender_id: string;
  dedup_id: string | null;
}

/** Returns how many messages moved. */
export function migrateSqlMessages(engine: SqliteEngine, msgs: LogMessages, now: number): number {
  const db = engine.db;
  const has = (t: string) => !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t);
  if (!has('messages')) return 0;
  const any =
    db.prepare('SELECT 1 FROM messages LIMIT 1').get() ||
    db.prepare('SELECT 1 FROM fifo_dedup LIMIT 1').get() ||
    db.prepare('SELECT 1 FROM receive_attempts LIMIT 1').get();
  if (!any) return 0;
  const cuts = new Map(
    (db.prepare("SELECT key, value FROM meta WHERE key LIKE 'drop:%'").all() as { key: string; value: string }[]).map(
      (r) => [Number(r.key.slice(5)), Number(r.value)],
    ),
  );
  let moved = 0;
  const rows = db
    .prepare(
      `SELECT m.seq, m.queue_id, m.visible_at, m.receive_count, m.sent_at, m.first_receive_at, m.group_id,
              b.message_id, b.body, b.md5, b.attrs, b.sender_id, b.dedup_id
       FROM messages m JOIN bodies b ON b.seq = m.seq ORDER BY m.seq`,
    )
    .iterate() as IterableIterator<OldRow>;
  for (const r of rows) {
    const cut = cuts.get(r.queue_id);
    if (cut !== undefined && r.seq <= cut) continue;
    msgs.carryOver(
      r.seq,
      {
        queueId: r.queue_id,
        visibleAt: r.visible_at,
        receiveCount: r.receive_count,
        sentAt: r.sent_at,
        firstReceiveAt: r.first_receive_at ?? 0,
        group: r.group_id,
      },
      {
        messageId: r.message_id,
        md5: r.md5,
        senderId: r.sender_id,
        dedupId: r.dedup_id,
        attrs: r.attrs,
        body: r.body,
      },
      now,
    );
    moved++;
  }
  for (const d of db
    .prepare('SELECT queue_id, scope, dedup_id, message_id, seq, expires_at FROM fifo_dedup WHERE expires_at > ?')
    .all(now) as {
    queue_id: number;
    scope: string;
    dedup_id: string;
    message_id: string;
    seq: number;
    expires_at: number;
  }[])
    msgs.restoreDedup(d.queue_id, d.scope, d.dedup_id, d.message_id, d.seq, d.expires_at);
  // receive attempts are not carried over: a retried attempt then receives afresh, as after 5 minutes
  const top = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").get() as
    { seq: number } | undefined;
  if (top && top.seq >= msgs.nextSeq) msgs.nextSeq = top.seq + 1;
  msgs.log.flushSync();
  db.exec(
    "DELETE FROM messages; DELETE FROM bodies; DELETE FROM fifo_dedup; DELETE FROM receive_attempts; DELETE FROM meta WHERE key LIKE 'drop:%'",
  );
  engine.syncNow();
  return moved;
}
