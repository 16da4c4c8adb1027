/**
 * SQL for the two message tables (see migrations/001_init.sql): small state rows that change
 * on every receive, and bodies that are written once and collected in ranges. Every statement
 * reaches rows by primary key; which rows comes from the in-memory QueueIndex.
 */
import type Database from 'better-sqlite3';
import type { BodyColumns, StateColumns } from '../rows.js';

export type StateRow = StateColumns;
export type BodyRow = BodyColumns;

export interface NewRow {
  seq: number;
  queueId: number;
  visibleAt: number;
  receiveCount: number;
  sentAt: number;
  firstReceiveAt: number | null;
  groupId: string | null;
  messageId: string;
  body: string;
  md5: string;
  attrs: string | null;
  senderId: string;
  dedupId: string | null;
}

/** Bodies older than the oldest live message are collected as a range, without a per-row check. */
const GC_STEP = 4096;
/**
 * When one old message (in flight for hours, or sitting in a DLQ) holds the collector back
 * this long, it checks rows one by one instead, so bodies behind it do not pile up. A large
 * backlog that moves does not trigger it.
 */
const GC_STUCK_MS = 60_000;
/** Largest IN (...) list per statement. */
const MANY = 500;

const list = (n: number) => Array(n).fill('?').join(', ');

export class MessageTables {
  private readonly db: Database.Database;
  private readonly cache = new Map<string, Database.Statement>();
  private nextSeq: number;
  /** every body with seq <= gcCursor whose state row is gone has been deleted */
  private gcCursor: number;
  private minLiveSeen = 0;
  private minLiveSince = Date.now();
  private readonly s;

  constructor(db: Database.Database) {
    this.db = db;
    const top = db
      .prepare(
        `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),
                    coalesce((SELECT max(seq) FROM bodies), 0)) AS m`,
      )
      .get() as { m: number };
    this.nextSeq = top.m + 1;
    const minBody = (db.prepare('SELECT min(seq) AS m FROM bodies').get() as { m: number | null }).m;
    this.gcCursor = minBody === null ? top.m : minBody - 1;
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      state: p('SELECT * FROM messages WHERE seq = ?'),
      body: p('SELECT * FROM bodies WHERE seq = ?'),
      setVisible: p('UPDATE messages SET visible_at = ? WHERE seq = ?'),
      minLive: p('SELECT min(seq) AS m FROM messages'),
      gcRange: p('DELETE FROM bodies WHERE seq > ? AND seq <= ?'),
      gcChecked: p(
        'DELETE FROM bodies WHERE seq > ? AND seq <= ? AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.seq = bodies.seq)',
      ),
      delBody: p('DELETE FROM bodies WHERE seq = ?'),
      move: p('UPDATE messages SET queue_id = ?, visible_at = ?, sent_at = ? WHERE seq = ?'),
      redrive: p(
        'UPDATE messages SET queue_id = ?, visible_at = ?, sent_at = ?, receive_count = 0, first_receive_at = NULL WHERE seq = ?',
      ),
      setExtras: p('UPDATE bodies SET attrs = ?, dedup_id = ? WHERE seq = ?'),
      setMessageId: p('UPDATE bodies SET message_id = ?, attrs = ? WHERE seq = ?'),
      all: p('SELECT seq, queue_id, visible_at, receive_count, sent_at, group_id FROM messages ORDER BY seq'),
    };
  }

  /** Statements with n placeholder groups, prepared once per arity. */
  private arity(key: string, n: number, build: (n: number) => string): Database.Statement {
    const k = `${key}:${n}`;
    let st = this.cache.get(k);
    if (!st) this.cache.set(k, (st = this.db.prepare(build(n))));
    return st;
  }

  allocSeq(): number {
    return this.nextSeq++;
  }

  /** The newest sequence handed out so far. */
  lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Every message state row in sequence order (the index is rebuilt from this at start). */
  loadAll(): IterableIterator<[number, number, number, number, number, string | null]> {
    return this.s.all.raw().iterate() as IterableIterator<[number, number, number, number, number, string | null]>;
  }

  insert(rows: NewRow[]): void {
    const n = rows.length;
    if (n === 0) return;
    const st = this.arity(
      'insState',
      n,
      (k) =>
        `INSERT INTO messages (seq, queue_id, visible_at, receive_count, sent_at, first_receive_at, group_id) VALUES ${Array(k).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    );
    const sb = this.arity(
      'insBody',
      n,
      (k) =>
        `INSERT INTO bodies (seq, message_id, body, md5, attrs, sender_id, dedup_id) VALUES ${Array(k).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    );
    const a: unknown[] = [];
    const b: unknown[] = [];
    for (const r of rows) {
      a.push(r.seq, r.queueId, r.visibleAt, r.receiveCount, r.sentAt, r.firstReceiveAt, r.groupId);
      b.push(r.seq, r.messageId, r.body, r.md5, r.attrs, r.senderId, r.dedupId);
    }
    st.run(a);
    sb.run(b);
  }

  /**
   * Marks the given messages received if they are still visible; returns the state after the
   * change of those it claimed (in no particular order).
   */
  claim(seqs: number[], now: number, visibleAt: number): StateRow[] {
    if (seqs.length === 0) return [];
    const st = this.arity(
      'claim',
      seqs.length,
      (k) =>
        `UPDATE messages SET visible_at = ?, receive_count = receive_count + 1, first_receive_at = coalesce(first_receive_at, ?)
         WHERE seq IN (${list(k)}) AND visible_at <= ? RETURNING *`,
    );
    return st.all(visibleAt, now, ...seqs, now) as StateRow[];
  }

  /** Undoes a claim's receive (a message that is moved to a DLQ instead of delivered). */
  unclaim(seq: number, visibleAt: number): void {
    this.arity(
      'unclaim',
      1,
      () => 'UPDATE messages SET visible_at = ?, receive_count = receive_count - 1 WHERE seq = ?',
    ).run(visibleAt, seq);
  }

  /**
   * Deletes the messages whose receive count still matches the handle's, in one statement;
   * returns the seqs deleted (a stale or unknown handle deletes nothing).
   */
  removeMatching(queueId: number, refs: { seq: number; receiveCount: number }[]): number[] {
    const n = refs.length;
    // +queue_id keeps the planner on the primary key
    const st = this.arity(
      'delMatch',
      n,
      (k) =>
        `DELETE FROM messages WHERE +queue_id = ? AND seq IN (${list(k)})
         AND receive_count = CASE seq ${Array(k).fill('WHEN ? THEN ?').join(' ')} END RETURNING seq`,
    );
    const args: number[] = [queueId];
    for (const r of refs) args.push(r.seq);
    for (const r of refs) args.push(r.seq, r.receiveCount);
    const done = (st.raw().all(...args) as [number][]).map((r) => r[0]);
    this.dropBodiesBehindCursor(done);
    return done;
  }

  bodies(seqs: number[]): Map<number, BodyRow> {
    const out = new Map<number, BodyRow>();
    if (seqs.length === 0) return out;
    const st = this.arity(
      'bodies',
      seqs.length,
      (k) => `SELECT seq, message_id, body, md5, attrs, sender_id, dedup_id FROM bodies WHERE seq IN (${list(k)})`,
    ).raw();
    for (const r of st.all(...seqs) as [number, string, string, string, string | null, string, string | null][]) {
      out.set(r[0], {
        seq: r[0],
        message_id: r[1],
        body: r[2],
        md5: r[3],
        attrs: r[4],
        sender_id: r[5],
        dedup_id: r[6],
      });
    }
    return out;
  }

  states(seqs: number[]): Map<number, StateRow> {
    const out = new Map<number, StateRow>();
    if (seqs.length === 0) return out;
    const st = this.arity('states', seqs.length, (k) => `SELECT * FROM messages WHERE seq IN (${list(k)})`);
    for (const r of st.all(...seqs) as StateRow[]) out.set(r.seq, r);
    return out;
  }

  state(seq: number): StateRow | undefined {
    return this.s.state.get(seq) as StateRow | undefined;
  }

  body(seq: number): BodyRow | undefined {
    return this.s.body.get(seq) as BodyRow | undefined;
  }

  setVisible(seq: number, visibleAt: number): void {
    this.s.setVisible.run(visibleAt, seq);
  }

  /** Deletes state rows; bodies behind the collector's cursor go at once, the rest when it passes. */
  remove(seqs: number[]): void {
    for (let i = 0; i < seqs.length; i += MANY) {
      const part = seqs.slice(i, i + MANY);
      this.arity('del', part.length, (k) => `DELETE FROM messages WHERE seq IN (${list(k)})`).run(...part);
      this.dropBodiesBehindCursor(part);
    }
  }

  private dropBodiesBehindCursor(seqs: number[]): void {
    for (const seq of seqs) if (seq <= this.gcCursor) this.s.delBody.run(seq);
  }

  /** Moves a message to another queue (DLQ), keeping its row and body. */
  move(seq: number, queueId: number, visibleAt: number, sentAt: number): void {
    this.s.move.run(queueId, visibleAt, sentAt, seq);
  }

  /** A redriven message starts over in its new queue: never received, enqueued now. */
  redrive(seq: number, queueId: number, now: number): void {
    this.s.redrive.run(queueId, now, now, seq);
  }

  setExtras(seq: number, attrs: string | null, dedupId: string | null): void {
    this.s.setExtras.run(attrs, dedupId, seq);
  }

  setMessageId(seq: number, messageId: string, attrs: string | null): void {
    this.s.setMessageId.run(messageId, attrs, seq);
  }

  /**
   * One step of the body collector, run inside a turn's transaction. Bodies below the oldest
   * live message are all dead and go as one range (whole pages freed, none rewritten).
   */
  collect(): void {
    const top = this.nextSeq - 1;
    // a range is worth a statement only once a few pages of bodies are behind the cursor
    if (top - this.gcCursor < 1024) return;
    const minLive = (this.s.minLive.get() as { m: number | null }).m ?? this.nextSeq;
    if (minLive !== this.minLiveSeen) {
      this.minLiveSeen = minLive;
      this.minLiveSince = Date.now();
    }
    let hi = Math.min(top, this.gcCursor + GC_STEP);
    if (hi < minLive) {
      this.s.gcRange.run(this.gcCursor, hi);
    } else if (Date.now() - this.minLiveSince > GC_STUCK_MS) {
      this.s.gcChecked.run(this.gcCursor, hi);
    } else {
      hi = minLive - 1;
      if (hi <= this.gcCursor) return;
      this.s.gcRange.run(this.gcCursor, hi);
    }
    this.gcCursor = hi;
  }
}
