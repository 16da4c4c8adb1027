/** Kinesis Data Streams on the platform: AWS JSON 1.1 (and CBOR), signed as `kinesis`, Coral validation. */
import { defineService, typedOperations } from '../definition.js';
import type { Operations } from './generated/types.js';
import { KinesisErrors } from './errors.js';
import { getRecords, getShardIterator, putRecord, putRecords } from './records.js';
import { KinesisService } from './service.js';
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
  protocols: ['json1.1'],
  targetPrefix: 'Kinesis_20131202',
  operations: typedOperations<KinesisService, Operations>({
    CreateStream: createStream,
    DecreaseStreamRetentionPeriod: decreaseStreamRetentionPeriod,
    DeleteStream: deleteStream,
    DescribeStream: describeStream,
    DescribeStreamSummary: describeStreamSummary,
    GetRecords: getRecords,
    GetShardIterator: getShardIterator,
    IncreaseStreamRetentionPeriod: increaseStreamRetentionPeriod,
    ListShards: listShards,
    ListStreams: listStreams,
    MergeShards: mergeShards,
    PutRecord: putRecord,
    PutRecords: putRecords,
    SplitShard: splitShard,
    UpdateShardCount: updateShardCount,
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
