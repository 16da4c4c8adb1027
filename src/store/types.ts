/** What every backend opens, and the error every backend raises when the database is away. */
import type { StoreKernel } from './kernel.js';
import type { DurableQueues } from './jobs/types.js';
import type { SqsStore } from './sqs/types.js';
import type { KinesisStore } from './kinesis/types.js';

/** What a backend opens: its kernel and the service modules plugged into it. */
export interface Stores {
  kernel: StoreKernel;
  sqs: SqsStore;
  /** durable internal queues (deliveries, invocations) */
  jobs: DurableQueues;
  /** Kinesis shard records */
  kinesis: KinesisStore;
}

/** The store cannot be reached right now (database down); clients get ServiceUnavailable and retry. */
export class StoreUnavailableError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'StoreUnavailableError';
  }
}
