/**
 * SNS into SQS end to end: fan-out to several queues, the JSON envelope (signed, verifiable with
 * the certificate Wharf serves) and raw delivery with attributes, filter policies on attributes
 * and on the body, MessageStructure=json, PublishBatch with per-entry failures, FIFO topics into
 * FIFO and standard queues, a deleted queue's copies in the subscription's DLQ, and a publish
 * that survives a restart before it was delivered. Both stores.
 */
import { createVerify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as sns from '@aws-sdk/client-sns';
import * as sqs from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWharf, type Wharf } from '../../src/index.js';
import { ManualClock } from '../../src/kernel/clock.js';
import { ServiceError } from '../../src/kernel/errors.js';
import { withWharf } from '../helpers/sqs.js';
import { sdkFailure } from '../helpers/sdk.js';
import { snsKit, type SnsKit } from '../helpers/sns.js';

type Envelope = Record<string, string> & { MessageAttributes?: Record<string, { Type: string; Value: string }> };

describe('SNS delivery into SQS', () => {
  let wharf: Wharf;
  let kit: SnsKit;
  let client: sns.SNSClient;
  const topic = async (Name: string, Attributes?: Record<string, string>) =>
    (await client.send(new sns.CreateTopicCommand({ Name, Attributes }))).TopicArn!;
  const subscribe = (TopicArn: string, Endpoint: string, Attributes?: Record<string, string>) =>
    subscribeSqs(kit, TopicArn, Endpoint, Attributes);

  beforeAll(async () => {
    wharf = await withWharf();
    kit = snsKit(wharf);
    client = kit.sns;
  });
  afterAll(async () => {
    kit?.destroy();
    await wharf?.stop();
  });

  it('fans out to every queue: a signed envelope, or the raw message with its attributes', async () => {
    const TopicArn = await topic('fan');
    const a = await kit.queue('fan-a');
    const b = await kit.queue('fan-b');
    const subA = await subscribe(TopicArn, a.arn);
    await subscribe(TopicArn, b.arn, { RawMessageDelivery: 'true' });
    const MessageAttributes = {
      colour: { DataType: 'String', StringValue: 'red' },
      size: { DataType: 'Number', StringValue: '42' },
      blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2]) },
      tags: { DataType: 'String.Array', StringValue: '["x","y"]' },
    };
    const p = await client.send(
      new sns.PublishCommand({ TopicArn, Message: 'hello', Subject: 'Greeting', MessageAttributes }),
    );
    const [envMsg] = await kit.drain(a.url, 1);
    const env = JSON.parse(envMsg.Body!) as Envelope;
    expect(env).toMatchObject({
      Type: 'Notification',
      MessageId: p.MessageId,
      TopicArn,
      Subject: 'Greeting',
      Message: 'hello',
      SignatureVersion: '1',
    });
    expect(Object.keys(env)).toEqual([
      'Type',
      'MessageId',
      'TopicArn',
      'Subject',
      'Message',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
      'UnsubscribeURL',
      'MessageAttributes',
    ]);
    expect(env.MessageAttributes).toEqual({
      colour: { Type: 'String', Value: 'red' },
      size: { Type: 'Number', Value: '42' },
      blob: { Type: 'Binary', Value: 'AAEC' },
      tags: { Type: 'String.Array', Value: '["x","y"]' },
    });
    expect(envMsg.MessageAttributes).toBeUndefined();
    // the signature verifies against the certificate at SigningCertURL, fetched unsigned
    const cert = new X509Certificate(await (await fetch(env.SigningCertURL)).text());
    const signed = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      .map((k) => `${k}\n${env[k]}\n`)
      .join('');
    expect(createVerify('RSA-SHA1').update(signed).verify(cert.publicKey, env.Signature, 'base64')).toBe(true);
    expect(
      createVerify('RSA-SHA1')
        .update(signed + 'x')
        .verify(cert.publicKey, env.Signature, 'base64'),
    ).toBe(false);
    const [rawMsg] = await kit.drain(b.url, 1);
    expect(rawMsg.Body).toBe('hello');
    expect(rawMsg.MessageAttributes).toEqual({
      colour: { DataType: 'String', StringValue: 'red' },
      size: { DataType: 'Number', StringValue: '42' },
      blob: { DataType: 'Binary', BinaryValue: Uint8Array.from([0, 1, 2]) },
      tags: { DataType: 'String.Array', StringValue: '["x","y"]' },
    });
    // the UnsubscribeURL works without a signature, and only with its token
    expect((await fetch(env.UnsubscribeURL.replace(/Token=[0-9a-f]+/, 'Token=0'))).status).toBe(403);
    expect((await fetch(env.UnsubscribeURL)).status).toBe(200);
    expect(
      await sdkFailure(client.send(new sns.GetSubscriptionAttributesCommand({ SubscriptionArn: subA }))),
    ).toMatchObject({
      name: 'NotFoundException',
    });
  });

  it('signs with SHA256 when the topic asks for SignatureVersion 2', async () => {
    const TopicArn = await topic('v2', { SignatureVersion: '2' });
    const q = await kit.queue('v2');
    await subscribe(TopicArn, q.arn);
    await client.send(new sns.PublishCommand({ TopicArn, Message: 'two' }));
    const env = JSON.parse((await kit.drain(q.url, 1))[0].Body!) as Envelope;
    expect(env.SignatureVersion).toBe('2');
    const cert = new X509Certificate(await (await fetch(env.SigningCertURL)).text());
    const signed = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type'].map((k) => `${k}\n${env[k]}\n`).join('');
    expect(createVerify('RSA-SHA256').update(signed).verify(cert.publicKey, env.Signature, 'base64')).toBe(true);
  });

  it('filters on attributes and on the body, type-sensitively', async () => {
    const TopicArn = await topic('filtered');
    const attrs = await kit.queue('f-attrs');
    const body = await kit.queue('f-body');
    const all = await kit.queue('f-all');
    await subscribe(TopicArn, attrs.arn, {
      RawMessageDelivery: 'true',
      FilterPolicy: JSON.stringify({ kind: ['order'], total: [{ numeric: ['>=', 100] }] }),
    });
    await subscribe(TopicArn, body.arn, {
      RawMessageDelivery: 'true',
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: JSON.stringify({ order: { paid: [true], country: [{ prefix: 'N' }] } }),
    });
    await subscribe(TopicArn, all.arn, { RawMessageDelivery: 'true' });
    const pub = (Message: string, MessageAttributes?: Record<string, sns.MessageAttributeValue>) =>
      client.send(new sns.PublishCommand({ TopicArn, Message, MessageAttributes }));
    const S = (v: string) => ({ DataType: 'String', StringValue: v });
    const N = (v: string) => ({ DataType: 'Number', StringValue: v });
    await pub('big order', { kind: S('order'), total: N('150') });
    await pub('small order', { kind: S('order'), total: N('5') });
    await pub('total as a string', { kind: S('order'), total: S('150') });
    await pub(JSON.stringify({ order: { paid: true, country: 'NO' } }));
    await pub(JSON.stringify({ order: { paid: 'true', country: 'NO' } }));
    await pub(JSON.stringify({ order: { paid: true, country: 'SE' } }));
    await pub('not json');
    expect((await kit.drain(all.url, 7)).length).toBe(7);
    expect((await kit.drain(attrs.url, 1, 1)).map((m) => m.Body)).toEqual(['big order']);
    expect((await kit.drain(body.url, 1, 1)).map((m) => JSON.parse(m.Body!))).toEqual([
      { order: { paid: true, country: 'NO' } },
    ]);
  });

  it('sends each protocol its own text with MessageStructure=json', async () => {
    const TopicArn = await topic('structured');
    const q = await kit.queue('structured');
    await subscribe(TopicArn, q.arn, { RawMessageDelivery: 'true' });
    await client.send(
      new sns.PublishCommand({
        TopicArn,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'for everyone', sqs: 'for queues', email: 'for people' }),
      }),
    );
    expect((await kit.drain(q.url, 1))[0].Body).toBe('for queues');
    const fail = (Message: string) =>
      sdkFailure(client.send(new sns.PublishCommand({ TopicArn, MessageStructure: 'json', Message })));
    expect((await fail('{"sqs":"x"}')).message).toBe(
      'Invalid parameter: Message Structure - No default entry in JSON message body',
    );
    expect((await fail('nope')).message).toBe(
      'Invalid parameter: Message Structure - JSON message body failed to parse',
    );
  });

  it('publishes a batch, with per-entry failures and AWS batch errors', async () => {
    const TopicArn = await topic('batch');
    const q = await kit.queue('batch');
    await subscribe(TopicArn, q.arn, { RawMessageDelivery: 'true' });
    const r = await client.send(
      new sns.PublishBatchCommand({
        TopicArn,
        PublishBatchRequestEntries: [
          { Id: 'a', Message: 'one', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } },
          { Id: 'b', Message: 'two' },
          { Id: 'bad', Message: 'three', MessageAttributes: { k: { DataType: 'Float', StringValue: '1' } } },
        ],
      }),
    );
    expect(r.Successful!.map((s) => s.Id)).toEqual(['a', 'b']);
    expect(r.Failed).toEqual([
      {
        Id: 'bad',
        Code: 'ParameterValueInvalid',
        SenderFault: true,
        Message:
          "The message attribute 'k' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.",
      },
    ]);
    const got = await kit.drain(q.url, 2);
    expect(got.map((m) => m.Body).sort()).toEqual(['one', 'two']);
    expect(got.find((m) => m.Body === 'one')!.MessageAttributes).toEqual({
      k: { DataType: 'String', StringValue: 'v' },
    });
    const batch = (PublishBatchRequestEntries: sns.PublishBatchRequestEntry[]) =>
      sdkFailure(client.send(new sns.PublishBatchCommand({ TopicArn, PublishBatchRequestEntries })));
    expect(await batch([])).toMatchObject({ name: 'EmptyBatchRequestException' });
    expect(await batch(Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, Message: 'x' })))).toMatchObject({
      name: 'TooManyEntriesInBatchRequestException',
      message: 'The batch request contains more entries than permissible.',
    });
    expect(
      await batch([
        { Id: 'a', Message: 'x' },
        { Id: 'a', Message: 'y' },
      ]),
    ).toMatchObject({
      name: 'BatchEntryIdsNotDistinctException',
    });
    expect(await batch([{ Id: 'no spaces', Message: 'x' }])).toMatchObject({ name: 'InvalidBatchEntryIdException' });
    expect(
      await batch([
        { Id: 'a', Message: 'x'.repeat(200_000) },
        { Id: 'b', Message: 'x'.repeat(100_000) },
      ]),
    ).toMatchObject({ name: 'BatchRequestTooLongException' });
  });

  it('checks a message as AWS does', async () => {
    const TopicArn = await topic('checks');
    const fail = async (input: Partial<sns.PublishCommandInput>) =>
      (await sdkFailure(client.send(new sns.PublishCommand({ TopicArn, Message: 'm', ...input })))).message;
    expect(await fail({ Message: '' })).toBe('Invalid parameter: Empty message');
    expect(await fail({ Message: 'x'.repeat(262_145) })).toBe('Invalid parameter: Message too long');
    expect(await fail({ Subject: 'line\nbreak' })).toBe('Invalid parameter: Subject');
    expect(await fail({ MessageDeduplicationId: 'd' })).toBe(
      'Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
    );
    expect(await fail({ MessageAttributes: { '.dot': { DataType: 'String', StringValue: 'x' } } })).toBe(
      "Invalid message attribute name starting with character '.' was found.",
    );
    expect(await fail({ MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } } })).toBe(
      "Could not cast message attribute 'n' value to number.",
    );
    expect(await fail({ MessageAttributes: { s: { DataType: 'String', StringValue: '' } } })).toBe(
      "The message attribute 's' must contain non-empty message attribute value for message attribute type 'String'.",
    );
    expect(
      await sdkFailure(client.send(new sns.PublishCommand({ TopicArn: `${TopicArn}-absent`, Message: 'm' }))),
    ).toMatchObject({ name: 'NotFoundException', message: 'Topic does not exist' });
  });

  it('keeps FIFO order into FIFO queues, and gives standard queues no group', async () => {
    const TopicArn = await topic('orders.fifo', { FifoTopic: 'true', ContentBasedDeduplication: 'true' });
    const fifo = await kit.queue('orders.fifo', { FifoQueue: 'true' });
    const std = await kit.queue('orders-std');
    await subscribe(TopicArn, fifo.arn, { RawMessageDelivery: 'true' });
    await subscribe(TopicArn, std.arn, { RawMessageDelivery: 'true' });
    for (let i = 0; i < 5; i++)
      await client.send(new sns.PublishCommand({ TopicArn, Message: `m${i}`, MessageGroupId: 'g1' }));
    const got = await kit.drain(fifo.url, 5);
    expect(got.map((m) => m.Body)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(got[0].Attributes!.MessageGroupId).toBe('g1');
    const plain = await kit.drain(std.url, 5);
    expect(plain.map((m) => m.Body).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(plain[0].Attributes!.MessageGroupId).toBeUndefined();
    const fail = async (input: Partial<sns.PublishCommandInput>) =>
      (await sdkFailure(client.send(new sns.PublishCommand({ TopicArn, Message: 'x', ...input })))).message;
    expect(await fail({})).toBe('Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
    // sequence numbers: 20 digits, increasing
    const seqs: bigint[] = [];
    for (const Message of ['s1', 's2', 's3']) {
      const r = await client.send(new sns.PublishCommand({ TopicArn, Message, MessageGroupId: 'g2' }));
      expect(r.SequenceNumber).toMatch(/^\d{20}$/);
      seqs.push(BigInt(r.SequenceNumber!));
    }
    expect(seqs[0] < seqs[1] && seqs[1] < seqs[2]).toBe(true);
    expect((await kit.drain(fifo.url, 3)).map((m) => m.Body)).toEqual(['s1', 's2', 's3']);
    await kit.drain(std.url, 3);
    const noDedup = await topic('nodedup.fifo', { FifoTopic: 'true' });
    expect(
      (await sdkFailure(client.send(new sns.PublishCommand({ TopicArn: noDedup, Message: 'x', MessageGroupId: 'g' }))))
        .message,
    ).toBe(
      'Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    );
  });

  it("puts a deleted queue's copies in the subscription's dead-letter queue", async () => {
    const TopicArn = await topic('dlq');
    const gone = await kit.queue('dlq-gone');
    const dlq = await kit.queue('dlq-dead');
    await subscribe(TopicArn, gone.arn, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn }) });
    await kit.sqs.send(new sqs.DeleteQueueCommand({ QueueUrl: gone.url }));
    const p = await client.send(new sns.PublishCommand({ TopicArn, Message: 'lost?' }));
    const [dead] = await kit.drain(dlq.url, 1);
    expect(JSON.parse(dead.Body!)).toMatchObject({ Type: 'Notification', MessageId: p.MessageId, Message: 'lost?' });
  });

  it('publishes to a phone number into the SMS outbox', async () => {
    const r = await client.send(new sns.PublishCommand({ PhoneNumber: '+15555550100', Message: 'your code is 1234' }));
    const box = (await (await fetch(`${wharf.endpoint}/_wharf/sns/outbox?protocol=sms`)).json()) as {
      messages: { PhoneNumber: string; Message: string; MessageId: string }[];
    };
    expect(box.messages).toContainEqual(
      expect.objectContaining({ PhoneNumber: '+15555550100', Message: 'your code is 1234', MessageId: r.MessageId }),
    );
    expect((await sdkFailure(client.send(new sns.PublishCommand({ PhoneNumber: 'abc', Message: 'x' })))).message).toBe(
      'Invalid parameter: PhoneNumber Reason: abc is not valid to publish to',
    );
  });
});

/** An SQS subscription; its ARN. */
async function subscribeSqs(kit: SnsKit, TopicArn: string, Endpoint: string, Attributes?: Record<string, string>) {
  return (await kit.sns.send(new sns.SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint, Attributes })))
    .SubscriptionArn!;
}

/** A FIFO topic (content-based deduplication) with a FIFO queue of the same name subscribed raw. */
async function fifoTopicToQueue(kit: SnsKit, name: string) {
  const { TopicArn } = await kit.sns.send(
    new sns.CreateTopicCommand({ Name: name, Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'true' } }),
  );
  const q = await kit.queue(name, { FifoQueue: 'true' });
  await subscribeSqs(kit, TopicArn!, q.arn, { RawMessageDelivery: 'true' });
  return { TopicArn: TopicArn!, q };
}

describe('SNS FIFO deduplication', () => {
  it('drops a repeated deduplication id for 5 minutes, over the whole topic', async () => {
    const clock = new ManualClock();
    const wharf = await withWharf({ clock });
    const kit = snsKit(wharf);
    try {
      const { TopicArn, q } = await fifoTopicToQueue(kit, 'dedup.fifo');
      const pub = (Message: string, MessageGroupId: string, MessageDeduplicationId?: string) =>
        kit.sns.send(new sns.PublishCommand({ TopicArn, Message, MessageGroupId, MessageDeduplicationId }));
      await pub('a', 'g1', 'same');
      // the same id in another group is a duplicate too: the window covers the topic
      const dup = await pub('b', 'g2', 'same');
      expect(dup.MessageId).toBeDefined();
      // content-based: the body alone
      await pub('body', 'g1');
      await pub('body', 'g3');
      await kit.sns.send(
        new sns.PublishBatchCommand({
          TopicArn,
          PublishBatchRequestEntries: [
            { Id: '1', Message: 'batch', MessageGroupId: 'g1', MessageDeduplicationId: 'same' },
            { Id: '2', Message: 'batch-new', MessageGroupId: 'g1' },
          ],
        }),
      );
      expect((await kit.drain(q.url, 3)).map((m) => m.Body)).toEqual(['a', 'body', 'batch-new']);
      clock.advance(5 * 60_000 + 1);
      // the window closed: the id is new again, whether or not the old record was swept yet
      await pub('again', 'g1', 'same');
      expect((await kit.drain(q.url, 1)).map((m) => m.Body)).toEqual(['again']);
    } finally {
      kit.destroy();
      await wharf.stop();
    }
  });
});

describe('SNS FIFO order under failure', () => {
  it('retries a failed copy on AWS schedule while later messages of its group wait, and other groups go on', async () => {
    const clock = new ManualClock();
    const wharf = await withWharf({ clock });
    wharf.services.sns.fanout.deliveries.jitter = 0;
    const kit = snsKit(wharf);
    // the queue service fails its first 4 calls that carry 'first' (as a store that is down would)
    const deps = wharf.services.sns.deps;
    const call = deps.call.bind(deps);
    let failures = 0;
    deps.call = async (service, op, ctx, input) => {
      if (JSON.stringify(input).includes('first') && failures < 4) {
        failures++;
        throw new ServiceError('ServiceUnavailable', 'down', { status: 503 });
      }
      return call(service, op, ctx, input);
    };
    try {
      const { TopicArn, q } = await fifoTopicToQueue(kit, 'ordered.fifo');
      const pub = (Message: string, MessageGroupId: string) =>
        kit.sns.send(new sns.PublishCommand({ TopicArn, Message, MessageGroupId }));
      await pub('first', 'g1');
      // three immediate retries fail too; the fourth waits 1 s (AWS's schedule for SQS)
      await expect.poll(() => failures).toBe(4);
      await pub('second', 'g1');
      await pub('other', 'g2');
      // g2 is not held back; g1's second message does not overtake its first
      expect((await kit.drain(q.url, 1)).map((m) => m.Body)).toEqual(['other']);
      expect(await wharf.stores.jobs.counts('sns.publish', clock.now())).toMatchObject({ ready: 1, delayed: 2 });
      clock.advance(1000);
      const got = await kit.drain(q.url, 2);
      expect(got.map((m) => [m.Body, m.Attributes?.MessageGroupId])).toEqual([
        ['first', 'g1'],
        ['second', 'g1'],
      ]);
    } finally {
      kit.destroy();
      await wharf.stop();
    }
  });
});

describe('SNS publish durability', () => {
  it('delivers after a restart what was published before it', async () => {
    if (process.env.WHARF_TEST_STORE === 'postgres') return;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'wharf-sns-'));
    try {
      let wharf = await startWharf({ dataDir, maintenanceIntervalMs: 0 });
      let kit = snsKit(wharf);
      const { TopicArn } = await kit.sns.send(new sns.CreateTopicCommand({ Name: 'durable' }));
      const q = await kit.queue('durable');
      await subscribeSqs(kit, TopicArn!, q.arn, { RawMessageDelivery: 'true' });
      // hold deliveries back: the publish is answered once its record is durable, and not delivered yet
      await wharf.services.sns.fanout.publishes.stop();
      await kit.sns.send(new sns.PublishCommand({ TopicArn, Message: 'kept' }));
      expect((await kit.drain(q.url, 1, 0)).length).toBe(0);
      kit.destroy();
      await wharf.stop();
      wharf = await startWharf({ dataDir, maintenanceIntervalMs: 0, port: 0 });
      kit = snsKit(wharf);
      const url = (await kit.sqs.send(new sqs.GetQueueUrlCommand({ QueueName: 'durable' }))).QueueUrl!;
      expect((await kit.drain(url, 1)).map((m) => m.Body)).toEqual(['kept']);
      kit.destroy();
      await wharf.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
