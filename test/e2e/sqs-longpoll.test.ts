/**
 * Long polling (WaitTimeSeconds / ReceiveMessageWaitTimeSeconds) end to end. Nothing here
 * sleeps: a waiting receive is started, the test waits until the server has parked it, then
 * either another client acts (the receive must return at once, with the clock standing still)
 * or the ManualClock is advanced to the moment a message becomes visible or the wait ends.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/index.js';
import {
  ACCOUNT,
  awsError,
  counts,
  createQueue,
  fifoFields,
  nameOf,
  parked,
  REGION,
  roundTrip,
  track,
  useWharf,
  VARIANTS,
  waitForWaiters,
} from '../helpers/sqs-e2e.js';
import { sqsClient, withWharf, type SqsTestClient } from '../helpers/sqs.js';
import { queueKey } from '../../src/services/sqs/naming.js';

interface Msg {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  Attributes?: Record<string, string>;
}

describe.each(VARIANTS)('SQS long polling ($label)', ({ proto, fifo }) => {
  const env = useWharf(proto);
  const newQueue = (attributes: Record<string, string> = {}) => createQueue(env.sqs, 'lp', fifo, attributes);
  let group = 0;
  const send = (QueueUrl: string, MessageBody: string, extra: Record<string, unknown> = {}, client?: SqsTestClient) =>
    (client ?? env.other).call('SendMessage', {
      QueueUrl,
      MessageBody,
      ...(fifo ? fifoFields(true, { MessageGroupId: `g${++group}`, ...extra }) : extra),
    });
  const receive = async (
    QueueUrl: string,
    extra: Record<string, unknown> = {},
    client?: SqsTestClient,
  ): Promise<Msg[]> =>
    ((await (client ?? env.sqs).call('ReceiveMessage', { QueueUrl, ...extra })).Messages ?? []) as Msg[];
  /** Starts a long poll and waits until the server has parked it (plus any already parked). */
  const park = async (QueueUrl: string, extra: Record<string, unknown> = {}, client?: SqsTestClient) => {
    const before = await parked(env.wharf, QueueUrl);
    const t = track(receive(QueueUrl, { WaitTimeSeconds: 20, ...extra }, client));
    await waitForWaiters(env.wharf, before + 1, QueueUrl);
    return t;
  };
  /** Checks that a parked receive is still waiting after the server has handled other requests. */
  const stillWaiting = async (t: { settled: () => boolean }) => {
    await roundTrip(env.other);
    await roundTrip(env.other);
    expect(t.settled()).toBe(false);
  };

  it('returns at once when another client sends', async () => {
    const { clock } = env;
    const QueueUrl = await newQueue();
    const t0 = clock.now();
    const waiting = await park(QueueUrl);
    await stillWaiting(waiting);
    const sent = await send(QueueUrl, 'hello');
    const msgs = await waiting.promise;
    expect(msgs.map((m) => [m.MessageId, m.Body])).toEqual([[sent.MessageId, 'hello']]);
    expect(clock.now()).toBe(t0);
    expect(await parked(env.wharf, QueueUrl)).toBe(0);
  });

  it('returns the whole batch that woke it, up to MaxNumberOfMessages', async () => {
    const QueueUrl = await newQueue();
    const waiting = await park(QueueUrl, { MaxNumberOfMessages: 10 });
    await env.other.call('SendMessageBatch', {
      QueueUrl,
      Entries: [1, 2, 3, 4, 5].map((i) => ({ Id: `e${i}`, MessageBody: `b${i}`, ...fifoFields(fifo) })),
    });
    expect((await waiting.promise).map((m) => m.Body)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5']);
  });

  it('returns when a delayed message becomes visible', async () => {
    const { clock } = env;
    // FIFO queues delay per queue only
    const QueueUrl = await newQueue(fifo ? { DelaySeconds: '5' } : {});
    await send(QueueUrl, 'delayed-before', fifo ? {} : { DelaySeconds: 5 });
    const waiting = await park(QueueUrl);
    clock.advance(4999);
    await stillWaiting(waiting);
    clock.advance(1);
    expect((await waiting.promise).map((m) => m.Body)).toEqual(['delayed-before']);
  });

  it('returns when a message delayed after the wait began becomes visible', async () => {
    const { clock } = env;
    const QueueUrl = await newQueue(fifo ? { DelaySeconds: '3' } : {});
    const waiting = await park(QueueUrl);
    await send(QueueUrl, 'delayed-after', fifo ? {} : { DelaySeconds: 3 });
    await stillWaiting(waiting);
    clock.advance(3000);
    expect((await waiting.promise).map((m) => m.Body)).toEqual(['delayed-after']);
  });

  it('returns when a visibility timeout expires', async () => {
    const { clock } = env;
    const QueueUrl = await newQueue();
    await send(QueueUrl, 'comes back');
    const [first] = await receive(QueueUrl, { VisibilityTimeout: 10 });
    const waiting = await park(QueueUrl, { AttributeNames: ['ApproximateReceiveCount'] }, env.other);
    clock.advance(9999);
    await stillWaiting(waiting);
    clock.advance(1);
    const [again] = await waiting.promise;
    expect(again.MessageId).toBe(first.MessageId);
    expect(again.Attributes).toEqual({ ApproximateReceiveCount: '2' });
  });

  it('returns when ChangeMessageVisibility shortens the wait for a message', async () => {
    const { clock, sqs } = env;
    const QueueUrl = await newQueue();
    await send(QueueUrl, 'shortened');
    const [m] = await receive(QueueUrl, { VisibilityTimeout: 600 });
    const waiting = await park(QueueUrl, {}, env.other);
    await sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 4 });
    await stillWaiting(waiting);
    clock.advance(4000);
    expect((await waiting.promise).map((x) => x.MessageId)).toEqual([m.MessageId]);
  });

  it('returns at once when ChangeMessageVisibility 0 releases a message', async () => {
    const { sqs } = env;
    const QueueUrl = await newQueue();
    await send(QueueUrl, 'released');
    const [m] = await receive(QueueUrl, { VisibilityTimeout: 600 });
    const waiting = await park(QueueUrl, {}, env.other);
    await sqs.call('ChangeMessageVisibility', { QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 });
    expect((await waiting.promise).map((x) => x.MessageId)).toEqual([m.MessageId]);
  });

  it('returns empty at the deadline, not before', async () => {
    const { clock } = env;
    const QueueUrl = await newQueue();
    const waiting = await park(QueueUrl, { WaitTimeSeconds: 5 });
    clock.advance(4999);
    await stillWaiting(waiting);
    clock.advance(1);
    expect(await waiting.promise).toEqual([]);
    expect(await parked(env.wharf, QueueUrl)).toBe(0);
  });

  it('waits for ReceiveMessageWaitTimeSeconds by default, and WaitTimeSeconds 0 overrides it', async () => {
    const { clock } = env;
    const QueueUrl = await newQueue({ ReceiveMessageWaitTimeSeconds: '10' });
    // an explicit 0 is a short poll
    expect(await receive(QueueUrl, { WaitTimeSeconds: 0 })).toEqual([]);
    expect(await parked(env.wharf, QueueUrl)).toBe(0);

    const waiting = track(receive(QueueUrl));
    await waitForWaiters(env.wharf, 1, QueueUrl);
    clock.advance(9999);
    await stillWaiting(waiting);
    clock.advance(1);
    expect(await waiting.promise).toEqual([]);

    const woken = track(receive(QueueUrl));
    await waitForWaiters(env.wharf, 1, QueueUrl);
    await send(QueueUrl, 'default wait');
    expect((await woken.promise).map((m) => m.Body)).toEqual(['default wait']);
  });

  it('serves many concurrent waiters, each message to one of them', async () => {
    const { clock, sqs, other } = env;
    const QueueUrl = await newQueue();
    const waiters = [];
    for (let i = 0; i < 8; i++) waiters.push(await park(QueueUrl, {}, i % 2 ? sqs : other));
    await sqs.call('SendMessageBatch', {
      QueueUrl,
      Entries: Array.from({ length: 8 }, (_, i) => ({
        Id: `m${i}`,
        MessageBody: `m${i}`,
        ...fifoFields(fifo, { MessageGroupId: `many-${i}` }),
      })),
    });
    const results = await Promise.all(waiters.map((w) => w.promise));
    expect(results.map((r) => r.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(new Set(results.map((r) => r[0].Body)).size).toBe(8);

    // one message for five waiters: one gets it, four go back to waiting until their deadline
    const five = [];
    for (let i = 0; i < 5; i++) five.push(await park(QueueUrl, {}, i % 2 ? sqs : other));
    await send(QueueUrl, 'only one');
    await waitForWaiters(env.wharf, 4, QueueUrl);
    const winner = await Promise.race(five.map((w) => w.promise.then((r) => (r.length ? r : new Promise(() => {})))));
    expect((winner as Msg[]).map((m) => m.Body)).toEqual(['only one']);
    expect(five.filter((w) => w.settled())).toHaveLength(1);
    clock.advance(20_000);
    const rest = await Promise.all(five.map((w) => w.promise));
    expect(rest.flat().map((m) => m.Body)).toEqual(['only one']);
    // nine received, none deleted
    expect(await counts(sqs, QueueUrl)).toEqual([0, 9, 0]);
  });

  it('returns when the queue it waits on is deleted', async () => {
    const QueueUrl = await newQueue();
    const q = await env.wharf.stores.sqs.getQueue(ACCOUNT, REGION, nameOf(QueueUrl));
    const waiting = await park(QueueUrl);
    await env.other.call('DeleteQueue', { QueueUrl });
    expect(await waiting.promise).toEqual([]);
    expect(env.wharf.services.sqs.longPoll.waitingOn(queueKey(q!.id))).toBe(0);
    await awsError(receive(QueueUrl), 'QueueDoesNotExist', proto);
  });

  if (fifo) {
    it('returns at once when deleting the head of a group releases the next message', async () => {
      const { sqs } = env;
      const QueueUrl = await newQueue();
      await send(QueueUrl, 'head', { MessageGroupId: 'locked' });
      await send(QueueUrl, 'next', { MessageGroupId: 'locked' });
      const [head] = await receive(QueueUrl);
      const waiting = await park(QueueUrl, {}, env.other);
      await stillWaiting(waiting);
      await sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: head.ReceiptHandle });
      expect((await waiting.promise).map((m) => m.Body)).toEqual(['next']);
    });
  }
});

describe.each(['json', 'query'] as const)('SQS long polling while stopping (%s)', (proto) => {
  it('ends a waiting receive when the server stops', async () => {
    const clock = new ManualClock();
    const wharf = await withWharf({ clock });
    const sqs = sqsClient(wharf.endpoint, proto);
    try {
      const { QueueUrl } = await sqs.call('CreateQueue', { QueueName: 'stopping' });
      const waiting = track(sqs.call('ReceiveMessage', { QueueUrl, WaitTimeSeconds: 20 }));
      await waitForWaiters(wharf, 1);
      await wharf.stop();
      expect((await waiting.promise).Messages).toBeUndefined();
    } finally {
      sqs.destroy();
      await wharf.stop();
    }
  });
});
