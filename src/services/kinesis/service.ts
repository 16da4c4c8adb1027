/**
 * Kinesis state: each stream is a resource (`kinesis.stream`) holding its layout (shards, hash
 * ranges, lineage) and settings; its records are in the KinesisStore under the stream's id, a
 * fresh one per creation. Writers find a record's shard through a cached, compiled layout; the
 * store refuses appends to a closed shard, so a stale layout is caught and reloaded.
 */
import type { Clock } from '../../kernel/clock.js';
import type { RequestContext } from '../../kernel/context.js';
import type { KinesisStore } from '../../store/kinesis/types.js';
import type { StoreKernel } from '../../store/kernel.js';
import { VersionConflict, type Resource, type ResourceKey, type ResourceStore } from '../../store/resources.js';
import { parseArn } from '../shared/arn.js';
import type { EnhancedMetrics } from './generated/types.js';
import { KinesisErrors } from './errors.js';
import { IteratorSigner } from './iterators.js';

export const STREAM = 'kinesis.stream';
export const HOUR = 3_600_000;

export interface ShardDoc {
  index: number;
  /** the hash key range, decimal */
  start: string;
  end: string;
  /** epoch ms */
  createdAt: number;
  parent?: number;
  adjacent?: number;
  /** set once a split or merge closed it */
  closedAt?: number;
}

export type ShardMetric = NonNullable<EnhancedMetrics['ShardLevelMetrics']>[number];

export type StreamStatus = 'CREATING' | 'DELETING' | 'ACTIVE' | 'UPDATING';

export interface StreamDoc {
  /** this creation of the stream: the store keeps its records under it */
  id: string;
  createdAt: number;
  mode: 'PROVISIONED' | 'ON_DEMAND';
  retentionHours: number;
  /** the status until readyAt; ACTIVE after it */
  status: StreamStatus;
  readyAt: number;
  shards: ShardDoc[];
  nextIndex: number;
  encryption: 'NONE' | 'KMS';
  keyId?: string;
  monitoring: ShardMetric[];
  maxRecordSizeKiB: number;
  /** UpdateStreamWarmThroughput (on-demand streams), recorded */
  warmMiBps?: number;
  policy?: string;
  /**
   * A reshard written before it is carried out (the layout after it, the shards it opens and
   * closes): whoever loads the stream once it is due completes it, so a crash halfway through
   * leaves nothing half done.
   */
  pending?: { shards: ShardDoc[]; nextIndex: number; open: number[]; close: number[] };
}

/** The open shards of a layout, by hash range, for routing writes. */
export interface Layout {
  version: number;
  open: { shard: ShardDoc; start: bigint; end: bigint }[];
}

export interface Loaded {
  key: ResourceKey;
  res: Resource<StreamDoc>;
  layout: Layout;
  at: number;
}

export interface KinesisConfig {
  /** how long CREATING and UPDATING last (0: streams are ACTIVE at once) */
  statusDelayMs: number;
  /** the per-shard throughput limits (on by default for provisioned streams) */
  throttling: boolean;
  /** open shards per account and region (AWS's quota: 500) */
  shardLimit: number;
}

export interface KinesisDeps {
  resources: ResourceStore;
  store: KinesisStore;
  clock: Clock;
  kernel: Pick<StoreKernel, 'kind' | 'onWake' | 'onMissedWakeups'>;
  iteratorSecret: Buffer;
  config?: Partial<KinesisConfig>;
}

/** On a shared database other nodes change streams too: a cached layout is trusted this long. */
const SHARED_CACHE_MS = 1000;

export class KinesisService {
  readonly resources: ResourceStore;
  readonly store: KinesisStore;
  readonly clock: Clock;
  readonly iterators: IteratorSigner;
  readonly config: KinesisConfig;
  private readonly cache = new Map<string, Loaded>();
  private readonly cacheMs: number;

  constructor(readonly deps: KinesisDeps) {
    this.resources = deps.resources;
    this.store = deps.store;
    this.clock = deps.clock;
    this.iterators = new IteratorSigner(deps.iteratorSecret);
    this.config = { statusDelayMs: 0, throttling: true, shardLimit: 500, ...deps.config };
    this.cacheMs = deps.kernel.kind === 'sqlite' ? Infinity : SHARED_CACHE_MS;
  }

  key(account: string, region: string, name: string): ResourceKey {
    return { kind: STREAM, account, region, name };
  }

  /**
   * The stream a request names by StreamName or StreamARN (both: they must agree). The ARN's
   * account and region select the stream, as on AWS where an ARN may name another account's
   * stream (with a resource policy).
   */
  target(ctx: RequestContext, input: { StreamName?: string; StreamARN?: string }): ResourceKey {
    if (input.StreamARN !== undefined) {
      const arn = parseArn(input.StreamARN);
      const name = arn?.resource.startsWith('stream/') ? arn.resource.slice(7) : undefined;
      if (!arn || arn.service !== 'kinesis' || !name || name.includes('/'))
        throw KinesisErrors.invalid(`Invalid StreamARN ${input.StreamARN}.`);
      if (input.StreamName !== undefined && input.StreamName !== name)
        throw KinesisErrors.invalid(
          `StreamName ${input.StreamName} and StreamARN ${input.StreamARN} do not name the same stream.`,
        );
      return this.key(arn.account, arn.region, name);
    }
    if (input.StreamName === undefined) throw KinesisErrors.invalid('Either StreamName or StreamARN must be provided.');
    return this.key(ctx.account, ctx.region, input.StreamName);
  }

  arn(key: ResourceKey): string {
    return `arn:aws:kinesis:${key.region}:${key.account}:stream/${key.name}`;
  }

  /** The stream's status now (CREATING and UPDATING end at readyAt). */
  status(doc: StreamDoc): StreamStatus {
    return doc.status !== 'DELETING' && this.clock.now() >= doc.readyAt ? 'ACTIVE' : doc.status;
  }

  /** The stream, from the cache when it is fresh enough; ResourceNotFoundException when absent. */
  async load(key: ResourceKey, fresh = false): Promise<Loaded> {
    const k = `${key.account}/${key.region}/${key.name}`;
    const now = this.clock.now();
    const hit = this.cache.get(k);
    if (hit && !fresh && now - hit.at < this.cacheMs) return hit;
    let res = await this.resources.get<StreamDoc>(key);
    if (res?.doc.pending && now >= res.doc.readyAt) res = await this.settle(res);
    if (!res) {
      this.cache.delete(k);
      throw KinesisErrors.streamNotFound(key.name, key.account);
    }
    const loaded = { key, res, layout: hit?.layout.version === res.version ? hit.layout : layoutOf(res), at: now };
    this.cache.set(k, loaded);
    return loaded;
  }

  /** Writes the stream's document (conditional on the version read) and refreshes the cache. */
  async save(l: Loaded, doc: StreamDoc, tags?: Record<string, string>): Promise<Loaded> {
    const res = await this.resources.put(l.key, doc, {
      now: this.clock.now(),
      ifVersion: l.res.version,
      ...(tags ? { tags } : {}),
    });
    const loaded = { key: l.key, res, layout: layoutOf(res), at: this.clock.now() };
    this.cache.set(`${l.key.account}/${l.key.region}/${l.key.name}`, loaded);
    return loaded;
  }

  /**
   * Carries out a stream's pending reshard: the children open and the parents close in the
   * store (so writers holding the old layout are refused from now on), then the new layout is
   * published. Every step may run twice (another node, a retry after a crash).
   */
  private async settle(res: Resource<StreamDoc>): Promise<Resource<StreamDoc> | undefined> {
    const doc = res.doc;
    const p = doc.pending!;
    await this.store.openShards(doc.id, p.open, doc.retentionHours * HOUR);
    for (const i of p.close) await this.store.close(doc.id, i);
    const next: StreamDoc = { ...doc, shards: p.shards, nextIndex: p.nextIndex };
    delete next.pending;
    const key = this.key(res.account, res.region, res.name);
    try {
      return await this.resources.put(key, next, { now: this.clock.now(), ifVersion: res.version });
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
      const again = await this.resources.get<StreamDoc>(key);
      return again?.doc.pending ? this.settle(again) : again;
    }
  }

  /** Refuses a change that would open `more` shards beyond the account's quota in the region. */
  async checkShardLimit(account: string, region: string, more: number): Promise<void> {
    if (more <= 0) return;
    const streams = await this.resources.list<StreamDoc>(STREAM, account, region);
    let open = 0;
    for (const s of streams)
      open += (s.doc.pending?.shards ?? s.doc.shards).filter((x) => x.closedAt === undefined).length;
    if (open + more > this.config.shardLimit)
      throw KinesisErrors.shardLimit(account, region, open, this.config.shardLimit, more);
  }

  forget(key: ResourceKey): void {
    this.cache.delete(`${key.account}/${key.region}/${key.name}`);
  }

  clearCache(): void {
    this.cache.clear();
  }
}

export function layoutOf(res: Resource<StreamDoc>): Layout {
  const open = res.doc.shards
    .filter((s) => s.closedAt === undefined)
    .map((shard) => ({ shard, start: BigInt(shard.start), end: BigInt(shard.end) }))
    .sort((a, b) => (a.start < b.start ? -1 : 1));
  return { version: res.version, open };
}

/** The open shard whose hash key range holds the key (the open shards cover the whole range). */
export function shardFor(layout: Layout, hash: bigint): ShardDoc {
  const open = layout.open;
  let lo = 0;
  let hi = open.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (open[mid]!.start <= hash) lo = mid;
    else hi = mid - 1;
  }
  return open[lo]!.shard;
}
