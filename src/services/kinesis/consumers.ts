/**
 * Enhanced fan-out consumers: registered per stream (up to 20), each a resource
 * (`kinesis.consumer`, named `<stream>/<consumer>`) tied to the stream's creation, with AWS's
 * ARN `…:stream/<stream>/consumer/<name>:<creation epoch seconds>`.
 */
import type { RequestContext } from '../../kernel/context.js';
import { VersionConflict, type Resource, type ResourceKey } from '../../store/resources.js';
import { parseArn } from '../shared/arn.js';
import type * as K from './generated/types.js';
import { KinesisErrors } from './errors.js';
import type { KinesisService, Loaded } from './service.js';

export const CONSUMER = 'kinesis.consumer';
/** AWS: 20 registered consumers per stream */
export const MAX_CONSUMERS = 20;

export interface ConsumerDoc {
  /** the stream's creation it belongs to (StreamDoc.id) */
  streamId: string;
  createdAt: number;
  /** ACTIVE from then on (the status delay) */
  readyAt: number;
  policy?: string;
}

export interface LoadedConsumer {
  key: ResourceKey;
  res: Resource<ConsumerDoc>;
  stream: Loaded;
  name: string;
  arn: string;
}

const sec = (ms: number) => Math.floor(ms / 1000);

export function consumerArn(svc: KinesisService, stream: ResourceKey, name: string, createdAt: number): string {
  return `${svc.arn(stream)}/consumer/${name}:${sec(createdAt)}`;
}

function consumerKey(stream: ResourceKey, name: string): ResourceKey {
  return { kind: CONSUMER, account: stream.account, region: stream.region, name: `${stream.name}/${name}` };
}

/** The consumer an ARN names; ResourceNotFoundException when it (or that creation of it) is gone. */
export async function consumerByArn(svc: KinesisService, arn: string): Promise<LoadedConsumer> {
  const a = parseArn(arn);
  const m = a && /^stream\/([^/]+)\/consumer\/([^:]+):(\d+)$/.exec(a.resource);
  if (!a || !m) throw KinesisErrors.invalid(`Invalid ConsumerARN ${arn}.`);
  const c = await loadConsumer(svc, svc.key(a.account, a.region, m[1]!), m[2]!);
  if (c.arn !== arn) throw KinesisErrors.notFound(`Consumer ${arn} not found.`);
  return c;
}

async function loadConsumer(svc: KinesisService, streamKey: ResourceKey, name: string): Promise<LoadedConsumer> {
  const stream = await svc.load(streamKey, true);
  const key = consumerKey(streamKey, name);
  const res = await svc.resources.get<ConsumerDoc>(key);
  if (!res || res.doc.streamId !== stream.res.doc.id)
    throw KinesisErrors.notFound(
      `Consumer ${name} under stream ${streamKey.name} under account ${streamKey.account} not found.`,
    );
  return { key, res, stream, name, arn: consumerArn(svc, streamKey, name, res.doc.createdAt) };
}

/** The consumer of a request: its ConsumerARN, or StreamARN and ConsumerName. */
export function consumerOf(
  svc: KinesisService,
  input: { StreamARN?: string; ConsumerName?: string; ConsumerARN?: string },
): Promise<LoadedConsumer> {
  if (input.ConsumerARN !== undefined) return consumerByArn(svc, input.ConsumerARN);
  if (input.StreamARN === undefined || input.ConsumerName === undefined)
    throw KinesisErrors.invalid('Either ConsumerARN or both ConsumerName and StreamARN must be provided.');
  const a = parseArn(input.StreamARN);
  if (!a || !/^stream\/[^/]+$/.test(a.resource)) throw KinesisErrors.invalid(`Invalid StreamARN ${input.StreamARN}.`);
  return loadConsumer(svc, svc.key(a.account, a.region, a.resource.slice(7)), input.ConsumerName);
}

function describe(svc: KinesisService, c: LoadedConsumer): K.ConsumerDescription {
  return {
    ConsumerName: c.name,
    ConsumerARN: c.arn,
    ConsumerStatus: svc.clock.now() >= c.res.doc.readyAt ? 'ACTIVE' : 'CREATING',
    ConsumerCreationTimestamp: new Date(sec(c.res.doc.createdAt) * 1000),
    StreamARN: svc.arn(c.stream.key),
  };
}

/** The consumers registered with this creation of the stream (a recreated stream has none). */
export async function consumersOf(svc: KinesisService, l: Loaded): Promise<Resource<ConsumerDoc>[]> {
  const all = await svc.resources.list<ConsumerDoc>(CONSUMER, l.key.account, l.key.region, {
    prefix: `${l.key.name}/`,
  });
  return all.filter((c) => c.doc.streamId === l.res.doc.id);
}

export async function registerStreamConsumer(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.RegisterStreamConsumerInput,
): Promise<K.RegisterStreamConsumerOutput> {
  const l = await svc.load(svc.target(ctx, { StreamARN: input.StreamARN }), true);
  const existing = await consumersOf(svc, l);
  if (existing.some((c) => c.name === `${l.key.name}/${input.ConsumerName}`))
    throw KinesisErrors.inUse(
      `Consumer ${input.ConsumerName} under stream ${l.key.name} under account ${l.key.account} already exists.`,
    );
  if (existing.length >= MAX_CONSUMERS)
    throw KinesisErrors.limit(
      `Stream ${l.key.name} under account ${l.key.account} already has the maximum number of consumers (${MAX_CONSUMERS}).`,
    );
  const now = svc.clock.now();
  const key = consumerKey(l.key, input.ConsumerName);
  const doc: ConsumerDoc = { streamId: l.res.doc.id, createdAt: now, readyAt: now + svc.config.statusDelayMs };
  // a consumer of an earlier creation of the stream may still hold the name: replace it
  const old = await svc.resources.get<ConsumerDoc>(key);
  try {
    await svc.resources.put(key, doc, { now, ifVersion: old?.version ?? 0, tags: input.Tags ?? {} });
  } catch (e) {
    if (e instanceof VersionConflict)
      throw KinesisErrors.inUse(
        `Consumer ${input.ConsumerName} under stream ${l.key.name} under account ${l.key.account} already exists.`,
      );
    throw e;
  }
  const d = describe(svc, {
    key,
    res: { ...key, doc, version: 1, tags: {}, createdAt: now, updatedAt: now },
    stream: l,
    name: input.ConsumerName,
    arn: consumerArn(svc, l.key, input.ConsumerName, now),
  });
  return {
    Consumer: {
      ConsumerName: d.ConsumerName,
      ConsumerARN: d.ConsumerARN,
      ConsumerStatus: d.ConsumerStatus,
      ConsumerCreationTimestamp: d.ConsumerCreationTimestamp,
    },
  };
}

export async function deregisterStreamConsumer(
  svc: KinesisService,
  _ctx: RequestContext,
  input: K.DeregisterStreamConsumerInput,
): Promise<void> {
  const c = await consumerOf(svc, input);
  await svc.resources.delete(c.key, { now: svc.clock.now(), ifVersion: c.res.version }).catch((e: unknown) => {
    if (!(e instanceof VersionConflict)) throw e;
  });
}

export async function describeStreamConsumer(
  svc: KinesisService,
  _ctx: RequestContext,
  input: K.DescribeStreamConsumerInput,
): Promise<K.DescribeStreamConsumerOutput> {
  return { ConsumerDescription: describe(svc, await consumerOf(svc, input)) };
}

export async function listStreamConsumers(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.ListStreamConsumersInput,
): Promise<K.ListStreamConsumersOutput> {
  const l = await svc.load(svc.target(ctx, { StreamARN: input.StreamARN }), true);
  const all = await consumersOf(svc, l);
  let after = '';
  if (input.NextToken !== undefined) {
    after = Buffer.from(input.NextToken, 'base64url').toString('utf8');
    if (!after.startsWith(`${l.key.name}/`)) throw KinesisErrors.invalid('Invalid NextToken.');
  }
  const rest = all.filter((c) => c.name > after);
  const max = input.MaxResults ?? 100;
  const page = rest.slice(0, max);
  return {
    Consumers: page.map((r) => {
      const name = r.name.slice(l.key.name.length + 1);
      const d = describe(svc, { key: r, res: r, stream: l, name, arn: consumerArn(svc, l.key, name, r.doc.createdAt) });
      return {
        ConsumerName: d.ConsumerName,
        ConsumerARN: d.ConsumerARN,
        ConsumerStatus: d.ConsumerStatus,
        ConsumerCreationTimestamp: d.ConsumerCreationTimestamp,
      };
    }),
    ...(rest.length > max ? { NextToken: Buffer.from(page[page.length - 1]!.name).toString('base64url') } : {}),
  };
}
