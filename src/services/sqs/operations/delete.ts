/** DeleteMessage(Batch) and ChangeMessageVisibility(Batch). */
import type { RequestContext } from '../../../kernel/context.js';
import type { DeleteOutcome, QueueRow, ReceiptRef, VisibilityOutcome } from '../../../store/sqs/types.js';
import { LIMITS } from '../attributes.js';
import { invalidParam, missing, SqsErrors } from '../errors.js';
import type { SqsService } from '../service.js';
import { batchError, checkBatch, type BatchFailure } from './batch.js';
import { queueKey } from '../naming.js';

type Input = Record<string, unknown>;

/** Verifies a receipt handle for this queue; throws ReceiptHandleIsInvalid. */
function receipt(svc: SqsService, q: QueueRow, handle: unknown): ReceiptRef & { receivedAt: number } {
  if (handle === undefined || handle === '') throw missing('ReceiptHandle');
  const r = typeof handle === 'string' ? svc.signer.verify(handle) : undefined;
  if (!r || r.queueId !== q.id) {
    throw SqsErrors.ReceiptHandleIsInvalid(
      `The input receipt handle "${String(handle)}" is not a valid receipt handle.`,
    );
  }
  return { seq: r.seq, receiveCount: r.receiveCount, receivedAt: r.receivedAt };
}

/** Deleting a FIFO message can unlock its group: waiting receives look again. */
function afterDelete(svc: SqsService, q: QueueRow, outcomes: DeleteOutcome[]): void {
  if (q.fifo && outcomes.includes('deleted')) svc.longPoll.notify(queueKey(q.id));
}

/**
 * A shorter visibility timeout can make a message visible before a waiting receive would wake
 * (the store itself wakes receives for a timeout of 0).
 */
function afterVisibilityChange(
  svc: SqsService,
  q: QueueRow,
  outcomes: VisibilityOutcome[],
  visibilityMs: number[],
  now: number,
): void {
  let first = Infinity;
  outcomes.forEach((o, i) => {
    if (o === 'ok') first = Math.min(first, now + visibilityMs[i]);
  });
  if (first < Infinity) svc.longPoll.wakeBy(queueKey(q.id), first);
}

const expired = (handle: unknown) => invalidParam('ReceiptHandle', handle, 'The receipt handle has expired.');

export async function deleteMessage(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const ref = receipt(svc, q, input.ReceiptHandle);
  const [outcome] = await svc.store.deleteMessages(await svc.ref(q), [ref], svc.clock.now());
  afterDelete(svc, q, [outcome]);
  // 'stale' and 'gone' succeed, as on AWS: a stale handle deletes nothing, a repeated delete is fine
  if (outcome === 'expired') throw expired(input.ReceiptHandle);
  return {};
}

export async function deleteMessageBatch(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const entries = checkBatch(input.Entries, 'DeleteMessageBatchRequestEntry') as {
    Id: string;
    ReceiptHandle?: unknown;
  }[];
  const failed: BatchFailure[] = [];
  const valid: { id: string; handle: unknown; ref: ReceiptRef }[] = [];
  for (const e of entries) {
    try {
      valid.push({ id: e.Id, handle: e.ReceiptHandle, ref: receipt(svc, q, e.ReceiptHandle) });
    } catch (err) {
      failed.push(batchError(e.Id, err));
    }
  }
  const outcomes = valid.length
    ? await svc.store.deleteMessages(
        await svc.ref(q),
        valid.map((v) => v.ref),
        svc.clock.now(),
      )
    : [];
  afterDelete(svc, q, outcomes);
  const successful: { Id: string }[] = [];
  valid.forEach((v, i) => {
    if (outcomes[i] === 'expired') failed.push(batchError(v.id, expired(v.handle)));
    else successful.push({ Id: v.id });
  });
  return { Successful: successful, Failed: failed };
}

function visibilityParam(v: unknown): number {
  if (v === undefined) throw missing('VisibilityTimeout');
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > LIMITS.maxVisibilitySeconds) {
    throw invalidParam('VisibilityTimeout', v, 'Must be between 0 and 43200.');
  }
  return v;
}

/** A message stays invisible at most 12 hours from the receive that issued its handle. */
function checkTotal(svc: SqsService, receivedAt: number, seconds: number): void {
  if (svc.clock.now() + seconds * 1000 - receivedAt > LIMITS.maxVisibilitySeconds * 1000) {
    throw invalidParam(
      'VisibilityTimeout',
      seconds,
      'Total VisibilityTimeout for the message is beyond the limit [43200 seconds]',
    );
  }
}

const notAvailable = (handle: unknown) =>
  invalidParam('ReceiptHandle', handle, 'Message does not exist or is not available for visibility timeout change.');

export async function changeMessageVisibility(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const ref = receipt(svc, q, input.ReceiptHandle);
  const seconds = visibilityParam(input.VisibilityTimeout);
  checkTotal(svc, ref.receivedAt, seconds);
  const queue = await svc.ref(q);
  const now = svc.clock.now();
  const [outcome] = await svc.store.changeVisibility(queue, [{ ref, visibilityMs: seconds * 1000 }], now);
  afterVisibilityChange(svc, q, [outcome], [seconds * 1000], now);
  if (outcome === 'expired') throw expired(input.ReceiptHandle);
  if (outcome !== 'ok') throw notAvailable(input.ReceiptHandle);
  return {};
}

export async function changeMessageVisibilityBatch(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const entries = checkBatch(input.Entries, 'ChangeMessageVisibilityBatchRequestEntry') as {
    Id: string;
    ReceiptHandle?: unknown;
    VisibilityTimeout?: unknown;
  }[];
  const failed: BatchFailure[] = [];
  const valid: { id: string; handle: unknown; ref: ReceiptRef; visibilityMs: number }[] = [];
  for (const e of entries) {
    try {
      const ref = receipt(svc, q, e.ReceiptHandle);
      const seconds = visibilityParam(e.VisibilityTimeout);
      checkTotal(svc, ref.receivedAt, seconds);
      valid.push({ id: e.Id, handle: e.ReceiptHandle, ref, visibilityMs: seconds * 1000 });
    } catch (err) {
      failed.push(batchError(e.Id, err));
    }
  }
  const queue = await svc.ref(q);
  const now = svc.clock.now();
  const outcomes = valid.length ? await svc.store.changeVisibility(queue, valid, now) : [];
  afterVisibilityChange(
    svc,
    q,
    outcomes,
    valid.map((v) => v.visibilityMs),
    now,
  );
  const successful: { Id: string }[] = [];
  valid.forEach((v, i) => {
    const o = outcomes[i];
    if (o === 'ok') successful.push({ Id: v.id });
    else failed.push(batchError(v.id, o === 'expired' ? expired(v.handle) : notAvailable(v.handle)));
  });
  return { Successful: successful, Failed: failed };
}
