/**
 * Kinesis resharding end to end through @aws-sdk/client-kinesis: SplitShard, MergeShards and
 * UpdateShardCount with AWS's lineage, a reader that follows ChildShards keeping each key's
 * order, ListShards with every ShardFilter and its NextToken, the UPDATING status on the
 * injected clock, AWS's errors; both stores.
 */
import * as k from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { ManualClock } from '../../src/kernel/clock.js';
import { withWharf } from '../helpers/sqs.js';
import { sdkFailure } from '../helpers/sdk.js';
import { kinesisClient, text } from '../helpers/kinesis.js';

const MAX = (1n << 128n) - 1n;
const id = (n: number) => `shardId-${String(n).padStart(12, '0')}`;

/** Reads a stream as a KCL-style consumer: every shard after its parents, following ChildShards. */
async function readAll(c: k.KinesisClient, StreamName: string): Promise<k._Record[]> {
  const shards = (await c.send(new k.ListShardsCommand({ StreamName }))).Shards!;
  const done = new Set<string>();
  const out: k._Record[] = [];
  const queue = shards.filter((s) => !s.ParentShardId).map((s) => s.ShardId!);
  for (let turns = 0; queue.length; turns++) {
    if (turns > 1000) throw new Error(`shards never reached: ${queue.join(', ')}`);
    const ShardId = queue.shift()!;
    if (done.has(ShardId)) continue;
    const s = shards.find((x) => x.ShardId === ShardId)!;
    // a child is read once all its parents are
    if ([s.ParentShardId, s.AdjacentParentShardId].some((p) => p && !done.has(p))) {
      queue.push(ShardId);
      continue;
    }
    done.add(ShardId);
    let it = (await c.send(new k.GetShardIteratorCommand({ StreamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' })))
      .ShardIterator;
    while (it) {
      const r = await c.send(new k.GetRecordsCommand({ ShardIterator: it }));
      out.push(...r.Records!);
      if (!r.NextShardIterator) {
        for (const ch of r.ChildShards ?? []) queue.push(ch.ShardId!);
        break;
      }
      if (!r.Records!.length) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

describe('Kinesis resharding', () => {
  let wharf: Wharf;
  let c: k.KinesisClient;
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  beforeAll(async () => {
    wharf = await withWharf({ clock });
    c = kinesisClient(wharf.endpoint);
  });
  afterAll(async () => {
    c?.destroy();
    await wharf?.stop();
  });

  const put = (StreamName: string, keys: string[], tag: string) =>
    c.send(
      new k.PutRecordsCommand({
        StreamName,
        Records: keys.map((PartitionKey) => ({ PartitionKey, Data: Buffer.from(`${PartitionKey}:${tag}`) })),
      }),
    );

  it('splits a shard: the parent closes with an ending number, two children share its range', async () => {
    await c.send(new k.CreateStreamCommand({ StreamName: 'split', ShardCount: 1 }));
    await put('split', ['a', 'b'], '1');
    clock.advance(1000);
    const mid = (1n << 127n).toString();
    await c.send(new k.SplitShardCommand({ StreamName: 'split', ShardToSplit: id(0), NewStartingHashKey: mid }));
    const { Shards } = await c.send(new k.ListShardsCommand({ StreamName: 'split' }));
    expect(
      Shards!.map((s) => [s.ShardId, s.ParentShardId, s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey]),
    ).toEqual([
      [id(0), undefined, '0', MAX.toString()],
      [id(1), id(0), '0', (BigInt(mid) - 1n).toString()],
      [id(2), id(0), mid, MAX.toString()],
    ]);
    const parent = Shards![0]!.SequenceNumberRange!;
    expect(parent.EndingSequenceNumber).toMatch(/^\d{56}$/);
    expect(BigInt(parent.EndingSequenceNumber!) >= BigInt(parent.StartingSequenceNumber!)).toBe(true);
    // new records go to the children; the parent's reader gets ChildShards and no next iterator
    const after = await put('split', ['a', 'b'], '2');
    expect(after.Records!.every((r) => r.ShardId !== id(0))).toBe(true);
    const it = (
      await c.send(
        new k.GetShardIteratorCommand({ StreamName: 'split', ShardId: id(0), ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator!;
    const r = await c.send(new k.GetRecordsCommand({ ShardIterator: it }));
    expect(r.Records!.map(text)).toEqual(['a:1', 'b:1']);
    expect(r.NextShardIterator).toBeUndefined();
    expect(r.ChildShards!.map((x) => [x.ShardId, x.ParentShards])).toEqual([
      [id(1), [id(0)]],
      [id(2), [id(0)]],
    ]);
    const summary = await c.send(new k.DescribeStreamSummaryCommand({ StreamName: 'split' }));
    expect(summary.StreamDescriptionSummary!.OpenShardCount).toBe(2);
  });

  it('merges two adjacent shards (either order) into one child with both parents', async () => {
    await c.send(new k.CreateStreamCommand({ StreamName: 'merge', ShardCount: 3 }));
    expect(
      await sdkFailure(
        c.send(new k.MergeShardsCommand({ StreamName: 'merge', ShardToMerge: id(0), AdjacentShardToMerge: id(2) })),
      ),
    ).toEqual({
      name: 'InvalidArgumentException',
      message: `Shards ${id(0)} and ${id(2)} in stream merge under account 000000000000 are not an adjacent pair of shards eligible for merging`,
      status: 400,
    });
    await c.send(new k.MergeShardsCommand({ StreamName: 'merge', ShardToMerge: id(2), AdjacentShardToMerge: id(1) }));
    const { Shards } = await c.send(
      new k.ListShardsCommand({ StreamName: 'merge', ShardFilter: { Type: 'AT_LATEST' } }),
    );
    expect(Shards!.map((s) => [s.ShardId, s.ParentShardId, s.AdjacentParentShardId])).toEqual([
      [id(0), undefined, undefined],
      [id(3), id(2), id(1)],
    ]);
    expect(Shards![1]!.HashKeyRange).toEqual({
      StartingHashKey: ((MAX + 1n) / 3n).toString(),
      EndingHashKey: MAX.toString(),
    });
    expect(
      await sdkFailure(
        c.send(new k.MergeShardsCommand({ StreamName: 'merge', ShardToMerge: id(1), AdjacentShardToMerge: id(0) })),
      ),
    ).toEqual({
      name: 'ResourceNotFoundException',
      message: `Could not find shard ${id(1)} in stream merge under account 000000000000.`,
      status: 400,
    });
  });

  it('refuses a split outside the shard’s range', async () => {
    expect(
      await sdkFailure(
        c.send(new k.SplitShardCommand({ StreamName: 'merge', ShardToSplit: id(0), NewStartingHashKey: '1' })),
      ),
    ).toEqual({
      name: 'InvalidArgumentException',
      message: `NewStartingHashKey 1 used in SplitShard() on shard ${id(0)} in stream merge under account 000000000000 is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey ${(MAX + 1n) / 3n - 1n}.`,
      status: 400,
    });
  });

  it('keeps every key in order for a reader that follows ChildShards across splits and merges', async () => {
    await c.send(new k.CreateStreamCommand({ StreamName: 'order', ShardCount: 2 }));
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    let round = 0;
    const burst = async () => {
      for (let i = 0; i < 3; i++) await put('order', keys, String(round++));
    };
    await burst();
    await c.send(
      new k.SplitShardCommand({
        StreamName: 'order',
        ShardToSplit: id(0),
        NewStartingHashKey: (1n << 126n).toString(),
      }),
    );
    await burst();
    await c.send(
      new k.UpdateShardCountCommand({ StreamName: 'order', TargetShardCount: 5, ScalingType: 'UNIFORM_SCALING' }),
    );
    await burst();
    const open = (
      await c.send(new k.ListShardsCommand({ StreamName: 'order', ShardFilter: { Type: 'AT_LATEST' } }))
    ).Shards!.sort((a, b) =>
      BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1,
    );
    await c.send(
      new k.MergeShardsCommand({
        StreamName: 'order',
        ShardToMerge: open[0]!.ShardId!,
        AdjacentShardToMerge: open[1]!.ShardId!,
      }),
    );
    await burst();
    const got = await readAll(c, 'order');
    expect(got.length).toBe(keys.length * round);
    for (const key of keys) {
      const seen = got.filter((r) => r.PartitionKey === key).map((r) => Number(text(r).split(':')[1]));
      expect(seen).toEqual(Array.from({ length: round }, (_, i) => i));
    }
  });

  it('scales uniformly: even ranges at the target, each child with at most two parents', async () => {
    await c.send(new k.CreateStreamCommand({ StreamName: 'scale', ShardCount: 5 }));
    const out = await c.send(
      new k.UpdateShardCountCommand({ StreamName: 'scale', TargetShardCount: 3, ScalingType: 'UNIFORM_SCALING' }),
    );
    expect(out).toMatchObject({ StreamName: 'scale', CurrentShardCount: 5, TargetShardCount: 3 });
    const open = (await c.send(new k.ListShardsCommand({ StreamName: 'scale', ShardFilter: { Type: 'AT_LATEST' } })))
      .Shards!;
    const width = (MAX + 1n) / 3n;
    expect(open.map((s) => [s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey])).toEqual([
      ['0', (width - 1n).toString()],
      [width.toString(), (2n * width - 1n).toString()],
      [(2n * width).toString(), MAX.toString()],
    ]);
    const all = (await c.send(new k.ListShardsCommand({ StreamName: 'scale' }))).Shards!;
    for (const s of all) {
      const parents = [s.ParentShardId, s.AdjacentParentShardId].filter(Boolean);
      for (const p of parents)
        expect(all.find((x) => x.ShardId === p)?.SequenceNumberRange?.EndingSequenceNumber).toBeDefined();
    }
    expect(
      await sdkFailure(
        c.send(
          new k.UpdateShardCountCommand({ StreamName: 'scale', TargetShardCount: 7, ScalingType: 'UNIFORM_SCALING' }),
        ),
      ),
    ).toEqual({
      name: 'LimitExceededException',
      message:
        'UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 3 Target shard count: 7',
      status: 400,
    });
    expect(
      await sdkFailure(
        c.send(
          new k.UpdateShardCountCommand({ StreamName: 'scale', TargetShardCount: 1, ScalingType: 'UNIFORM_SCALING' }),
        ),
      ),
    ).toMatchObject({ name: 'LimitExceededException' });
  });

  it('lists shards by every filter, in pages whose NextToken expires after 300 seconds', async () => {
    // 'split': shard 0 closed at T, children 1 and 2 opened at T
    const list = async (ShardFilter?: k.ShardFilter) =>
      (
        await c.send(new k.ListShardsCommand({ StreamName: 'split', ...(ShardFilter ? { ShardFilter } : {}) }))
      ).Shards!.map((s) => s.ShardId);
    const created = (await c.send(new k.DescribeStreamSummaryCommand({ StreamName: 'split' })))
      .StreamDescriptionSummary!.StreamCreationTimestamp!;
    expect(await list()).toEqual([id(0), id(1), id(2)]);
    expect(await list({ Type: 'AT_LATEST' })).toEqual([id(1), id(2)]);
    expect(await list({ Type: 'AT_TRIM_HORIZON' })).toEqual([id(0)]);
    expect(await list({ Type: 'FROM_TRIM_HORIZON' })).toEqual([id(0), id(1), id(2)]);
    expect(await list({ Type: 'AFTER_SHARD_ID', ShardId: id(0) })).toEqual([id(1), id(2)]);
    expect(await list({ Type: 'AT_TIMESTAMP', Timestamp: created })).toEqual([id(0)]);
    expect(await list({ Type: 'AT_TIMESTAMP', Timestamp: new Date(clock.now()) })).toEqual([id(1), id(2)]);
    expect(await list({ Type: 'FROM_TIMESTAMP', Timestamp: created })).toEqual([id(0), id(1), id(2)]);
    expect(
      await sdkFailure(
        c.send(new k.ListShardsCommand({ StreamName: 'split', ShardFilter: { Type: 'AFTER_SHARD_ID' } })),
      ),
    ).toMatchObject({
      name: 'InvalidArgumentException',
    });

    const first = await c.send(new k.ListShardsCommand({ StreamName: 'split', MaxResults: 2 }));
    expect(first.Shards!.map((s) => s.ShardId)).toEqual([id(0), id(1)]);
    const second = await c.send(new k.ListShardsCommand({ NextToken: first.NextToken }));
    expect(second.Shards!.map((s) => s.ShardId)).toEqual([id(2)]);
    expect(second.NextToken).toBeUndefined();
    expect(await c.send(new k.ListShardsCommand({ StreamName: 'split', ExclusiveStartShardId: id(1) }))).toMatchObject({
      Shards: [{ ShardId: id(2) }],
    });
    expect(await sdkFailure(c.send(new k.ListShardsCommand({})))).toEqual({
      name: 'InvalidArgumentException',
      message: 'Either NextToken or StreamName should be provided.',
      status: 400,
    });
    expect(
      await sdkFailure(c.send(new k.ListShardsCommand({ StreamName: 'split', NextToken: first.NextToken }))),
    ).toEqual({
      name: 'InvalidArgumentException',
      message: 'NextToken and StreamName cannot be provided together.',
      status: 400,
    });
    clock.advance(300_001);
    expect(await sdkFailure(c.send(new k.ListShardsCommand({ NextToken: first.NextToken })))).toMatchObject({
      name: 'ExpiredNextTokenException',
    });
  });

  it('stays UPDATING for the configured time, writable through the old shards, then completes', async () => {
    const slow = await withWharf({ clock, kinesisStatusDelayMs: 30_000 });
    const s = kinesisClient(slow.endpoint);
    try {
      await s.send(new k.CreateStreamCommand({ StreamName: 'slow', ShardCount: 1 }));
      const status = async () =>
        (await s.send(new k.DescribeStreamSummaryCommand({ StreamName: 'slow' }))).StreamDescriptionSummary!
          .StreamStatus;
      expect(await status()).toBe('CREATING');
      expect(
        await sdkFailure(
          s.send(new k.PutRecordCommand({ StreamName: 'slow', PartitionKey: 'a', Data: Buffer.from('x') })),
        ),
      ).toMatchObject({ name: 'ResourceNotFoundException' });
      clock.advance(30_000);
      expect(await status()).toBe('ACTIVE');
      await s.send(
        new k.SplitShardCommand({
          StreamName: 'slow',
          ShardToSplit: id(0),
          NewStartingHashKey: (1n << 127n).toString(),
        }),
      );
      expect(await status()).toBe('UPDATING');
      expect(
        await sdkFailure(
          s.send(new k.SplitShardCommand({ StreamName: 'slow', ShardToSplit: id(0), NewStartingHashKey: '100' })),
        ),
      ).toEqual({
        name: 'ResourceInUseException',
        message: 'Stream slow under account 000000000000 not ACTIVE, instead in state UPDATING',
        status: 400,
      });
      const during = await s.send(
        new k.PutRecordCommand({ StreamName: 'slow', PartitionKey: 'a', Data: Buffer.from('x') }),
      );
      expect(during.ShardId).toBe(id(0));
      clock.advance(30_000);
      expect(await status()).toBe('ACTIVE');
      const afterwards = await s.send(
        new k.PutRecordCommand({ StreamName: 'slow', PartitionKey: 'a', Data: Buffer.from('y') }),
      );
      expect(afterwards.ShardId).not.toBe(id(0));
    } finally {
      s.destroy();
      await slow.stop();
    }
  });

  it('refuses shards beyond the account’s limit', async () => {
    const small = await withWharf({ clock, kinesisShardLimit: 3 });
    const s = kinesisClient(small.endpoint);
    try {
      await s.send(new k.CreateStreamCommand({ StreamName: 'a', ShardCount: 2 }));
      expect(await sdkFailure(s.send(new k.CreateStreamCommand({ StreamName: 'b', ShardCount: 2 })))).toEqual({
        name: 'LimitExceededException',
        message:
          'This request would exceed the shard limit for the account 000000000000 in us-east-1. Current shard count for the account: 2. Limit: 3. Number of additional shards that would have resulted from this request: 2. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.',
        status: 400,
      });
      await s.send(new k.SplitShardCommand({ StreamName: 'a', ShardToSplit: id(0), NewStartingHashKey: '1000' }));
      expect(
        await sdkFailure(
          s.send(
            new k.SplitShardCommand({
              StreamName: 'a',
              ShardToSplit: id(1),
              NewStartingHashKey: ((1n << 127n) + (1n << 100n)).toString(),
            }),
          ),
        ),
      ).toMatchObject({ name: 'LimitExceededException' });
    } finally {
      s.destroy();
      await small.stop();
    }
  });
});
