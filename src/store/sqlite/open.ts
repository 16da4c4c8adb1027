/** The embedded store: the SQLite kernel with every service module plugged in. */
import type { Stores } from '../types.js';
import type { EngineOptions } from './engine.js';
import { SqliteKernel } from './kernel.js';
import { SqliteSqsStore } from '../sqs/sqlite/store.js';

/** `now`: the injected clock (the SQS index is rebuilt at start as of this time) */
export function openSqliteStores(opts: EngineOptions & { now?: () => number }): Stores {
  const kernel = new SqliteKernel(opts);
  try {
    return { kernel, sqs: new SqliteSqsStore(kernel, { now: opts.now }) };
  } catch (e) {
    void kernel.close();
    throw e;
  }
}
