#!/usr/bin/env node
// Store-only micro-benchmark: CPU per message for send(10) → receive(10) → delete(10) cycles
// against the SQLite store directly (no HTTP), with a few concurrent "clients" per tick.
// Usage: node bench/store-micro.mjs [--path :memory:|FILE] [--durability fsync|os] [--messages 200000]
//        [--concurrency 4] [--size 1024]
import { randomUUID } from 'node:crypto';
import { rmSync, readFileSync } from 'node:fs';
import { openSqliteStores } from '../dist/store/sqlite/open.js';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const path = args.path ?? '/tmp/wharf-micro/wharf.db';
const durability = args.durability ?? 'fsync';
const total = Number(args.messages ?? 200000);
const conc = Number(args.concurrency ?? 4);
const size = Number(args.size ?? 1024);
if (path !== ':memory:') {
  rmSync('/tmp/wharf-micro', { recursive: true, force: true });
  (await import('node:fs')).mkdirSync('/tmp/wharf-micro', { recursive: true });
}
const { kernel, sqs: store } = openSqliteStores({ path, durability });
const now = () => Date.now();
const { queue } = await store.createQueue({
  account: '000000000000',
  region: 'us-east-1',
  name: 'micro',
  fifo: false,
  attributes: {},
  tags: {},
  createdAt: now(),
  lastModifiedAt: now(),
});
const ref = {
  id: queue.id,
  fifo: false,
  arn: 'arn:aws:sqs:us-east-1:000000000000:micro',
  retentionMs: 4 * 86400e3,
  dedupScope: 'queue',
};
const body = 'x'.repeat(size);
let sent = 0,
  deleted = 0;
const writeBytes = () => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
const c0 = process.cpuUsage();
const w0 = writeBytes();
const t0 = performance.now();
async function producer() {
  while (sent < total) {
    const msgs = [];
    for (let i = 0; i < 10; i++)
      msgs.push({
        messageId: randomUUID(),
        body,
        md5OfBody: 'd41d8cd98f00b204e9800998ecf8427e',
        delayMs: 0,
        senderId: 'x',
      });
    sent += 10;
    await store.send(ref, msgs, now());
  }
}
async function consumer() {
  while (deleted < total) {
    const got = await store.receive(ref, { max: 10, visibilityMs: 30000, now: now() });
    if (got.length === 0) {
      await new Promise((r) => setImmediate(r));
      continue;
    }
    await store.deleteMessages(
      ref,
      got.map((m) => ({ seq: m.seq, receiveCount: m.receiveCount })),
      now(),
    );
    deleted += got.length;
  }
}
await Promise.all([...Array.from({ length: conc }, producer), ...Array.from({ length: conc }, consumer)]);
const cpu = process.cpuUsage(c0);
const wall = (performance.now() - t0) / 1000;
const w = writeBytes() - w0;
const cpuS = (cpu.user + cpu.system) / 1e6;
console.log(
  JSON.stringify({
    path,
    durability,
    messages: deleted,
    wallS: +wall.toFixed(2),
    msgsPerS: Math.round(deleted / wall),
    cpuPer100k: +((cpuS / deleted) * 1e5).toFixed(3),
    userPer100k: +((cpu.user / 1e6 / deleted) * 1e5).toFixed(3),
    sysPer100k: +((cpu.system / 1e6 / deleted) * 1e5).toFixed(3),
    writeBPerMsg: Math.round(w / deleted),
  }),
);
await kernel.close();
