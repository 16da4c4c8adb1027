/** SendMessage and SendMessageBatch. */
import { hash, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../../kernel/context.js';
import { ServiceError } from '../../../kernel/errors.js';
import type { MessageAttributes, NewMessage, QueueRow } from '../../../store/sqs/types.js';
import { LIMITS, type QueueConfig } from '../attributes.js';
import { invalidParam, missing, SqsErrors } from '../errors.js';
import {
  assertValidBody,
  md5Hex,
  md5OfAttributes,
  validateMessageAttributes,
  validateSystemAttributes,
} from '../messages.js';
import type { SqsService } from '../service.js';
import { batchError, checkBatch, type BatchFailure } from './batch.js';
import { queueKey } from '../naming.js';

type Input = Record<string, unknown>;

// 1-128 characters: alphanumerics and punctuation
const GROUP_OR_DEDUP_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

interface SendEntry {
  MessageBody?: unknown;
  DelaySeconds?: unknown;
  MessageAttributes?: MessageAttributes;
  MessageSystemAttributes?: MessageAttributes;
  MessageDeduplicationId?: unknown;
  MessageGroupId?: unknown;
}

/**
 * Validates one message and builds what the store keeps. `entry` is the 1-based position in a
 * SendMessageBatch: a few errors then read differently, as on AWS.
 */
function prepare(q: QueueRow, cfg: QueueConfig, e: SendEntry, ctx: RequestContext, entry?: number): NewMessage {
  const batch = entry !== undefined;
  const body = e.MessageBody;
  if (body === undefined || body === null || body === '') {
    throw missing(batch ? `SendMessageBatchRequestEntry.${entry}.MessageBody` : 'MessageBody');
  }
  if (typeof body !== 'string') throw invalidParam('MessageBody', body, 'Must be a string.');
  assertValidBody(body);
  const size = Buffer.byteLength(body) + validateMessageAttributes(e.MessageAttributes);
  validateSystemAttributes(e.MessageSystemAttributes);
  if (size > cfg.maximumMessageSize) {
    throw SqsErrors.InvalidParameterValue(
      `One or more parameters are invalid. Reason: Message must be shorter than ${cfg.maximumMessageSize} bytes.`,
    );
  }
  let delay = cfg.delaySeconds;
  if (e.DelaySeconds !== undefined) {
    const d = e.DelaySeconds;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > LIMITS.maxDelaySeconds) {
      throw invalidParam('DelaySeconds', d, 'DelaySeconds must be >= 0 and <= 900.');
    }
    if (q.fifo && d > 0) {
      throw invalidParam('DelaySeconds', d, 'The request include parameter that is not valid for this queue type.');
    }
    delay = d;
  }
  const m: NewMessage = {
    messageId: randomUUID(),
    body,
    md5OfBody: md5Hex(body),
    delayMs: delay * 1000,
    senderId: ctx.accessKeyId ?? ctx.account,
  };
  if (e.MessageAttributes && Object.keys(e.MessageAttributes).length) {
    m.attributes = e.MessageAttributes;
    m.md5OfAttributes = md5OfAttributes(e.MessageAttributes);
  }
  if (e.MessageSystemAttributes && Object.keys(e.MessageSystemAttributes).length) {
    m.systemAttributes = e.MessageSystemAttributes;
    m.md5OfSystemAttributes = md5OfAttributes(e.MessageSystemAttributes);
  }
  const group = e.MessageGroupId;
  const dedup = e.MessageDeduplicationId;
  if (group !== undefined) {
    if (typeof group !== 'string' || !GROUP_OR_DEDUP_ID.test(group)) {
      throw invalidParam(
        'MessageGroupId',
        group,
        'MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.',
      );
    }
    // on a standard queue a group id names a fair-queue tenant
    m.groupId = group;
  }
  if (q.fifo) {
    if (group === undefined) {
      // AWS reports this one as InvalidParameterValue inside a batch
      const err = missing('MessageGroupId');
      throw batch ? SqsErrors.InvalidParameterValue(err.message) : err;
    }
    if (dedup !== undefined) {
      if (typeof dedup !== 'string' || !GROUP_OR_DEDUP_ID.test(dedup)) {
        throw invalidParam(
          'MessageDeduplicationId',
          dedup,
          'MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.',
        );
      }
      m.dedupId = dedup;
    } else if (cfg.contentBasedDedup) {
      m.dedupId = hash('sha256', body);
    } else {
      throw SqsErrors.InvalidParameterValue(
        'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
    }
  } else if (dedup !== undefined) {
    throw SqsErrors.InvalidParameterValue(
      batch
        ? 'The request include parameter that is not valid for this queue type'
        : 'The request include parameter MessageDeduplicationId which is not valid for this queue type',
    );
  }
  return m;
}

function result(m: NewMessage, messageId: string, sequenceNumber: string | undefined) {
  const out: Record<string, string> = { MD5OfMessageBody: m.md5OfBody };
  if (m.md5OfAttributes) out.MD5OfMessageAttributes = m.md5OfAttributes;
  if (m.md5OfSystemAttributes) out.MD5OfMessageSystemAttributes = m.md5OfSystemAttributes;
  out.MessageId = messageId;
  if (sequenceNumber) out.SequenceNumber = sequenceNumber;
  return out;
}

export async function sendMessage(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const m = prepare(q, await svc.config(q), input as SendEntry, ctx);
  const ref = await svc.ref(q);
  const now = svc.clock.now();
  const [r] = await svc.store.send(ref, [m], now);
  wakeForDelayed(svc, q, [m], now);
  return result(m, r.messageId, r.sequenceNumber);
}

export async function sendMessageBatch(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const entries = checkBatch(input.Entries, 'SendMessageBatchRequestEntry') as (SendEntry & { Id: string })[];
  let total = 0;
  for (const e of entries) {
    if (typeof e.MessageBody === 'string') total += Buffer.byteLength(e.MessageBody);
    for (const [k, v] of Object.entries(e.MessageAttributes ?? {})) {
      total += Buffer.byteLength(k) + Buffer.byteLength(v?.DataType ?? '');
      total += v?.BinaryValue ? v.BinaryValue.length : Buffer.byteLength(v?.StringValue ?? '');
    }
  }
  if (total > LIMITS.maxBatchBytes) {
    throw SqsErrors.BatchRequestTooLong(
      `Batch requests cannot be longer than ${LIMITS.maxBatchBytes} bytes. You have sent ${total} bytes.`,
    );
  }
  const cfg = await svc.config(q);
  const failed: BatchFailure[] = [];
  const ok: { id: string; m: NewMessage }[] = [];
  for (const [i, e] of entries.entries()) {
    try {
      ok.push({ id: e.Id, m: prepare(q, cfg, e, ctx, i + 1) });
    } catch (err) {
      // FIFO group/dedup rules fail the whole request, as AWS does
      if (q.fifo && err instanceof ServiceError && err.code === 'InvalidParameterValue' && isWholeRequest(err)) {
        throw err;
      }
      failed.push(batchError(e.Id, err));
    }
  }
  const ref = await svc.ref(q);
  const now = svc.clock.now();
  const sent = ok.map((x) => x.m);
  const results = sent.length ? await svc.store.send(ref, sent, now) : [];
  wakeForDelayed(svc, q, sent, now);
  const successful = ok.map((x, i) => ({ Id: x.id, ...result(x.m, results[i].messageId, results[i].sequenceNumber) }));
  return { Successful: successful, Failed: failed };
}

/**
 * The store wakes long polls when a message is visible at once. A delayed one may become
 * visible before a waiting receive would wake: it looks again and sets its timer by it.
 */
function wakeForDelayed(svc: SqsService, q: QueueRow, sent: NewMessage[], now: number): void {
  let first = Infinity;
  for (const m of sent) if (m.delayMs > 0) first = Math.min(first, now + m.delayMs);
  if (first < Infinity) svc.longPoll.wakeBy(queueKey(q.id), first);
}

function isWholeRequest(err: ServiceError): boolean {
  return (
    err.message === 'The request must contain the parameter MessageGroupId.' ||
    err.message.startsWith('The queue should either have ContentBasedDeduplication')
  );
}
