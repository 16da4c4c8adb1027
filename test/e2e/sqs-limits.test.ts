import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { expectError, PROTOCOLS, sqsClient, withWharf, type SqsTestClient } from '../helpers/sqs.js';

// The real limit is 120,000 messages in flight; the test lowers it (--sqs-inflight-limit) to keep
// the queue small.
describe.each(PROTOCOLS)('in-flight limit over %s', (proto) => {
  let wharf: Wharf;
  let sqs: SqsTestClient;
  beforeAll(async () => {
    wharf = await withWharf({ sqsInflightLimit: 5 });
    sqs = sqsClient(wharf.endpoint, proto);
  });
  afterAll(async () => {
    sqs.destroy();
    await wharf.stop();
  });

  it('refuses a short poll with OverLimit and answers a long poll with nothing', async () => {
    const { QueueUrl } = await sqs.call('CreateQueue', { QueueName: `limit-${proto}` });
    await sqs.call('SendMessageBatch', {
      QueueUrl,
      Entries: Array.from({ length: 7 }, (_, i) => ({ Id: `m${i}`, MessageBody: `m${i}` })),
    });
    expect((await sqs.call('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 5 })).Messages).toHaveLength(5);
    const err = await expectError(sqs.call('ReceiveMessage', { QueueUrl }), 'OverLimit', proto);
    expect(err.$metadata?.httpStatusCode).toBe(403);
    // the Query-era SDK reads a modelled error's text from <message>, which SQS does not send
    if (proto === 'json') expect(err.message).toContain('Too many messages have been received without being deleted.');
    const long = await sqs.call('ReceiveMessage', { QueueUrl, WaitTimeSeconds: 1 });
    expect(long.Messages ?? []).toEqual([]);
  });

  it('does not apply to FIFO queues', async () => {
    const { QueueUrl } = await sqs.call('CreateQueue', {
      QueueName: `limit-${proto}.fifo`,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
    });
    for (let i = 0; i < 7; i++)
      await sqs.call('SendMessage', { QueueUrl, MessageBody: `m${i}`, MessageGroupId: `g${i}` });
    // seven in flight, past the limit of five
    for (let i = 0; i < 7; i++) {
      expect((await sqs.call('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 1 })).Messages).toHaveLength(1);
    }
  });
});
