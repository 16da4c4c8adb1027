import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStores } from '../../src/store/sqlite/open.js';
import { SqliteKernel } from '../../src/store/sqlite/kernel.js';
import type { Stores } from '../../src/store/types.js';
import { storeConformance } from './sqs-store.conformance.js';
import { resourceConformance } from './resources.conformance.js';
import { jobsConformance } from './jobs.conformance.js';
import { kinesisConformance } from './kinesis.conformance.js';

for (const suite of [storeConformance, resourceConformance, jobsConformance, kinesisConformance])
  suite({
    name: 'sqlite :memory:',
    open: async () => openSqliteStores({ path: ':memory:', durability: 'fsync' }),
    cleanup: async () => {},
  });

for (const durability of ['fsync', 'os'] as const) {
  let dir = '';
  for (const suite of [storeConformance, resourceConformance, jobsConformance, kinesisConformance])
    suite({
      name: `sqlite file, durability ${durability}`,
      open: async () => {
        dir = mkdtempSync(join(tmpdir(), 'wharf-store-'));
        return openSqliteStores({ path: join(dir, 'wharf.db'), durability });
      },
      reopen: async (stores: Stores) => {
        await stores.kernel.close();
        // the suite's clock stands at 2026-01-01
        return openSqliteStores({ path: join(dir, 'wharf.db'), durability, now: () => Date.UTC(2026, 0, 1) });
      },
      cleanup: async () => {
        rmSync(dir, { recursive: true, force: true });
      },
    });
}

describe('SQLite store kernel', () => {
  it('resets the tables every plugged-in module names, keeps secrets, and tells the modules', async () => {
    const kernel = new SqliteKernel({ path: ':memory:', durability: 'fsync' });
    try {
      kernel.engine.db.exec('CREATE TABLE module_a (x INTEGER); CREATE TABLE module_b (y INTEGER)');
      kernel.engine.db.exec('INSERT INTO module_a VALUES (1); INSERT INTO module_b VALUES (2)');
      let told = 0;
      kernel.plug({ tables: ['module_a'], afterReset: () => void told++ });
      const secret = await kernel.secret('s');
      expect(await kernel.tryLease('job', 'n1', 0, 1000)).toBe(true);
      await kernel.reset();
      const count = (t: string) =>
        (kernel.engine.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      expect(count('module_a')).toBe(0);
      expect(count('module_b')).toBe(1); // no module named it
      expect(told).toBe(1);
      expect((await kernel.secret('s')).equals(secret)).toBe(true);
      // the lease went with the reset
      expect(await kernel.tryLease('job', 'n2', 1, 1000)).toBe(true);
    } finally {
      await kernel.close();
    }
  });
});
