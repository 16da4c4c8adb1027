/**
 * AddPermission / RemovePermission edit statements in the queue's Policy document, the way
 * SQS does: Version 2008-10-17, Sid = label, principals as IAM root ARNs, SQS:-prefixed actions.
 */
import type { RequestContext } from '../../../kernel/context.js';
import { mergeAttributes } from '../attributes.js';
import { invalidParam, missing, SqsErrors } from '../errors.js';
import type { SqsService } from '../service.js';

type Input = Record<string, unknown>;

const GRANTABLE = new Set([
  '*',
  'SendMessage',
  'ReceiveMessage',
  'DeleteMessage',
  'ChangeMessageVisibility',
  'GetQueueAttributes',
  'GetQueueUrl',
  'ListDeadLetterSourceQueues',
  'PurgeQueue',
  'ListQueueTags',
  'StartMessageMoveTask',
  'ListMessageMoveTasks',
  'CancelMessageMoveTask',
]);
const OWNER_ONLY = new Set([
  'CreateQueue',
  'DeleteQueue',
  'AddPermission',
  'RemovePermission',
  'SetQueueAttributes',
  'ListQueues',
  'TagQueue',
  'UntagQueue',
]);
const LABEL = /^[A-Za-z0-9_-]{1,80}$/;

interface Statement {
  Sid?: string;
  [k: string]: unknown;
}
interface Policy {
  Version: string;
  Id?: string;
  Statement: Statement[];
}

function readPolicy(text: string | undefined, arn: string): Policy {
  if (text) {
    const p = JSON.parse(text) as Partial<Policy> & { Statement?: Statement | Statement[] };
    const st = p.Statement === undefined ? [] : Array.isArray(p.Statement) ? p.Statement : [p.Statement];
    return { ...p, Version: p.Version ?? '2008-10-17', Statement: st } as Policy;
  }
  return { Version: '2008-10-17', Id: `${arn}/SQSDefaultPolicy`, Statement: [] };
}

export async function addPermission(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const label = input.Label;
  if (typeof label !== 'string' || label === '') throw missing('Label');
  if (!LABEL.test(label))
    throw invalidParam(
      'Label',
      label,
      'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
    );
  const accounts = (input.AWSAccountIds ?? []) as string[];
  const actions = (input.Actions ?? []) as string[];
  // AWS checks the actions first, names them by the JSON member, and calls no accounts an
  // unverifiable principal (over both protocols)
  if (actions.length === 0) throw missing('Actions');
  if (accounts.length === 0) throw invalidParam('PrincipalId', '[]', 'Unable to verify.');
  if (actions.length > 7) throw SqsErrors.OverLimit(`${actions.length} Actions were found, maximum allowed is 7.`);
  for (const a of accounts) {
    if (!/^\d{12}$/.test(a)) throw invalidParam('AWSAccountId', a, 'Must be a 12-digit AWS account id.');
  }
  for (const a of actions) {
    if (OWNER_ONLY.has(a)) {
      throw invalidParam('ActionName', `SQS:${a}`, 'Only the queue owner is allowed to invoke this action.');
    }
    if (!GRANTABLE.has(a)) {
      throw invalidParam('ActionName', `SQS:${a}`, 'Please refer to the appropriate WSDL for a list of valid actions.');
    }
  }
  const arn = svc.arn(q);
  const policy = readPolicy(q.attributes.Policy, arn);
  if (policy.Statement.some((s) => s?.Sid === label)) throw invalidParam('Label', label, 'Already exists.');
  if (policy.Statement.length >= 20) {
    throw SqsErrors.OverLimit(`${policy.Statement.length + 1} Statements were found, maximum allowed is 20.`);
  }
  const principals = accounts.map((a) => `arn:aws:iam::${a}:root`);
  const acts = actions.map((a) => `SQS:${a}`);
  policy.Statement.push({
    Sid: label,
    Effect: 'Allow',
    Principal: { AWS: principals.length === 1 ? principals[0] : principals },
    Action: acts.length === 1 ? acts[0] : acts,
    Resource: arn,
  });
  await svc.store.setQueueAttributes(
    q.id,
    mergeAttributes(q.attributes, { Policy: JSON.stringify(policy) }),
    svc.clock.now(),
  );
  return {};
}

export async function removePermission(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const label = input.Label;
  if (typeof label !== 'string' || label === '') throw missing('Label');
  const policy = readPolicy(q.attributes.Policy, svc.arn(q));
  const kept = policy.Statement.filter((s) => s?.Sid !== label);
  if (kept.length === policy.Statement.length) throw invalidParam('Label', label, "can't find label.");
  // removing the last statement removes the Policy attribute
  const value = kept.length ? JSON.stringify({ ...policy, Statement: kept }) : '';
  await svc.store.setQueueAttributes(q.id, mergeAttributes(q.attributes, { Policy: value }), svc.clock.now());
  return {};
}
