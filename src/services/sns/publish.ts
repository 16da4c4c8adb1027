/** Publish and PublishBatch: checked as AWS checks them, then one durable record each (fanout.ts). */
import type { RequestContext } from '../../kernel/context.js';
import type { Resource } from '../../store/resources.js';
import type * as T from './generated/types.js';
import { modelErrors } from './generated/errors.js';
import { SnsErrors } from './errors.js';
import { checkMessage, MAX_MESSAGE_BYTES, type Published, type TopicFacts } from './messages.js';
import type { SnsService, TopicDoc } from './service.js';
import { findTopic } from './topics.js';
import { isEndpointArn, publishToEndpoint } from './platform.js';
import { publishToPhone } from './sms.js';
import { ServiceError } from '../../kernel/errors.js';

const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;

const facts = (t: Resource<TopicDoc>): TopicFacts => ({
  fifo: t.doc.fifo,
  contentBasedDedup: t.doc.attributes.ContentBasedDeduplication === 'true',
});

export async function publish(svc: SnsService, ctx: RequestContext, input: T.PublishInput): Promise<T.PublishResponse> {
  if (input.PhoneNumber !== undefined && input.TopicArn === undefined && input.TargetArn === undefined)
    return publishToPhone(svc, ctx, input);
  if (input.TopicArn === undefined && isEndpointArn(input.TargetArn)) return publishToEndpoint(svc, input);
  const arn = input.TopicArn ?? input.TargetArn;
  if (arn === undefined || arn === '')
    throw SnsErrors.invalid('TopicArn or TargetArn Reason: no value for required parameter');
  const topic = await findTopic(svc, arn);
  const [m, bytes] = checkMessage(input, facts(topic));
  if (bytes > MAX_MESSAGE_BYTES) throw SnsErrors.invalid('Message too long');
  await svc.fanout.publish(ctx, topic, [m]);
  return m.seq !== undefined ? { MessageId: m.id, SequenceNumber: m.seq } : { MessageId: m.id };
}

export async function publishBatch(
  svc: SnsService,
  ctx: RequestContext,
  input: T.PublishBatchInput,
): Promise<T.PublishBatchResponse> {
  const topic = await findTopic(svc, input.TopicArn);
  const entries = input.PublishBatchRequestEntries ?? [];
  if (entries.length === 0)
    throw modelErrors.EmptyBatchRequestException("The batch request doesn't contain any entries.");
  if (entries.length > 10)
    throw modelErrors.TooManyEntriesInBatchRequestException(
      'The batch request contains more entries than permissible.',
    );
  const seen = new Set<string>();
  for (const e of entries) {
    if (!BATCH_ID.test(e.Id ?? ''))
      throw modelErrors.InvalidBatchEntryIdException(
        "The Id of a batch entry in a batch request doesn't abide by the specification.",
      );
    if (seen.has(e.Id))
      throw modelErrors.BatchEntryIdsNotDistinctException('Two or more batch entries in the request have the same Id.');
    seen.add(e.Id);
  }
  const ok: { id: string; m: Published }[] = [];
  const Failed: T.BatchResultErrorEntry[] = [];
  let total = 0;
  for (const e of entries) {
    try {
      const [m, bytes] = checkMessage(e, facts(topic));
      total += bytes;
      ok.push({ id: e.Id, m });
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      Failed.push({ Id: e.Id, Code: err.code, Message: err.message, SenderFault: true });
    }
  }
  if (total > MAX_MESSAGE_BYTES)
    throw modelErrors.BatchRequestTooLongException(
      'The length of all the messages put together is more than the limit.',
    );
  if (ok.length)
    await svc.fanout.publish(
      ctx,
      topic,
      ok.map((o) => o.m),
    );
  return {
    Successful: ok.map(({ id, m }) =>
      m.seq !== undefined ? { Id: id, MessageId: m.id, SequenceNumber: m.seq } : { Id: id, MessageId: m.id },
    ),
    Failed,
  };
}
