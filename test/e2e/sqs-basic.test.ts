import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { expectError, PROTOCOLS, sqsClient, withWharf, type SqsTestClient } from '../helpers/sqs.js';

describe.each(PROTOCOLS)('SQS basics over %s', (proto) => {
  let wharf: Wharf;
  let sqs: SqsTestClient;
  beforeAll(async () => {
    wharf = await withWharf();
    sqs = sqsClient(wharf.endpoint, proto);
  });
  afterAll(async () => {
    sqs.destroy();
    await wharf.stop();
  });

  it('creates, finds, lists and deletes a queue', async () => {
    const { QueueUrl } = await sqs.call('CreateQueue', { QueueName: `basic-${proto}` });
    expect(QueueUrl).toBe(`${wharf.endpoint}/000000000000/basic-${proto}`);
    expect((await sqs.call('GetQueueUrl', { QueueName: `basic-${proto}` })).QueueUrl).toBe(QueueUrl);
    expect((await sqs.call('ListQueues', { QueueNamePrefix: 'basic-' })).QueueUrls).toEqual([QueueUrl]);
    await sqs.call('DeleteQueue', { QueueUrl });
    await expectError(sqs.call('GetQueueUrl', { QueueName: `basic-${proto}` }), 'QueueDoesNotExist', proto);
  });

  it('sends, receives and deletes a message with attributes', async () => {
    const { QueueUrl } = await sqs.call('CreateQueue', { QueueName: `msg-${proto}` });
    const sent = await sqs.call('SendMessage', {
      QueueUrl,
      MessageBody: 'hello\r\nworld & <xml> "quoted" ☃ 😀',
      MessageAttributes: {
        s: { DataType: 'String', StringValue: 'text' },
        n: { DataType: 'Number', StringValue: '42' },
        b: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
      },
    });
    expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const got = await sqs.call('ReceiveMessage', {
      QueueUrl,
      MessageAttributeNames: ['All'],
      AttributeNames: ['All'],
    });
    expect(got.Messages).toHaveLength(1);
    const m = got.Messages[0];
    expect(m.Body).toBe('hello\r\nworld & <xml> "quoted" ☃ 😀');
    expect(m.MessageId).toBe(sent.MessageId);
    expect(m.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(Buffer.from(m.MessageAttributes.b.BinaryValue)).toEqual(Buffer.from([1, 2, 3]));
    expect(m.Attributes.ApproximateReceiveCount).toBe('1');
    await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: m.ReceiptHandle });
    const attrs = await sqs.call('GetQueueAttributes', { QueueUrl, AttributeNames: ['All'] });
    expect(attrs.Attributes.ApproximateNumberOfMessages).toBe('0');
    expect(attrs.Attributes.ApproximateNumberOfMessagesNotVisible).toBe('0');
  });

  it('reports an unknown queue with AWS codes', async () => {
    const err = await expectError(
      sqs.call('SendMessage', { QueueUrl: `${wharf.endpoint}/000000000000/nope`, MessageBody: 'x' }),
      'QueueDoesNotExist',
      proto,
    );
    expect(err.$metadata?.httpStatusCode).toBe(400);
    if (proto === 'json') expect(err.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
  });
});
