/** Streams: create, delete, describe, list, retention. */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../kernel/context.js';
import { VersionConflict } from '../../store/resources.js';
import type * as K from './generated/types.js';
import { KinesisErrors } from './errors.js';
import { shardIndexOf } from './sequence.js';
import { describeShards, evenRanges, visibleShards } from './shard-map.js';
import { consumersOf } from './consumers.js';
import { HOUR, STREAM, type KinesisService, type Loaded, type StreamDoc } from './service.js';

/** AWS: an on-demand stream starts with 4 shards (4 MB/s, 4,000 records/s of writes) */
export const ON_DEMAND_SHARDS = 4;
const MIN_RETENTION = 24;
const MAX_RETENTION = 8760;

const modeOf = (doc: StreamDoc) => ({ StreamMode: doc.mode });
const monitoringOf = (doc: StreamDoc) => [{ ShardLevelMetrics: doc.monitoring }];

export async function createStream(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.CreateStreamInput,
): Promise<void> {
  const mode = input.StreamModeDetails?.StreamMode ?? 'PROVISIONED';
  if (mode === 'PROVISIONED' && input.ShardCount === undefined)
    throw KinesisErrors.invalid('ShardCount is required for a PROVISIONED stream.');
  const count = mode === 'ON_DEMAND' ? ON_DEMAND_SHARDS : input.ShardCount!;
  const key = svc.key(ctx.account, ctx.region, input.StreamName);
  await svc.checkShardLimit(ctx.account, ctx.region, count);
  const now = svc.clock.now();
  const delay = svc.config.statusDelayMs;
  const doc: StreamDoc = {
    id: randomUUID(),
    createdAt: now,
    mode,
    retentionHours: MIN_RETENTION,
    status: 'CREATING',
    readyAt: now + delay,
    shards: evenRanges(count).map((r, index) => ({ index, ...r, createdAt: now })),
    nextIndex: count,
    encryption: 'NONE',
    monitoring: [],
    maxRecordSizeKiB: input.MaxRecordSizeInKiB ?? 1024,
  };
  // the records' space first: a stream that exists can always be written to
  await svc.store.openShards(
    doc.id,
    doc.shards.map((s) => s.index),
    doc.retentionHours * HOUR,
  );
  try {
    await svc.resources.put(key, doc, { now, ifVersion: 0, tags: input.Tags ?? {} });
  } catch (e) {
    await svc.store.drop(doc.id);
    if (e instanceof VersionConflict)
      throw KinesisErrors.inUse(`Stream ${input.StreamName} under account ${ctx.account} already exists.`);
    throw e;
  }
  svc.forget(key);
}

export async function deleteStream(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.DeleteStreamInput,
): Promise<void> {
  const l = await svc.load(svc.target(ctx, input), true);
  const consumers = await consumersOf(svc, l);
  if (consumers.length && !input.EnforceConsumerDeletion)
    throw KinesisErrors.inUse(
      `Stream ${l.key.name} under account ${l.key.account} has registered consumers. Set EnforceConsumerDeletion to true to delete the stream with its consumers.`,
    );
  for (const c of consumers) await svc.resources.delete(c, { now: svc.clock.now() });
  await svc.resources.delete(l.key, { now: svc.clock.now(), ifVersion: l.res.version }).catch((e: unknown) => {
    if (e instanceof VersionConflict) throw KinesisErrors.streamNotFound(l.key.name, l.key.account);
    throw e;
  });
  svc.forget(l.key);
  await svc.store.drop(l.res.doc.id);
}

export async function describeStream(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.DescribeStreamInput,
): Promise<K.DescribeStreamOutput> {
  const l = await svc.load(svc.target(ctx, input), true);
  const doc = l.res.doc;
  let shards = visibleShards(svc, l);
  if (input.ExclusiveStartShardId !== undefined) {
    const after = shardIndexOf(input.ExclusiveStartShardId) ?? -1;
    shards = shards.filter((s) => s.index > after);
  }
  const limit = input.Limit ?? 100;
  const page = shards.slice(0, limit);
  const status = svc.status(doc);
  return {
    StreamDescription: {
      StreamName: l.key.name,
      StreamARN: svc.arn(l.key),
      StreamStatus: status,
      StreamModeDetails: modeOf(doc),
      // AWS lists no shards while a stream is being created
      Shards: status === 'CREATING' ? [] : await describeShards(svc, l, page),
      HasMoreShards: status !== 'CREATING' && shards.length > limit,
      RetentionPeriodHours: doc.retentionHours,
      StreamCreationTimestamp: new Date(Math.floor(doc.createdAt / 1000) * 1000),
      EnhancedMonitoring: monitoringOf(doc),
      EncryptionType: doc.encryption,
      ...(doc.keyId ? { KeyId: doc.keyId } : {}),
    },
  };
}

export async function describeStreamSummary(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.DescribeStreamSummaryInput,
): Promise<K.DescribeStreamSummaryOutput> {
  const l = await svc.load(svc.target(ctx, input), true);
  const doc = l.res.doc;
  return {
    StreamDescriptionSummary: {
      StreamName: l.key.name,
      StreamARN: svc.arn(l.key),
      StreamStatus: svc.status(doc),
      StreamModeDetails: modeOf(doc),
      RetentionPeriodHours: doc.retentionHours,
      StreamCreationTimestamp: new Date(Math.floor(doc.createdAt / 1000) * 1000),
      EnhancedMonitoring: monitoringOf(doc),
      EncryptionType: doc.encryption,
      ...(doc.keyId ? { KeyId: doc.keyId } : {}),
      OpenShardCount: l.layout.open.length,
      ConsumerCount: (await consumersOf(svc, l)).length,
      MaxRecordSizeInKiB: doc.maxRecordSizeKiB,
    },
  };
}

export async function listStreams(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.ListStreamsInput,
): Promise<K.ListStreamsOutput> {
  const limit = input.Limit ?? 100;
  let after = input.ExclusiveStartStreamName;
  if (input.NextToken !== undefined) {
    const t = parseToken(input.NextToken);
    if (t === undefined) throw KinesisErrors.invalid(`NextToken ${input.NextToken} is invalid.`);
    after = t;
  }
  const rows = await svc.resources.list<StreamDoc>(STREAM, ctx.account, ctx.region, {
    ...(after !== undefined ? { after } : {}),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const more = rows.length > limit;
  return {
    StreamNames: page.map((r) => r.name),
    HasMoreStreams: more,
    ...(more ? { NextToken: Buffer.from(page[page.length - 1]!.name).toString('base64url') } : {}),
    StreamSummaries: page.map((r) => ({
      StreamName: r.name,
      StreamARN: svc.arn(r),
      StreamStatus: svc.status(r.doc),
      StreamModeDetails: modeOf(r.doc),
      StreamCreationTimestamp: new Date(Math.floor(r.doc.createdAt / 1000) * 1000),
    })),
  };
}

function parseToken(token: string): string | undefined {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  return /^[a-zA-Z0-9_.-]{1,128}$/.test(name) ? name : undefined;
}

/** Loads, changes and saves a stream's document, again if another write came between. */
export async function updateStream(
  svc: KinesisService,
  ctx: RequestContext,
  input: { StreamName?: string; StreamARN?: string },
  change: (doc: StreamDoc, l: Loaded) => StreamDoc | Promise<StreamDoc>,
): Promise<Loaded> {
  const key = svc.target(ctx, input);
  for (;;) {
    const l = await svc.load(key, true);
    const doc = await change(structuredClone(l.res.doc), l);
    try {
      return await svc.save(l, doc);
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
    }
  }
}

function checkRetention(hours: number): void {
  if (hours < MIN_RETENTION)
    throw KinesisErrors.invalid(
      `Minimum allowed retention period is ${MIN_RETENTION} hours. Requested retention period (${hours} hours) is too short.`,
    );
  if (hours > MAX_RETENTION)
    throw KinesisErrors.invalid(
      `Maximum allowed retention period is ${MAX_RETENTION} hours. Requested retention period (${hours} hours) is too long.`,
    );
}

export async function increaseStreamRetentionPeriod(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.IncreaseStreamRetentionPeriodInput,
): Promise<void> {
  const hours = input.RetentionPeriodHours;
  checkRetention(hours);
  const l = await updateStream(svc, ctx, input, (doc, cur) => {
    if (doc.retentionHours > hours)
      throw KinesisErrors.invalid(
        `Requested retention period (${hours} hours) for stream ${cur.key.name} can not be shorter than existing retention period (${doc.retentionHours} hours). Use DecreaseRetentionPeriod API.`,
      );
    doc.retentionHours = hours;
    return doc;
  });
  await svc.store.setRetention(l.res.doc.id, hours * HOUR);
}

export async function decreaseStreamRetentionPeriod(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.DecreaseStreamRetentionPeriodInput,
): Promise<void> {
  const hours = input.RetentionPeriodHours;
  checkRetention(hours);
  const l = await updateStream(svc, ctx, input, (doc, cur) => {
    if (doc.retentionHours < hours)
      throw KinesisErrors.invalid(
        `Requested retention period (${hours} hours) for stream ${cur.key.name} can not be longer than existing retention period (${doc.retentionHours} hours). Use IncreaseRetentionPeriod API.`,
      );
    doc.retentionHours = hours;
    return doc;
  });
  await svc.store.setRetention(l.res.doc.id, hours * HOUR);
}
