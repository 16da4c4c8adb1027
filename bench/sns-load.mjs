#!/usr/bin/env node
// SNS fan-out cost against SQS's own cycle, on one Wharf, side by side in one run.
//
//   node bench/sns-load.mjs [--duration 10] [--runs 3] [--subscriptions 10] [--publishers 2]
//     [--size 1024] [--raw] [--durability fsync|os] [--latency-samples 300] [--latency-pace 40 (ms)]
//     [--out results.jsonl] [--endpoint URL --pid PID (a Wharf started by hand)] [--only fanout|latency]
//
// Each run, on a fresh Wharf (built CLI, temp data dir):
//  1. reference: ../shared/bench/sqs-load.mjs --batch 10 (4 producers, 4 consumers) on one queue,
//     with --server-pid: Wharf's CPU-seconds per 100k messages of the send/receive/delete cycle;
//  2. fan-out: --publishers loop on PublishBatch of 10 × --size bytes to a topic with
//     --subscriptions SQS subscriptions (the signed envelope, or --raw), while one consumer per
//     queue receives 10 and deletes 10; server CPU-seconds per 100k delivered copies (received
//     and deleted) over the counted window, and their ratio to (1);
//  3. publish latency: single Publish calls, one at a time, paced so each fan-out ends before
//     the next publish, to a topic with 1 and to one with 100 subscriptions (interleaved);
//     p50 of each and their ratio.
// Prints one table of medians (min–max) over the runs. Target (issue 8): ratio (2) ≤ 1.2,
// latency ratio (3) within 0.8–1.2. Enveloped runs also print the CPU of one RSA-2048 signature
// (measured in this process) and what it alone costs per copy as the same ratio: the floor the
// signature AWS puts on every message sets under the enveloped ratio.
import { spawn } from 'node:child_process';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  BENCH,
  cleanup,
  importBench,
  removeDir,
  requireBuild,
  sleep,
  startWharf,
  stopWharf,
  tempDir,
  track,
} from './lib/harness.mjs';

requireBuild();

/** µs of CPU per SHA1withRSA signature over a ~1 KiB string to sign, with a 2048-bit key (as Wharf signs). */
function signingMicros(n = 1500) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const text = `Message\n${'x'.repeat(args.size)}\nMessageId\n${'0'.repeat(36)}\nTimestamp\n2026-01-01T00:00:00.000Z\n`;
  for (let i = 0; i < 50; i++) createSign('RSA-SHA1').update(text).sign(privateKey, 'base64');
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) createSign('RSA-SHA1').update(text).sign(privateKey, 'base64');
  const d = process.cpuUsage(t);
  return (d.user + d.system) / n;
}
const { parseArgs, startCpuSampler, per100k, makeBody } = await importBench('lib/cpu.mjs');
const { AwsJsonClient } = await importBench('lib/aws.mjs');
const { Pool } = await importBench('node_modules/undici/index.js');

const args = parseArgs(process.argv.slice(2), {
  duration: 10,
  runs: 3,
  subscriptions: 10,
  publishers: 2,
  size: 1024,
  raw: false,
  durability: 'fsync',
  latencySamples: 300,
  latencyPace: 40,
  maxBacklog: 20_000,
  out: null,
  endpoint: null,
  pid: null,
  only: null,
});

/** SNS speaks only the AWS Query protocol: form-encoded POSTs (unsigned: Wharf on loopback). */
class SnsClient {
  constructor(endpoint) {
    this.pool = new Pool(endpoint, { connections: 8, keepAliveTimeout: 60_000 });
    this.auth = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
  }
  async call(action, params) {
    const body = new URLSearchParams({ Action: action, Version: '2010-03-31', ...params }).toString();
    const res = await this.pool.request({
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: this.auth },
      body,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${action}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
    return text;
  }
  close() {
    return this.pool.close();
  }
}

const tag = (xml, name) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

async function runGenerator(script, argv) {
  const outFile = join(tempDir('wharf-bench-out-'), 'out.jsonl');
  const proc = spawn(process.execPath, [join(BENCH, script), ...argv, '--out', outFile], {
    cwd: BENCH,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = track(proc);
  proc.stdout.on('data', () => {});
  const { code } = await exited;
  const lines = readFileSync(outFile, 'utf8').trim().split('\n');
  removeDir(dirname(outFile));
  if (code !== 0) throw new Error(`${script} failed (code ${code})`);
  return JSON.parse(lines[lines.length - 1]);
}

async function setup(sns, sqs, name, n) {
  const topic = tag(await sns.call('CreateTopic', { Name: name }), 'TopicArn');
  const urls = [];
  for (let i = 0; i < n; i++) {
    const { QueueUrl } = await sqs.call('CreateQueue', {
      QueueName: `${name}-${i}`,
      Attributes: { VisibilityTimeout: '60' },
    });
    const arn = `arn:aws:sqs:us-east-1:000000000000:${name}-${i}`;
    const p = { TopicArn: topic, Protocol: 'sqs', Endpoint: arn };
    if (args.raw)
      Object.assign(p, { 'Attributes.entry.1.key': 'RawMessageDelivery', 'Attributes.entry.1.value': 'true' });
    await sns.call('Subscribe', p);
    urls.push(QueueUrl);
  }
  return { topic, urls };
}

async function fanout(w) {
  const sns = new SnsClient(w.endpoint);
  const sqs = new AwsJsonClient({
    endpoint: w.endpoint,
    service: 'sqs',
    targetPrefix: 'AmazonSQS',
    contentType: 'application/x-amz-json-1.0',
    connections: args.subscriptions + 4,
  });
  const { topic, urls } = await setup(sns, sqs, 'fan', args.subscriptions);
  const body = makeBody(args.size);
  const batch = {};
  for (let i = 1; i <= 10; i++) {
    batch[`PublishBatchRequestEntries.member.${i}.Id`] = `m${i}`;
    batch[`PublishBatchRequestEntries.member.${i}.Message`] = body;
  }
  let published = 0;
  let deleted = 0;
  let counting = false;
  let counted = 0;
  let stop = false;
  const publishers = Array.from({ length: args.publishers }, async () => {
    while (!stop) {
      if (published - deleted > args.maxBacklog) {
        await sleep(2);
        continue;
      }
      await sns.call('PublishBatch', { TopicArn: topic, ...batch });
      published += 10 * args.subscriptions;
    }
  });
  const consumers = urls.map(async (QueueUrl) => {
    while (!stop || published > deleted) {
      const r = await sqs.call('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
      const msgs = r.Messages ?? [];
      if (!msgs.length) {
        if (stop) break;
        continue;
      }
      await sqs.call('DeleteMessageBatch', {
        QueueUrl,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      });
      deleted += msgs.length;
      if (counting) counted += msgs.length;
    }
  });
  await sleep(2000); // warm-up
  counting = true;
  const cpu = startCpuSampler([w.pid]);
  await sleep(args.duration * 1000);
  const s = cpu.stop();
  counting = false;
  stop = true;
  await Promise.all(publishers);
  await Promise.race([Promise.all(consumers), sleep(30_000)]);
  await sns.close();
  await sqs.close();
  return { copiesPerS: counted / args.duration, cpuPer100kCopies: per100k(s.serverCpuS, counted) };
}

async function latency(w) {
  const sns = new SnsClient(w.endpoint);
  const sqs = new AwsJsonClient({
    endpoint: w.endpoint,
    service: 'sqs',
    targetPrefix: 'AmazonSQS',
    contentType: 'application/x-amz-json-1.0',
  });
  const one = await setup(sns, sqs, 'lat1', 1);
  const hundred = await setup(sns, sqs, 'lat100', 100);
  const body = makeBody(args.size);
  const samples = { 1: [], 100: [] };
  for (let i = 0; i < args.latencySamples; i++) {
    for (const [n, t] of [
      [1, one.topic],
      [100, hundred.topic],
    ]) {
      const t0 = performance.now();
      await sns.call('Publish', { TopicArn: t, Message: body });
      samples[n].push(performance.now() - t0);
      // let the fan-out finish before the next publish: latency, not contention
      await sleep(args.latencyPace);
    }
  }
  await sns.close();
  await sqs.close();
  const p50 = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { p50one: p50(samples[1]), p50hundred: p50(samples[100]) };
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const fmt = (a, d = 2) => `${median(a).toFixed(d)} (${Math.min(...a).toFixed(d)}–${Math.max(...a).toFixed(d)})`;

const runs = [];
try {
  for (let r = 0; r < args.runs; r++) {
    // --endpoint/--pid: a Wharf started by hand (e.g. under node --cpu-prof); --only fanout|latency
    const w = args.endpoint
      ? { endpoint: args.endpoint, pid: args.pid, external: true }
      : await startWharf({ dataDir: tempDir('wharf-sns-bench-'), durability: args.durability, echoStderr: true });
    try {
      if (args.only === 'fanout') {
        console.log(JSON.stringify(await fanout(w)));
        continue;
      }
      if (args.only === 'latency') {
        console.log(JSON.stringify(await latency(w)));
        continue;
      }
      const ref = await runGenerator('sqs-load.mjs', [
        '--endpoint',
        w.endpoint,
        '--queue',
        'ref',
        '--batch',
        '10',
        '--producers',
        '4',
        '--consumers',
        '4',
        '--size',
        String(args.size),
        '--duration',
        String(args.duration),
        '--warmup',
        '2',
        '--server-pid',
        String(w.pid),
      ]);
      const sqsCpu = ref.runs[ref.runs.length - 1].serverCpuPer100k;
      const f = await fanout(w);
      const l = await latency(w);
      // the floor an enveloped copy cannot go below: its message's one RSA-2048 signature, shared
      // by the subscriptions (measured here, in this process, right after the fan-out)
      const signUs = args.raw ? 0 : signingMicros();
      const signPer100k = ((signUs / args.subscriptions) * 100_000) / 1e6;
      const run = {
        sqsCpuPer100k: sqsCpu,
        ...f,
        ratio: f.cpuPer100kCopies / sqsCpu,
        signUsPerMessage: signUs,
        signingRatio: signPer100k / sqsCpu,
        ...l,
        latencyRatio: l.p50hundred / l.p50one,
      };
      runs.push(run);
      console.log(JSON.stringify(run));
    } finally {
      if (!w.external) {
        await stopWharf(w);
        removeDir(w.dataDir);
      }
    }
  }
  if (!runs.length) process.exit(0);
  const col = (k) => runs.map((r) => r[k]);
  console.log(
    `\nSNS fan-out, ${args.subscriptions} subscriptions, ${args.raw ? 'raw' : 'enveloped'}, durability ${args.durability}; ${runs.length} runs, median (min–max)`,
  );
  console.log(`  sqs-load b10 CPU-s/100k msgs      ${fmt(col('sqsCpuPer100k'))}`);
  console.log(`  fan-out CPU-s/100k copies         ${fmt(col('cpuPer100kCopies'))}`);
  console.log(`  ratio (target ≤ 1.2)              ${fmt(col('ratio'))}`);
  if (!args.raw) {
    console.log(`  RSA-2048 signature (µs/message)   ${fmt(col('signUsPerMessage'), 0)}`);
    console.log(`  signing alone, as that ratio      ${fmt(col('signingRatio'))}`);
  }
  console.log(`  copies/s                          ${fmt(col('copiesPerS'), 0)}`);
  console.log(`  publish p50, 1 subscription (ms)  ${fmt(col('p50one'), 3)}`);
  console.log(`  publish p50, 100 (ms)             ${fmt(col('p50hundred'), 3)}`);
  console.log(`  latency ratio (target 0.8–1.2)    ${fmt(col('latencyRatio'))}`);
  if (args.out)
    (await import('node:fs')).appendFileSync(args.out, JSON.stringify({ name: 'sns-load', args, runs }) + '\n');
} finally {
  cleanup();
}
