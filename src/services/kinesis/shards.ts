/** Shards: ListShards (every ShardFilter), SplitShard, MergeShards, UpdateShardCount. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../../kernel/context.js';
import type * as K from './generated/types.js';
import { KinesisErrors } from './errors.js';
import { Reshard } from './reshard.js';
import { HASH_MAX, shardIdOf, shardIndexOf } from './sequence.js';
import { describeShards, visibleShards } from './shard-map.js';
import { HOUR, type KinesisService, type Loaded, type ShardDoc, type StreamDoc } from './service.js';
import { updateStream } from './streams.js';

/** AWS: a ListShards NextToken is good for 300 seconds */
const TOKEN_TTL_MS = 300_000;

interface ListToken {
  account: string;
  region: string;
  stream: string;
  after: number;
  filter?: K.ShardFilter;
  issuedAt: number;
}

function signToken(svc: KinesisService, t: ListToken): string {
  const body = Buffer.from(JSON.stringify(t));
  const mac = createHmac('sha256', svc.deps.iteratorSecret).update(body).digest().subarray(0, 16);
  return Buffer.concat([body, mac]).toString('base64url');
}

function readToken(svc: KinesisService, token: string): ListToken | undefined {
  const b = Buffer.from(token, 'base64url');
  if (b.length < 17) return undefined;
  const body = b.subarray(0, b.length - 16);
  const mac = createHmac('sha256', svc.deps.iteratorSecret).update(body).digest().subarray(0, 16);
  if (!timingSafeEqual(mac, b.subarray(b.length - 16))) return undefined;
  const t = JSON.parse(body.toString('utf8')) as ListToken & { filter?: { Timestamp?: number } };
  if (t.filter?.Timestamp !== undefined) t.filter.Timestamp = new Date(t.filter.Timestamp) as never;
  return t;
}

/** Which shards a ShardFilter keeps (open at a time: created by then and not closed before it). */
function filterShards(svc: KinesisService, l: Loaded, shards: ShardDoc[], f: K.ShardFilter | undefined): ShardDoc[] {
  if (!f) return shards;
  const doc = l.res.doc;
  // before the stream existed, the shards it was created with
  const openAt = (t: number) => (s: ShardDoc) =>
    t < doc.createdAt
      ? s.parent === undefined && s.adjacent === undefined
      : s.createdAt <= t && (s.closedAt === undefined || s.closedAt > t);
  const horizon = svc.clock.now() - doc.retentionHours * HOUR;
  switch (f.Type) {
    case 'AFTER_SHARD_ID': {
      if (f.ShardId === undefined)
        throw KinesisErrors.invalid('ShardId is required for the AFTER_SHARD_ID ShardFilter type.');
      const after = shardIndexOf(f.ShardId) ?? -1;
      return shards.filter((s) => s.index > after);
    }
    case 'AT_LATEST':
      return shards.filter((s) => s.closedAt === undefined);
    case 'AT_TRIM_HORIZON':
      return shards.filter(openAt(horizon));
    case 'FROM_TRIM_HORIZON':
      return shards;
    case 'AT_TIMESTAMP':
    case 'FROM_TIMESTAMP': {
      if (f.Timestamp === undefined)
        throw KinesisErrors.invalid(`Timestamp is required for the ${f.Type} ShardFilter type.`);
      const t = f.Timestamp.getTime();
      return f.Type === 'AT_TIMESTAMP'
        ? shards.filter(openAt(t))
        : shards.filter((s) => s.closedAt === undefined || s.closedAt > t);
    }
  }
}

export async function listShards(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.ListShardsInput,
): Promise<K.ListShardsOutput> {
  const named = input.StreamName !== undefined || input.StreamARN !== undefined;
  if (!named && input.NextToken === undefined)
    throw KinesisErrors.invalid('Either NextToken or StreamName should be provided.');
  if (named && input.NextToken !== undefined)
    throw KinesisErrors.invalid('NextToken and StreamName cannot be provided together.');
  let key;
  let after = -1;
  let filter = input.ShardFilter;
  if (input.NextToken !== undefined) {
    if (input.ExclusiveStartShardId !== undefined || input.ShardFilter !== undefined)
      throw KinesisErrors.invalid('NextToken cannot be provided together with ExclusiveStartShardId or ShardFilter.');
    const t = readToken(svc, input.NextToken);
    if (!t) throw KinesisErrors.invalid(`Invalid NextToken.`);
    if (svc.clock.now() - t.issuedAt > TOKEN_TTL_MS)
      throw KinesisErrors.expiredToken(`The timestamp of the NextToken has expired.`);
    key = svc.key(t.account, t.region, t.stream);
    after = t.after;
    filter = t.filter;
  } else {
    key = svc.target(ctx, input);
    if (input.ExclusiveStartShardId !== undefined) after = shardIndexOf(input.ExclusiveStartShardId) ?? -1;
  }
  const l = await svc.load(key, true);
  if (
    input.StreamCreationTimestamp !== undefined &&
    Math.floor(input.StreamCreationTimestamp.getTime() / 1000) !== Math.floor(l.res.doc.createdAt / 1000)
  )
    throw KinesisErrors.streamNotFound(key.name, key.account);
  const all = filterShards(svc, l, visibleShards(svc, l), filter).filter((s) => s.index > after);
  const max = input.MaxResults ?? 1000;
  const page = all.slice(0, max);
  const out: K.ListShardsOutput = { Shards: await describeShards(svc, l, page) };
  if (all.length > max)
    out.NextToken = signToken(svc, {
      account: key.account,
      region: key.region,
      stream: key.name,
      after: page[page.length - 1]!.index,
      ...(filter ? { filter } : {}),
      issuedAt: svc.clock.now(),
    });
  return out;
}

/** The open shard a reshard names, or AWS's ResourceNotFoundException. */
function openShard(l: Loaded, shardId: string): ShardDoc {
  const index = shardIndexOf(shardId);
  const s = l.res.doc.shards.find((x) => x.index === index && x.closedAt === undefined);
  if (!s)
    throw KinesisErrors.notFound(
      `Could not find shard ${shardId} in stream ${l.key.name} under account ${l.key.account}.`,
    );
  return s;
}

/** Writes a reshard as pending (the stream is UPDATING meanwhile); loading the stream completes it. */
async function reshard(
  svc: KinesisService,
  ctx: RequestContext,
  input: { StreamName?: string; StreamARN?: string },
  plan: (doc: StreamDoc, l: Loaded, r: (doc: StreamDoc) => Reshard) => Reshard,
): Promise<void> {
  const l = await updateStream(svc, ctx, input, async (doc, cur) => {
    const status = svc.status(doc);
    if (status !== 'ACTIVE') throw KinesisErrors.notActive(cur.key.name, cur.key.account, status);
    const now = svc.clock.now();
    const r = plan(doc, cur, (d) => new Reshard(d.shards, d.nextIndex, now));
    const opened = r.shards.filter((s) => s.closedAt === undefined).length;
    await svc.checkShardLimit(cur.key.account, cur.key.region, opened - cur.layout.open.length);
    doc.pending = { shards: r.shards, nextIndex: r.nextIndex, open: r.open, close: r.close };
    doc.status = 'UPDATING';
    doc.readyAt = now + svc.config.statusDelayMs;
    return doc;
  });
  // with no delay the reshard is carried out now
  if (svc.clock.now() >= l.res.doc.readyAt) await svc.load(l.key, true);
}

export async function splitShard(svc: KinesisService, ctx: RequestContext, input: K.SplitShardInput): Promise<void> {
  const at = BigInt(input.NewStartingHashKey);
  await reshard(svc, ctx, input, (doc, l, make) => {
    const s = openShard(l, input.ShardToSplit);
    if (at <= BigInt(s.start) + 1n || at >= BigInt(s.end) || at > HASH_MAX)
      throw KinesisErrors.invalid(
        `NewStartingHashKey ${input.NewStartingHashKey} used in SplitShard() on shard ${shardIdOf(s.index)} in stream ${l.key.name} under account ${l.key.account} is not both greater than one plus the shard's StartingHashKey ${s.start} and less than the shard's EndingHashKey ${s.end}.`,
      );
    const r = make(doc);
    r.split(s, at);
    return r;
  });
}

export async function mergeShards(svc: KinesisService, ctx: RequestContext, input: K.MergeShardsInput): Promise<void> {
  await reshard(svc, ctx, input, (doc, l, make) => {
    const a = openShard(l, input.ShardToMerge);
    const b = openShard(l, input.AdjacentShardToMerge);
    if (BigInt(a.end) + 1n !== BigInt(b.start) && BigInt(b.end) + 1n !== BigInt(a.start))
      throw KinesisErrors.invalid(
        `Shards ${shardIdOf(a.index)} and ${shardIdOf(b.index)} in stream ${l.key.name} under account ${l.key.account} are not an adjacent pair of shards eligible for merging`,
      );
    const r = make(doc);
    r.merge(a, b);
    return r;
  });
}

export async function updateShardCount(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.UpdateShardCountInput,
): Promise<K.UpdateShardCountOutput> {
  let current = 0;
  const target = input.TargetShardCount;
  const l0 = await svc.load(svc.target(ctx, input), true);
  if (l0.res.doc.mode === 'ON_DEMAND')
    throw KinesisErrors.invalid(
      `UpdateShardCount is not supported for stream ${l0.key.name} under account ${l0.key.account} in ON_DEMAND mode.`,
    );
  await reshard(svc, ctx, input, (doc, l, make) => {
    current = l.layout.open.length;
    if (target > current * 2)
      throw KinesisErrors.limit(
        `UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: ${current} Target shard count: ${target}`,
      );
    if (target < Math.ceil(current / 2))
      throw KinesisErrors.limit(
        `UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: ${current} Target shard count: ${target}`,
      );
    const r = make(doc);
    r.scaleTo(
      l.layout.open.map((o) => o.shard),
      target,
    );
    return r;
  });
  const key = l0.key;
  return { StreamName: key.name, StreamARN: svc.arn(key), CurrentShardCount: current, TargetShardCount: target };
}
