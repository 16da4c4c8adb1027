/**
 * Shards as clients see them: ids, hash ranges, lineage, and sequence number ranges (a closed
 * shard's ending number is formed from its last counter and the time it closed).
 */
import type { Shard } from './generated/types.js';
import { formatSequence, HASH_MAX, shardIdOf } from './sequence.js';
import { HOUR, type KinesisService, type Loaded, type ShardDoc } from './service.js';

const sec = (ms: number) => Math.floor(ms / 1000);

/** N shards evenly over the hash key space: width ⌊2^128/N⌋, the last one ending at 2^128−1. */
export function evenRanges(n: number, from = 0n, to = HASH_MAX): { start: string; end: string }[] {
  const width = (to - from + 1n) / BigInt(n);
  return Array.from({ length: n }, (_, i) => ({
    start: (from + width * BigInt(i)).toString(),
    end: (i === n - 1 ? to : from + width * BigInt(i + 1) - 1n).toString(),
  }));
}

export function startingSequence(s: ShardDoc): string {
  return formatSequence({
    shardCreatedSec: sec(s.createdAt),
    shardIndex: s.index,
    counter: 0,
    timeSec: sec(s.createdAt),
  });
}

export function endingSequence(s: ShardDoc, next: number): string {
  return formatSequence({
    shardCreatedSec: sec(s.createdAt),
    shardIndex: s.index,
    counter: Math.max(next - 1, 0),
    timeSec: sec(s.closedAt!),
  });
}

/** The shards a stream still shows: open ones, and closed ones whose records may be within retention. */
export function visibleShards(svc: KinesisService, l: Loaded): ShardDoc[] {
  const horizon = svc.clock.now() - l.res.doc.retentionHours * HOUR;
  return l.res.doc.shards.filter((s) => s.closedAt === undefined || s.closedAt >= horizon);
}

/** The shards as AWS describes them (their closed ones' ending sequence numbers from the store). */
export async function describeShards(svc: KinesisService, l: Loaded, shards: ShardDoc[]): Promise<Shard[]> {
  const closed = shards.filter((s) => s.closedAt !== undefined).map((s) => s.index);
  const states = closed.length ? await svc.store.states(l.res.doc.id, closed) : new Map<number, { next: number }>();
  return shards.map((s) => {
    const out: Shard = {
      ShardId: shardIdOf(s.index),
      HashKeyRange: { StartingHashKey: s.start, EndingHashKey: s.end },
      SequenceNumberRange: { StartingSequenceNumber: startingSequence(s) },
    };
    if (s.parent !== undefined) out.ParentShardId = shardIdOf(s.parent);
    if (s.adjacent !== undefined) out.AdjacentParentShardId = shardIdOf(s.adjacent);
    if (s.closedAt !== undefined)
      out.SequenceNumberRange.EndingSequenceNumber = endingSequence(s, states.get(s.index)?.next ?? 0);
    return out;
  });
}
