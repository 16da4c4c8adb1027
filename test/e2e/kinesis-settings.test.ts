/**
 * Kinesis stream settings and consumers end to end through @aws-sdk/client-kinesis: tags by
 * stream and by ARN, encryption, enhanced monitoring, capacity mode, record size, warm
 * throughput, resource policies, limits and account settings; registering, listing and
 * deregistering consumers; both stores.
 */
import * as k from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';
import { sdkFailure } from '../helpers/sdk.js';
import { kinesisClient, readShard } from '../helpers/kinesis.js';

describe('Kinesis settings and consumers', () => {
  let wharf: Wharf;
  let c: k.KinesisClient;
  let arn = '';
  beforeAll(async () => {
    wharf = await withWharf();
    c = kinesisClient(wharf.endpoint);
    await c.send(new k.CreateStreamCommand({ StreamName: 'cfg', ShardCount: 1, Tags: { a: '1' } }));
    arn = (await c.send(new k.DescribeStreamSummaryCommand({ StreamName: 'cfg' }))).StreamDescriptionSummary!
      .StreamARN!;
  });
  afterAll(async () => {
    c?.destroy();
    await wharf?.stop();
  });

  it('tags a stream by name and by ARN', async () => {
    await c.send(new k.AddTagsToStreamCommand({ StreamName: 'cfg', Tags: { b: '2', c: '3' } }));
    await c.send(new k.TagResourceCommand({ ResourceARN: arn, Tags: { d: '4' } }));
    await c.send(new k.RemoveTagsFromStreamCommand({ StreamName: 'cfg', TagKeys: ['c'] }));
    const page = await c.send(new k.ListTagsForStreamCommand({ StreamName: 'cfg', Limit: 2 }));
    expect(page).toMatchObject({
      Tags: [
        { Key: 'a', Value: '1' },
        { Key: 'b', Value: '2' },
      ],
      HasMoreTags: true,
    });
    const rest = await c.send(new k.ListTagsForStreamCommand({ StreamARN: arn, ExclusiveStartTagKey: 'b' }));
    expect(rest).toMatchObject({ Tags: [{ Key: 'd', Value: '4' }], HasMoreTags: false });
    await c.send(new k.UntagResourceCommand({ ResourceARN: arn, TagKeys: ['d'] }));
    expect((await c.send(new k.ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: '2' },
    ]);
    const many = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`t${i}`, 'x']));
    expect(await sdkFailure(c.send(new k.AddTagsToStreamCommand({ StreamName: 'cfg', Tags: many })))).toEqual({
      name: 'InvalidArgumentException',
      message:
        'Failed to add tags to stream cfg under account 000000000000 because a given stream cannot have more than 50 tags associated with it.',
      status: 400,
    });
  });

  it('encrypts with KMS: puts and reads report it; stopping turns it off', async () => {
    await c.send(
      new k.StartStreamEncryptionCommand({ StreamName: 'cfg', EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }),
    );
    const d = (await c.send(new k.DescribeStreamCommand({ StreamName: 'cfg' }))).StreamDescription!;
    expect([d.EncryptionType, d.KeyId]).toEqual(['KMS', 'alias/aws/kinesis']);
    const put = await c.send(
      new k.PutRecordCommand({ StreamName: 'cfg', PartitionKey: 'p', Data: Buffer.from('secret') }),
    );
    expect(put.EncryptionType).toBe('KMS');
    const { records } = await readShard(c, 'cfg', put.ShardId!);
    expect(records[0]!.EncryptionType).toBe('KMS');
    await c.send(
      new k.StopStreamEncryptionCommand({ StreamName: 'cfg', EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }),
    );
    const after = await c.send(
      new k.PutRecordCommand({ StreamName: 'cfg', PartitionKey: 'p', Data: Buffer.from('plain') }),
    );
    expect(after.EncryptionType).toBeUndefined();
  });

  it('records enhanced monitoring, with ALL meaning every metric', async () => {
    const on = await c.send(
      new k.EnableEnhancedMonitoringCommand({ StreamName: 'cfg', ShardLevelMetrics: ['IncomingBytes'] }),
    );
    expect(on).toMatchObject({
      StreamName: 'cfg',
      CurrentShardLevelMetrics: [],
      DesiredShardLevelMetrics: ['IncomingBytes'],
    });
    const all = await c.send(new k.EnableEnhancedMonitoringCommand({ StreamName: 'cfg', ShardLevelMetrics: ['ALL'] }));
    expect(all.DesiredShardLevelMetrics).toHaveLength(7);
    const off = await c.send(new k.DisableEnhancedMonitoringCommand({ StreamARN: arn, ShardLevelMetrics: ['ALL'] }));
    expect(off.DesiredShardLevelMetrics).toEqual([]);
    expect(
      (await c.send(new k.DescribeStreamCommand({ StreamName: 'cfg' }))).StreamDescription!.EnhancedMonitoring,
    ).toEqual([{ ShardLevelMetrics: [] }]);
  });

  it('switches capacity mode, sets warm throughput on on-demand streams, and reports the limits', async () => {
    await c.send(new k.UpdateStreamModeCommand({ StreamARN: arn, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    expect(
      (await c.send(new k.DescribeStreamSummaryCommand({ StreamName: 'cfg' }))).StreamDescriptionSummary!
        .StreamModeDetails,
    ).toEqual({
      StreamMode: 'ON_DEMAND',
    });
    const warm = await c.send(new k.UpdateStreamWarmThroughputCommand({ StreamARN: arn, WarmThroughputMiBps: 10 }));
    expect(warm.WarmThroughput).toEqual({ TargetMiBps: 10, CurrentMiBps: 10 });
    expect(
      await sdkFailure(
        c.send(new k.UpdateShardCountCommand({ StreamARN: arn, TargetShardCount: 2, ScalingType: 'UNIFORM_SCALING' })),
      ),
    ).toMatchObject({ name: 'InvalidArgumentException' });
    const limits = await c.send(new k.DescribeLimitsCommand({}));
    expect(limits).toMatchObject({
      ShardLimit: 500,
      OpenShardCount: 1,
      OnDemandStreamCount: 1,
      OnDemandStreamCountLimit: 50,
    });
    await c.send(new k.UpdateStreamModeCommand({ StreamARN: arn, StreamModeDetails: { StreamMode: 'PROVISIONED' } }));
    expect(await c.send(new k.DescribeAccountSettingsCommand({}))).not.toHaveProperty(
      'MinimumThroughputBillingCommitment',
    );
    const set = await c.send(
      new k.UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: { Status: 'ENABLED' } }),
    );
    expect(set.MinimumThroughputBillingCommitment!.Status).toBe('ENABLED');
    expect((await c.send(new k.DescribeAccountSettingsCommand({}))).MinimumThroughputBillingCommitment!.Status).toBe(
      'ENABLED',
    );
  });

  it('limits the record size to MaxRecordSizeInKiB, which can be raised', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1);
    expect(
      await sdkFailure(c.send(new k.PutRecordCommand({ StreamName: 'cfg', PartitionKey: 'p', Data: big }))),
    ).toMatchObject({
      name: 'ValidationException',
    });
    await c.send(new k.UpdateMaxRecordSizeCommand({ StreamARN: arn, MaxRecordSizeInKiB: 2048 }));
    expect(
      (await c.send(new k.DescribeStreamSummaryCommand({ StreamName: 'cfg' }))).StreamDescriptionSummary!
        .MaxRecordSizeInKiB,
    ).toBe(2048);
    const ok = await c.send(new k.PutRecordCommand({ StreamName: 'cfg', PartitionKey: 'p', Data: big }));
    expect(ok.SequenceNumber).toMatch(/^\d{56}$/);
  });

  it('keeps a resource policy on a stream', async () => {
    const Policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
    await c.send(new k.PutResourcePolicyCommand({ ResourceARN: arn, Policy }));
    expect((await c.send(new k.GetResourcePolicyCommand({ ResourceARN: arn }))).Policy).toBe(Policy);
    await c.send(new k.DeleteResourcePolicyCommand({ ResourceARN: arn }));
    expect((await c.send(new k.GetResourcePolicyCommand({ ResourceARN: arn }))).Policy).toBe('{}');
    expect(
      await sdkFailure(c.send(new k.PutResourcePolicyCommand({ ResourceARN: arn, Policy: 'nope' }))),
    ).toMatchObject({
      name: 'InvalidArgumentException',
    });
  });

  it('registers consumers (AWS ARNs, up to 20), lists them in pages, and deletes them with the stream only when told', async () => {
    const reg = await c.send(new k.RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'app' }));
    expect(reg.Consumer).toMatchObject({ ConsumerName: 'app', ConsumerStatus: 'ACTIVE' });
    expect(reg.Consumer!.ConsumerARN).toMatch(
      /^arn:aws:kinesis:us-east-1:000000000000:stream\/cfg\/consumer\/app:\d+$/,
    );
    expect(
      await sdkFailure(c.send(new k.RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'app' }))),
    ).toMatchObject({ name: 'ResourceInUseException' });
    const byArn = await c.send(new k.DescribeStreamConsumerCommand({ ConsumerARN: reg.Consumer!.ConsumerARN }));
    expect(byArn.ConsumerDescription).toMatchObject({ ConsumerName: 'app', StreamARN: arn });
    const byName = await c.send(new k.DescribeStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'app' }));
    expect(byName.ConsumerDescription!.ConsumerARN).toBe(reg.Consumer!.ConsumerARN);
    await c.send(new k.TagResourceCommand({ ResourceARN: reg.Consumer!.ConsumerARN!, Tags: { team: 'x' } }));
    expect((await c.send(new k.ListTagsForResourceCommand({ ResourceARN: reg.Consumer!.ConsumerARN! }))).Tags).toEqual([
      { Key: 'team', Value: 'x' },
    ]);
    for (let i = 1; i < 20; i++)
      await c.send(
        new k.RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: `c${String(i).padStart(2, '0')}` }),
      );
    expect(
      await sdkFailure(c.send(new k.RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'one-more' }))),
    ).toMatchObject({
      name: 'LimitExceededException',
    });
    const first = await c.send(new k.ListStreamConsumersCommand({ StreamARN: arn, MaxResults: 15 }));
    const second = await c.send(new k.ListStreamConsumersCommand({ StreamARN: arn, NextToken: first.NextToken }));
    expect([...first.Consumers!, ...second.Consumers!].map((x) => x.ConsumerName)).toHaveLength(20);
    expect(second.NextToken).toBeUndefined();
    expect(
      (await c.send(new k.DescribeStreamSummaryCommand({ StreamName: 'cfg' }))).StreamDescriptionSummary!.ConsumerCount,
    ).toBe(20);
    await c.send(new k.DeregisterStreamConsumerCommand({ ConsumerARN: reg.Consumer!.ConsumerARN }));
    expect(
      await sdkFailure(c.send(new k.DescribeStreamConsumerCommand({ ConsumerARN: reg.Consumer!.ConsumerARN }))),
    ).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await sdkFailure(c.send(new k.DeleteStreamCommand({ StreamName: 'cfg' })))).toMatchObject({
      name: 'ResourceInUseException',
    });
    await c.send(new k.DeleteStreamCommand({ StreamName: 'cfg', EnforceConsumerDeletion: true }));
    await c.send(new k.CreateStreamCommand({ StreamName: 'cfg', ShardCount: 1 }));
    expect((await c.send(new k.ListStreamConsumersCommand({ StreamARN: arn }))).Consumers).toEqual([]);
  });
});
