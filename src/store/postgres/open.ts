/** The shared store: the PostgreSQL kernel with every service module plugged in. */
import type { Stores } from '../types.js';
import type { PgOptions } from './db.js';
import { PostgresKernel } from './kernel.js';
import { PostgresSqsStore } from '../sqs/postgres/store.js';
import { PostgresJobs } from '../jobs/postgres.js';
import { PostgresKinesis } from '../kinesis/postgres.js';

export async function openPostgresStores(opts: PgOptions): Promise<Stores> {
  const kernel = await PostgresKernel.open(opts);
  return {
    kernel,
    sqs: new PostgresSqsStore(kernel),
    jobs: new PostgresJobs(kernel),
    kinesis: new PostgresKinesis(kernel),
  };
}
