#!/usr/bin/env node
// A large backlog: memory, restart time, and whether receives slow down with queue depth.
//
//  1. fill: a fresh Wharf (temp data dir, durability fsync); --senders concurrent SendMessageBatch
//     loops put --messages bodies of --size bytes into one standard queue. Reports the fill rate,
//     then the server's RSS (/proc/PID/status VmRSS) and the size of the data directory.
//  2. restart: SIGTERM (time to exit), then a new server on the same directory and port: time from
//     spawn to GET /_wharf/ready 200, to the first successful ReceiveMessage, RSS at ready and
//     --settle ms later, and the queue's ApproximateNumberOfMessages.
//  3. throughput: --consumers ReceiveMessage(10) + DeleteMessageBatch loops for --seconds, while
//     --producers SendMessageBatch loops keep feeding (closed loop: they pause while more than
//     --max-backlog of their own messages are unconsumed), first on the backlog queue, then with
//     the same load on a fresh queue of the same server. Reports consumed msgs/s and server
//     CPU-s per 100k consumed for both, and the ratio backlog / fresh.
// Targets (the issue): RSS < 300 MB with the backlog (after fill and after restart), restart to
// ready < 3 s, receive throughput on the backlog within 20 % of the fresh queue's.
//
// Usage: node bench/backlog.mjs [--messages 1000000] [--senders 8] [--size 1024] [--seconds 10]
//          [--consumers 4] [--producers 4] [--max-backlog 10000] [--settle 2000]
//          [--durability fsync|os]
// Needs `npm run build`, and the shared load generators' client (WHARF_BENCH_DIR or
// ../shared/bench next to the repository, after `npm ci` there). 1M x 1 KiB needs ~2.5 GB of /tmp.
import { execFileSync } from 'node:child_process';
import {
  cleanup,
  freePort,
  importBench,
  requireBuild,
  rssMiB,
  startWharf,
  stopWharf,
  tempDir,
} from './lib/harness.mjs';

const { AwsJsonClient } = await importBench('lib/aws.mjs');
const { parseArgs, sleep, makeBody, startCpuSampler, per100k, fmt } = await importBench('lib/cpu.mjs');

const args = parseArgs(process.argv.slice(2), {
  messages: 1_000_000,
  senders: 8,
  size: 1024,
  seconds: 10,
  consumers: 4,
  producers: 4,
  maxBacklog: 10000,
  settle: 2000,
  durability: 'fsync',
});
requireBuild();

const duMiB = (dir) => Number(execFileSync('du', ['-sk', dir]).toString().split(/\s/)[0]) / 1024;

const clientFor = (endpoint, n) =>
  new AwsJsonClient({
    endpoint,
    service: 'sqs',
    targetPrefix: 'AmazonSQS',
    contentType: 'application/x-amz-json-1.0',
    connections: n,
  });

const body = makeBody(args.size);
const entries = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: body }));

async function fill(client, queueUrl) {
  let sent = 0;
  let next = 0;
  const t0 = performance.now();
  let lastReport = t0;
  const sender = async () => {
    while (next < args.messages) {
      const n = Math.min(10, args.messages - next);
      next += n;
      const r = await client.call('SendMessageBatch', { QueueUrl: queueUrl, Entries: entries.slice(0, n) });
      if (r.Failed?.length) throw new Error(`SendMessageBatch: ${r.Failed.length} failed`);
      sent += n;
      const now = performance.now();
      if (now - lastReport > 5000) {
        lastReport = now;
        console.log(`  ${fmt(sent)} sent (${fmt(sent / ((now - t0) / 1000))}/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: args.senders }, sender));
  return { sent, seconds: (performance.now() - t0) / 1000 };
}

/** Consumers (and closed-loop producers) for args.seconds on queueUrl; rates over the window. */
async function throughput(client, queueUrl, pid) {
  let stop = false;
  let consumed = 0;
  let produced = 0;
  let emptyReceives = 0;
  let waiters = [];
  const wake = () => {
    if (produced - consumed < args.maxBacklog * 0.9) {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  };
  // producers count their own backlog from the window's start, so a pre-filled queue does not stop them
  const producer = async () => {
    while (!stop) {
      if (produced - consumed >= args.maxBacklog) {
        await new Promise((r) => waiters.push(r));
        continue;
      }
      const r = await client.call('SendMessageBatch', { QueueUrl: queueUrl, Entries: entries });
      produced += r.Successful?.length ?? 0;
    }
  };
  const consumer = async () => {
    while (!stop) {
      const r = await client.call('ReceiveMessage', {
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 30,
      });
      const msgs = r.Messages ?? [];
      if (!msgs.length) {
        emptyReceives++;
        continue;
      }
      const d = await client.call('DeleteMessageBatch', {
        QueueUrl: queueUrl,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      });
      if (!stop) consumed += d.Successful?.length ?? 0;
      wake();
    }
  };
  const sampler = startCpuSampler([pid]);
  const workers = [
    ...Array.from({ length: args.producers }, producer),
    ...Array.from({ length: args.consumers }, consumer),
  ];
  await sleep(args.seconds * 1000);
  const c = sampler.stop();
  const counted = consumed;
  const sent = produced;
  stop = true;
  for (const f of waiters) f();
  await Promise.all(workers);
  return {
    consumedPerS: counted / c.wallS,
    producedPerS: sent / c.wallS,
    cpuPer100k: per100k(c.serverCpuS, counted),
    emptyReceives,
  };
}

let w;
let client;
try {
  const dataDir = tempDir('wharf-backlog-');
  const port = await freePort();
  // the same directory and port for the restart; up at the first 200 from /_wharf/ready
  const wharf = { dataDir, port, durability: args.durability, waitFor: 'ready', timeoutMs: 120_000, echoStderr: true };
  const conns = Math.max(args.senders, args.producers + args.consumers) + 2;

  console.log(
    `## 1. fill: ${fmt(args.messages)} x ${args.size} B, ${args.senders} senders, durability ${args.durability}`,
  );
  w = await startWharf(wharf);
  client = clientFor(w.endpoint, conns);
  const { QueueUrl: backlogUrl } = await client.call('CreateQueue', { QueueName: 'backlog' });
  const f = await fill(client, backlogUrl);
  const rssFilled = rssMiB(w.pid);
  console.log(
    `  filled ${fmt(f.sent)} in ${f.seconds.toFixed(1)} s (${fmt(f.sent / f.seconds)} msgs/s); ` +
      `RSS ${rssFilled.toFixed(0)} MiB; data dir ${duMiB(dataDir).toFixed(0)} MiB`,
  );
  await client.close();

  console.log(`\n## 2. restart on the same data directory`);
  const stopMs = await stopWharf(w, { killAfterMs: 30_000 });
  const diskAfterStop = duMiB(dataDir);
  w = await startWharf(wharf);
  const rssReady = rssMiB(w.pid);
  client = clientFor(w.endpoint, conns);
  let firstReceiveMs;
  for (;;) {
    const r = await client.call('ReceiveMessage', {
      QueueUrl: backlogUrl,
      MaxNumberOfMessages: 1,
      VisibilityTimeout: 0,
    });
    if (r.Messages?.length) {
      firstReceiveMs = performance.now() - w.t0;
      break;
    }
    if (performance.now() - w.t0 > 60_000) throw new Error('no message received within 60 s of the restart');
  }
  const counted = (
    await client.call('GetQueueAttributes', {
      QueueUrl: backlogUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    })
  ).Attributes;
  await sleep(args.settle);
  const rssSettled = rssMiB(w.pid);
  console.log(
    `  SIGTERM -> exit ${stopMs.toFixed(0)} ms; data dir ${diskAfterStop.toFixed(0)} MiB\n` +
      `  spawn -> /_wharf/ready ${w.readyMs.toFixed(0)} ms; spawn -> first ReceiveMessage ${firstReceiveMs.toFixed(0)} ms\n` +
      `  RSS at ready ${rssReady.toFixed(0)} MiB, ${args.settle} ms later ${rssSettled.toFixed(0)} MiB; ` +
      `queue holds ${fmt(Number(counted.ApproximateNumberOfMessages))} visible + ` +
      `${fmt(Number(counted.ApproximateNumberOfMessagesNotVisible))} in flight`,
  );

  console.log(
    `\n## 3. receive throughput: ${args.consumers} consumers (receive 10 + delete batch), ` +
      `${args.producers} producers (batch 10, closed loop at ${fmt(args.maxBacklog)}), ${args.seconds} s each`,
  );
  const onBacklog = await throughput(client, backlogUrl, w.pid);
  console.log(
    `  backlog queue: ${fmt(onBacklog.consumedPerS)} consumed/s, ${fmt(onBacklog.producedPerS)} produced/s, ` +
      `server ${fmt(onBacklog.cpuPer100k, 2)} CPU-s/100k consumed`,
  );
  const { QueueUrl: freshUrl } = await client.call('CreateQueue', { QueueName: 'fresh' });
  const onFresh = await throughput(client, freshUrl, w.pid);
  console.log(
    `  fresh queue:   ${fmt(onFresh.consumedPerS)} consumed/s, ${fmt(onFresh.producedPerS)} produced/s, ` +
      `server ${fmt(onFresh.cpuPer100k, 2)} CPU-s/100k consumed (${onFresh.emptyReceives} empty receives)`,
  );
  const rssEnd = rssMiB(w.pid);
  const ratio = onBacklog.consumedPerS / onFresh.consumedPerS;

  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  const rssMax = Math.max(rssFilled, rssReady, rssSettled, rssEnd);
  console.log(`\n== backlog of ${fmt(args.messages)} x ${args.size} B`);
  console.log(
    `  RSS after fill ${rssFilled.toFixed(0)} MiB, after restart ${rssSettled.toFixed(0)} MiB, ` +
      `after the throughput runs ${rssEnd.toFixed(0)} MiB   target < 300 MiB: ${verdict(rssMax < 300)}`,
  );
  console.log(
    `  restart: spawn -> ready ${(w.readyMs / 1000).toFixed(2)} s, -> first receive ${(firstReceiveMs / 1000).toFixed(2)} s` +
      `   target < 3 s: ${verdict(w.readyMs < 3000)}`,
  );
  console.log(
    `  consumed/s on the backlog / on a fresh queue: ${fmt(onBacklog.consumedPerS)} / ${fmt(onFresh.consumedPerS)} = ` +
      `${ratio.toFixed(2)}   target >= 0.80: ${verdict(ratio >= 0.8)}`,
  );
  await client.close();
  client = undefined;
  await stopWharf(w, { killAfterMs: 30_000 });
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exitCode = 1;
} finally {
  await client?.close().catch(() => {});
  cleanup();
}
