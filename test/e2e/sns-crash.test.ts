/**
 * A crash right after Publish answers loses no delivery: the built CLI runs as a child process
 * (durability fsync) with a topic fanned out to two queues; publishers send uniquely identified
 * messages (Publish and PublishBatch) and the server is SIGKILLed mid-flight, when some acknowledged
 * publishes have not been delivered yet. After a restart on the same data directory, every
 * acknowledged message is in both queues, and nothing is there that was not sent.
 * Needs `npm run build` first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { kill, killAll, startServer } from '../helpers/cli-server.js';
import { Sqs } from '../helpers/raw-sqs.js';

const AUTH = `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;

/** One SNS Query call; the response text, or throws on an HTTP error or a dropped connection. */
async function snsCall(endpoint: string, action: string, params: Record<string, string>): Promise<string> {
  const r = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: AUTH },
    body: new URLSearchParams({ Action: action, Version: '2010-03-31', ...params }),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${action}: HTTP ${r.status} ${text}`);
  return text;
}

const tempDirs: string[] = [];

describe('SNS crash safety', () => {
  afterEach(() => killAll());
  afterAll(() => {
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });

  it('delivers every acknowledged publish after a SIGKILL, to every subscriber', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wharf-sns-crash-'));
    tempDirs.push(dataDir);
    let server = await startServer(dataDir, 'fsync');
    const topicXml = await snsCall(server.endpoint, 'CreateTopic', { Name: 'crash' });
    const TopicArn = /<TopicArn>([^<]+)<\/TopicArn>/.exec(topicXml)![1];
    let sqs = new Sqs(server.endpoint);
    for (const q of ['crash-a', 'crash-b']) {
      await sqs.call('CreateQueue', { QueueName: q });
      await snsCall(server.endpoint, 'Subscribe', {
        TopicArn,
        Protocol: 'sqs',
        Endpoint: `arn:aws:sqs:us-east-1:000000000000:${q}`,
        'Attributes.entry.1.key': 'RawMessageDelivery',
        'Attributes.entry.1.value': 'true',
      });
    }
    sqs.close();

    const acked = new Set<string>();
    const sent = new Set<string>();
    let stop = false;
    const endpoint = server.endpoint;
    const publisher = async (p: number) => {
      for (let n = 0; !stop; n++) {
        const batch = n % 2 === 1;
        const ids = batch ? Array.from({ length: 10 }, (_, i) => `p${p}-${n}-${i}`) : [`p${p}-${n}`];
        for (const id of ids) sent.add(id);
        try {
          if (batch) {
            const params: Record<string, string> = { TopicArn };
            ids.forEach((id, i) => {
              params[`PublishBatchRequestEntries.member.${i + 1}.Id`] = `e${i}`;
              params[`PublishBatchRequestEntries.member.${i + 1}.Message`] = id;
            });
            const xml = await snsCall(endpoint, 'PublishBatch', params);
            // only the entries the answer lists as successful count
            for (const m of xml.matchAll(/<Id>e(\d+)<\/Id>/g)) acked.add(ids[Number(m[1])]);
          } else {
            await snsCall(endpoint, 'Publish', { TopicArn, Message: ids[0] });
            acked.add(ids[0]);
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const publishers = [0, 1, 2, 3].map(publisher);
    // let the load run until plenty is acknowledged, then kill mid-flight
    while (acked.size < 2000) await new Promise((r) => setTimeout(r, 5));
    await kill(server);
    stop = true;
    await Promise.all(publishers);

    server = await startServer(dataDir, 'fsync');
    sqs = new Sqs(server.endpoint);
    for (const q of ['crash-a', 'crash-b']) {
      const { QueueUrl } = await sqs.call('GetQueueUrl', { QueueName: q });
      const got = new Set<string>();
      for (let empty = 0; empty < 2;) {
        const r = await sqs.call('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
        const msgs = (r.Messages ?? []) as { Body: string; ReceiptHandle: string }[];
        if (!msgs.length) {
          empty++;
          continue;
        }
        empty = 0;
        for (const m of msgs) got.add(m.Body);
        await sqs.call('DeleteMessageBatch', {
          QueueUrl,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        });
      }
      const lost = [...acked].filter((id) => !got.has(id));
      const foreign = [...got].filter((b) => !sent.has(b));
      expect({ queue: q, lost: lost.length, foreign: foreign.length }).toEqual({ queue: q, lost: 0, foreign: 0 });
      expect(got.size).toBeGreaterThanOrEqual(acked.size);
    }
    sqs.close();
  }, 120_000);
});
