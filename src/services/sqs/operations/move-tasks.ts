/** StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask. */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../../kernel/context.js';
import type { MoveTaskRow, QueueRow } from '../../../store/sqs/types.js';
import { missing, SqsErrors } from '../errors.js';
import { parseQueueArn } from '../naming.js';
import type { SqsService } from '../service.js';

type Input = Record<string, unknown>;

const notFound = (param: string) =>
  SqsErrors.ResourceNotFoundException(`The resource that you specified for the ${param} parameter doesn't exist.`);

async function queueByArnParam(svc: SqsService, value: unknown, param: string): Promise<QueueRow> {
  if (typeof value !== 'string' || value === '') throw missing(param);
  if (!parseQueueArn(value)) {
    throw SqsErrors.InvalidParameterValue(
      `You must use this format to specify the ${param}: arn:<partition>:<service>:<region>:<account-id>:<resource-id>`,
    );
  }
  const q = await svc.byArn(value);
  if (!q) throw notFound(param);
  return q;
}

// TaskHandle: base64 of {"taskId","sourceArn"}, the form SQS clients see.
function encodeHandle(taskId: string, sourceArn: string): string {
  return Buffer.from(JSON.stringify({ taskId, sourceArn })).toString('base64');
}

function decodeHandle(h: string): { taskId: string; sourceArn: string } | undefined {
  try {
    const o = JSON.parse(Buffer.from(h, 'base64').toString('utf8'));
    if (typeof o?.taskId === 'string' && typeof o?.sourceArn === 'string') return o;
  } catch {
    // invalid
  }
  return undefined;
}

export async function startMessageMoveTask(svc: SqsService, _ctx: RequestContext, input: Input) {
  const source = await queueByArnParam(svc, input.SourceArn, 'SourceArn');
  const sourceArn = svc.arn(source);
  let isDlq = false;
  for (const q of await svc.store.listQueues(source.account, source.region)) {
    if ((await svc.config(q)).redrive?.deadLetterTargetArn === sourceArn) isDlq = true;
  }
  if (!isDlq) throw SqsErrors.InvalidParameterValue('Source queue must be configured as a Dead Letter Queue.');
  let destArn: string | undefined;
  if (input.DestinationArn !== undefined) {
    const dest = await queueByArnParam(svc, input.DestinationArn, 'DestinationArn');
    destArn = svc.arn(dest);
    if (destArn === sourceArn) {
      throw SqsErrors.InvalidParameterValue('Source queue arn and destination queue arn cannot be the same.');
    }
    if (dest.fifo !== source.fifo) {
      throw SqsErrors.InvalidParameterValue('The source queue and destination queue must be of the same queue type.');
    }
  }
  const rate = input.MaxNumberOfMessagesPerSecond;
  if (rate !== undefined && (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 1 || rate > 500)) {
    throw SqsErrors.InvalidParameterValue(
      "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that's between 1 and 500.",
    );
  }
  const existing = await svc.store.listMoveTasks(source.id);
  if (existing.some((t) => t.status === 'RUNNING' || t.status === 'CANCELLING')) {
    throw SqsErrors.InvalidParameterValue(
      'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
    );
  }
  const now = svc.clock.now();
  const ref = await svc.ref(source);
  const c = await svc.store.counts(ref, now);
  const task: MoveTaskRow = {
    taskHandle: encodeHandle(randomUUID(), sourceArn),
    sourceQueueId: source.id,
    sourceArn,
    status: 'RUNNING',
    startedAt: now,
    moved: 0,
    toMove: c.visible + c.notVisible + c.delayed,
  };
  if (destArn) task.destinationArn = destArn;
  if (typeof rate === 'number') task.maxPerSecond = rate;
  await svc.store.createMoveTask(task);
  return { TaskHandle: task.taskHandle };
}

export async function listMessageMoveTasks(svc: SqsService, _ctx: RequestContext, input: Input) {
  const source = await queueByArnParam(svc, input.SourceArn, 'SourceArn');
  const max = input.MaxResults ?? 1;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 10) {
    throw SqsErrors.InvalidParameterValue(
      'Value for parameter MaxResults is invalid. Reason: You must enter a number that\u2019s between 1 and 10.',
    );
  }
  const tasks = (await svc.store.listMoveTasks(source.id)).slice(0, max);
  return {
    Results: tasks.map((t) => {
      const r: Record<string, unknown> = {};
      // the handle is only shown while the task can still be cancelled
      if (t.status === 'RUNNING') r.TaskHandle = t.taskHandle;
      r.Status = t.status;
      r.SourceArn = t.sourceArn;
      if (t.destinationArn) r.DestinationArn = t.destinationArn;
      if (t.maxPerSecond !== undefined) r.MaxNumberOfMessagesPerSecond = t.maxPerSecond;
      r.ApproximateNumberOfMessagesMoved = t.moved;
      r.ApproximateNumberOfMessagesToMove = t.toMove;
      if (t.failureReason) r.FailureReason = t.failureReason;
      r.StartedTimestamp = t.startedAt;
      return r;
    }),
  };
}

export async function cancelMessageMoveTask(svc: SqsService, _ctx: RequestContext, input: Input) {
  const h = input.TaskHandle;
  if (typeof h !== 'string' || h === '') throw missing('TaskHandle');
  const decoded = decodeHandle(h);
  if (!decoded) throw SqsErrors.InvalidParameterValue('Value for parameter TaskHandle is invalid.');
  // AWS looks up the source queue the handle names before the task
  if (!(await svc.byArn(decoded.sourceArn))) throw notFound('SourceArn');
  const t = await svc.store.getMoveTask(h);
  if (!t || t.status !== 'RUNNING') throw SqsErrors.ResourceNotFoundException('Task does not exist.');
  await svc.store.updateMoveTask(h, { status: 'CANCELLING' });
  return { ApproximateNumberOfMessagesMoved: t.moved };
}
