/** CreateTopic, DeleteTopic, GetTopicAttributes, ListTopics. */
import type { RequestContext } from '../../kernel/context.js';
import type { Resource, ResourceKey } from '../../store/resources.js';
import type * as T from './generated/types.js';
import { SnsErrors } from './errors.js';
import { parseTopicArn, topicArn, validTopicName } from './naming.js';
import { TOPIC, type SnsService, type TopicDoc } from './service.js';
import { subscriptionsOf, UNSUBSCRIBED } from './subscriptions.js';
import { checkDeliveryPolicy, DEFAULT_RETRY } from './delivery-policy.js';
import { listPage } from './paging.js';
import { beginningArchiveTime, checkArchivePolicy, dropArchive, retentionMs } from './archive.js';

/** The attributes CreateTopic and SetTopicAttributes take (FifoTopic only at creation). */
const SETTABLE = new Set([
  'DeliveryPolicy',
  'DisplayName',
  'Policy',
  'KmsMasterKeyId',
  'SignatureVersion',
  'TracingConfig',
  'ContentBasedDeduplication',
  'FifoThroughputScope',
  'ArchivePolicy',
  'FifoTopic',
  ...['Application', 'Firehose', 'HTTP', 'Lambda', 'SQS'].flatMap((p) => [
    `${p}SuccessFeedbackRoleArn`,
    `${p}SuccessFeedbackSampleRate`,
    `${p}FailureFeedbackRoleArn`,
  ]),
]);

/** The default EffectiveDeliveryPolicy of a new topic, as AWS reports it. */
export const DEFAULT_DELIVERY_POLICY = JSON.stringify({
  http: {
    defaultHealthyRetryPolicy: DEFAULT_RETRY,
    disableSubscriptionOverrides: false,
    defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' },
  },
});

/** The access policy a topic has until one is set: the owner's account may do everything. */
export function defaultPolicy(arn: string, account: string): string {
  return JSON.stringify({
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'SNS:GetTopicAttributes',
          'SNS:SetTopicAttributes',
          'SNS:AddPermission',
          'SNS:RemovePermission',
          'SNS:DeleteTopic',
          'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic',
          'SNS:Publish',
        ],
        Resource: arn,
        Condition: { StringEquals: { 'AWS:SourceOwner': account } },
      },
    ],
  });
}

/** Topic attributes whose values AWS checks (the rest are kept as given). */
function checkTopicAttribute(name: string, value: string, fifo: boolean): void {
  if (name === 'ArchivePolicy' && value !== '') checkArchivePolicy(value, fifo);
  if (name === 'DeliveryPolicy' && value !== '') {
    let policy: unknown;
    try {
      policy = JSON.parse(value);
    } catch {
      throw SnsErrors.invalid('DeliveryPolicy: failed to parse JSON.');
    }
    checkDeliveryPolicy(policy, 'topic', (why) => SnsErrors.invalid(`DeliveryPolicy: ${why}`));
  }
  if (name === 'SignatureVersion' && value !== '1' && value !== '2')
    throw SnsErrors.invalid('Attributes Reason: SignatureVersion: Invalid value [' + value + ']. Must be 1 or 2.');
}

export function required<V>(value: V | undefined, name: string): V {
  if (value === undefined || value === null || (value as unknown) === '')
    throw SnsErrors.invalid(`${name} Reason: no value for required parameter`);
  return value;
}

/** The key of the topic an ARN parameter (`member`) names, or AWS's errors for a missing or malformed one. */
export function topicKey(svc: SnsService, arn: unknown, member: string): ResourceKey {
  const a = parseTopicArn(String(required(arn, member)));
  if (!a) throw SnsErrors.invalid(member);
  return svc.key(a.account, a.region, a.name);
}

/** The topic a TopicArn names, or AWS's errors. */
export async function findTopic(svc: SnsService, arn: unknown): Promise<Resource<TopicDoc>> {
  const topic = await svc.resources.get<TopicDoc>(topicKey(svc, arn, 'TopicArn'));
  if (!topic) throw SnsErrors.NotFound('Topic does not exist');
  return topic;
}

const sameTags = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

export async function createTopic(
  svc: SnsService,
  ctx: RequestContext,
  input: T.CreateTopicInput,
): Promise<T.CreateTopicResponse> {
  const name = required(input.Name, 'Name');
  const attributes: Record<string, string> = { ...(input.Attributes ?? {}) };
  const fifo = attributes.FifoTopic?.toLowerCase() === 'true';
  for (const [k, v] of Object.entries(attributes)) {
    if (!SETTABLE.has(k)) throw SnsErrors.invalid('AttributeName');
    checkTopicAttribute(k, v, fifo);
  }
  if (fifo) attributes.FifoTopic = 'true';
  // AWS keeps no explicit FifoTopic=false
  else delete attributes.FifoTopic;
  if (!validTopicName(name, fifo)) {
    throw fifo
      ? SnsErrors.invalid(
          'Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.',
        )
      : SnsErrors.invalid('Topic Name');
  }
  if (input.DataProtectionPolicy !== undefined) attributes.DataProtectionPolicy = input.DataProtectionPolicy;
  const tags: Record<string, string> = {};
  for (const t of input.Tags ?? []) tags[t.Key] = t.Value;
  const key = svc.key(ctx.account, ctx.region, name);
  const arn = topicArn(ctx.region, ctx.account, name);
  const existing = await svc.resources.get<TopicDoc>(key);
  if (existing) {
    // idempotent: the same name with the same attributes (and tags, when given) is the same topic
    const had = existing.doc.attributes;
    for (const [k, v] of Object.entries(attributes)) {
      if (had[k] !== v) throw SnsErrors.invalid('Attributes Reason: Topic already exists with different attributes');
    }
    if (input.Tags && !sameTags(tags, existing.tags)) {
      throw SnsErrors.invalid('Tags Reason: Topic already exists with different tags');
    }
    return { TopicArn: arn };
  }
  const doc: TopicDoc = { fifo, attributes };
  if (retentionMs(doc) !== undefined) doc.archiveSince = svc.clock.now();
  await svc.resources.put<TopicDoc>(key, doc, { now: svc.clock.now(), tags });
  return { TopicArn: arn };
}

export async function getTopicAttributes(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.GetTopicAttributesInput,
): Promise<T.GetTopicAttributesResponse> {
  const topic = await findTopic(svc, input.TopicArn);
  const arn = topicArn(topic.region, topic.account, topic.name);
  const set = topic.doc.attributes;
  const subs = await subscriptionsOf(svc, topic);
  const pending = subs.filter((s) => s.doc.pending).length;
  const out: Record<string, string> = {
    Policy: set.Policy ?? defaultPolicy(arn, topic.account),
    Owner: topic.account,
    SubscriptionsPending: String(pending),
    TopicArn: arn,
    EffectiveDeliveryPolicy: set.DeliveryPolicy ?? DEFAULT_DELIVERY_POLICY,
    SubscriptionsConfirmed: String(subs.length - pending),
    DisplayName: set.DisplayName ?? '',
    SubscriptionsDeleted: '0',
  };
  if (topic.doc.fifo) {
    out.FifoTopic = 'true';
    out.ContentBasedDeduplication = set.ContentBasedDeduplication ?? 'false';
  }
  const begins = beginningArchiveTime(topic.doc, svc.clock.now());
  if (begins !== undefined) out.BeginningArchiveTime = new Date(begins).toISOString();
  for (const [k, v] of Object.entries(set)) if (!(k in out)) out[k] = v;
  return { Attributes: out };
}

export async function deleteTopic(svc: SnsService, _ctx: RequestContext, input: T.DeleteTopicInput): Promise<void> {
  const key = topicKey(svc, input.TopicArn, 'TopicArn');
  // deleting a topic that does not exist is not an error; its subscriptions go with it
  await svc.resources.delete(key, { now: svc.clock.now() });
  for (const s of await subscriptionsOf(svc, key)) await svc.resources.delete(s, { now: svc.clock.now() });
  const gone = await svc.resources.list(UNSUBSCRIBED, key.account, key.region, { prefix: `${key.name}:` });
  for (const g of gone) await svc.resources.delete(g, { now: svc.clock.now() });
  await dropArchive(svc, key);
  svc.fanout.forget(key);
}

export async function listTopics(
  svc: SnsService,
  ctx: RequestContext,
  input: T.ListTopicsInput,
): Promise<T.ListTopicsResponse> {
  const { rows, next } = await listPage<TopicDoc>(svc, TOPIC, ctx.account, ctx.region, {
    ...(input.NextToken !== undefined ? { token: input.NextToken } : {}),
    valid: (name) => validTopicName(name, name.endsWith('.fifo')),
  });
  const out: T.ListTopicsResponse = { Topics: rows.map((t) => ({ TopicArn: topicArn(t.region, t.account, t.name) })) };
  if (next) out.NextToken = next;
  return out;
}

export async function setTopicAttributes(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.SetTopicAttributesInput,
): Promise<void> {
  const topic = await findTopic(svc, input.TopicArn);
  const name = required(input.AttributeName, 'AttributeName');
  // FifoTopic is fixed at creation
  if (!SETTABLE.has(name) || name === 'FifoTopic') throw SnsErrors.invalid('AttributeName');
  checkTopicAttribute(name, input.AttributeValue ?? '', topic.doc.fifo);
  const attributes = { ...topic.doc.attributes };
  if (input.AttributeValue === undefined || input.AttributeValue === '') delete attributes[name];
  else attributes[name] = input.AttributeValue;
  const doc: TopicDoc = { ...topic.doc, attributes };
  const archived = retentionMs(topic.doc) !== undefined;
  const archives = retentionMs(doc) !== undefined;
  // archiving starts now; turned off, the archive goes
  if (archives && !archived) doc.archiveSince = svc.clock.now();
  if (!archives) delete doc.archiveSince;
  await svc.resources.put<TopicDoc>(topic, doc, { now: svc.clock.now(), ifVersion: topic.version });
  if (archived && !archives) await dropArchive(svc, topic);
}
