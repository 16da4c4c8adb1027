/**
 * The SQS module on the embedded log, beyond the conformance suite: a stop that is not clean
 * (the data directory copied as it stands, which is what a kill -9 leaves), the clean stop's
 * snapshot, compaction, damage, and a data directory written before the log.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStores } from '../../src/store/sqlite/open.js';
import type { NewMessage, QueueRef, SqsStore } from '../../src/store/sqs/types.js';
import type { Stores } from '../../src/store/types.js';

const T0 = Date.UTC(2026, 0, 1);
let dir = '';
const open: Stores[] = [];

function openAt(d: string, opts: { logSegmentBytes?: number } = {}): Stores {
  const s = openSqliteStores({ path: join(d, 'wharf.db'), durability: 'fsync', now: () => T0, ...opts });
  open.push(s);
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wharf-sqslog-'));
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.kernel.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

function msg(body: string, extra: Partial<NewMessage> = {}): NewMessage {
  return { messageId: randomUUID(), body, md5OfBody: 'x', delayMs: 0, senderId: 'AKID', ...extra };
}

async function queue(store: SqsStore, name: string, fifo = false): Promise<QueueRef> {
  const { queue: q } = await store.createQueue({
    account: '000000000000',
    region: 'us-east-1',
    name,
    fifo,
    attributes: {},
    tags: {},
    createdAt: T0,
    lastModifiedAt: T0,
  });
  return {
    id: q.id,
    fifo,
    arn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
    retentionMs: 4 * 86_400_000,
    dedupScope: 'queue',
  };
}

/** What a kill -9 leaves: the files as they are now (everything acknowledged is in them). */
function crashCopy(from: string): string {
  const to = mkdtempSync(join(tmpdir(), 'wharf-sqslog-crash-'));
  cpSync(from, to, { recursive: true });
  return to;
}

const logFiles = (d: string) => readdirSync(join(d, 'log', 'sqs')).filter((f) => f.endsWith('.wlog'));

describe('SQS on the embedded log', () => {
  it('after an unclean stop, serves every acknowledged send and keeps every acknowledged delete', async () => {
    const { sqs } = openAt(dir);
    const q = await queue(sqs, 'jobs');
    await sqs.send(
      q,
      Array.from({ length: 10 }, (_, i) => msg(`m${i}`)),
      T0,
    );
    for (let i = 10; i < 50; i++) await sqs.send(q, [msg(`m${i}`)], T0);
    const got = await sqs.receive(q, { max: 10, visibilityMs: 30_000, now: T0 + 1 });
    expect(
      await sqs.deleteMessages(
        q,
        got.slice(0, 5).map((m) => ({ seq: m.seq, receiveCount: m.receiveCount })),
        T0 + 2,
      ),
    ).toEqual(Array(5).fill('deleted'));
    const copy = crashCopy(dir);
    try {
      const again = openAt(copy);
      const counts = await again.sqs.counts(q, T0 + 3);
      // the receive's record was written in the same turn as its response: the 5 left stay in flight
      expect(counts).toEqual({ visible: 40, notVisible: 5, delayed: 0 });
      const rest = [];
      for (let r = 0; r < 10; r++)
        rest.push(...(await again.sqs.receive(q, { max: 10, visibilityMs: 30_000, now: T0 + 40_000 })));
      const bodies = rest.map((m) => m.body).sort();
      const deleted = new Set(got.slice(0, 5).map((m) => m.body));
      expect(bodies).toEqual(
        Array.from({ length: 50 }, (_, i) => `m${i}`)
          .filter((b) => !deleted.has(b))
          .sort(),
      );
      // the receive before the crash counts
      const inflight = got.slice(5, 6)[0]!;
      const later = rest.find((m) => m.body === inflight.body)!;
      expect(later.receiveCount).toBe(inflight.receiveCount + 1);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('continues sequence numbers after a clean stop, and jumps past anything unsynced after an unclean one', async () => {
    let s = openAt(dir);
    const q = await queue(s.sqs, 'orders.fifo', true);
    const first = Number((await s.sqs.send(q, [msg('a', { groupId: 'g', dedupId: 'a' })], T0))[0]!.sequenceNumber);
    await s.kernel.close();
    s = openAt(dir);
    const second = Number((await s.sqs.send(q, [msg('b', { groupId: 'g', dedupId: 'b' })], T0))[0]!.sequenceNumber);
    expect(second).toBe(first + 1);
    const copy = crashCopy(dir);
    try {
      const c = openAt(copy);
      const third = Number((await c.sqs.send(q, [msg('c', { groupId: 'g', dedupId: 'c' })], T0))[0]!.sequenceNumber);
      expect(third).toBeGreaterThan(second + 1_000_000);
      // the deduplication window came through the crash too
      expect((await c.sqs.send(q, [msg('b2', { groupId: 'g', dedupId: 'b' })], T0 + 1))[0]!.duplicate).toBe(true);
      const order = await c.sqs.receive(q, { max: 10, visibilityMs: 30_000, now: T0 + 2 });
      // in order across the restart: the gap does not reorder the group
      expect(order.map((m) => m.body)).toEqual(['a', 'b', 'c']);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('compacts sparse segments, snapshots, deletes dead segments, and restarts from the snapshot', async () => {
    const s = openAt(dir, { logSegmentBytes: 64 * 1024 });
    const q = await queue(s.sqs, 'big');
    const body = 'y'.repeat(1000);
    for (let i = 0; i < 40; i++)
      await s.sqs.send(
        q,
        Array.from({ length: 10 }, (_, k) => msg(`${i * 10 + k}:${body}`)),
        T0,
      );
    const segmentsBefore = logFiles(dir).length;
    expect(segmentsBefore).toBeGreaterThan(4);
    // delete nine in ten
    let kept: string[] = [];
    for (let r = 0; r < 40; r++) {
      const got = await s.sqs.receive(q, { max: 10, visibilityMs: 1_000_000, now: T0 + 1 + r });
      const drop = got.filter((m) => Number(m.body.split(':')[0]) % 10 !== 0);
      kept.push(...got.filter((m) => !drop.includes(m)).map((m) => m.body.split(':')[0]!));
      await s.sqs.deleteMessages(
        q,
        drop.map((m) => ({ seq: m.seq, receiveCount: m.receiveCount })),
        T0 + 1 + r,
      );
    }
    kept = kept.sort();
    expect(kept.length).toBe(40);
    const sealed = () => {
      const files = logFiles(dir).sort();
      // the current segment has zeros written ahead of its records; the sealed ones end at theirs
      return files.slice(0, -1).reduce((n, f) => n + statSync(join(dir, 'log', 'sqs', f)).size, 0);
    };
    const bytesBefore = sealed();
    for (let i = 0; i < 4; i++) await s.kernel.checkpoint!();
    expect(logFiles(dir).length).toBeLessThan(segmentsBefore / 2);
    expect(sealed()).toBeLessThan(bytesBefore / 3);
    await s.kernel.close();
    const again = openAt(dir, { logSegmentBytes: 64 * 1024 });
    const got = [];
    for (let r = 0; r < 10; r++)
      got.push(...(await again.sqs.receive(q, { max: 10, visibilityMs: 30_000, now: T0 + 2_000_000 })));
    expect(got.map((m) => m.body.split(':')[0]!).sort()).toEqual(kept);
    expect(got.every((m) => m.body.endsWith(body))).toBe(true);
  });

  it('refuses to start on a damaged log record that intact records follow', async () => {
    const s = openAt(dir);
    const q = await queue(s.sqs, 'jobs');
    for (let i = 0; i < 5; i++) await s.sqs.send(q, [msg(`m${i}`)], T0);
    const copy = crashCopy(dir); // no snapshot: the next start must read the records
    try {
      const file = join(copy, 'log', 'sqs', logFiles(copy)[0]!);
      const bytes = readFileSync(file);
      bytes[20] = bytes[20]! ^ 0xff; // inside the first SEND record
      writeFileSync(file, bytes);
      expect(() => openAt(copy)).toThrow(/damaged.*at offset 0/s);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('moves the messages of a data directory written before the log into it, once', async () => {
    let s = openAt(dir);
    const q = await queue(s.sqs, 'old');
    const f = await queue(s.sqs, 'old.fifo', true);
    await s.kernel.close();
    // rows as the SQLite-only store wrote them
    const db = new Database(join(dir, 'wharf.db'));
    const ins = db.prepare(
      'INSERT INTO messages (seq, queue_id, visible_at, receive_count, sent_at, first_receive_at, group_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const body = db.prepare(
      'INSERT INTO bodies (seq, message_id, body, md5, attrs, sender_id, dedup_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const attrs = JSON.stringify({ a: { color: { t: 'String', s: 'red' } }, am: 'abc' });
    for (let i = 1; i <= 3; i++) {
      ins.run(i, q.id, T0, 0, T0, null, null);
      body.run(i, `id-${i}`, `old ${i}`, `md5-${i}`, i === 1 ? attrs : null, 'AKID', null);
    }
    ins.run(4, f.id, T0, 0, T0, null, 'g');
    body.run(4, 'id-4', 'fifo 4', 'md5-4', null, 'AKID', 'd4');
    db.prepare(
      'INSERT INTO fifo_dedup (queue_id, scope, dedup_id, message_id, seq, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(f.id, '', 'd4', 'id-4', 4, T0 + 300_000);
    db.close();
    s = openAt(dir);
    const got = await s.sqs.receive(q, { max: 10, visibilityMs: 30_000, now: T0 + 1 });
    expect(got.map((m) => [m.messageId, m.body, m.md5OfBody]).sort()).toEqual([
      ['id-1', 'old 1', 'md5-1'],
      ['id-2', 'old 2', 'md5-2'],
      ['id-3', 'old 3', 'md5-3'],
    ]);
    expect(got.find((m) => m.messageId === 'id-1')!.attributes).toEqual({
      color: { DataType: 'String', StringValue: 'red' },
    });
    expect((await s.sqs.send(f, [msg('dup', { groupId: 'g', dedupId: 'd4' })], T0 + 2))[0]).toMatchObject({
      messageId: 'id-4',
      duplicate: true,
    });
    // new sequences start after the old ones
    expect(
      Number((await s.sqs.send(f, [msg('new', { groupId: 'h', dedupId: 'n' })], T0 + 2))[0]!.sequenceNumber),
    ).toBeGreaterThan(4);
    await s.kernel.close();
    const check = new Database(join(dir, 'wharf.db'), { readonly: true });
    expect((check.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(0);
    check.close();
    s = openAt(dir);
    // in flight since the receive above; nothing doubled by the second start
    expect(await s.sqs.counts(q, T0 + 3)).toEqual({ visible: 0, notVisible: 3, delayed: 0 });
    expect((await s.sqs.counts(f, T0 + 3)).visible).toBe(2);
  });
});
