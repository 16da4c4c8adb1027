/**
 * Message move tasks (DLQ redrive) end to end: StartMessageMoveTask back to each message's
 * source and to an explicit destination, the rate limit, ListMessageMoveTasks and
 * CancelMessageMoveTask, and every documented error. The background work is driven by
 * runMaintenance() on a ManualClock: nothing sleeps.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOLS } from '../helpers/sqs.js';
import {
  arnOf,
  arnOfUrl,
  awsError,
  counts,
  createQueue,
  fifoFields,
  useWharf,
  VARIANTS,
  type Env,
} from '../helpers/sqs-e2e.js';

interface Msg {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  Attributes?: Record<string, string>;
}
interface Task {
  TaskHandle?: string;
  Status: string;
  SourceArn: string;
  DestinationArn?: string;
  MaxNumberOfMessagesPerSecond?: number;
  ApproximateNumberOfMessagesMoved: number;
  ApproximateNumberOfMessagesToMove: number;
  FailureReason?: string;
  StartedTimestamp: number;
}

/** A dead-letter queue and source queues that redrive into it after one receive. */
async function pipeline(env: Env, fifo: boolean, sources = 1) {
  const dlq = await createQueue(env.sqs, 'mt-dlq', fifo);
  const RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: 1 });
  const srcs: string[] = [];
  for (let i = 0; i < sources; i++) srcs.push(await createQueue(env.sqs, 'mt-src', fifo, { RedrivePolicy }));
  return { dlq, srcs };
}

let group = 0;
/** Sends bodies to a source queue and receives them twice, which moves them to its DLQ. */
async function deadLetter(env: Env, fifo: boolean, src: string, bodies: string[], sameGroup = false) {
  for (const MessageBody of bodies) {
    await env.sqs.call('SendMessage', {
      QueueUrl: src,
      MessageBody,
      ...fifoFields(fifo, { MessageGroupId: sameGroup ? 'one' : `mt${++group}` }),
    });
  }
  const receive = () =>
    env.sqs.call('ReceiveMessage', { QueueUrl: src, MaxNumberOfMessages: 10, VisibilityTimeout: 0 });
  expect((await receive()).Messages).toHaveLength(bodies.length);
  // the second receive finds them over maxReceiveCount and moves them
  expect((await receive()).Messages).toBeUndefined();
  expect(await counts(env.sqs, src)).toEqual([0, 0, 0]);
}

async function drain(env: Env, QueueUrl: string): Promise<Msg[]> {
  const out: Msg[] = [];
  for (;;) {
    const r = await env.sqs.call('ReceiveMessage', {
      QueueUrl,
      MaxNumberOfMessages: 10,
      AttributeNames: ['All'],
    });
    if (!r.Messages) return out;
    for (const m of r.Messages as Msg[]) {
      out.push(m);
      await env.sqs.call('DeleteMessage', { QueueUrl, ReceiptHandle: m.ReceiptHandle });
    }
  }
}

const tasks = async (env: Env, SourceArn: string, MaxResults?: number): Promise<Task[]> =>
  (await env.sqs.call('ListMessageMoveTasks', { SourceArn, ...(MaxResults ? { MaxResults } : {}) })).Results ?? [];

/** One pass of the background work after `ms` of (manual) time. */
async function tick(env: Env, ms: number) {
  env.clock.advance(ms);
  await env.wharf.services.sqs.runMaintenance();
}

describe.each(VARIANTS)('SQS message move tasks ($label)', ({ proto, fifo }) => {
  const env = useWharf(proto);

  it('moves every message back to its own source queue as a new message', async () => {
    const { sqs, clock } = env;
    const { dlq, srcs } = await pipeline(env, fifo, 2);
    await deadLetter(env, fifo, srcs[0], ['a1', 'a2']);
    await deadLetter(env, fifo, srcs[1], ['b1']);
    expect(await counts(sqs, dlq)).toEqual([3, 0, 0]);
    const before = await drainPeek(env, dlq);

    const startedAt = clock.now();
    const { TaskHandle } = await sqs.call('StartMessageMoveTask', { SourceArn: arnOfUrl(dlq) });
    const decoded = JSON.parse(Buffer.from(TaskHandle, 'base64').toString('utf8'));
    expect(decoded.sourceArn).toBe(arnOfUrl(dlq));
    expect(decoded.taskId).toMatch(/^[0-9a-f-]{36}$/);
    const [running] = await tasks(env, arnOfUrl(dlq));
    expect(running).toEqual({
      TaskHandle,
      Status: 'RUNNING',
      SourceArn: arnOfUrl(dlq),
      ApproximateNumberOfMessagesMoved: 0,
      ApproximateNumberOfMessagesToMove: 3,
      StartedTimestamp: startedAt,
    });
    // nothing happens until time passes
    await env.wharf.services.sqs.runMaintenance();
    expect(await counts(sqs, dlq)).toEqual([3, 0, 0]);

    await tick(env, 1000);
    expect(await counts(sqs, dlq)).toEqual([0, 0, 0]);
    const [done] = await tasks(env, arnOfUrl(dlq));
    expect(done).toEqual({
      Status: 'COMPLETED',
      SourceArn: arnOfUrl(dlq),
      ApproximateNumberOfMessagesMoved: 3,
      ApproximateNumberOfMessagesToMove: 3,
      StartedTimestamp: startedAt,
    });

    const back0 = await drain(env, srcs[0]);
    const back1 = await drain(env, srcs[1]);
    expect(back0.map((m) => m.Body).sort()).toEqual(['a1', 'a2']);
    expect(back1.map((m) => m.Body)).toEqual(['b1']);
    for (const m of [...back0, ...back1]) {
      // a redriven message is a new message
      expect(before.map((b) => b.MessageId)).not.toContain(m.MessageId);
      expect(m.Attributes!.ApproximateReceiveCount).toBe('1');
      expect(m.Attributes!.SentTimestamp).toBe(String(clock.now()));
      expect(m.Attributes!.DeadLetterQueueSourceArn).toBeUndefined();
    }
  });

  it('moves to an explicit destination, keeping FIFO group order', async () => {
    const { sqs } = env;
    const { dlq, srcs } = await pipeline(env, fifo);
    const dest = await createQueue(sqs, 'mt-dest', fifo);
    await deadLetter(env, fifo, srcs[0], ['x1', 'x2', 'x3'], true);
    const { TaskHandle } = await sqs.call('StartMessageMoveTask', {
      SourceArn: arnOfUrl(dlq),
      DestinationArn: arnOfUrl(dest),
    });
    expect(typeof TaskHandle).toBe('string');
    await tick(env, 1000);
    const [t] = await tasks(env, arnOfUrl(dlq));
    expect(t).toMatchObject({
      Status: 'COMPLETED',
      DestinationArn: arnOfUrl(dest),
      ApproximateNumberOfMessagesMoved: 3,
      ApproximateNumberOfMessagesToMove: 3,
    });
    expect(t.TaskHandle).toBeUndefined();
    expect(await counts(sqs, srcs[0])).toEqual([0, 0, 0]);
    const moved = await drain(env, dest);
    if (fifo) {
      expect(moved.map((m) => m.Body)).toEqual(['x1', 'x2', 'x3']);
      expect(moved.every((m) => m.Attributes!.MessageGroupId === 'one')).toBe(true);
    } else {
      expect(moved.map((m) => m.Body).sort()).toEqual(['x1', 'x2', 'x3']);
    }
  });

  it('moves at most MaxNumberOfMessagesPerSecond', async () => {
    const { sqs } = env;
    const { dlq, srcs } = await pipeline(env, fifo);
    const dest = await createQueue(sqs, 'mt-dest', fifo);
    await deadLetter(env, fifo, srcs[0], ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    const { TaskHandle } = await sqs.call('StartMessageMoveTask', {
      SourceArn: arnOfUrl(dlq),
      DestinationArn: arnOfUrl(dest),
      MaxNumberOfMessagesPerSecond: 2,
    });
    await tick(env, 1000);
    expect(await counts(sqs, dest)).toEqual([2, 0, 0]);
    expect(await tasks(env, arnOfUrl(dlq))).toEqual([
      expect.objectContaining({
        TaskHandle,
        Status: 'RUNNING',
        MaxNumberOfMessagesPerSecond: 2,
        ApproximateNumberOfMessagesMoved: 2,
        ApproximateNumberOfMessagesToMove: 8,
      }),
    ]);
    await tick(env, 500);
    expect(await counts(sqs, dest)).toEqual([3, 0, 0]);
    await tick(env, 1500);
    expect(await counts(sqs, dest)).toEqual([6, 0, 0]);
    await tick(env, 1000);
    expect(await counts(sqs, dest)).toEqual([8, 0, 0]);
    await tick(env, 1000);
    const [t] = await tasks(env, arnOfUrl(dlq));
    expect(t).toMatchObject({
      Status: 'COMPLETED',
      ApproximateNumberOfMessagesMoved: 8,
      MaxNumberOfMessagesPerSecond: 2,
    });
  });

  it('cancels a running task, leaving the rest of the messages in the DLQ', async () => {
    const { sqs } = env;
    const { dlq, srcs } = await pipeline(env, fifo);
    const dest = await createQueue(sqs, 'mt-dest', fifo);
    await deadLetter(env, fifo, srcs[0], ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    const { TaskHandle } = await sqs.call('StartMessageMoveTask', {
      SourceArn: arnOfUrl(dlq),
      DestinationArn: arnOfUrl(dest),
      MaxNumberOfMessagesPerSecond: 1,
    });
    await tick(env, 2000);
    expect(await counts(sqs, dest)).toEqual([2, 0, 0]);
    const cancel = await sqs.call('CancelMessageMoveTask', { TaskHandle });
    expect(cancel.ApproximateNumberOfMessagesMoved).toBe(2);
    const [cancelling] = await tasks(env, arnOfUrl(dlq));
    expect(cancelling.Status).toBe('CANCELLING');
    expect(cancelling.TaskHandle).toBeUndefined();
    await tick(env, 1000);
    const [cancelled] = await tasks(env, arnOfUrl(dlq));
    expect(cancelled).toMatchObject({ Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: 2 });
    await tick(env, 5000);
    expect(await counts(sqs, dest)).toEqual([2, 0, 0]);
    expect(await counts(sqs, dlq)).toEqual([4, 0, 0]);
    const again = await awsError(sqs.call('CancelMessageMoveTask', { TaskHandle }), 'ResourceNotFoundException', proto);
    expect(again.message).toBe('Task does not exist.');
    // a new task may start once the old one is over
    await sqs.call('StartMessageMoveTask', { SourceArn: arnOfUrl(dlq), DestinationArn: arnOfUrl(dest) });
    const list = await tasks(env, arnOfUrl(dlq), 10);
    expect(list.map((t) => t.Status)).toEqual(['RUNNING', 'CANCELLED']);
  });

  it('fails when the destination is deleted while running', async () => {
    const { sqs } = env;
    const { dlq, srcs } = await pipeline(env, fifo);
    const dest = await createQueue(sqs, 'mt-dest', fifo);
    await deadLetter(env, fifo, srcs[0], ['d0', 'd1', 'd2', 'd3', 'd4']);
    await sqs.call('StartMessageMoveTask', {
      SourceArn: arnOfUrl(dlq),
      DestinationArn: arnOfUrl(dest),
      MaxNumberOfMessagesPerSecond: 1,
    });
    await tick(env, 2000);
    await sqs.call('DeleteQueue', { QueueUrl: dest });
    await tick(env, 1000);
    const [t] = await tasks(env, arnOfUrl(dlq));
    expect(t).toMatchObject({
      Status: 'FAILED',
      FailureReason: 'AWS.SimpleQueueService.NonExistentQueue',
      ApproximateNumberOfMessagesMoved: 2,
      ApproximateNumberOfMessagesToMove: 5,
    });
    expect(t.TaskHandle).toBeUndefined();
    expect(await counts(sqs, dlq)).toEqual([3, 0, 0]);
  });

  it('fails when a message has no known source and no destination was given', async () => {
    const { sqs } = env;
    const { dlq } = await pipeline(env, fifo);
    await sqs.call('SendMessage', { QueueUrl: dlq, MessageBody: 'direct', ...fifoFields(fifo) });
    await sqs.call('StartMessageMoveTask', { SourceArn: arnOfUrl(dlq) });
    await tick(env, 1000);
    const [t] = await tasks(env, arnOfUrl(dlq));
    expect(t).toMatchObject({ Status: 'FAILED', FailureReason: 'CouldNotDetermineMessageSource' });
    expect(await counts(sqs, dlq)).toEqual([1, 0, 0]);
  });
});

/** The messages of a queue, looked at without receiving them. */
async function drainPeek(env: Env, QueueUrl: string): Promise<{ MessageId: string }[]> {
  const [account, name] = QueueUrl.split('/').slice(-2);
  const q = (await env.wharf.stores.sqs.getQueue(account, 'us-east-1', name))!;
  const peeked = await env.wharf.stores.sqs.peek(await env.wharf.services.sqs.ref(q), env.clock.now(), 100);
  return peeked.map((p) => ({ MessageId: p.messageId }));
}

describe.each(PROTOCOLS)('SQS message move task errors over %s', (proto) => {
  const env = useWharf(proto);
  const json = proto === 'json';

  it('reports every invalid StartMessageMoveTask in AWS wording', async () => {
    const { sqs } = env;
    const { dlq, srcs } = await pipeline(env, false);
    const dest = await createQueue(sqs, 'mt-dest', false);
    const fifoDest = await createQueue(sqs, 'mt-dest', true);
    const start = (input: Record<string, unknown>) =>
      sqs.call('StartMessageMoveTask', { SourceArn: arnOfUrl(dlq), ...input });

    const notDlq = await awsError(
      sqs.call('StartMessageMoveTask', { SourceArn: arnOfUrl(srcs[0]), DestinationArn: arnOfUrl(dest) }),
      'InvalidParameterValue',
      proto,
    );
    expect(notDlq.message).toBe('Source queue must be configured as a Dead Letter Queue.');
    if (json) expect(notDlq.Code).toBe('InvalidParameterValue');

    const noSource = await awsError(
      sqs.call('StartMessageMoveTask', { SourceArn: arnOf('no-such-dlq') }),
      'ResourceNotFoundException',
      proto,
    );
    expect(noSource.message).toBe("The resource that you specified for the SourceArn parameter doesn't exist.");
    expect(noSource.$metadata?.httpStatusCode).toBe(404);
    if (json) expect(noSource.Code).toBe('ResourceNotFoundException');

    const noDest = await awsError(
      start({ DestinationArn: `${arnOfUrl(dest)}doesntexist` }),
      'ResourceNotFoundException',
      proto,
    );
    expect(noDest.message).toBe("The resource that you specified for the DestinationArn parameter doesn't exist.");

    const badArn = await awsError(
      sqs.call('StartMessageMoveTask', { SourceArn: 'not-an-arn' }),
      'InvalidParameterValue',
      proto,
    );
    expect(badArn.message).toBe(
      'You must use this format to specify the SourceArn: arn:<partition>:<service>:<region>:<account-id>:<resource-id>',
    );
    const badDest = await awsError(start({ DestinationArn: 'nope' }), 'InvalidParameterValue', proto);
    expect(badDest.message).toBe(
      'You must use this format to specify the DestinationArn: arn:<partition>:<service>:<region>:<account-id>:<resource-id>',
    );

    const same = await awsError(start({ DestinationArn: arnOfUrl(dlq) }), 'InvalidParameterValue', proto);
    expect(same.message).toBe('Source queue arn and destination queue arn cannot be the same.');
    const type = await awsError(start({ DestinationArn: arnOfUrl(fifoDest) }), 'InvalidParameterValue', proto);
    expect(type.message).toBe('The source queue and destination queue must be of the same queue type.');

    for (const rate of [0, 501]) {
      const err = await awsError(start({ MaxNumberOfMessagesPerSecond: rate }), 'InvalidParameterValue', proto);
      expect(err.message).toBe(
        "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that's between 1 and 500.",
      );
    }

    await start({ DestinationArn: arnOfUrl(dest), MaxNumberOfMessagesPerSecond: 500 });
    const twice = await awsError(start({ DestinationArn: arnOfUrl(dest) }), 'InvalidParameterValue', proto);
    expect(twice.message).toBe(
      'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
    );
  });

  it('reports invalid CancelMessageMoveTask handles', async () => {
    const { sqs } = env;
    const { dlq } = await pipeline(env, false);
    const handle = (taskId: string, sourceArn: string) =>
      Buffer.from(JSON.stringify({ taskId, sourceArn })).toString('base64');

    const garbage = await awsError(
      sqs.call('CancelMessageMoveTask', { TaskHandle: 'foobared' }),
      'InvalidParameterValue',
      proto,
    );
    expect(garbage.message).toBe('Value for parameter TaskHandle is invalid.');

    const noSource = await awsError(
      sqs.call('CancelMessageMoveTask', {
        TaskHandle: handle(
          '10f57157-fc38-4da9-a113-4de7e12d05dd',
          'arn:aws:sqs:us-east-1:878966065785:test-queue-doesnt-exist-123456',
        ),
      }),
      'ResourceNotFoundException',
      proto,
    );
    expect(noSource.message).toBe("The resource that you specified for the SourceArn parameter doesn't exist.");
    expect(noSource.$metadata?.httpStatusCode).toBe(404);

    const noTask = await awsError(
      sqs.call('CancelMessageMoveTask', { TaskHandle: handle('10f57157-fc38-4da9-a113-4de7e12d05aa', arnOfUrl(dlq)) }),
      'ResourceNotFoundException',
      proto,
    );
    expect(noTask.message).toBe('Task does not exist.');
    expect(noTask.$metadata?.httpStatusCode).toBe(404);
  });

  it('lists tasks most recent first, one by default, and validates MaxResults', async () => {
    const { sqs } = env;
    const { dlq } = await pipeline(env, false);
    const dest = await createQueue(sqs, 'mt-dest', false);
    expect(await tasks(env, arnOfUrl(dlq))).toEqual([]);
    const handles: string[] = [];
    for (let i = 0; i < 3; i++) {
      handles.push(
        (await sqs.call('StartMessageMoveTask', { SourceArn: arnOfUrl(dlq), DestinationArn: arnOfUrl(dest) }))
          .TaskHandle,
      );
      // an empty DLQ: the task completes on the next pass
      await tick(env, 1000);
    }
    const one = await tasks(env, arnOfUrl(dlq));
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({
      Status: 'COMPLETED',
      ApproximateNumberOfMessagesMoved: 0,
      ApproximateNumberOfMessagesToMove: 0,
    });
    const all = await tasks(env, arnOfUrl(dlq), 10);
    expect(all).toHaveLength(3);
    const started = all.map((t) => t.StartedTimestamp);
    expect([...started].sort((a, b) => b - a)).toEqual(started);
    expect(new Set(handles).size).toBe(3);

    for (const MaxResults of [0, 11]) {
      const err = await awsError(
        sqs.call('ListMessageMoveTasks', { SourceArn: arnOfUrl(dlq), MaxResults }),
        'InvalidParameterValue',
        proto,
      );
      expect(err.message).toBe(
        'Value for parameter MaxResults is invalid. Reason: You must enter a number that\u2019s between 1 and 10.',
      );
    }
    const missing = await awsError(
      sqs.call('ListMessageMoveTasks', { SourceArn: arnOf('no-such-queue') }),
      'ResourceNotFoundException',
      proto,
    );
    expect(missing.message).toBe("The resource that you specified for the SourceArn parameter doesn't exist.");
  });
});
