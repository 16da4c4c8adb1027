/** The data plane: PutRecord(s), GetShardIterator, GetRecords. */
import type { RequestContext } from '../../kernel/context.js';
import type { ShardAppend } from '../../store/kinesis/types.js';
import type * as K from './generated/types.js';
import { KinesisErrors } from './errors.js';
import { amzUtc, ITERATOR_TTL_MS } from './iterators.js';
import { formatSequence, HASH_MAX, hashKeyOf, parseSequence, shardIdOf, shardIndexOf } from './sequence.js';
import { HOUR, shardFor, type KinesisService, type Loaded, type ShardDoc } from './service.js';
import { visibleShards } from './shard-map.js';

/** AWS: GetRecords returns at most 10 MiB */
const MAX_GET_BYTES = 10 * 1024 * 1024;
/** AWS: a PutRecords request carries at most 5 MiB (data and partition keys) */
const MAX_PUT_BYTES = 5 * 1024 * 1024;
/** a stale layout is reloaded and the refused records routed again, at most this often */
const ROUTE_ATTEMPTS = 5;

const sec = (ms: number) => Math.floor(ms / 1000);

function sequenceOf(shard: ShardDoc, counter: number, arrival: number): string {
  return formatSequence({
    shardCreatedSec: sec(shard.createdAt),
    shardIndex: shard.index,
    counter,
    timeSec: sec(arrival),
  });
}

/** A stream that takes writes and reads: ACTIVE or UPDATING. */
async function writable(svc: KinesisService, ctx: RequestContext, input: { StreamName?: string; StreamARN?: string }) {
  const l = await svc.load(svc.target(ctx, input));
  const status = svc.status(l.res.doc);
  if (status !== 'ACTIVE' && status !== 'UPDATING') throw KinesisErrors.streamNotFound(l.key.name, l.key.account);
  return l;
}

function hashOf(partitionKey: string, explicit: string | undefined): bigint {
  if (explicit === undefined) return hashKeyOf(partitionKey);
  const h = BigInt(explicit);
  if (h > HASH_MAX)
    throw KinesisErrors.invalid(
      `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${explicit}`,
    );
  return h;
}

function checkSize(l: Loaded, data: Buffer, partitionKey: string, path: string): void {
  const max = l.res.doc.maxRecordSizeKiB * 1024;
  if (data.length + Buffer.byteLength(partitionKey) > max)
    throw KinesisErrors.validation(
      `1 validation error detected: Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
}

interface Placed {
  shard: ShardDoc;
  counter: number;
  arrival: number;
}

/**
 * Appends records to the shards their hash keys fall in; a record refused because its shard
 * closed meanwhile (another node split it) is routed again through the fresh layout.
 */
async function place(
  svc: KinesisService,
  l: Loaded,
  recs: { partitionKey: string; data: Buffer; hash: bigint }[],
): Promise<Placed[]> {
  const out = new Array<Placed>(recs.length);
  let todo = recs.map((_, i) => i);
  for (let attempt = 0; todo.length; attempt++) {
    if (attempt === ROUTE_ATTEMPTS) throw KinesisErrors.ServiceUnavailable();
    if (attempt > 0) l = await svc.load(l.key, true);
    const groups = new Map<number, { shard: ShardDoc; idx: number[] }>();
    for (const i of todo) {
      const shard = shardFor(l.layout, recs[i]!.hash);
      let g = groups.get(shard.index);
      if (!g) groups.set(shard.index, (g = { shard, idx: [] }));
      g.idx.push(i);
    }
    const list = [...groups.values()];
    const appends: ShardAppend[] = list.map((g) => ({
      shard: g.shard.index,
      records: g.idx.map((i) => ({ partitionKey: recs[i]!.partitionKey, data: recs[i]!.data })),
    }));
    const done = await svc.store.append(l.res.doc.id, appends, svc.clock.now());
    todo = [];
    list.forEach((g, gi) => {
      const a = done[gi];
      if (!a) {
        todo.push(...g.idx);
        return;
      }
      g.idx.forEach((i, k) => (out[i] = { shard: g.shard, counter: a.first + k, arrival: a.arrival }));
    });
  }
  return out;
}

export async function putRecord(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.PutRecordInput,
): Promise<K.PutRecordOutput> {
  const l = await writable(svc, ctx, input);
  checkSize(l, input.Data, input.PartitionKey, 'data');
  const hash = hashOf(input.PartitionKey, input.ExplicitHashKey);
  if (input.SequenceNumberForOrdering !== undefined && !parseSequence(input.SequenceNumberForOrdering))
    throw KinesisErrors.invalid(
      `ExclusiveMinimumSequenceNumber ${input.SequenceNumberForOrdering} used in PutRecord on stream ${l.key.name} under account ${l.key.account} is invalid.`,
    );
  // every record gets a higher sequence number than the ones before it in its shard, so
  // SequenceNumberForOrdering holds without more work
  const [p] = await place(svc, l, [{ partitionKey: input.PartitionKey, data: input.Data, hash }]);
  return {
    ShardId: shardIdOf(p!.shard.index),
    SequenceNumber: sequenceOf(p!.shard, p!.counter, p!.arrival),
    ...(l.res.doc.encryption === 'KMS' ? { EncryptionType: 'KMS' as const } : {}),
  };
}

export async function putRecords(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.PutRecordsInput,
): Promise<K.PutRecordsOutput> {
  const l = await writable(svc, ctx, input);
  let total = 0;
  const recs = input.Records.map((r, i) => {
    checkSize(l, r.Data, r.PartitionKey, `records.${i + 1}.member.data`);
    total += r.Data.length + Buffer.byteLength(r.PartitionKey);
    return { partitionKey: r.PartitionKey, data: r.Data, hash: hashOf(r.PartitionKey, r.ExplicitHashKey) };
  });
  if (total > MAX_PUT_BYTES)
    throw KinesisErrors.invalid(`Records size exceeds ${MAX_PUT_BYTES / 1024 / 1024} MB limit`);
  const placed = await place(svc, l, recs);
  return {
    FailedRecordCount: 0,
    Records: placed.map((p) => ({
      ShardId: shardIdOf(p.shard.index),
      SequenceNumber: sequenceOf(p.shard, p.counter, p.arrival),
    })),
    ...(l.res.doc.encryption === 'KMS' ? { EncryptionType: 'KMS' as const } : {}),
  };
}

const BOTH_OR_NEITHER = (type: string, has: boolean) =>
  'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or ' +
  `(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified ${type} and ${has ? 'also a' : 'no'} StartingSequenceNumber.`;

export async function getShardIterator(
  svc: KinesisService,
  ctx: RequestContext,
  input: K.GetShardIteratorInput,
): Promise<K.GetShardIteratorOutput> {
  const key = svc.target(ctx, input);
  const index = shardIndexOf(input.ShardId);
  const l = await svc.load(key);
  const shard = index === undefined ? undefined : visibleShards(svc, l).find((s) => s.index === index);
  if (!shard) throw KinesisErrors.shardNotFound(input.ShardId, key.name, key.account);
  const shardId = shardIdOf(shard.index);
  const type = input.ShardIteratorType;
  const seq = input.StartingSequenceNumber;
  const now = svc.clock.now();
  let counter: number;
  if (type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER') {
    if (seq === undefined) throw KinesisErrors.invalid(BOTH_OR_NEITHER(type, false));
    const p = parseSequence(seq);
    const where = `used in GetShardIterator on shard ${shardId} in stream ${key.name} under account ${key.account}`;
    if (!p) throw KinesisErrors.invalid(`StartingSequenceNumber ${seq} ${where} is invalid.`);
    if (p.shardIndex !== shard.index)
      throw KinesisErrors.invalid(
        `Invalid StartingSequenceNumber. It encodes ${shardIdOf(p.shardIndex)}, while it was used in a call to a shard with ${shardId}`,
      );
    if (p.shardCreatedSec !== sec(shard.createdAt))
      throw KinesisErrors.invalid(
        `StartingSequenceNumber ${seq} ${where} is invalid because it did not come from this stream.`,
      );
    counter = type === 'AT_SEQUENCE_NUMBER' ? p.counter : p.counter + 1;
  } else if (seq !== undefined && (type === 'TRIM_HORIZON' || type === 'LATEST')) {
    throw KinesisErrors.invalid(BOTH_OR_NEITHER(type, true));
  } else if (type === 'TRIM_HORIZON') {
    counter = 0;
  } else if (type === 'LATEST') {
    counter = (await svc.store.states(l.res.doc.id, [shard.index])).get(shard.index)?.next ?? 0;
  } else {
    if (input.Timestamp === undefined)
      throw KinesisErrors.invalid(
        'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
      );
    const at = input.Timestamp.getTime();
    if (at > now)
      throw KinesisErrors.invalid(
        `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ${at}, currentTimestampInMillis: ${now}`,
      );
    counter = await svc.store.seek(l.res.doc.id, shard.index, at);
  }
  return {
    ShardIterator: svc.iterators.sign({
      account: key.account,
      region: key.region,
      stream: key.name,
      streamId: l.res.doc.id,
      shard: shard.index,
      counter,
      issuedAt: now,
    }),
  };
}

export async function getRecords(
  svc: KinesisService,
  _ctx: RequestContext,
  input: K.GetRecordsInput,
): Promise<K.GetRecordsOutput> {
  const it = svc.iterators.verify(input.ShardIterator);
  if (!it) throw KinesisErrors.invalid('Invalid ShardIterator.');
  const now = svc.clock.now();
  if (now - it.issuedAt > ITERATOR_TTL_MS)
    throw KinesisErrors.expired(
      `Iterator expired. The iterator was created at time ${amzUtc(it.issuedAt)} while right now it is ${amzUtc(now)} which is further in the future than the tolerated delay of ${ITERATOR_TTL_MS} milliseconds.`,
    );
  const key = svc.key(it.account, it.region, it.stream);
  const shardId = shardIdOf(it.shard);
  let l: Loaded;
  try {
    l = await svc.load(key);
  } catch {
    throw KinesisErrors.shardNotFound(shardId, key.name, key.account);
  }
  const doc = l.res.doc;
  const shard = doc.id === it.streamId ? doc.shards.find((s) => s.index === it.shard) : undefined;
  if (!shard) throw KinesisErrors.shardNotFound(shardId, key.name, key.account);
  const records = await svc.store.read(doc.id, shard.index, it.counter, {
    limit: input.Limit ?? 10_000,
    maxBytes: MAX_GET_BYTES,
    notBefore: now - doc.retentionHours * HOUR,
  });
  const next = records.length ? records[records.length - 1]!.counter + 1 : it.counter;
  // the state after the records: a closed shard's end is final
  const state = (await svc.store.states(doc.id, [shard.index])).get(shard.index);
  const caughtUp = !state || next >= state.next;
  const out: K.GetRecordsOutput = {
    Records: records.map((r) => ({
      SequenceNumber: sequenceOf(shard, r.counter, r.arrival),
      ApproximateArrivalTimestamp: new Date(r.arrival),
      Data: r.data,
      PartitionKey: r.partitionKey,
      ...(doc.encryption === 'KMS' ? { EncryptionType: 'KMS' as const } : {}),
    })),
    MillisBehindLatest: caughtUp || !records.length ? 0 : Math.max(0, now - records[records.length - 1]!.arrival),
  };
  // the store closes a shard before the layout shows its children (service.ts, settle)
  if (caughtUp && state?.closed) {
    out.ChildShards = childShards(doc.shards, shard.index);
  } else {
    out.NextShardIterator = svc.iterators.sign({ ...it, counter: next, issuedAt: now });
  }
  return out;
}

/** The shards a split or merge of this one opened, as GetRecords and SubscribeToShard name them. */
export function childShards(shards: ShardDoc[], index: number): K.ChildShard[] {
  return shards
    .filter((s) => s.parent === index || s.adjacent === index)
    .map((s) => ({
      ShardId: shardIdOf(s.index),
      ParentShards: [s.parent, s.adjacent].filter((x): x is number => x !== undefined).map(shardIdOf),
      HashKeyRange: { StartingHashKey: s.start, EndingHashKey: s.end },
    }));
}
