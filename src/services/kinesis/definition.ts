/** Kinesis Data Streams on the platform: AWS JSON 1.1 (and CBOR), signed as `kinesis`, Coral validation. */
import { defineService, typedOperations } from '../definition.js';
import type { Operations } from './generated/types.js';
import { KinesisErrors } from './errors.js';
import { getRecords, getShardIterator, putRecord, putRecords } from './records.js';
import { KinesisService } from './service.js';
import {
  deregisterStreamConsumer,
  describeStreamConsumer,
  listStreamConsumers,
  registerStreamConsumer,
} from './consumers.js';
import {
  addTagsToStream,
  deleteResourcePolicy,
  describeAccountSettings,
  describeLimits,
  disableEnhancedMonitoring,
  enableEnhancedMonitoring,
  getResourcePolicy,
  listTagsForResource,
  listTagsForStream,
  putResourcePolicy,
  removeTagsFromStream,
  startStreamEncryption,
  stopStreamEncryption,
  tagResource,
  untagResource,
  updateAccountSettings,
  updateMaxRecordSize,
  updateStreamMode,
  updateStreamWarmThroughput,
} from './settings.js';
import { listShards, mergeShards, splitShard, updateShardCount } from './shards.js';
import {
  createStream,
  decreaseStreamRetentionPeriod,
  deleteStream,
  describeStream,
  describeStreamSummary,
  increaseStreamRetentionPeriod,
  listStreams,
} from './streams.js';

export const kinesis = defineService<KinesisService>({
  model: 'kinesis',
  signingName: 'kinesis',
  protocols: ['json1.1', 'cbor'],
  targetPrefix: 'Kinesis_20131202',
  operations: typedOperations<KinesisService, Operations>({
    AddTagsToStream: addTagsToStream,
    CreateStream: createStream,
    DecreaseStreamRetentionPeriod: decreaseStreamRetentionPeriod,
    DeleteResourcePolicy: deleteResourcePolicy,
    DeleteStream: deleteStream,
    DeregisterStreamConsumer: deregisterStreamConsumer,
    DescribeAccountSettings: describeAccountSettings,
    DescribeLimits: describeLimits,
    DescribeStream: describeStream,
    DescribeStreamConsumer: describeStreamConsumer,
    DescribeStreamSummary: describeStreamSummary,
    DisableEnhancedMonitoring: disableEnhancedMonitoring,
    EnableEnhancedMonitoring: enableEnhancedMonitoring,
    GetRecords: getRecords,
    GetResourcePolicy: getResourcePolicy,
    GetShardIterator: getShardIterator,
    IncreaseStreamRetentionPeriod: increaseStreamRetentionPeriod,
    ListShards: listShards,
    ListStreamConsumers: listStreamConsumers,
    ListStreams: listStreams,
    ListTagsForResource: listTagsForResource,
    ListTagsForStream: listTagsForStream,
    MergeShards: mergeShards,
    PutRecord: putRecord,
    PutRecords: putRecords,
    PutResourcePolicy: putResourcePolicy,
    RegisterStreamConsumer: registerStreamConsumer,
    RemoveTagsFromStream: removeTagsFromStream,
    SplitShard: splitShard,
    StartStreamEncryption: startStreamEncryption,
    StopStreamEncryption: stopStreamEncryption,
    TagResource: tagResource,
    UntagResource: untagResource,
    UpdateAccountSettings: updateAccountSettings,
    UpdateMaxRecordSize: updateMaxRecordSize,
    UpdateShardCount: updateShardCount,
    UpdateStreamMode: updateStreamMode,
    UpdateStreamWarmThroughput: updateStreamWarmThroughput,
  }),
  errors: {
    internalFailure: KinesisErrors.InternalFailure,
    serviceUnavailable: KinesisErrors.ServiceUnavailable,
    invalidAction: KinesisErrors.InvalidAction,
    validation: KinesisErrors.validation,
  },
  validation: 'coral',
  start: async (deps) => {
    const svc = new KinesisService({
      resources: deps.stores.kernel.resources,
      store: deps.stores.kinesis,
      clock: deps.clock,
      kernel: deps.stores.kernel,
      iteratorSecret: await deps.stores.kernel.secret('kinesis-iterators'),
      config: {
        throttling: deps.kinesis.throttling,
        statusDelayMs: deps.kinesis.statusDelayMs,
        shardLimit: deps.quotas.kinesisShardLimit,
      },
    });
    // records past their stream's retention go (reads skip them before that already)
    deps.scheduler.add({
      name: 'kinesis.trim',
      intervalMs: deps.maintenanceIntervalMs && Math.max(deps.maintenanceIntervalMs, 10_000),
      run: async () => void (await deps.stores.kinesis.trim(deps.clock.now())),
    });
    return svc;
  },
  stop: () => {},
  afterReset: (svc) => svc.clearCache(),
});
