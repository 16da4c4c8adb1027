/** Queue lifecycle operations: create, delete, URLs, listing, attributes, tags, purge. */
import type { RequestContext } from '../../../kernel/context.js';
import type { QueueRow } from '../../../store/sqs/types.js';
import {
  ALL_NAMES,
  effectiveAttributes,
  firstDifference,
  LIMITS,
  mergeAttributes,
  READ_ONLY,
  unknownAttribute,
  validateAttributes,
} from '../attributes.js';
import { invalidParam, missing, SqsErrors } from '../errors.js';
import { NAME_RULE, queueArn, queueKey, validateQueueName } from '../naming.js';
import type { SqsService } from '../service.js';
import { validateTags } from './tags.js';
import { pageToken, readPageToken } from './paging.js';

type Input = Record<string, unknown>;
type Attrs = Record<string, string>;

export async function createQueue(svc: SqsService, ctx: RequestContext, input: Input) {
  const name = input.QueueName;
  if (typeof name !== 'string' || name === '') {
    throw invalidParam('QueueName', '', 'Must specify a queue name.');
  }
  const requested = (input.Attributes ?? {}) as Attrs;
  const fifo = String(requested.FifoQueue ?? '').toLowerCase() === 'true';
  if (!fifo && name.endsWith('.fifo')) throw SqsErrors.InvalidParameterValue(NAME_RULE);
  validateQueueName(name, fifo);
  const tags = (input.tags ?? {}) as Attrs;
  validateTags(name, {}, tags);
  const arn = queueArn(ctx.region, ctx.account, name);
  const lookup = async () => {
    const all = await svc.store.listQueues(ctx.account, ctx.region);
    return new Map(all.map((q) => [svc.arn(q), q]));
  };
  const known = requested.RedrivePolicy ? await lookup() : new Map<string, QueueRow>();
  const attrs = validateAttributes(requested, fifo, 'create', arn, (a) => known.get(a) ?? undefined);
  const now = svc.clock.now();

  const existing = await svc.store.getQueue(ctx.account, ctx.region, name);
  if (existing) return { QueueUrl: sameOrConflict(svc, ctx, existing, attrs, fifo) };
  if (await svc.store.deletedRecently(ctx.account, ctx.region, name, now, LIMITS.deleteRecreateMs)) {
    throw SqsErrors.QueueDeletedRecently(
      'You must wait 60 seconds after deleting a queue before you can create another with the same name.',
    );
  }
  const { queue, created } = await svc.store.createQueue({
    account: ctx.account,
    region: ctx.region,
    name,
    fifo,
    attributes: attrs,
    tags,
    createdAt: now,
    lastModifiedAt: now,
  });
  if (!created) return { QueueUrl: sameOrConflict(svc, ctx, queue, attrs, fifo) };
  svc.queueChanged();
  return { QueueUrl: svc.url(ctx, queue) };
}

/** CreateQueue on an existing name succeeds only when every given attribute matches. */
function sameOrConflict(svc: SqsService, ctx: RequestContext, q: QueueRow, attrs: Attrs, fifo: boolean): string {
  const current = effectiveAttributes(q.attributes, q.fifo);
  const diff = q.fifo !== fifo ? 'FifoQueue' : firstDifference(attrs, current);
  if (diff) {
    throw SqsErrors.QueueNameExists(
      `A queue already exists with the same name and a different value for attribute ${diff}`,
    );
  }
  return svc.url(ctx, q);
}

export async function deleteQueue(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  await svc.store.deleteQueue(q.id, svc.clock.now());
  svc.queueChanged();
  svc.longPoll.notify(queueKey(q.id));
  return {};
}

export async function getQueueUrl(svc: SqsService, ctx: RequestContext, input: Input) {
  const name = input.QueueName;
  if (typeof name !== 'string' || name === '') throw missing('QueueName');
  const owner = typeof input.QueueOwnerAWSAccountId === 'string' ? input.QueueOwnerAWSAccountId : ctx.account;
  const q = await svc.store.getQueue(owner, ctx.region, name);
  if (!q) throw SqsErrors.QueueDoesNotExist();
  return { QueueUrl: svc.url(ctx, q) };
}

function maxResults(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1000) {
    throw invalidParam('MaxResults', v, 'MaxResults must be an integer between 1 and 1000.');
  }
  return v;
}

/** Pages through names: the token carries the last name returned. */
function page<T>(items: T[], nameOf: (t: T) => string, input: Input) {
  const max = maxResults(input.MaxResults);
  const after = readPageToken(input.NextToken);
  let list = after === undefined ? items : items.filter((t) => nameOf(t) > after);
  let next: string | undefined;
  if (max !== undefined && list.length > max) {
    list = list.slice(0, max);
    next = pageToken(nameOf(list[list.length - 1]));
  } else if (max === undefined) list = list.slice(0, 1000);
  return { list, next };
}

export async function listQueues(svc: SqsService, ctx: RequestContext, input: Input) {
  const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
  const all = await svc.store.listQueues(ctx.account, ctx.region, prefix);
  const { list, next } = page(all, (q) => q.name, input);
  const out: { QueueUrls?: string[]; NextToken?: string } = {};
  if (list.length) out.QueueUrls = list.map((q) => svc.url(ctx, q));
  if (next) out.NextToken = next;
  return out;
}

export async function listDeadLetterSourceQueues(svc: SqsService, ctx: RequestContext, input: Input) {
  const dlq = await svc.resolve(ctx, input.QueueUrl);
  const arn = svc.arn(dlq);
  const sources: QueueRow[] = [];
  for (const q of await svc.store.listQueues(dlq.account, dlq.region)) {
    if ((await svc.config(q)).redrive?.deadLetterTargetArn === arn) sources.push(q);
  }
  const { list, next } = page(sources, (q) => q.name, input);
  const out: { queueUrls: string[]; NextToken?: string } = { queueUrls: list.map((q) => svc.url(ctx, q)) };
  if (next) out.NextToken = next;
  return out;
}

export async function getQueueAttributes(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const names = (input.AttributeNames ?? []) as string[];
  for (const n of names) if (n !== 'All' && !ALL_NAMES.has(n)) throw unknownAttribute(n);
  if (names.length === 0) return {};
  const all = names.includes('All');
  const want = (n: string) => all || names.includes(n);
  const out: Attrs = {};
  const now = svc.clock.now();
  if (READ_ONLY.slice(0, 3).some(want)) {
    const c = await svc.store.counts(await svc.ref(q), now);
    if (want('ApproximateNumberOfMessages')) out.ApproximateNumberOfMessages = String(c.visible);
    if (want('ApproximateNumberOfMessagesNotVisible')) out.ApproximateNumberOfMessagesNotVisible = String(c.notVisible);
    if (want('ApproximateNumberOfMessagesDelayed')) out.ApproximateNumberOfMessagesDelayed = String(c.delayed);
  }
  if (want('CreatedTimestamp')) out.CreatedTimestamp = String(Math.floor(q.createdAt / 1000));
  if (want('LastModifiedTimestamp')) out.LastModifiedTimestamp = String(Math.floor(q.lastModifiedAt / 1000));
  if (want('QueueArn')) out.QueueArn = svc.arn(q);
  for (const [k, v] of Object.entries(effectiveAttributes(q.attributes, q.fifo))) if (want(k)) out[k] = v;
  return Object.keys(out).length ? { Attributes: out } : {};
}

export async function setQueueAttributes(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const requested = input.Attributes as Attrs | undefined;
  if (!requested || Object.keys(requested).length === 0) throw missing('Attribute.Name');
  const all = requested.RedrivePolicy ? await svc.store.listQueues(q.account, q.region) : [];
  const byArn = new Map(all.map((x) => [svc.arn(x), x]));
  const changes = validateAttributes(requested, q.fifo, 'set', svc.arn(q), (a) => byArn.get(a));
  if (Object.keys(changes).length) {
    await svc.store.setQueueAttributes(q.id, mergeAttributes(q.attributes, changes), svc.clock.now());
    svc.queueChanged();
  }
  return {};
}

export async function purgeQueue(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const ok = await svc.store.purge(await svc.ref(q), svc.clock.now(), LIMITS.purgeIntervalMs);
  if (!ok) {
    throw SqsErrors.PurgeQueueInProgress(`Only one PurgeQueue operation on ${q.name} is allowed every 60 seconds.`);
  }
  return {};
}
