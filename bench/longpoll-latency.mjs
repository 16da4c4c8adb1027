#!/usr/bin/env node
// Long-poll wake-up latency: --waiters ReceiveMessage calls (WaitTimeSeconds 20) are parked on one
// queue; a sender sends one message at a time, only once every waiter has been parked for at
// least --settle ms, and the waiter that gets it records when its ReceiveMessage returned. Reports
// p50/p90/p99/max over --samples messages of
//   send-ack -> receive-return   (how long a parked consumer lags the producer's acknowledgement)
//   send-start -> receive-return (the whole trip through the server)
// Each waiter deletes what it got before it parks again. Target (the issue): p50 of the first
// figure under 1 ms.
//
// Usage: node bench/longpoll-latency.mjs [--waiters 4] [--samples 2000] [--warmup 50] [--settle 5]
//          [--size 64] [--durability fsync|os] [--endpoint URL (use a running server instead)]
// Needs `npm run build`, and the shared load generators' client (WHARF_BENCH_DIR or
// ../shared/bench next to the repository, after `npm ci` there).
import { cleanup, importBench, startWharf, tempDir } from './lib/harness.mjs';

const { AwsJsonClient } = await importBench('lib/aws.mjs');
const { parseArgs, sleep, makeBody } = await importBench('lib/cpu.mjs');

const args = parseArgs(process.argv.slice(2), {
  waiters: 4,
  samples: 2000,
  warmup: 50,
  settle: 5,
  size: 64,
  durability: 'fsync',
  endpoint: null,
});

function percentiles(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  return { n: s.length, p50: at(50), p90: at(90), p99: at(99), max: s[s.length - 1], min: s[0] };
}

let server;
let client;
let stop = false;
try {
  server = args.endpoint
    ? { endpoint: args.endpoint }
    : await startWharf({ dataDir: tempDir('wharf-longpoll-'), durability: args.durability });
  client = new AwsJsonClient({
    endpoint: server.endpoint,
    service: 'sqs',
    targetPrefix: 'AmazonSQS',
    contentType: 'application/x-amz-json-1.0',
    connections: args.waiters + 4,
  });
  const { QueueUrl } = await client.call('CreateQueue', { QueueName: `longpoll-${process.pid}` });
  await client.call('PurgeQueue', { QueueUrl }).catch(() => {});
  const pad = makeBody(args.size);

  /** waiter i: parked since (performance.now()), or null while not parked */
  const parkedSince = new Array(args.waiters).fill(null);
  /** sample key -> resolve(receiveReturnedAt) */
  const pending = new Map();
  let unexpected = 0;
  let emptyReturns = 0;

  const waiter = async (i) => {
    while (!stop) {
      parkedSince[i] = performance.now();
      let r;
      try {
        r = await client.call('ReceiveMessage', {
          QueueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 20,
          VisibilityTimeout: 30,
        });
      } catch (e) {
        if (!stop) console.error(`receive: ${e.message}`);
        parkedSince[i] = null;
        await sleep(10);
        continue;
      }
      const t = performance.now();
      parkedSince[i] = null;
      const msgs = r.Messages ?? [];
      if (!msgs.length) {
        emptyReturns++;
        continue;
      }
      for (const m of msgs) {
        const key = m.Body.slice(0, m.Body.indexOf('|'));
        const done = pending.get(key);
        if (done) {
          pending.delete(key);
          done(t);
        } else unexpected++;
        await client.call('DeleteMessage', { QueueUrl, ReceiptHandle: m.ReceiptHandle }).catch((e) => {
          if (!stop) console.error(`delete: ${e.message}`);
        });
      }
    }
  };

  const allParked = async () => {
    for (;;) {
      const now = performance.now();
      if (parkedSince.every((t) => t !== null && now - t >= args.settle)) return;
      await sleep(1);
    }
  };

  const waiters = Array.from({ length: args.waiters }, (_, i) => waiter(i).catch((e) => console.error(e)));
  const fromAck = [];
  const fromStart = [];
  let beforeAck = 0;
  const total = args.warmup + args.samples;
  console.log(
    `${args.waiters} waiters, ${args.samples} samples (+${args.warmup} warm-up), settle ${args.settle} ms, ` +
      `durability ${args.endpoint ? '(external server)' : args.durability}`,
  );
  for (let k = 0; k < total; k++) {
    await allParked();
    const key = `s${k}`;
    const got = new Promise((res, rej) => {
      pending.set(key, res);
      setTimeout(() => rej(new Error(`sample ${k} was not received within 25 s`)), 25_000).unref();
    });
    const t0 = performance.now();
    await client.call('SendMessage', { QueueUrl, MessageBody: `${key}|${pad}` });
    const tAck = performance.now();
    const tRecv = await got;
    if (k < args.warmup) continue;
    fromAck.push(tRecv - tAck);
    fromStart.push(tRecv - t0);
    if (tRecv < tAck) beforeAck++;
    if ((k - args.warmup + 1) % 500 === 0) console.log(`  ${k - args.warmup + 1} samples`);
  }
  stop = true;

  const show = (name, xs) => {
    const p = percentiles(xs);
    const f = (x) => x.toFixed(3).padStart(8);
    console.log(
      `  ${name.padEnd(28)} p50 ${f(p.p50)}  p90 ${f(p.p90)}  p99 ${f(p.p99)}  max ${f(p.max)}  min ${f(p.min)} ms`,
    );
    return p;
  };
  console.log(`\n== long-poll wake-up latency over ${fromAck.length} samples`);
  const a = show('send-ack -> receive-return', fromAck);
  show('send-start -> receive-return', fromStart);
  console.log(
    `  receives that returned before the send was acknowledged: ${beforeAck}; ` +
      `empty long-poll returns: ${emptyReturns}; unexpected messages: ${unexpected}`,
  );
  console.log(`  target p50(send-ack -> receive-return) < 1 ms: ${a.p50 < 1 ? 'PASS' : 'FAIL'}`);
  // the parked receives end with the server (or after 20 s against an external one)
  if (server.proc) {
    server.proc.kill('SIGTERM');
    await server.exited;
  }
  let timer;
  await Promise.race([
    Promise.all(waiters),
    new Promise((r) => (timer = setTimeout(r, args.endpoint ? 21_000 : 2_000))),
  ]);
  clearTimeout(timer);
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exitCode = 1;
} finally {
  stop = true;
  await client?.close().catch(() => {});
  cleanup();
}
