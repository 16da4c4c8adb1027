/**
 * FIFO queues end to end over both protocols: ordering and the group lock across consumers,
 * deduplication (explicit, content-based, per queue or per group, the 5-minute window),
 * sequence numbers, ReceiveRequestAttemptId retries, dead-letter queues and purge.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PROTOCOLS } from '../helpers/sqs.js';
import { arnOfUrl, awsError, counts, createQueue, track, useWharf, waitForWaiters } from '../helpers/sqs-e2e.js';

interface Msg {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  Attributes?: Record<string, string>;
}

describe.each(PROTOCOLS)('SQS FIFO over %s', (proto) => {
  const env = useWharf(proto);
  const json = proto === 'json';
  const newQueue = (attributes: Record<string, string> = {}) => createQueue(env.sqs, 'fifo', true, attributes);
  let dedup = 0;
  const send = (QueueUrl: string, MessageBody: string, MessageGroupId = 'g', extra: Record<string, unknown> = {}) =>
    env.sqs.call('SendMessage', {
      QueueUrl,
      MessageBody,
      MessageGroupId,
      MessageDeduplicationId: `dd-${++dedup}`,
      ...extra,
    });
  const receive = async (QueueUrl: string, extra: Record<string, unknown> = {}, client = env.sqs): Promise<Msg[]> =>
    ((await client.call('ReceiveMessage', { QueueUrl, ...extra })).Messages ?? []) as Msg[];
  const bodies = (msgs: Msg[]) => msgs.map((m) => m.Body);
  const del = (QueueUrl: string, m: Msg) => env.sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: m.ReceiptHandle });

  describe('ordering and message groups', () => {
    it('delivers the messages of a group in the order they were sent', async () => {
      const QueueUrl = await newQueue();
      for (let i = 0; i < 6; i++) await send(QueueUrl, `m${i}`);
      const got: string[] = [];
      for (;;) {
        const [m] = await receive(QueueUrl);
        if (!m) break;
        got.push(m.Body);
        await del(QueueUrl, m);
      }
      expect(got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      // in one receive, too
      for (let i = 0; i < 6; i++) await send(QueueUrl, `n${i}`);
      expect(bodies(await receive(QueueUrl, { MaxNumberOfMessages: 10 }))).toEqual([
        'n0',
        'n1',
        'n2',
        'n3',
        'n4',
        'n5',
      ]);
    });

    it('locks a group for every consumer while a message of it is in flight', async () => {
      const { other, clock } = env;
      const QueueUrl = await newQueue();
      await send(QueueUrl, 'a1', 'A');
      await send(QueueUrl, 'a2', 'A');
      await send(QueueUrl, 'b1', 'B');
      const [a1] = await receive(QueueUrl, { VisibilityTimeout: 10 });
      expect(a1.Body).toBe('a1');
      // the second consumer gets only the other group
      expect(bodies(await receive(QueueUrl, { MaxNumberOfMessages: 10 }, other))).toEqual(['b1']);
      expect(await receive(QueueUrl, { MaxNumberOfMessages: 10 }, other)).toEqual([]);
      // the visibility timeout expiring unlocks the group: a1 comes back before a2
      clock.advance(10_000);
      const [again] = await receive(QueueUrl, { VisibilityTimeout: 10 }, other);
      expect(again.Body).toBe('a1');
      expect(await receive(QueueUrl)).toEqual([]);
      // deleting the head unlocks it too
      await other.call('DeleteMessage', { QueueUrl, ReceiptHandle: again.ReceiptHandle });
      expect(bodies(await receive(QueueUrl))).toEqual(['a2']);
    });

    it('unlocks a group when the head is made visible with ChangeMessageVisibility 0', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      await send(QueueUrl, 'h1');
      await send(QueueUrl, 'h2');
      const [h1] = await receive(QueueUrl);
      expect(await receive(QueueUrl)).toEqual([]);
      await sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: h1.ReceiptHandle, VisibilityTimeout: 0 });
      const [again] = await receive(QueueUrl, { AttributeNames: ['ApproximateReceiveCount'] });
      expect(again.Body).toBe('h1');
      expect(again.Attributes).toEqual({ ApproximateReceiveCount: '2' });
    });

    it('keeps a group locked while any message received from it is in flight', async () => {
      const QueueUrl = await newQueue();
      for (const b of ['x1', 'x2', 'x3']) await send(QueueUrl, b, 'X');
      const [x1, x2] = await receive(QueueUrl, { MaxNumberOfMessages: 2 });
      expect([x1.Body, x2.Body]).toEqual(['x1', 'x2']);
      await del(QueueUrl, x1);
      // x2 is still in flight: x3 must wait
      expect(await receive(QueueUrl)).toEqual([]);
      await del(QueueUrl, x2);
      expect(bodies(await receive(QueueUrl))).toEqual(['x3']);
    });

    it('returns as many messages of one group as it can, and serves several groups in order', async () => {
      const QueueUrl = await newQueue();
      for (const [b, g] of [
        ['a1', 'A'],
        ['b1', 'B'],
        ['a2', 'A'],
        ['b2', 'B'],
        ['a3', 'A'],
        ['c1', 'C'],
      ]) {
        await send(QueueUrl, b, g);
      }
      expect(bodies(await receive(QueueUrl, { MaxNumberOfMessages: 2 }))).toEqual(['a1', 'a2']);
      expect(bodies(await receive(QueueUrl, { MaxNumberOfMessages: 2 }))).toEqual(['b1', 'b2']);
      expect(bodies(await receive(QueueUrl, { MaxNumberOfMessages: 10 }))).toEqual(['c1']);

      const all = await newQueue();
      for (const [b, g] of [
        ['a1', 'A'],
        ['b1', 'B'],
        ['a2', 'A'],
        ['b2', 'B'],
      ]) {
        await send(all, b, g);
      }
      const msgs = await receive(all, { MaxNumberOfMessages: 10, AttributeNames: ['MessageGroupId'] });
      expect(msgs).toHaveLength(4);
      const byGroup = (g: string) => msgs.filter((m) => m.Attributes!.MessageGroupId === g).map((m) => m.Body);
      expect(byGroup('A')).toEqual(['a1', 'a2']);
      expect(byGroup('B')).toEqual(['b1', 'b2']);
    });

    it('validates MessageGroupId and MessageDeduplicationId', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue({ ContentBasedDeduplication: 'false' });
      const noGroup = await awsError(
        sqs.call('SendMessage', { QueueUrl, MessageBody: 'x', MessageDeduplicationId: 'd' }),
        'MissingParameter',
        proto,
      );
      expect(noGroup.message).toBe('The request must contain the parameter MessageGroupId.');
      if (json) expect(noGroup.Code).toBe('MissingParameter');
      const noDedup = await awsError(
        sqs.call('SendMessage', { QueueUrl, MessageBody: 'x', MessageGroupId: 'g' }),
        'InvalidParameterValue',
        proto,
      );
      expect(noDedup.message).toBe(
        'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
      for (const MessageGroupId of ['g'.repeat(129), 'ümlaut', 'sp ace']) {
        const err = await awsError(
          sqs.call('SendMessage', { QueueUrl, MessageBody: 'x', MessageGroupId, MessageDeduplicationId: 'd' }),
          'InvalidParameterValue',
          proto,
        );
        expect(err.message).toBe(
          `Value ${MessageGroupId} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
        );
      }
      const badDedup = await awsError(
        sqs.call('SendMessage', {
          QueueUrl,
          MessageBody: 'x',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd'.repeat(129),
        }),
        'InvalidParameterValue',
        proto,
      );
      expect(badDedup.message).toMatch(/^Value d+ for parameter MessageDeduplicationId is invalid\./);
      // every punctuation character is allowed, and 128 characters
      const punct = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
      await sqs.call('SendMessage', {
        QueueUrl,
        MessageBody: 'x',
        MessageGroupId: punct,
        MessageDeduplicationId: 'd'.repeat(128),
      });
      const [m] = await receive(QueueUrl, { AttributeNames: ['MessageGroupId', 'MessageDeduplicationId'] });
      expect(m.Attributes).toEqual({ MessageGroupId: punct, MessageDeduplicationId: 'd'.repeat(128) });
    });
  });

  describe('deduplication', () => {
    it('drops a repeated MessageDeduplicationId and returns the original MessageId, even after delete', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue({ ContentBasedDeduplication: 'false' });
      const first = await sqs.call('SendMessage', {
        QueueUrl,
        MessageBody: 'one',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'same',
      });
      const second = await sqs.call('SendMessage', {
        QueueUrl,
        MessageBody: 'two',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'same',
      });
      expect(second.MessageId).toBe(first.MessageId);
      expect(second.MD5OfMessageBody).toBe(createHash('md5').update('two').digest('hex'));
      expect(await counts(sqs, QueueUrl)).toEqual([1, 0, 0]);
      const [m] = await receive(QueueUrl);
      expect(m.Body).toBe('one');
      await del(QueueUrl, m);
      const third = await sqs.call('SendMessage', {
        QueueUrl,
        MessageBody: 'three',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'same',
      });
      expect(third.MessageId).toBe(first.MessageId);
      expect(await counts(sqs, QueueUrl)).toEqual([0, 0, 0]);
    });

    it('deduplicates on the SHA-256 of the body with ContentBasedDeduplication', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue({ ContentBasedDeduplication: 'true' });
      const a = await sqs.call('SendMessage', { QueueUrl, MessageBody: 'body', MessageGroupId: 'g' });
      const b = await sqs.call('SendMessage', { QueueUrl, MessageBody: 'body', MessageGroupId: 'g' });
      expect(b.MessageId).toBe(a.MessageId);
      // attributes are not part of the content hash
      const c = await sqs.call('SendMessage', {
        QueueUrl,
        MessageBody: 'body',
        MessageGroupId: 'g',
        MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
      });
      expect(c.MessageId).toBe(a.MessageId);
      const d = await sqs.call('SendMessage', { QueueUrl, MessageBody: 'other body', MessageGroupId: 'g' });
      expect(d.MessageId).not.toBe(a.MessageId);
      // an explicit id wins over the content
      const e = await sqs.call('SendMessage', {
        QueueUrl,
        MessageBody: 'body',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'explicit',
      });
      expect(e.MessageId).not.toBe(a.MessageId);
      const msgs = await receive(QueueUrl, { MaxNumberOfMessages: 10, AttributeNames: ['MessageDeduplicationId'] });
      expect(bodies(msgs)).toEqual(['body', 'other body', 'body']);
      expect(msgs[0].Attributes!.MessageDeduplicationId).toBe(createHash('sha256').update('body').digest('hex'));
      expect(msgs[2].Attributes!.MessageDeduplicationId).toBe('explicit');
    });

    it('deduplicates across groups with DeduplicationScope queue, within a group with messageGroup', async () => {
      const { sqs } = env;
      const sendTo = (QueueUrl: string, MessageGroupId: string, MessageBody: string) =>
        sqs.call('SendMessage', { QueueUrl, MessageBody, MessageGroupId, MessageDeduplicationId: 'shared' });
      const byQueue = await newQueue();
      const q1 = await sendTo(byQueue, 'A', 'a');
      const q2 = await sendTo(byQueue, 'B', 'b');
      expect(q2.MessageId).toBe(q1.MessageId);
      expect(await counts(sqs, byQueue)).toEqual([1, 0, 0]);

      const byGroup = await newQueue({ DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' });
      const g1 = await sendTo(byGroup, 'A', 'a');
      const g2 = await sendTo(byGroup, 'B', 'b');
      const g3 = await sendTo(byGroup, 'A', 'a again');
      expect(g2.MessageId).not.toBe(g1.MessageId);
      expect(g3.MessageId).toBe(g1.MessageId);
      expect(await counts(sqs, byGroup)).toEqual([2, 0, 0]);
    });

    it('forgets a deduplication id after 5 minutes', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue();
      const sendSame = () =>
        sqs.call('SendMessage', { QueueUrl, MessageBody: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'window' });
      const first = await sendSame();
      clock.advance(299_999);
      expect((await sendSame()).MessageId).toBe(first.MessageId);
      clock.advance(1);
      const later = await sendSame();
      expect(later.MessageId).not.toBe(first.MessageId);
      expect(await counts(sqs, QueueUrl)).toEqual([2, 0, 0]);
      // the new send opened a new window
      clock.advance(299_999);
      expect((await sendSame()).MessageId).toBe(later.MessageId);
    });

    it('deduplicates inside one SendMessageBatch', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      const r = await sqs.call('SendMessageBatch', {
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'a', MessageGroupId: 'g', MessageDeduplicationId: 'same' },
          { Id: 'b', MessageBody: 'b', MessageGroupId: 'g', MessageDeduplicationId: 'same' },
          { Id: 'c', MessageBody: 'c', MessageGroupId: 'g', MessageDeduplicationId: 'other' },
        ],
      });
      const ids = Object.fromEntries(r.Successful.map((s: { Id: string; MessageId: string }) => [s.Id, s.MessageId]));
      expect(ids.b).toBe(ids.a);
      expect(ids.c).not.toBe(ids.a);
      expect(bodies(await receive(QueueUrl, { MaxNumberOfMessages: 10 }))).toEqual(['a', 'c']);
    });

    it('is cleared by PurgeQueue', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      const sendSame = () =>
        sqs.call('SendMessage', { QueueUrl, MessageBody: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'purged' });
      const first = await sendSame();
      await sqs.call('PurgeQueue', { QueueUrl });
      env.clock.advance(1);
      const second = await sendSame();
      expect(second.MessageId).not.toBe(first.MessageId);
      expect(await counts(sqs, QueueUrl)).toEqual([1, 0, 0]);
    });
  });

  describe('sequence numbers', () => {
    it('gives every message an increasing 20-digit SequenceNumber, also in batches and on receive', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      const seqs: bigint[] = [];
      for (const g of ['A', 'B', 'A', 'C']) seqs.push(BigInt((await send(QueueUrl, g, g)).SequenceNumber));
      const batch = await sqs.call('SendMessageBatch', {
        QueueUrl,
        Entries: [1, 2, 3].map((i) => ({
          Id: `e${i}`,
          MessageBody: `e${i}`,
          MessageGroupId: 'B',
          MessageDeduplicationId: `seq-${i}`,
        })),
      });
      for (const s of batch.Successful) {
        expect(s.SequenceNumber).toMatch(/^\d{20}$/);
        seqs.push(BigInt(s.SequenceNumber));
      }
      for (let i = 1; i < seqs.length; i++) expect(seqs[i] > seqs[i - 1]).toBe(true);
      const msgs = await receive(QueueUrl, { MaxNumberOfMessages: 10, AttributeNames: ['SequenceNumber'] });
      expect(msgs.map((m) => BigInt(m.Attributes!.SequenceNumber)).sort()).toEqual([...seqs].sort());
    });
  });

  describe('ReceiveRequestAttemptId', () => {
    it('returns the same messages and receipt handles on a retry, and resets their visibility', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue();
      for (const g of ['A', 'B', 'C']) await send(QueueUrl, g, g);
      const first = await receive(QueueUrl, {
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 10,
        ReceiveRequestAttemptId: 'att-1',
      });
      expect(first).toHaveLength(3);
      clock.advance(8000);
      const retry = await receive(QueueUrl, {
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 10,
        ReceiveRequestAttemptId: 'att-1',
      });
      expect(retry.map((m) => [m.MessageId, m.ReceiptHandle])).toEqual(
        first.map((m) => [m.MessageId, m.ReceiptHandle]),
      );
      // another attempt id gets nothing: everything is in flight
      expect(await receive(QueueUrl, { MaxNumberOfMessages: 10, ReceiveRequestAttemptId: 'att-2' })).toEqual([]);
      // the retry restarted the 10 s visibility timeout
      clock.advance(8000);
      expect(await receive(QueueUrl, { MaxNumberOfMessages: 10 })).toEqual([]);
      clock.advance(2000);
      // the handles from the retry still work while in flight
      const again = await receive(QueueUrl, { MaxNumberOfMessages: 10, ReceiveRequestAttemptId: 'att-3' });
      expect(again).toHaveLength(3);
      await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: again[0].ReceiptHandle });
      // a modified set is not returned again
      const after = await receive(QueueUrl, { MaxNumberOfMessages: 10, ReceiveRequestAttemptId: 'att-3' });
      expect(after.map((m) => m.MessageId)).not.toContain(again[0].MessageId);
    });

    it('does not pin an attempt that found nothing', async () => {
      const QueueUrl = await newQueue();
      expect(await receive(QueueUrl, { ReceiveRequestAttemptId: 'empty-1' })).toEqual([]);
      await send(QueueUrl, 'arrived');
      expect(bodies(await receive(QueueUrl, { ReceiveRequestAttemptId: 'empty-1' }))).toEqual(['arrived']);
    });

    it('wakes a long poll that carries an attempt id', async () => {
      const { wharf, other } = env;
      const QueueUrl = await newQueue();
      const waiting = track(receive(QueueUrl, { WaitTimeSeconds: 20, ReceiveRequestAttemptId: 'lp-1' }));
      await waitForWaiters(wharf, 1);
      await other.call('SendMessage', {
        QueueUrl,
        MessageBody: 'wake',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'lp',
      });
      expect(bodies(await waiting.promise)).toEqual(['wake']);
    });

    it('validates the attempt id', async () => {
      const QueueUrl = await newQueue();
      const err = await awsError(
        receive(QueueUrl, { ReceiveRequestAttemptId: 'a'.repeat(129) }),
        'InvalidParameterValue',
        proto,
      );
      expect(err.message).toBe(
        `Value ${'a'.repeat(129)} for parameter ReceiveRequestAttemptId is invalid. Reason: ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
      );
    });
  });

  describe('dead-letter queues', () => {
    it('requires a FIFO dead-letter queue for a FIFO queue and the reverse', async () => {
      const { sqs } = env;
      const std = await createQueue(sqs, 'std-dlq', false);
      const fifoDlq = await newQueue();
      const reason = 'Dead-letter queue must be same type of queue as the source..';
      const fifoSrc = awsError(
        newQueue({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOfUrl(std), maxReceiveCount: 1 }) }),
        'InvalidParameterValue',
        proto,
      );
      expect((await fifoSrc).message).toMatch(new RegExp(`Reason: ${reason.replace(/\./g, '\\.')}$`));
      const stdSrc = awsError(
        createQueue(sqs, 'std-src', false, {
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOfUrl(fifoDlq), maxReceiveCount: 1 }),
        }),
        'InvalidParameterValue',
        proto,
      );
      expect((await stdSrc).message).toMatch(/Dead-letter queue must be same type of queue as the source\.\.$/);
    });

    it('moves the head of a group to the DLQ and keeps the rest of the group in order', async () => {
      const { sqs } = env;
      const dlq = await newQueue();
      const QueueUrl = await newQueue({
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: 1 }),
      });
      for (const b of ['p1', 'p2', 'p3']) await send(QueueUrl, b, 'P');
      const [p1] = await receive(QueueUrl);
      expect(p1.Body).toBe('p1');
      await sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: p1.ReceiptHandle, VisibilityTimeout: 0 });
      // p1 has been received maxReceiveCount times: the next receive moves it and goes on with p2
      const next = await receive(QueueUrl);
      expect(bodies(next)).toEqual(['p2']);
      const moved = await receive(dlq, { AttributeNames: ['MessageGroupId', 'DeadLetterQueueSourceArn'] });
      expect(moved.map((m) => [m.MessageId, m.Body])).toEqual([[p1.MessageId, 'p1']]);
      expect(moved[0].Attributes).toEqual({ MessageGroupId: 'P', DeadLetterQueueSourceArn: arnOfUrl(QueueUrl) });
      await del(QueueUrl, next[0]);
      expect(bodies(await receive(QueueUrl))).toEqual(['p3']);
    });
  });

  describe('expired receipt handles', () => {
    it('refuses DeleteMessage and ChangeMessageVisibility with a handle past its visibility timeout', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await newQueue();
      await send(QueueUrl, 'exp');
      const [m] = await receive(QueueUrl, { VisibilityTimeout: 3 });
      clock.advance(3000);
      const expired = `Value ${m.ReceiptHandle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`;
      const d = await awsError(
        sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: m.ReceiptHandle }),
        'InvalidParameterValue',
        proto,
      );
      expect(d.message).toBe(expired);
      if (json) expect(d.Code).toBe('InvalidParameterValue');
      const c = await awsError(
        sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 5 }),
        'InvalidParameterValue',
        proto,
      );
      expect(c.message).toBe(expired);
      const batch = await sqs.call('DeleteMessageBatch', {
        QueueUrl,
        Entries: [{ Id: 'x', ReceiptHandle: m.ReceiptHandle }],
      });
      expect(batch.Failed).toEqual([{ Id: 'x', SenderFault: true, Code: 'InvalidParameterValue', Message: expired }]);
      // the message is still there
      expect(bodies(await receive(QueueUrl))).toEqual(['exp']);
    });
  });
});
