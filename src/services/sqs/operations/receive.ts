/** ReceiveMessage, with long polling. */
import type { RequestContext } from '../../../kernel/context.js';
import type { QueueRef, QueueRow, StoredMessage } from '../../../store/sqs/types.js';
import { LIMITS } from '../attributes.js';
import { invalidParam, SqsErrors } from '../errors.js';
import { filterAttributes, md5OfAttributes } from '../messages.js';
import type { SqsService } from '../service.js';
import { queueKey } from '../naming.js';

type Input = Record<string, unknown>;

function intParam(input: Input, name: string, min: number, max: number, fallback: number, reason: string): number {
  const v = input[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalidParam(name, v, reason);
  return v;
}

const ATTEMPT_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

export async function receiveMessage(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const cfg = await svc.config(q);
  const max = intParam(input, 'MaxNumberOfMessages', 1, 10, 1, 'Must be between 1 and 10, if provided.');
  const vt = intParam(
    input,
    'VisibilityTimeout',
    0,
    LIMITS.maxVisibilitySeconds,
    cfg.visibilityTimeout,
    'Must be >= 0 and <= 43200, if provided.',
  );
  const wait = intParam(
    input,
    'WaitTimeSeconds',
    0,
    LIMITS.maxWaitSeconds,
    cfg.receiveWaitSeconds,
    'Must be >= 0 and <= 20, if provided.',
  );
  let attemptId: string | undefined;
  if (input.ReceiveRequestAttemptId !== undefined && q.fifo) {
    const a = input.ReceiveRequestAttemptId;
    if (typeof a !== 'string' || !ATTEMPT_ID.test(a)) {
      throw invalidParam(
        'ReceiveRequestAttemptId',
        a,
        'ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length.',
      );
    }
    attemptId = a;
  }
  const ref = await svc.ref(q);
  // A standard queue with 120,000 messages in flight refuses short polls with OverLimit and
  // answers long polls with nothing; FIFO queues never error at their limit.
  if (!q.fifo && (await svc.store.inflight(ref, svc.clock.now())) >= svc.inflightLimit) {
    if (wait > 0) return {};
    throw SqsErrors.OverLimit(
      'Too many messages have been received without being deleted.\nPlease delete your received messages or let them timeout before receiving more.',
    );
  }
  const msgs = await receiveWithWait(svc, ctx, q, ref, { max, visibilityMs: vt * 1000, wait, attemptId });
  if (msgs.length === 0) return {};
  const sysNames = [
    ...((input.AttributeNames ?? []) as string[]),
    ...((input.MessageSystemAttributeNames ?? []) as string[]),
  ];
  const attrNames = (input.MessageAttributeNames ?? []) as string[];
  return {
    Messages: msgs.map((m) => {
      const out: Record<string, unknown> = {
        MessageId: m.messageId,
        ReceiptHandle: svc.signer.sign({
          queueId: q.id,
          seq: m.seq,
          receiveCount: m.receiveCount,
          receivedAt: m.receivedAt,
        }),
        MD5OfBody: m.md5OfBody,
        Body: m.body,
      };
      const sys = systemAttributes(m, sysNames);
      if (sys) out.Attributes = sys;
      const attrs = filterAttributes(m.attributes, attrNames);
      if (attrs) {
        // the digest covers exactly the attributes returned
        out.MD5OfMessageAttributes =
          attrs === m.attributes && m.md5OfAttributes ? m.md5OfAttributes : md5OfAttributes(attrs);
        out.MessageAttributes = attrs;
      }
      return out;
    }),
  };
}

async function receiveWithWait(
  svc: SqsService,
  ctx: RequestContext,
  q: QueueRow,
  ref: QueueRef,
  o: { max: number; visibilityMs: number; wait: number; attemptId: string | undefined },
): Promise<StoredMessage[]> {
  const deadline = svc.clock.now() + o.wait * 1000;
  const key = queueKey(q.id);
  for (;;) {
    const version = svc.longPoll.version(key);
    const now = svc.clock.now();
    const msgs = await svc.store.receive(ref, {
      max: o.max,
      visibilityMs: o.visibilityMs,
      now,
      ...(o.attemptId ? { attemptId: o.attemptId } : {}),
    });
    if (msgs.length || now >= deadline || ctx.signal.aborted) return msgs;
    const next = await svc.store.nextVisibleAt(ref, now);
    await svc.longPoll.wait(key, version, deadline, next, ctx.signal);
    // a stopping server ends every wait at once: looping again would spin until the deadline
    if (ctx.signal.aborted || svc.longPoll.isClosed || !(await svc.store.getQueueById(q.id))) return [];
  }
}

function systemAttributes(m: StoredMessage, names: string[]): Record<string, string> | undefined {
  if (names.length === 0) return undefined;
  const all = names.includes('All');
  const out: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v !== undefined && (all || names.includes(k))) out[k] = v;
  };
  put('SenderId', m.senderId);
  put('SentTimestamp', String(m.sentAt));
  put('ApproximateReceiveCount', String(m.receiveCount));
  put('ApproximateFirstReceiveTimestamp', String(m.firstReceiveAt));
  put('SequenceNumber', m.sequenceNumber);
  put('MessageDeduplicationId', m.dedupId);
  put('MessageGroupId', m.groupId);
  put('AWSTraceHeader', m.systemAttributes?.AWSTraceHeader?.StringValue);
  put('DeadLetterQueueSourceArn', m.deadLetterSourceArn);
  return Object.keys(out).length ? out : undefined;
}
