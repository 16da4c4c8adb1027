#!/usr/bin/env node
// In-process cost of the SQS layers above the store (JSON decode → handler → JSON encode)
// for SendMessageBatch / ReceiveMessage / DeleteMessageBatch of 10 × 1 KiB, no network.
// Usage: node bench/pipeline-micro.mjs [--messages 200000] [--store :memory:|DIR]
import { openSqliteStores } from '../dist/store/sqlite/open.js';
import { SqsService } from '../dist/services/sqs/service.js';
import { sqsOperations } from '../dist/services/sqs/operations.js';
import { loadModel } from '../dist/protocol/model.js';
import { decodeJsonInput, encodeJsonOutput } from '../dist/protocol/json.js';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((a, x, i, all) => (x.startsWith('--') ? [...a, [x.slice(2), all[i + 1]]] : a), []),
);
const total = Number(args.messages ?? 200000);
const model = loadModel('sqs');
const { kernel, sqs: store } = openSqliteStores({ path: args.store ?? ':memory:', durability: 'os' });
const svc = await SqsService.create({
  store,
  kernel,
  clock: { now: Date.now, setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout },
  nodeId: 'x',
  maintenanceIntervalMs: 0,
});
const ctx = {
  requestId: 'r',
  account: '000000000000',
  region: 'us-east-1',
  baseUrl: 'http://h',
  signal: new AbortController().signal,
};
async function call(op, input) {
  const shape = model.operations[op];
  const decoded = decodeJsonInput(model, shape.input, Buffer.from(JSON.stringify(input)));
  const out = await sqsOperations[op](svc, ctx, decoded);
  return JSON.parse(encodeJsonOutput(model, shape.output, out));
}
const { QueueUrl } = await call('CreateQueue', { QueueName: 'micro' });
const body = 'x'.repeat(1024);
const c0 = process.cpuUsage();
const t0 = performance.now();
let sent = 0,
  deleted = 0;
async function producer() {
  while (sent < total) {
    sent += 10;
    await call('SendMessageBatch', {
      QueueUrl,
      Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: body })),
    });
  }
}
async function consumer() {
  while (deleted < total) {
    const r = await call('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 });
    if (!r.Messages) {
      await new Promise((res) => setImmediate(res));
      continue;
    }
    await call('DeleteMessageBatch', {
      QueueUrl,
      Entries: r.Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
    });
    deleted += r.Messages.length;
  }
}
await Promise.all([producer(), producer(), producer(), producer(), consumer(), consumer(), consumer(), consumer()]);
const cpu = process.cpuUsage(c0);
const wall = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    messages: deleted,
    msgsPerS: Math.round(deleted / wall),
    cpuPer100k: +(((cpu.user + cpu.system) / 1e6 / deleted) * 1e5).toFixed(3),
  }),
);
svc.stop();
await kernel.close();
