/** AddPermission, RemovePermission and Get/PutDataProtectionPolicy: statements and documents on a topic. */
import type { RequestContext } from '../../kernel/context.js';
import type * as T from './generated/types.js';
import { SnsErrors } from './errors.js';
import { topicArn } from './naming.js';
import type { SnsService, TopicDoc } from './service.js';
import { defaultPolicy, findTopic, required, topicKey } from './topics.js';

interface Policy {
  Version?: string;
  Id?: string;
  Statement: { Sid?: string; [k: string]: unknown }[];
}

const ACTION = /^[A-Za-z]+$/;

export async function addPermission(svc: SnsService, _ctx: RequestContext, input: T.AddPermissionInput): Promise<void> {
  const topic = await findTopic(svc, input.TopicArn);
  const label = String(required(input.Label, 'Label'));
  const accounts = input.AWSAccountId ?? [];
  const actions = input.ActionName ?? [];
  if (!accounts.length) throw SnsErrors.invalid('AWSAccountId Reason: no value for required parameter');
  if (!actions.length) throw SnsErrors.invalid('ActionName Reason: no value for required parameter');
  for (const a of actions)
    if (!ACTION.test(a)) throw SnsErrors.invalid(`Policy statement action out of service scope!`);
  const arn = topicArn(topic.region, topic.account, topic.name);
  const policy = JSON.parse(topic.doc.attributes.Policy ?? defaultPolicy(arn, topic.account)) as Policy;
  if (policy.Statement.some((s) => s.Sid === label)) throw SnsErrors.invalid('Statement already exists');
  policy.Statement.push({
    Sid: label,
    Effect: 'Allow',
    Principal: { AWS: accounts.map((a) => `arn:aws:iam::${a}:root`) },
    Action: actions.map((a) => `SNS:${a}`),
    Resource: arn,
  });
  await svc.resources.put<TopicDoc>(
    topic,
    { ...topic.doc, attributes: { ...topic.doc.attributes, Policy: JSON.stringify(policy) } },
    { now: svc.clock.now(), ifVersion: topic.version },
  );
}

export async function removePermission(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.RemovePermissionInput,
): Promise<void> {
  const topic = await findTopic(svc, input.TopicArn);
  const label = String(required(input.Label, 'Label'));
  const arn = topicArn(topic.region, topic.account, topic.name);
  const policy = JSON.parse(topic.doc.attributes.Policy ?? defaultPolicy(arn, topic.account)) as Policy;
  const kept = policy.Statement.filter((s) => s.Sid !== label);
  // removing a label that is not there is not an error
  if (kept.length === policy.Statement.length) return;
  await svc.resources.put<TopicDoc>(
    topic,
    { ...topic.doc, attributes: { ...topic.doc.attributes, Policy: JSON.stringify({ ...policy, Statement: kept }) } },
    { now: svc.clock.now(), ifVersion: topic.version },
  );
}

async function protectedTopic(svc: SnsService, arn: unknown) {
  const topic = await svc.resources.get<TopicDoc>(topicKey(svc, arn, 'ResourceArn'));
  if (!topic) throw SnsErrors.NotFound('Resource does not exist');
  return topic;
}

export async function getDataProtectionPolicy(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.GetDataProtectionPolicyInput,
): Promise<T.GetDataProtectionPolicyResponse> {
  const topic = await protectedTopic(svc, input.ResourceArn);
  return { DataProtectionPolicy: topic.doc.attributes.DataProtectionPolicy ?? '' };
}

export async function putDataProtectionPolicy(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.PutDataProtectionPolicyInput,
): Promise<void> {
  const topic = await protectedTopic(svc, input.ResourceArn);
  const policy = String(required(input.DataProtectionPolicy, 'DataProtectionPolicy'));
  try {
    JSON.parse(policy);
  } catch {
    throw SnsErrors.invalid('DataProtectionPolicy: failed to parse JSON.');
  }
  await svc.resources.put<TopicDoc>(
    topic,
    { ...topic.doc, attributes: { ...topic.doc.attributes, DataProtectionPolicy: policy } },
    { now: svc.clock.now(), ifVersion: topic.version },
  );
}
