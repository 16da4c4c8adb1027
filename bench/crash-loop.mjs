#!/usr/bin/env node
// The crash test's kill/restart/verify cycle (test/e2e/crash.test.ts), repeated --cycles times on
// one data directory under sqs-load-like load: --producers SendMessageBatch loops (10 x --size
// byte bodies, each carrying a unique id) and --consumers ReceiveMessage(10, VisibilityTimeout
// --visibility) + DeleteMessageBatch loops. After a random --min-load..--max-load ms the server
// is SIGKILLed, restarted on the same directory, and the queue drained (receive + delete) until
// it is empty and the load's visibility timeout has passed. Per cycle:
//   acked sends     sends answered 200 (the client's record of what the server promised to keep)
//   acked deletes   deletes answered 200 within the receive's visibility timeout (a later answer
//                   may have used a stale handle, which deletes nothing; counted as "late")
//   drained         messages received after the restart (kept: those whose send was not acked)
//   lost            acked sends neither drained nor ever deleted (must be 0)
//   resurrected     drained messages whose delete was acknowledged (must be 0)
//   bad             unknown or corrupt bodies, wrong MD5, changed MessageId, drain duplicates (must be 0)
// With --fifo the queue is FIFO (groups owned by one producer each) and the drain also checks
// that each group's remaining messages come back in send order ("disorder", must be 0).
// Exit code 1 when any cycle failed.
//
// Usage: node bench/crash-loop.mjs [--cycles 20] [--producers 4] [--consumers 4] [--size 1024]
//          [--min-load 300] [--max-load 1500] [--visibility 2] [--durability fsync|os] [--fifo]
//          [--groups 5 (per producer)] [--seed N]
// Needs `npm run build`, and the shared load generators' client (WHARF_BENCH_DIR or
// ../shared/bench next to the repository, after `npm ci` there).
import { createHash } from 'node:crypto';
import { cleanup, importBench, requireBuild, startWharf, tempDir } from './lib/harness.mjs';

const { AwsJsonClient, md5hex } = await importBench('lib/aws.mjs');
const { parseArgs, sleep, makeBody } = await importBench('lib/cpu.mjs');

const args = parseArgs(process.argv.slice(2), {
  cycles: 20,
  producers: 4,
  consumers: 4,
  size: 1024,
  minLoad: 300,
  maxLoad: 1500,
  visibility: 2,
  durability: 'fsync',
  fifo: false,
  groups: 5,
  seed: Date.now() % 100000,
});
requireBuild();

/** Wharf on dataDir (port 0), up once it prints its endpoint; readyMs = spawn to that line. */
const startOn = (dataDir) => startWharf({ dataDir, durability: args.durability, timeoutMs: 30_000, echoStderr: true });

const clientFor = (endpoint) =>
  new AwsJsonClient({
    endpoint,
    service: 'sqs',
    targetPrefix: 'AmazonSQS',
    contentType: 'application/x-amz-json-1.0',
    connections: args.producers + args.consumers + 2,
  });

// a small deterministic PRNG so a failing sequence of load durations can be replayed with --seed
let rnd = args.seed >>> 0 || 1;
const random = () => ((rnd = (rnd * 1103515245 + 12345) >>> 0) % 1e6) / 1e6;

// ── bodies: a unique id, then filler derived from it ────────────────────────
const pad = makeBody(args.size);
function bodyFor(id) {
  const h = createHash('sha256').update(id).digest('hex').slice(0, 16);
  const head = `${id}|${h}|`;
  return head + pad.slice(head.length);
}
function idOf(body) {
  if (typeof body !== 'string') return undefined;
  const bar = body.indexOf('|');
  if (bar <= 0) return undefined;
  const id = body.slice(0, bar);
  return body === bodyFor(id) ? id : undefined;
}

// ── one cycle ───────────────────────────────────────────────────────────────
async function cycle(server, n, dataDir, queueName) {
  const tag = `c${n}`;
  const attempted = new Map(); // id -> { group, seq }
  const acked = new Map(); // id -> MessageId
  const deleteAttempted = new Set();
  const confirmed = new Set();
  const messageIds = new Map();
  const bad = [];
  let late = 0;
  let cut = 0;
  let killed = false;

  const check = (m, where) => {
    const id = idOf(m.Body);
    if (id === undefined) {
      bad.push(`${where}: unknown or corrupt body ${JSON.stringify(String(m.Body).slice(0, 60))}`);
      return undefined;
    }
    if (!attempted.has(id)) bad.push(`${where}: ${id} was never sent`);
    if (m.MD5OfBody !== md5hex(m.Body)) bad.push(`${where}: MD5OfBody mismatch for ${id}`);
    const known = acked.get(id) ?? messageIds.get(id);
    if (known !== undefined && known !== m.MessageId) bad.push(`${where}: ${id} changed MessageId`);
    messageIds.set(id, m.MessageId);
    return id;
  };
  const failed = (e, what) => {
    if (killed) cut++;
    else bad.push(`${what} failed before the kill: ${e.message}`);
  };

  const c1 = clientFor(server.endpoint);
  const queueUrl = (await c1.call('GetQueueUrl', { QueueName: queueName })).QueueUrl;
  const producer = async (p) => {
    for (let seq = 0; !killed;) {
      const entries = [];
      for (let i = 0; i < 10; i++, seq++) {
        const id = `${tag}:${p}:${seq}`;
        const e = { Id: String(i), MessageBody: bodyFor(id) };
        const group = args.fifo ? `${tag}-p${p}-g${seq % args.groups}` : undefined;
        if (group) Object.assign(e, { MessageGroupId: group, MessageDeduplicationId: id.replace(/:/g, '-') });
        attempted.set(id, { group, seq });
        entries.push(e);
      }
      let r;
      try {
        r = await c1.call('SendMessageBatch', { QueueUrl: queueUrl, Entries: entries });
      } catch (e) {
        return failed(e, 'SendMessageBatch');
      }
      for (const s of r.Successful ?? []) {
        const body = entries[Number(s.Id)].MessageBody;
        if (s.MD5OfMessageBody !== md5hex(body)) bad.push('send: MD5OfMessageBody mismatch');
        acked.set(idOf(body), s.MessageId);
      }
      if (r.Failed?.length) bad.push(`send: ${r.Failed.length} failed entries`);
    }
  };
  const consumer = async () => {
    while (!killed) {
      const t0 = Date.now();
      let r;
      try {
        r = await c1.call('ReceiveMessage', {
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: args.visibility,
          WaitTimeSeconds: 1,
        });
      } catch (e) {
        return failed(e, 'ReceiveMessage');
      }
      const msgs = r.Messages ?? [];
      if (!msgs.length) continue;
      const ids = msgs.map((m) => check(m, 'load'));
      for (const id of ids) {
        if (id === undefined) continue;
        if (confirmed.has(id)) bad.push(`load: ${id} received after its delete was acknowledged`);
        deleteAttempted.add(id);
      }
      let d;
      try {
        d = await c1.call('DeleteMessageBatch', {
          QueueUrl: queueUrl,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        });
      } catch (e) {
        return failed(e, 'DeleteMessageBatch');
      }
      const inWindow = Date.now() < t0 + args.visibility * 1000;
      for (const s of d.Successful ?? []) {
        const id = ids[Number(s.Id)];
        if (id === undefined) continue;
        if (inWindow) confirmed.add(id);
        else late++;
      }
    }
  };

  const loadMs = Math.round(args.minLoad + random() * (args.maxLoad - args.minLoad));
  const load = Promise.all([
    ...Array.from({ length: args.producers }, (_, p) => producer(p)),
    ...Array.from({ length: args.consumers }, () => consumer()),
  ]);
  await sleep(loadMs);
  killed = true;
  const killedAt = Date.now();
  server.proc.kill('SIGKILL');
  await server.exited;
  await load;
  await c1.close().catch(() => {});

  const next = await startOn(dataDir);
  const c2 = clientFor(next.endpoint);
  const url = (await c2.call('GetQueueUrl', { QueueName: queueName })).QueueUrl;
  const order = [];
  const seen = new Set();
  const deadline = Date.now() + 60_000;
  let empty = false;
  while (!empty) {
    if (Date.now() > deadline) throw new Error(`cycle ${n}: the queue did not drain in 60 s`);
    const r = await c2.call('ReceiveMessage', {
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 60,
      WaitTimeSeconds: 1,
    });
    const msgs = r.Messages ?? [];
    for (const m of msgs) {
      const id = check(m, 'drain');
      if (id === undefined) continue;
      if (seen.has(id)) bad.push(`drain: ${id} delivered twice`);
      seen.add(id);
      order.push(id);
    }
    if (msgs.length) {
      const d = await c2.call('DeleteMessageBatch', {
        QueueUrl: url,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      });
      if (d.Failed?.length) bad.push(`drain: ${d.Failed.length} deletes failed`);
      continue;
    }
    if (Date.now() < killedAt + args.visibility * 1000 + 250) continue;
    const a = (
      await c2.call('GetQueueAttributes', {
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      })
    ).Attributes;
    empty =
      Number(a.ApproximateNumberOfMessages) +
        Number(a.ApproximateNumberOfMessagesNotVisible) +
        Number(a.ApproximateNumberOfMessagesDelayed) ===
      0;
  }
  await c2.close().catch(() => {});

  const lost = [...acked.keys()].filter((id) => !seen.has(id) && !deleteAttempted.has(id));
  const resurrected = order.filter((id) => confirmed.has(id));
  const disorder = [];
  if (args.fifo) {
    const last = new Map();
    const newestDeleted = new Map();
    for (const id of confirmed) {
      const s = attempted.get(id);
      newestDeleted.set(s.group, Math.max(newestDeleted.get(s.group) ?? -1, s.seq));
    }
    for (const id of order) {
      const s = attempted.get(id);
      const prev = last.get(s.group);
      if (prev !== undefined && s.seq <= prev) disorder.push(`${s.group}: ${prev} then ${s.seq}`);
      if (prev === undefined && s.seq < (newestDeleted.get(s.group) ?? -1)) {
        disorder.push(`${s.group}: ${s.seq} came back, older than deleted ${newestDeleted.get(s.group)}`);
      }
      last.set(s.group, s.seq);
    }
  }
  return {
    server: next,
    row: {
      cycle: n,
      loadMs,
      attempted: attempted.size,
      acked: acked.size,
      confirmed: confirmed.size,
      late,
      drained: order.length,
      kept: order.filter((id) => !acked.has(id)).length,
      cut,
      lost: lost.length,
      resurrected: resurrected.length,
      bad: bad.length,
      disorder: disorder.length,
      restartMs: next.readyMs,
    },
    details: [...lost.map((id) => `lost ${id}`), ...resurrected.map((id) => `resurrected ${id}`), ...bad, ...disorder],
  };
}

// ── main ────────────────────────────────────────────────────────────────────
const cols = [
  ['cycle', 5],
  ['loadMs', 6],
  ['attempted', 9],
  ['acked', 7],
  ['confirmed', 9],
  ['late', 4],
  ['drained', 7],
  ['kept', 4],
  ['cut', 3],
  ['lost', 4],
  ['resurrected', 11],
  ['bad', 3],
  ...(args.fifo ? [['disorder', 8]] : []),
  ['restartMs', 9],
];
const line = (r) =>
  '  ' + cols.map(([k, w]) => String(typeof r[k] === 'number' ? Math.round(r[k]) : r[k]).padStart(w)).join('  ');
let server;
const rows = [];
try {
  const dataDir = tempDir('wharf-crashloop-');
  const queueName = args.fifo ? 'crash-loop.fifo' : 'crash-loop';
  server = await startOn(dataDir);
  const c = clientFor(server.endpoint);
  await c.call('CreateQueue', {
    QueueName: queueName,
    Attributes: args.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {},
  });
  await c.close();
  console.log(
    `${args.cycles} SIGKILL cycles, ${args.fifo ? 'FIFO' : 'standard'} queue, durability ${args.durability}, ` +
      `${args.producers}p/${args.consumers}c, ${args.size} B bodies, load ${args.minLoad}-${args.maxLoad} ms, ` +
      `visibility ${args.visibility} s, seed ${args.seed}`,
  );
  console.log(
    `  (acked = sends answered 200; confirmed = deletes answered 200 in the visibility window, late = after it;\n` +
      `   kept = unacknowledged sends found after the restart; cut = requests cut by the kill)\n`,
  );
  console.log('  ' + cols.map(([k, w]) => k.padStart(w)).join('  '));
  for (let n = 1; n <= args.cycles; n++) {
    const r = await cycle(server, n, dataDir, queueName);
    server = r.server;
    rows.push(r.row);
    console.log(line(r.row));
    for (const d of r.details.slice(0, 10)) console.log(`      !! ${d}`);
  }
  const total = (k) => rows.reduce((a, r) => a + r[k], 0);
  const failedCycles = rows.filter((r) => r.lost || r.resurrected || r.bad || r.disorder).length;
  console.log(
    `\n== ${rows.length} cycles: ${total('acked')} sends acknowledged, ${total('confirmed')} deletes confirmed, ` +
      `lost ${total('lost')}, resurrected ${total('resurrected')}, bad ${total('bad')}` +
      (args.fifo ? `, disorder ${total('disorder')}` : '') +
      ` -> ${failedCycles ? `FAIL (${failedCycles} cycles)` : 'PASS'}`,
  );
  if (failedCycles) process.exitCode = 1;
  server.proc.kill('SIGTERM');
  await server.exited;
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
