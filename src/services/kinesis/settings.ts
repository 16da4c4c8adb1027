/**
 * A stream's settings: tags (by stream or by ARN), encryption, enhanced monitoring, capacity
 * mode, record size, warm throughput, resource policies; the account's limits and settings.
 * Wharf keeps and reports them; none changes how records are stored (PARITY.md).
 */
import type { RequestContext } from '../../kernel/context.js';
import type * as K from './generated/types.js';
import { KinesisErrors } from './errors.js';
import { consumerByArn, type ConsumerDoc } from './consumers.js';
import { updateStream } from './streams.js';
import { STREAM, type KinesisService, type ShardMetric, type StreamDoc } from './service.js';
import { parseArn } from '../shared/arn.js';
import { VersionConflict, type ResourceKey } from '../../store/resources.js';

const MAX_TAGS = 50;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const ALL_METRICS: ShardMetric[] = [
  'IncomingBytes',
  'IncomingRecords',
  'OutgoingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
  'ReadProvisionedThroughputExceeded',
  'IteratorAgeMilliseconds',
];
/** AWS: 50 on-demand streams per account (a soft quota) */
const ON_DEMAND_STREAM_LIMIT = 50;

/** Changes a resource's tags with a conditional write, again if another write came between. */
async function retag(
  svc: KinesisService,
  key: ResourceKey,
  what: string,
  change: (tags: Record<string, string>) => Record<string, string>,
): Promise<void> {
  for (;;) {
    const r = await svc.resources.get(key);
    if (!r) throw KinesisErrors.notFound(`${what} not found.`);
    try {
      await svc.resources.put(key, r.doc, { now: svc.clock.now(), ifVersion: r.version, tags: change({ ...r.tags }) });
      svc.forget(key);
      return;
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
    }
  }
}

function addTags(name: string, account: string, tags: Record<string, string>) {
  for (const [k, v] of Object.entries(tags))
    if (!TAG_CHARS.test(k) || !TAG_CHARS.test(v))
      throw KinesisErrors.invalid(
        'Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.',
      );
  return (cur: Record<string, string>) => {
    const next = { ...cur, ...tags };
    if (Object.keys(next).length > MAX_TAGS)
      throw KinesisErrors.invalid(
        `Failed to add tags to stream ${name} under account ${account} because a given stream cannot have more than ${MAX_TAGS} tags associated with it.`,
      );
    return next;
  };
}

const dropTags = (keys: string[]) => (cur: Record<string, string>) => {
  for (const k of keys) delete cur[k];
  return cur;
};

export async function addTagsToStream(svc: KinesisService, ctx: RequestContext, input: K.AddTagsToStreamInput) {
  const key = svc.target(ctx, input);
  await svc.load(key, true);
  await retag(svc, key, `Stream ${key.name} under account ${key.account}`, addTags(key.name, key.account, input.Tags));
}

export async function removeTagsFromStream(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.RemoveTagsFromStreamInput,
) {
  const key = svc.target(ctx, input);
  await svc.load(key, true);
  await retag(svc, key, `Stream ${key.name} under account ${key.account}`, dropTags(input.TagKeys));
}

export async function listTagsForStream(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.ListTagsForStreamInput,
): Promise<K.ListTagsForStreamOutput> {
  const l = await svc.load(svc.target(ctx, input), true);
  const keys = Object.keys(l.res.tags)
    .sort()
    .filter((k) => input.ExclusiveStartTagKey === undefined || k > input.ExclusiveStartTagKey);
  const limit = input.Limit ?? MAX_TAGS;
  return {
    Tags: keys.slice(0, limit).map((Key) => ({ Key, Value: l.res.tags[Key]! })),
    HasMoreTags: keys.length > limit,
  };
}

/** The stream or consumer an ARN names (TagResource and the resource policy actions). */
async function resourceOf(svc: KinesisService, arn: string): Promise<ResourceKey> {
  const a = parseArn(arn);
  if (a?.service === 'kinesis' && /^stream\/[^/]+\/consumer\//.test(a.resource))
    return (await consumerByArn(svc, arn)).key;
  if (a?.service === 'kinesis' && /^stream\/[^/]+$/.test(a.resource)) {
    const key = svc.key(a.account, a.region, a.resource.slice(7));
    await svc.load(key, true);
    return key;
  }
  throw KinesisErrors.invalid(`Invalid ResourceARN ${arn}.`);
}

export async function tagResource(svc: KinesisService, _ctx: RequestContext, input: K.TagResourceInput) {
  const key = await resourceOf(svc, input.ResourceARN);
  await retag(svc, key, `Resource ${input.ResourceARN}`, addTags(key.name, key.account, input.Tags));
}

export async function untagResource(svc: KinesisService, _ctx: RequestContext, input: K.UntagResourceInput) {
  const key = await resourceOf(svc, input.ResourceARN);
  await retag(svc, key, `Resource ${input.ResourceARN}`, dropTags(input.TagKeys));
}

export async function listTagsForResource(
  svc: KinesisService,
  _ctx: RequestContext,
  input: K.ListTagsForResourceInput,
): Promise<K.ListTagsForResourceOutput> {
  const key = await resourceOf(svc, input.ResourceARN);
  const r = await svc.resources.get(key);
  return {
    Tags: Object.keys(r?.tags ?? {})
      .sort()
      .map((Key) => ({ Key, Value: r!.tags[Key]! })),
  };
}

/** A change that takes the stream through UPDATING (for the configured time). */
function updating(svc: KinesisService, doc: StreamDoc, name: string, account: string): StreamDoc {
  const status = svc.status(doc);
  if (status !== 'ACTIVE') throw KinesisErrors.notActive(name, account, status);
  doc.status = 'UPDATING';
  doc.readyAt = svc.clock.now() + svc.config.statusDelayMs;
  return doc;
}

export async function startStreamEncryption(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.StartStreamEncryptionInput,
) {
  await updateStream(svc, ctx, input, (doc, l) => {
    updating(svc, doc, l.key.name, l.key.account);
    doc.encryption = 'KMS';
    doc.keyId = input.KeyId;
    return doc;
  });
}

export async function stopStreamEncryption(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.StopStreamEncryptionInput,
) {
  await updateStream(svc, ctx, input, (doc, l) => {
    updating(svc, doc, l.key.name, l.key.account);
    doc.encryption = 'NONE';
    delete doc.keyId;
    return doc;
  });
}

async function monitoring(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.EnableEnhancedMonitoringInput,
  on: boolean,
): Promise<K.EnhancedMonitoringOutput> {
  const asked = input.ShardLevelMetrics.includes('ALL') ? ALL_METRICS : input.ShardLevelMetrics;
  let before: ShardMetric[] = [];
  const l = await updateStream(svc, ctx, input, (doc) => {
    before = doc.monitoring;
    const set = new Set(doc.monitoring);
    for (const m of asked)
      if (on) set.add(m);
      else set.delete(m);
    doc.monitoring = ALL_METRICS.filter((m) => set.has(m));
    return doc;
  });
  return {
    StreamName: l.key.name,
    StreamARN: svc.arn(l.key),
    CurrentShardLevelMetrics: before,
    DesiredShardLevelMetrics: l.res.doc.monitoring,
  };
}

export const enableEnhancedMonitoring = (
  svc: KinesisService,
  ctx: RequestContext,
  input: K.EnableEnhancedMonitoringInput,
) => monitoring(svc, ctx, input, true);
export const disableEnhancedMonitoring = (
  svc: KinesisService,
  ctx: RequestContext,
  input: K.DisableEnhancedMonitoringInput,
) => monitoring(svc, ctx, input, false);

export async function updateStreamMode(svc: KinesisService, ctx: RequestContext, input: K.UpdateStreamModeInput) {
  await updateStream(svc, ctx, input, (doc, l) => {
    const mode = input.StreamModeDetails.StreamMode;
    if (doc.mode === mode)
      throw KinesisErrors.invalid(`Stream ${l.key.name} under account ${l.key.account} is already in ${mode} mode.`);
    updating(svc, doc, l.key.name, l.key.account);
    doc.mode = mode;
    return doc;
  });
}

export async function updateMaxRecordSize(svc: KinesisService, ctx: RequestContext, input: K.UpdateMaxRecordSizeInput) {
  await updateStream(svc, ctx, input, (doc) => {
    doc.maxRecordSizeKiB = input.MaxRecordSizeInKiB;
    return doc;
  });
}

export async function updateStreamWarmThroughput(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.UpdateStreamWarmThroughputInput,
): Promise<K.UpdateStreamWarmThroughputOutput> {
  const l = await updateStream(svc, ctx, input, (doc, cur) => {
    if (doc.mode !== 'ON_DEMAND')
      throw KinesisErrors.invalid(
        `Warm throughput can only be set on ON_DEMAND streams; stream ${cur.key.name} under account ${cur.key.account} is PROVISIONED.`,
      );
    doc.warmMiBps = input.WarmThroughputMiBps;
    return doc;
  });
  return {
    StreamARN: svc.arn(l.key),
    StreamName: l.key.name,
    WarmThroughput: { TargetMiBps: input.WarmThroughputMiBps, CurrentMiBps: input.WarmThroughputMiBps },
  };
}

export async function describeLimits(svc: KinesisService, ctx: RequestContext): Promise<K.DescribeLimitsOutput> {
  const streams = await svc.resources.list<StreamDoc>(STREAM, ctx.account, ctx.region);
  let open = 0;
  for (const s of streams) open += s.doc.shards.filter((x) => x.closedAt === undefined).length;
  return {
    ShardLimit: svc.config.shardLimit,
    OpenShardCount: open,
    OnDemandStreamCount: streams.filter((s) => s.doc.mode === 'ON_DEMAND').length,
    OnDemandStreamCountLimit: ON_DEMAND_STREAM_LIMIT,
  };
}

const ACCOUNT = 'kinesis.account';

export async function describeAccountSettings(
  svc: KinesisService,
  ctx: RequestContext,
): Promise<K.DescribeAccountSettingsOutput> {
  const r = await svc.resources.get<{ status: 'ENABLED' | 'DISABLED'; startedAt?: number; endedAt?: number }>({
    kind: ACCOUNT,
    account: ctx.account,
    region: ctx.region,
    name: 'settings',
  });
  if (!r) return {};
  return { MinimumThroughputBillingCommitment: commitmentOf(r.doc) };
}

function commitmentOf(d: { status: 'ENABLED' | 'DISABLED'; startedAt?: number; endedAt?: number }) {
  return {
    Status: d.status,
    ...(d.startedAt !== undefined ? { StartedAt: new Date(d.startedAt) } : {}),
    ...(d.endedAt !== undefined ? { EndedAt: new Date(d.endedAt) } : {}),
  };
}

export async function updateAccountSettings(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.UpdateAccountSettingsInput,
): Promise<K.UpdateAccountSettingsOutput> {
  const now = svc.clock.now();
  const status = input.MinimumThroughputBillingCommitment.Status;
  const doc = status === 'ENABLED' ? { status, startedAt: now } : { status, endedAt: now };
  await svc.resources.put({ kind: ACCOUNT, account: ctx.account, region: ctx.region, name: 'settings' }, doc, { now });
  return { MinimumThroughputBillingCommitment: commitmentOf(doc) };
}

/** A stream's or consumer's policy lives in its document. */
async function withPolicy(
  svc: KinesisService,
  arn: string,
  change: (doc: { policy?: string }) => void,
): Promise<{ policy?: string }> {
  const key = await resourceOf(svc, arn);
  for (;;) {
    const r = await svc.resources.get<StreamDoc | ConsumerDoc>(key);
    if (!r) throw KinesisErrors.notFound(`Resource ${arn} not found.`);
    const doc = structuredClone(r.doc);
    change(doc);
    try {
      await svc.resources.put(key, doc, { now: svc.clock.now(), ifVersion: r.version });
      svc.forget(key);
      return doc;
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
    }
  }
}

export async function putResourcePolicy(svc: KinesisService, _ctx: RequestContext, input: K.PutResourcePolicyInput) {
  try {
    const p = JSON.parse(input.Policy) as unknown;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error('not an object');
  } catch {
    throw KinesisErrors.invalid('Policy is not a valid JSON document.');
  }
  await withPolicy(svc, input.ResourceARN, (d) => (d.policy = input.Policy));
}

export async function getResourcePolicy(
  svc: KinesisService,
  _ctx: RequestContext,
  input: K.GetResourcePolicyInput,
): Promise<K.GetResourcePolicyOutput> {
  const key = await resourceOf(svc, input.ResourceARN);
  const r = await svc.resources.get<{ policy?: string }>(key);
  return { Policy: r?.doc.policy ?? '{}' };
}

export async function deleteResourcePolicy(
  svc: KinesisService,
  _ctx: RequestContext,
  input: K.DeleteResourcePolicyInput,
) {
  await withPolicy(svc, input.ResourceARN, (d) => delete d.policy);
}
