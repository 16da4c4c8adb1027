/**
 * Kinesis streams and records end to end through @aws-sdk/client-kinesis (AWS JSON 1.1 over
 * HTTP/2): CreateStream, DescribeStream(Summary), ListStreams, PutRecord(s), every iterator type,
 * GetRecords paging, expiry and retention on the injected clock, DeleteStream; on the embedded
 * store and, with WHARF_TEST_STORE=postgres, on PostgreSQL.
 */
import { createHash } from 'node:crypto';
import * as k from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { ManualClock } from '../../src/kernel/clock.js';
import { withWharf } from '../helpers/sqs.js';
import { sdkFailure } from '../helpers/sdk.js';
import { kinesisClient, readShard, text } from '../helpers/kinesis.js';

const HOUR = 3_600_000;
const hashOf = (pk: string) => BigInt('0x' + createHash('md5').update(pk).digest('hex'));

describe('Kinesis streams and records', () => {
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

  it('creates a stream with even hash ranges and describes it as AWS does', async () => {
    await c.send(new k.CreateStreamCommand({ StreamName: 'four', ShardCount: 4, Tags: { team: 'a' } }));
    const { StreamDescription: d } = await c.send(new k.DescribeStreamCommand({ StreamName: 'four' }));
    expect(d).toMatchObject({
      StreamName: 'four',
      StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/four',
      StreamStatus: 'ACTIVE',
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      HasMoreShards: false,
      RetentionPeriodHours: 24,
      EncryptionType: 'NONE',
      EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
    });
    expect(d!.StreamCreationTimestamp!.getTime()).toBe(clock.now());
    expect(d!.Shards!.map((s) => [s.ShardId, s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey])).toEqual([
      ['shardId-000000000000', '0', '85070591730234615865843651857942052863'],
      ['shardId-000000000001', '85070591730234615865843651857942052864', '170141183460469231731687303715884105727'],
      ['shardId-000000000002', '170141183460469231731687303715884105728', '255211775190703847597530955573826158591'],
      ['shardId-000000000003', '255211775190703847597530955573826158592', '340282366920938463463374607431768211455'],
    ]);
    for (const s of d!.Shards!) {
      expect(s.SequenceNumberRange!.StartingSequenceNumber).toMatch(/^\d{56}$/);
      expect(s.SequenceNumberRange!.EndingSequenceNumber).toBeUndefined();
    }
    const page = await c.send(new k.DescribeStreamCommand({ StreamName: 'four', Limit: 2 }));
    expect(page.StreamDescription!.Shards!.map((s) => s.ShardId)).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
    ]);
    expect(page.StreamDescription!.HasMoreShards).toBe(true);
    const rest = await c.send(
      new k.DescribeStreamCommand({ StreamName: 'four', ExclusiveStartShardId: 'shardId-000000000001' }),
    );
    expect(rest.StreamDescription!.Shards!.map((s) => s.ShardId)).toEqual([
      'shardId-000000000002',
      'shardId-000000000003',
    ]);
    const { StreamDescriptionSummary: sum } = await c.send(
      new k.DescribeStreamSummaryCommand({ StreamARN: d!.StreamARN }),
    );
    expect(sum).toMatchObject({ StreamName: 'four', OpenShardCount: 4, StreamStatus: 'ACTIVE', ConsumerCount: 0 });
  });

  it('refuses a second stream of the same name, and names a missing one', async () => {
    await c.send(new k.CreateStreamCommand({ StreamName: 'dup', ShardCount: 1 }));
    expect(await sdkFailure(c.send(new k.CreateStreamCommand({ StreamName: 'dup', ShardCount: 1 })))).toEqual({
      name: 'ResourceInUseException',
      message: 'Stream dup under account 000000000000 already exists.',
      status: 400,
    });
    expect(await sdkFailure(c.send(new k.DescribeStreamCommand({ StreamName: 'nope' })))).toEqual({
      name: 'ResourceNotFoundException',
      message: 'Stream nope under account 000000000000 not found.',
      status: 400,
    });
    expect(
      await sdkFailure(
        c.send(new k.PutRecordCommand({ StreamName: 'nope', PartitionKey: 'a', Data: Buffer.from('x') })),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('validates input in the Coral wording', async () => {
    expect(await sdkFailure(c.send(new k.CreateStreamCommand({ StreamName: 'bad name', ShardCount: 0 })))).toEqual({
      name: 'ValidationException',
      message:
        "2 validation errors detected: Value 'bad name' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1",
      status: 400,
    });
    expect(await sdkFailure(c.send(new k.PutRecordsCommand({ StreamName: 'four', Records: [] })))).toMatchObject({
      name: 'ValidationException',
      message:
        "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1",
    });
    expect(
      await sdkFailure(
        c.send(
          new k.PutRecordCommand({
            StreamName: 'four',
            PartitionKey: 'a',
            Data: Buffer.from('x'),
            ExplicitHashKey: (1n << 128n).toString(),
          }),
        ),
      ),
    ).toEqual({
      name: 'InvalidArgumentException',
      message: `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${1n << 128n}`,
      status: 400,
    });
  });

  it('routes each partition key by its MD5 to the shard whose range holds it, ExplicitHashKey overriding', async () => {
    const { StreamDescription: d } = await c.send(new k.DescribeStreamCommand({ StreamName: 'four' }));
    const owner = (h: bigint) =>
      d!.Shards!.find(
        (s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= h && h <= BigInt(s.HashKeyRange!.EndingHashKey!),
      )!.ShardId;
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    const put = await c.send(
      new k.PutRecordsCommand({
        StreamName: 'four',
        Records: keys.map((PartitionKey, i) => ({ PartitionKey, Data: Buffer.from(`r${i}`) })),
      }),
    );
    expect(put.FailedRecordCount).toBe(0);
    put.Records!.forEach((r, i) => expect(r.ShardId).toBe(owner(hashOf(keys[i]!))));
    const one = await c.send(
      new k.PutRecordCommand({
        StreamName: 'four',
        PartitionKey: 'key-0',
        Data: Buffer.from('x'),
        ExplicitHashKey: '0',
      }),
    );
    expect(one.ShardId).toBe('shardId-000000000000');
    // within a shard, sequence numbers increase in put order and compare as strings
    const byShard = new Map<string, string[]>();
    for (const r of put.Records!) byShard.set(r.ShardId!, [...(byShard.get(r.ShardId!) ?? []), r.SequenceNumber!]);
    for (const seqs of byShard.values()) {
      expect([...seqs].sort()).toEqual(seqs);
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    // and each shard reads back exactly its records, in order, with their sequence numbers
    for (const [shardId, seqs] of byShard) {
      const { records } = await readShard(c, 'four', shardId);
      const mine = records.filter((r) => seqs.includes(r.SequenceNumber!));
      expect(mine.map((r) => r.SequenceNumber)).toEqual(seqs);
      for (const r of mine) expect(r.ApproximateArrivalTimestamp!.getTime()).toBe(clock.now());
    }
  });

  it('serves every iterator type', async () => {
    await c.send(new k.CreateStreamCommand({ StreamName: 'its', ShardCount: 1 }));
    const ShardId = 'shardId-000000000000';
    const put = async (s: string) =>
      (await c.send(new k.PutRecordCommand({ StreamName: 'its', PartitionKey: 'p', Data: Buffer.from(s) })))
        .SequenceNumber!;
    const s1 = await put('one');
    clock.advance(2000);
    const t2 = clock.now();
    const s2 = await put('two');
    const latest = (
      await c.send(new k.GetShardIteratorCommand({ StreamName: 'its', ShardId, ShardIteratorType: 'LATEST' }))
    ).ShardIterator!;
    const s3 = await put('three');
    const from = async (input: Partial<k.GetShardIteratorInput>) =>
      (await readShard(c, 'its', ShardId, input)).records.map(text);
    expect(await from({ ShardIteratorType: 'TRIM_HORIZON' })).toEqual(['one', 'two', 'three']);
    expect(await from({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: s2 })).toEqual([
      'two',
      'three',
    ]);
    expect(await from({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: s1 })).toEqual([
      'two',
      'three',
    ]);
    expect(await from({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: s3 })).toEqual([]);
    expect(await from({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(t2) })).toEqual(['two', 'three']);
    // LATEST: after the last record at the time the iterator was made, not at each read
    const r = await c.send(new k.GetRecordsCommand({ ShardIterator: latest }));
    expect(r.Records!.map(text)).toEqual(['three']);
    expect(r.MillisBehindLatest).toBe(0);
    // an iterator made on a fresh shard (AFTER the starting number) reads its first records
    await c.send(new k.CreateStreamCommand({ StreamName: 'fresh', ShardCount: 1 }));
    const { StreamDescription: d } = await c.send(new k.DescribeStreamCommand({ StreamName: 'fresh' }));
    const start = d!.Shards![0]!.SequenceNumberRange!.StartingSequenceNumber!;
    const at = (
      await c.send(
        new k.GetShardIteratorCommand({
          StreamName: 'fresh',
          ShardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          StartingSequenceNumber: start,
        }),
      )
    ).ShardIterator!;
    await c.send(new k.PutRecordCommand({ StreamName: 'fresh', PartitionKey: 'p', Data: Buffer.from('first') }));
    expect((await c.send(new k.GetRecordsCommand({ ShardIterator: at }))).Records!.map(text)).toEqual(['first']);
  });

  it('refuses iterator requests that do not fit, in AWS’s words', async () => {
    const ShardId = 'shardId-000000000000';
    const fail = (input: Partial<k.GetShardIteratorInput>) =>
      sdkFailure(
        c.send(new k.GetShardIteratorCommand({ StreamName: 'its', ShardId, ...input } as k.GetShardIteratorInput)),
      );
    expect(await fail({ ShardIteratorType: 'AT_SEQUENCE_NUMBER' })).toMatchObject({
      name: 'InvalidArgumentException',
      message:
        'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.',
    });
    const other = (await c.send(new k.DescribeStreamCommand({ StreamName: 'four' }))).StreamDescription!.Shards![1]!;
    expect(
      await fail({
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: other.SequenceNumberRange!.StartingSequenceNumber!,
      }),
    ).toMatchObject({
      name: 'InvalidArgumentException',
      message:
        'Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000',
    });
    expect(await fail({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: '12345' })).toMatchObject({
      name: 'InvalidArgumentException',
      message:
        'StartingSequenceNumber 12345 used in GetShardIterator on shard shardId-000000000000 in stream its under account 000000000000 is invalid.',
    });
    expect(await fail({ ShardIteratorType: 'AT_TIMESTAMP' })).toMatchObject({ name: 'InvalidArgumentException' });
    expect(await fail({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(clock.now() + 60_000) })).toMatchObject({
      name: 'InvalidArgumentException',
      message: `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ${clock.now() + 60_000}, currentTimestampInMillis: ${clock.now()}`,
    });
    expect(await fail({ ShardIteratorType: 'TRIM_HORIZON', ShardId: 'shardId-000000000009' })).toEqual({
      name: 'ResourceNotFoundException',
      message: 'Shard shardId-000000000009 in stream its under account 000000000000 does not exist',
      status: 400,
    });
  });

  it('pages GetRecords by Limit, and iterators expire after 5 minutes', async () => {
    await c.send(new k.CreateStreamCommand({ StreamName: 'pages', ShardCount: 1 }));
    await c.send(
      new k.PutRecordsCommand({
        StreamName: 'pages',
        Records: Array.from({ length: 7 }, (_, i) => ({ PartitionKey: 'p', Data: Buffer.from(`r${i}`) })),
      }),
    );
    let it = (
      await c.send(
        new k.GetShardIteratorCommand({
          StreamName: 'pages',
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator!;
    const pages: string[][] = [];
    for (let i = 0; i < 4; i++) {
      const r = await c.send(new k.GetRecordsCommand({ ShardIterator: it, Limit: 3 }));
      pages.push(r.Records!.map(text));
      it = r.NextShardIterator!;
    }
    expect(pages).toEqual([['r0', 'r1', 'r2'], ['r3', 'r4', 'r5'], ['r6'], []]);
    clock.advance(300_001);
    const err = await sdkFailure(c.send(new k.GetRecordsCommand({ ShardIterator: it })));
    expect(err.name).toBe('ExpiredIteratorException');
    expect(err.message).toMatch(
      /^Iterator expired\. The iterator was created at time \w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4} while right now it is .* which is further in the future than the tolerated delay of 300000 milliseconds\.$/,
    );
    const tampered = it.slice(0, 20) + (it[20] === 'A' ? 'B' : 'A') + it.slice(21);
    expect(await sdkFailure(c.send(new k.GetRecordsCommand({ ShardIterator: tampered })))).toMatchObject({
      name: 'InvalidArgumentException',
      message: 'Invalid ShardIterator.',
    });
  });

  it('keeps records for the retention period, then they disappear', async () => {
    await c.send(new k.CreateStreamCommand({ StreamName: 'ret', ShardCount: 1 }));
    await c.send(new k.PutRecordCommand({ StreamName: 'ret', PartitionKey: 'p', Data: Buffer.from('old') }));
    clock.advance(2 * HOUR);
    await c.send(new k.PutRecordCommand({ StreamName: 'ret', PartitionKey: 'p', Data: Buffer.from('new') }));
    const all = async () => (await readShard(c, 'ret', 'shardId-000000000000')).records.map(text);
    clock.advance(21 * HOUR);
    expect(await all()).toEqual(['old', 'new']);
    clock.advance(2 * HOUR);
    // past 24 hours the old record is gone from reads at once, and from the store at the next trim
    expect(await all()).toEqual(['new']);
    await wharf.scheduler.runOnce('kinesis.trim');
    expect(await all()).toEqual(['new']);
    // a longer retention keeps what is left longer
    await c.send(new k.IncreaseStreamRetentionPeriodCommand({ StreamName: 'ret', RetentionPeriodHours: 48 }));
    clock.advance(2 * HOUR);
    expect(await all()).toEqual(['new']);
    expect(
      await sdkFailure(
        c.send(new k.IncreaseStreamRetentionPeriodCommand({ StreamName: 'ret', RetentionPeriodHours: 30 })),
      ),
    ).toEqual({
      name: 'InvalidArgumentException',
      message:
        'Requested retention period (30 hours) for stream ret can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.',
      status: 400,
    });
    expect(
      await sdkFailure(
        c.send(new k.DecreaseStreamRetentionPeriodCommand({ StreamName: 'ret', RetentionPeriodHours: 23 })),
      ),
    ).toEqual({
      name: 'InvalidArgumentException',
      message: 'Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.',
      status: 400,
    });
    await c.send(new k.DecreaseStreamRetentionPeriodCommand({ StreamName: 'ret', RetentionPeriodHours: 24 }));
    expect(await all()).toEqual([]);
    expect(
      (await c.send(new k.DescribeStreamSummaryCommand({ StreamName: 'ret' }))).StreamDescriptionSummary!
        .RetentionPeriodHours,
    ).toBe(24);
  });

  it('lists streams in pages, and a deleted stream takes its records and iterators with it', async () => {
    const first = await c.send(new k.ListStreamsCommand({ Limit: 2 }));
    expect(first.StreamNames).toEqual(['dup', 'four']);
    expect(first.HasMoreStreams).toBe(true);
    expect(first.StreamSummaries![0]).toMatchObject({
      StreamName: 'dup',
      StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/dup',
      StreamStatus: 'ACTIVE',
    });
    const next = await c.send(new k.ListStreamsCommand({ NextToken: first.NextToken }));
    expect(next.StreamNames![0]).toBe('fresh');
    const after = await c.send(new k.ListStreamsCommand({ ExclusiveStartStreamName: 'its' }));
    expect(after.StreamNames).toEqual(['pages', 'ret']);

    const it = (
      await c.send(
        new k.GetShardIteratorCommand({
          StreamName: 'dup',
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'LATEST',
        }),
      )
    ).ShardIterator!;
    await c.send(new k.PutRecordCommand({ StreamName: 'dup', PartitionKey: 'p', Data: Buffer.from('gone') }));
    await c.send(new k.DeleteStreamCommand({ StreamName: 'dup' }));
    expect(await sdkFailure(c.send(new k.DescribeStreamCommand({ StreamName: 'dup' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await c.send(new k.CreateStreamCommand({ StreamName: 'dup', ShardCount: 1 }));
    expect((await readShard(c, 'dup', 'shardId-000000000000')).records).toEqual([]);
    expect(await sdkFailure(c.send(new k.GetRecordsCommand({ ShardIterator: it })))).toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Shard shardId-000000000000 in stream dup under account 000000000000 does not exist',
    });
  });
});
