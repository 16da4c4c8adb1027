/**
 * Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions, ListSubscriptionsByTopic,
 * GetSubscriptionAttributes, SetSubscriptionAttributes. A subscription is a resource
 * (`sns.subscription`) named `<topic>:<id>` in its topic's account and region, so a topic's
 * subscriptions are one prefix listing; every change to them bumps the topic's version, which is
 * what Publish's cache of a topic's subscriptions is keyed on.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestContext } from '../../kernel/context.js';
import { VersionConflict, type Resource, type ResourceKey } from '../../store/resources.js';
import { parseArn } from '../shared/arn.js';
import type * as T from './generated/types.js';
import { SnsErrors } from './errors.js';
import { topicArn } from './naming.js';
import { SUBSCRIPTION, type SnsService, type SubscriptionDoc, type TopicDoc } from './service.js';
import { checkSubscriptionAttribute, SUBSCRIPTION_ATTRIBUTES } from './subscription-attributes.js';
import { findTopic, required } from './topics.js';
import { listPage } from './paging.js';
import { E164 } from './outbox.js';
import { parseReplayPolicy, startReplay } from './archive.js';

const PROTOCOLS = new Set(['http', 'https', 'email', 'email-json', 'sms', 'sqs', 'application', 'lambda', 'firehose']);
/** protocols whose endpoint must confirm (the others are confirmed at once, as for AWS within one account) */
const CONFIRMED_BY_ENDPOINT = new Set(['http', 'https', 'email', 'email-json']);
/** how long a confirmation token works (AWS deletes unconfirmed subscriptions after 48 hours) */
export const CONFIRM_WINDOW_MS = 48 * 3600_000;
/**
 * An unsubscribed HTTP/S subscription, kept for CONFIRM_WINDOW_MS under its own name: the
 * SubscribeURL of its UnsubscribeConfirmation restores it (ConfirmSubscription with its token).
 */
export const UNSUBSCRIBED = 'sns.unsubscribed';
/** what FIFO topics deliver to */
const FIFO_PROTOCOLS = new Set(['sqs', 'lambda', 'firehose']);

export const subscriptionArn = (topic: Resource<unknown>, id: string) =>
  `${topicArn(topic.region, topic.account, topic.name)}:${id}`;

/** The ARN of a stored subscription. */
export const arnOf = (s: Resource<SubscriptionDoc>) => `arn:aws:sns:${s.region}:${s.account}:${s.name}`;

/** The subscriptions of a topic, by name. */
export function subscriptionsOf(svc: SnsService, topic: ResourceKey): Promise<Resource<SubscriptionDoc>[]> {
  return svc.resources.list<SubscriptionDoc>(SUBSCRIPTION, topic.account, topic.region, { prefix: `${topic.name}:` });
}

/** A write to a topic's subscriptions: bump the topic so every node's cache of them reloads. */
export async function touchTopic(svc: SnsService, key: ResourceKey): Promise<void> {
  for (;;) {
    const topic = await svc.resources.get<TopicDoc>(key);
    if (!topic) return;
    try {
      await svc.resources.put(topic, topic.doc, { now: svc.clock.now(), ifVersion: topic.version });
      return;
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
    }
  }
}

function checkEndpoint(protocol: string, endpoint: string, fifoTopic: boolean): void {
  if (!PROTOCOLS.has(protocol))
    throw SnsErrors.invalid(`Amazon SNS does not support this protocol string: ${protocol}`);
  if (!endpoint) throw SnsErrors.invalid('Endpoint');
  const arn = parseArn(endpoint);
  switch (protocol) {
    case 'http':
    case 'https':
      if (!endpoint.startsWith(`${protocol}://`) || !URL.canParse(endpoint))
        throw SnsErrors.invalid('Endpoint must match the specified protocol');
      break;
    case 'sms':
      if (!E164.test(endpoint)) throw SnsErrors.plain(`Invalid SMS endpoint: ${endpoint}`);
      break;
    case 'email':
    case 'email-json':
      if (!/^[^@\s]+@[^@\s]+$/.test(endpoint)) throw SnsErrors.invalid('Email address');
      break;
    case 'sqs':
      if (arn?.service !== 'sqs' || !arn.resource) throw SnsErrors.invalid('SQS endpoint ARN');
      break;
    case 'lambda':
      if (arn?.service !== 'lambda') throw SnsErrors.invalid('Lambda endpoint ARN');
      break;
    case 'firehose':
      if (arn?.service !== 'firehose') throw SnsErrors.invalid('Firehose endpoint ARN');
      break;
    case 'application':
      if (arn?.service !== 'sns' || !arn.resource.startsWith('endpoint/'))
        throw SnsErrors.invalid('ApplicationEndpoint ARN');
      break;
  }
  if (protocol === 'sqs' && endpoint.endsWith('.fifo') && !fifoTopic)
    throw SnsErrors.invalid(
      'Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics',
    );
  if (fifoTopic && !FIFO_PROTOCOLS.has(protocol))
    throw SnsErrors.invalid(`Invalid parameter: Endpoint Reason: FIFO topics do not support ${protocol} endpoints`);
}

export async function subscribe(
  svc: SnsService,
  ctx: RequestContext,
  input: T.SubscribeInput,
): Promise<T.SubscribeResponse> {
  const topic = await findTopic(svc, input.TopicArn);
  const protocol = String(required(input.Protocol, 'Protocol'));
  const endpoint = input.Endpoint ?? '';
  checkEndpoint(protocol, endpoint, topic.doc.fifo);
  const attributes: Record<string, string> = {};
  const given = input.Attributes ?? {};
  const scope = given.FilterPolicyScope === 'MessageBody' ? 'MessageBody' : 'MessageAttributes';
  for (const [k, v] of Object.entries(given)) {
    const value = checkSubscriptionAttribute(k, v, { fifoTopic: topic.doc.fifo, protocol, subscribe: true, scope });
    if (value !== '') attributes[k] = value;
  }
  const window = attributes.ReplayPolicy
    ? parseReplayPolicy(attributes.ReplayPolicy, topic.doc, svc.clock.now())
    : undefined;
  if (protocol === 'firehose' && !attributes.SubscriptionRoleArn)
    throw SnsErrors.invalid('Attributes Reason: SubscriptionRoleArn is required for firehose subscriptions');
  const subs = await subscriptionsOf(svc, topic);
  const same = subs.find((s) => s.doc.protocol === protocol && s.doc.endpoint === endpoint);
  if (same) {
    for (const [k, v] of Object.entries(attributes)) {
      if ((same.doc.attributes[k] ?? '') !== v)
        throw SnsErrors.invalid('Attributes Reason: Subscription already exists with different attributes');
    }
    return { SubscriptionArn: same.doc.pending && !input.ReturnSubscriptionArn ? 'pending confirmation' : arnOf(same) };
  }
  if (attributes.FilterPolicy && svc.filterPolicies(subs) >= svc.quotas.filterPoliciesPerTopic)
    throw SnsErrors.FilterPolicyLimitExceeded();
  const id = randomUUID();
  const pending = CONFIRMED_BY_ENDPOINT.has(protocol);
  const doc: SubscriptionDoc = {
    protocol,
    endpoint,
    owner: ctx.account,
    principal: ctx.principal?.arn ?? `arn:aws:iam::${ctx.account}:root`,
    attributes,
    pending,
    ...(pending ? { token: randomBytes(64).toString('hex') } : {}),
  };
  const created = await svc.resources.put<SubscriptionDoc>(
    { kind: SUBSCRIPTION, account: topic.account, region: topic.region, name: `${topic.name}:${id}` },
    doc,
    { now: svc.clock.now(), ifVersion: 0 },
  );
  if (window) await startReplay(svc, created, window);
  await touchTopic(svc, topic);
  if (pending) await svc.confirmations.request(created, ctx.baseUrl);
  return { SubscriptionArn: pending && !input.ReturnSubscriptionArn ? 'pending confirmation' : arnOf(created) };
}

/** The key of the subscription an ARN names, with AWS's errors for malformed ones. */
export function subscriptionKey(svc: SnsService, arn: unknown): ResourceKey {
  const s = String(required(arn, 'SubscriptionArn'));
  const parts = s.split(':');
  const a = parseArn(s);
  if (!a) throw SnsErrors.invalid(`SubscriptionArn Reason: An ARN must have at least 6 elements, not ${parts.length}`);
  if (parts.length === 6) throw SnsErrors.invalid('SubscriptionId');
  if (a.service !== 'sns' || parts.length !== 7) throw SnsErrors.invalid('SubscriptionArn');
  return { kind: SUBSCRIPTION, account: a.account, region: a.region, name: `${parts[5]}:${parts[6]}` };
}

async function findSubscription(svc: SnsService, arn: unknown): Promise<Resource<SubscriptionDoc>> {
  const sub = await svc.resources.get<SubscriptionDoc>(subscriptionKey(svc, arn));
  if (!sub) throw SnsErrors.NotFound('Subscription does not exist');
  return sub;
}

const topicOf = (sub: Resource<SubscriptionDoc>): ResourceKey => ({
  kind: 'sns.topic',
  account: sub.account,
  region: sub.region,
  name: sub.name.slice(0, sub.name.indexOf(':')),
});

export async function unsubscribe(svc: SnsService, ctx: RequestContext, input: T.UnsubscribeInput): Promise<void> {
  const key = subscriptionKey(svc, input.SubscriptionArn);
  const sub = await svc.resources.get<SubscriptionDoc>(key);
  // unsubscribing twice is not an error
  if (!sub) return;
  const now = svc.clock.now();
  const http = sub.doc.protocol === 'http' || sub.doc.protocol === 'https';
  if (http && !sub.doc.pending) await svc.resources.put({ ...key, kind: UNSUBSCRIBED }, sub.doc, { now });
  await svc.resources.delete(key, { now });
  await touchTopic(svc, topicOf(sub));
  if (http) await svc.confirmations.unsubscribed(sub, ctx.baseUrl);
}

/**
 * The subscription a token confirms: a pending one of the topic, or one unsubscribed in the last
 * 48 hours (restored under its ARN). Tokens older than that no longer work.
 */
async function byToken(
  svc: SnsService,
  topic: Resource<TopicDoc>,
  token: string,
): Promise<Resource<SubscriptionDoc> | undefined> {
  const now = svc.clock.now();
  const live = (await subscriptionsOf(svc, topic)).find((s) => s.doc.token === token);
  if (live) return live.doc.pending && live.createdAt + CONFIRM_WINDOW_MS < now ? undefined : live;
  const gone = await svc.resources.list<SubscriptionDoc>(UNSUBSCRIBED, topic.account, topic.region, {
    prefix: `${topic.name}:`,
  });
  let found: Resource<SubscriptionDoc> | undefined;
  for (const g of gone) {
    // expired ones are dropped as they are met
    if (g.updatedAt + CONFIRM_WINDOW_MS < now) await svc.resources.delete(g, { now });
    else if (g.doc.token === token) found = g;
  }
  if (!found) return undefined;
  const key: ResourceKey = { kind: SUBSCRIPTION, account: found.account, region: found.region, name: found.name };
  let restored: Resource<SubscriptionDoc>;
  try {
    restored = await svc.resources.put<SubscriptionDoc>(key, found.doc, { now, ifVersion: 0 });
  } catch (e) {
    // restored by a request a moment ago
    if (!(e instanceof VersionConflict)) throw e;
    restored = (await svc.resources.get<SubscriptionDoc>(key))!;
  }
  await svc.resources.delete(found, { now });
  await touchTopic(svc, topic);
  return restored;
}

export async function confirmSubscription(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.ConfirmSubscriptionInput,
): Promise<T.ConfirmSubscriptionResponse> {
  const topic = await findTopic(svc, input.TopicArn);
  const token = String(required(input.Token, 'Token'));
  const sub = await byToken(svc, topic, token);
  if (!sub) throw SnsErrors.invalid('Token');
  if (sub.doc.pending) {
    const doc: SubscriptionDoc = { ...sub.doc, pending: false };
    if (String(input.AuthenticateOnUnsubscribe).toLowerCase() === 'true') doc.authenticateOnUnsubscribe = true;
    await svc.resources.put(sub, doc, { now: svc.clock.now(), ifVersion: sub.version });
    await touchTopic(svc, topic);
  }
  return { SubscriptionArn: arnOf(sub) };
}

function summary(s: Resource<SubscriptionDoc>): T.Subscription {
  return {
    SubscriptionArn: s.doc.pending ? 'PendingConfirmation' : arnOf(s),
    Owner: s.doc.owner,
    Protocol: s.doc.protocol,
    Endpoint: s.doc.endpoint,
    TopicArn: topicArn(s.region, s.account, topicOf(s).name),
  };
}

const SUBSCRIPTION_NAME = /^[A-Za-z0-9_.-]+:[0-9a-f-]{36}$/;

async function page(svc: SnsService, account: string, region: string, token: string | undefined, prefix?: string) {
  const { rows, next } = await listPage<SubscriptionDoc>(svc, SUBSCRIPTION, account, region, {
    ...(prefix ? { prefix } : {}),
    ...(token !== undefined ? { token } : {}),
    valid: (name) => SUBSCRIPTION_NAME.test(name),
  });
  const out: { Subscriptions: T.Subscription[]; NextToken?: string } = { Subscriptions: rows.map(summary) };
  if (next) out.NextToken = next;
  return out;
}

export async function listSubscriptions(
  svc: SnsService,
  ctx: RequestContext,
  input: T.ListSubscriptionsInput,
): Promise<T.ListSubscriptionsResponse> {
  return page(svc, ctx.account, ctx.region, input.NextToken);
}

export async function listSubscriptionsByTopic(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.ListSubscriptionsByTopicInput,
): Promise<T.ListSubscriptionsByTopicResponse> {
  const topic = await findTopic(svc, input.TopicArn);
  return page(svc, topic.account, topic.region, input.NextToken, `${topic.name}:`);
}

export async function getSubscriptionAttributes(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.GetSubscriptionAttributesInput,
): Promise<T.GetSubscriptionAttributesResponse> {
  const sub = await findSubscription(svc, input.SubscriptionArn);
  const d = sub.doc;
  const out: Record<string, string> = {
    Owner: d.owner,
    RawMessageDelivery: 'false',
    TopicArn: summary(sub).TopicArn!,
    Endpoint: d.endpoint,
    Protocol: d.protocol,
    PendingConfirmation: String(d.pending),
    ConfirmationWasAuthenticated: String(!d.pending),
    SubscriptionArn: arnOf(sub),
    SubscriptionPrincipal: d.principal,
    ...d.attributes,
  };
  if (d.replay) out.ReplayStatus = d.replay.status;
  if (d.attributes.FilterPolicy) out.FilterPolicyScope = d.attributes.FilterPolicyScope ?? 'MessageAttributes';
  else delete out.FilterPolicyScope;
  if (d.protocol === 'http' || d.protocol === 'https') {
    const topic = await svc.resources.get<TopicDoc>(topicOf(sub));
    out.EffectiveDeliveryPolicy = svc.effectiveDeliveryPolicy(topic?.doc, d);
  }
  return { Attributes: out };
}

export async function setSubscriptionAttributes(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.SetSubscriptionAttributesInput,
): Promise<void> {
  const sub = await findSubscription(svc, input.SubscriptionArn);
  const name = String(required(input.AttributeName, 'AttributeName'));
  if (!SUBSCRIPTION_ATTRIBUTES.has(name)) throw SnsErrors.invalid('AttributeName');
  const topic = await svc.resources.get<TopicDoc>(topicOf(sub));
  // a new scope applies to the policy already set, which must make sense in it
  const scope = name === 'FilterPolicyScope' ? input.AttributeValue : sub.doc.attributes.FilterPolicyScope;
  const value = checkSubscriptionAttribute(name, input.AttributeValue ?? '', {
    fifoTopic: !!topic?.doc.fifo,
    protocol: sub.doc.protocol,
    subscribe: false,
    scope: scope === 'MessageBody' ? 'MessageBody' : 'MessageAttributes',
  });
  if (name === 'FilterPolicyScope' && sub.doc.attributes.FilterPolicy)
    checkSubscriptionAttribute('FilterPolicy', sub.doc.attributes.FilterPolicy, {
      fifoTopic: !!topic?.doc.fifo,
      protocol: sub.doc.protocol,
      subscribe: false,
      scope: value === 'MessageBody' ? 'MessageBody' : 'MessageAttributes',
    });
  const attributes = { ...sub.doc.attributes };
  if (value === '') delete attributes[name];
  else attributes[name] = value;
  if (name === 'FilterPolicy' && value && !sub.doc.attributes.FilterPolicy) {
    const subs = await subscriptionsOf(svc, topicOf(sub));
    if (svc.filterPolicies(subs) >= svc.quotas.filterPoliciesPerTopic) throw SnsErrors.FilterPolicyLimitExceeded();
  }
  const window =
    name === 'ReplayPolicy' && value && topic ? parseReplayPolicy(value, topic.doc, svc.clock.now()) : undefined;
  const doc: SubscriptionDoc = { ...sub.doc, attributes };
  if (name === 'ReplayPolicy' && !value) delete doc.replay;
  const put = await svc.resources.put(sub, doc, { now: svc.clock.now(), ifVersion: sub.version });
  if (window) await startReplay(svc, put, window);
  await touchTopic(svc, topicOf(sub));
}
