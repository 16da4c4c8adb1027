/** The embedded store: the SQLite kernel with every service module plugged in. */
import type { Stores } from '../types.js';
import type { EngineOptions } from './engine.js';
import { SqliteKernel } from './kernel.js';
import { SqliteSqsStore } from '../sqs/sqlite/store.js';
import { LogJobs } from '../jobs/log.js';
import { jobsWakeKey } from '../jobs/types.js';
import { LogKinesis } from '../kinesis/log.js';

/** `now`: the injected clock (the SQS index is rebuilt at start as of this time) */
export function openSqliteStores(opts: EngineOptions & { now?: () => number }): Stores {
  const kernel = new SqliteKernel(opts);
  try {
    const sqs = new SqliteSqsStore(kernel, { now: opts.now });
    const l = kernel.openLog('jobs');
    const jobs = new LogJobs(l.log, l.dir, l.durability === 'fsync', (q) => kernel.wake(jobsWakeKey(q)));
    jobs.load();
    kernel.plug(jobs.module());
    const k = kernel.openLog('kinesis');
    const kinesis = new LogKinesis(k.log, k.dir, k.durability === 'fsync', (key) => kernel.wake(key));
    kinesis.load();
    kernel.plug(kinesis.module());
    return { kernel, sqs, jobs, kinesis };
  } catch (e) {
    void kernel.close();
    throw e;
  }
}
