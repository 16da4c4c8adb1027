/**
 * Kinesis over CBOR (`application/x-amz-cbor-1.1`), as the Java SDKs and the KCL send it:
 * requests built with cbor-x (not the codec Wharf uses), blobs as byte strings, timestamps as
 * tag 1 with epoch milliseconds both ways, errors as CBOR maps with x-amzn-ErrorType; every
 * action the JS SDK has (SubscribeToShard is an event stream: its own test).
 */
import { addExtension, decode, encode } from 'cbor-x';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';

/** tag 1 as the Java SDKs mean it: epoch milliseconds (cbor-x alone would read seconds) */
class Millis {
  constructor(readonly ms: number) {}
}
addExtension({
  Class: Millis,
  tag: 1,
  encode: (m: Millis, enc: (v: unknown) => Uint8Array) => enc(m.ms),
  decode: (v: number | bigint) => new Millis(Number(v)),
});

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Kinesis over CBOR', () => {
  let wharf: Wharf;
  const call = async (op: string, body: unknown, raw?: Buffer) => {
    const r = await fetch(wharf.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-cbor-1.1', 'x-amz-target': `Kinesis_20131202.${op}` },
      body: raw ?? encode(body),
    });
    const buf = Buffer.from(await r.arrayBuffer());
    expect(r.headers.get('content-type')).toBe('application/x-amz-cbor-1.1');
    return { status: r.status, type: r.headers.get('x-amzn-errortype'), body: decode(buf) as Any };
  };
  const ok = async (op: string, body: unknown) => {
    const r = await call(op, body);
    expect([op, r.status, r.body.__type]).toEqual([op, 200, undefined]);
    return r.body;
  };
  beforeAll(async () => {
    wharf = await withWharf();
  });
  afterAll(async () => {
    await wharf?.stop();
  });

  it('puts and reads records with byte-string data and millisecond timestamps', async () => {
    await ok('CreateStream', { StreamName: 'cb', ShardCount: 2 });
    const d = (await ok('DescribeStream', { StreamName: 'cb' })).StreamDescription;
    expect(d.StreamCreationTimestamp).toBeInstanceOf(Millis);
    expect(Math.abs(d.StreamCreationTimestamp.ms - Date.now())).toBeLessThan(60_000);
    const data = Buffer.from([0, 1, 2, 0xff, 0x80]);
    const put = await ok('PutRecord', { StreamName: 'cb', PartitionKey: 'k', Data: data });
    await ok('PutRecords', { StreamName: 'cb', Records: [{ PartitionKey: 'k', Data: Buffer.from('two') }] });
    const it = await ok('GetShardIterator', {
      StreamName: 'cb',
      ShardId: put.ShardId,
      ShardIteratorType: 'AT_TIMESTAMP',
      Timestamp: new Millis(Date.now() - 60_000),
    });
    const got = await ok('GetRecords', { ShardIterator: it.ShardIterator });
    expect(got.Records.map((r: Any) => Buffer.from(r.Data))).toEqual([data, Buffer.from('two')]);
    expect(got.Records[0].Data).toBeInstanceOf(Uint8Array);
    expect(got.Records[0].ApproximateArrivalTimestamp).toBeInstanceOf(Millis);
    expect(Math.abs(got.Records[0].ApproximateArrivalTimestamp.ms - Date.now())).toBeLessThan(60_000);
    expect(got.Records[0].SequenceNumber).toBe(put.SequenceNumber);
    // a timestamp in milliseconds in the future is refused as such (it would be read as seconds otherwise)
    const later = await call('GetShardIterator', {
      StreamName: 'cb',
      ShardId: put.ShardId,
      ShardIteratorType: 'AT_TIMESTAMP',
      Timestamp: new Millis(Date.now() + 3_600_000),
    });
    expect([later.status, later.type]).toEqual([400, 'InvalidArgumentException']);
  });

  it('answers errors as CBOR maps, with the type in a header too', async () => {
    const missing = await call('DescribeStream', { StreamName: 'nope' });
    expect(missing).toEqual({
      status: 400,
      type: 'ResourceNotFoundException',
      body: { __type: 'ResourceNotFoundException', message: 'Stream nope under account 000000000000 not found.' },
    });
    const invalid = await call('CreateStream', { StreamName: 'bad name', ShardCount: 1 });
    expect(invalid.body.__type).toBe('ValidationException');
    expect(invalid.body.message).toMatch(/^1 validation error detected: Value 'bad name' at 'streamName'/);
    const wrongType = await call('CreateStream', { StreamName: 'x', ShardCount: 'two' });
    expect([wrongType.status, wrongType.body.__type]).toEqual([400, 'SerializationException']);
    const garbage = await call('ListStreams', undefined, Buffer.from([0xff, 0xff, 0x00]));
    expect([garbage.status, garbage.body.__type]).toEqual([400, 'SerializationException']);
  });

  it('serves every other action', async () => {
    const arn = (await ok('DescribeStreamSummary', { StreamName: 'cb' })).StreamDescriptionSummary.StreamARN;
    const steps: [string, Any][] = [
      ['ListStreams', {}],
      ['ListShards', { StreamName: 'cb' }],
      ['AddTagsToStream', { StreamName: 'cb', Tags: { a: '1' } }],
      ['ListTagsForStream', { StreamName: 'cb' }],
      ['RemoveTagsFromStream', { StreamName: 'cb', TagKeys: ['a'] }],
      ['TagResource', { ResourceARN: arn, Tags: { b: '2' } }],
      ['ListTagsForResource', { ResourceARN: arn }],
      ['UntagResource', { ResourceARN: arn, TagKeys: ['b'] }],
      ['IncreaseStreamRetentionPeriod', { StreamName: 'cb', RetentionPeriodHours: 48 }],
      ['DecreaseStreamRetentionPeriod', { StreamName: 'cb', RetentionPeriodHours: 24 }],
      ['EnableEnhancedMonitoring', { StreamName: 'cb', ShardLevelMetrics: ['ALL'] }],
      ['DisableEnhancedMonitoring', { StreamName: 'cb', ShardLevelMetrics: ['ALL'] }],
      ['StartStreamEncryption', { StreamName: 'cb', EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }],
      ['StopStreamEncryption', { StreamName: 'cb', EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }],
      ['SplitShard', { StreamName: 'cb', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '1000' }],
      [
        'MergeShards',
        { StreamName: 'cb', ShardToMerge: 'shardId-000000000002', AdjacentShardToMerge: 'shardId-000000000003' },
      ],
      ['UpdateShardCount', { StreamName: 'cb', TargetShardCount: 3, ScalingType: 'UNIFORM_SCALING' }],
      ['RegisterStreamConsumer', { StreamARN: arn, ConsumerName: 'app' }],
      ['DescribeStreamConsumer', { StreamARN: arn, ConsumerName: 'app' }],
      ['ListStreamConsumers', { StreamARN: arn }],
      ['DeregisterStreamConsumer', { StreamARN: arn, ConsumerName: 'app' }],
      ['PutResourcePolicy', { ResourceARN: arn, Policy: '{"Version":"2012-10-17","Statement":[]}' }],
      ['GetResourcePolicy', { ResourceARN: arn }],
      ['DeleteResourcePolicy', { ResourceARN: arn }],
      ['UpdateMaxRecordSize', { StreamARN: arn, MaxRecordSizeInKiB: 2048 }],
      ['UpdateStreamMode', { StreamARN: arn, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }],
      ['UpdateStreamWarmThroughput', { StreamARN: arn, WarmThroughputMiBps: 5 }],
      ['DescribeLimits', {}],
      ['UpdateAccountSettings', { MinimumThroughputBillingCommitment: { Status: 'ENABLED' } }],
      ['DescribeAccountSettings', {}],
      ['DeleteStream', { StreamName: 'cb' }],
    ];
    const out: Record<string, Any> = {};
    for (const [op, body] of steps) out[op] = await ok(op, body);
    expect(out.ListTagsForStream!.Tags).toEqual([{ Key: 'a', Value: '1' }]);
    expect(out.RegisterStreamConsumer!.Consumer.ConsumerCreationTimestamp).toBeInstanceOf(Millis);
    expect(out.UpdateShardCount).toMatchObject({ CurrentShardCount: 2, TargetShardCount: 3 });
    expect(out.DescribeAccountSettings!.MinimumThroughputBillingCommitment.StartedAt).toBeInstanceOf(Millis);
    expect(out.ListShards!.Shards).toHaveLength(2);
  });
});
