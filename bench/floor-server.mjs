#!/usr/bin/env node
// The floor for an SQS-JSON server in Node on this machine: parses each request, keeps bodies in an
// array, answers SendMessageBatch / ReceiveMessage / DeleteMessageBatch (and the few calls
// sqs-load makes) with realistic responses, including MD5s. No store, no validation, no
// durability. Run sqs-load against it side by side with Wharf to see what HTTP + JSON alone cost.
// Usage: node bench/floor-server.mjs [--port 4567]

import http from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
const q = [];
let n = 0;
const inflight = new Map();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    const op = req.headers['x-amz-target'].split('.')[1];
    let out = {};
    if (op === 'CreateQueue' || op === 'GetQueueUrl') out = { QueueUrl: `http://${req.headers.host}/000000000000/q` };
    else if (op === 'SendMessageBatch')
      out = {
        Successful: body.Entries.map((e) => {
          const id = randomUUID();
          q.push({ id, b: e.MessageBody });
          return { Id: e.Id, MessageId: id, MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex') };
        }),
        Failed: [],
      };
    else if (op === 'SendMessage') {
      const id = randomUUID();
      q.push({ id, b: body.MessageBody });
      out = { MessageId: id, MD5OfMessageBody: createHash('md5').update(body.MessageBody).digest('hex') };
    } else if (op === 'ReceiveMessage') {
      const msgs = q.splice(0, body.MaxNumberOfMessages || 1);
      out = msgs.length
        ? {
            Messages: msgs.map((m) => {
              const h = 'h' + n++;
              inflight.set(h, m);
              return {
                MessageId: m.id,
                ReceiptHandle: h,
                MD5OfBody: createHash('md5').update(m.b).digest('hex'),
                Body: m.b,
              };
            }),
          }
        : {};
    } else if (op === 'DeleteMessageBatch') {
      out = {
        Successful: body.Entries.map((e) => {
          inflight.delete(e.ReceiptHandle);
          return { Id: e.Id };
        }),
        Failed: [],
      };
    } else if (op === 'DeleteMessage') {
      inflight.delete(body.ReceiptHandle);
    } else if (op === 'GetQueueAttributes')
      out = {
        Attributes: { ApproximateNumberOfMessages: String(q.length), ApproximateNumberOfMessagesNotVisible: '0' },
      };
    const text = JSON.stringify(out);
    res.writeHead(200, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  });
});
server.keepAliveTimeout = 65000;
const i = process.argv.indexOf('--port');
server.listen(i > 0 ? Number(process.argv[i + 1]) : 4567, '127.0.0.1');
