import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSqsStore } from '../../src/store/sqlite/sqs-store.js';
import type { SqsStore } from '../../src/store/types.js';
import { storeConformance } from './sqs-store.conformance.js';
import { resourceConformance } from './resources.conformance.js';

for (const suite of [storeConformance, resourceConformance])
  suite({
    name: 'sqlite :memory:',
    open: async () => new SqliteSqsStore({ path: ':memory:', durability: 'fsync' }),
    cleanup: async () => {},
  });

for (const durability of ['fsync', 'os'] as const) {
  let dir = '';
  for (const suite of [storeConformance, resourceConformance])
    suite({
      name: `sqlite file, durability ${durability}`,
      open: async () => {
        dir = mkdtempSync(join(tmpdir(), 'wharf-store-'));
        return new SqliteSqsStore({ path: join(dir, 'wharf.db'), durability });
      },
      reopen: async (store: SqsStore) => {
        await store.close();
        // the suite's clock stands at 2026-01-01
        return new SqliteSqsStore({ path: join(dir, 'wharf.db'), durability, now: () => Date.UTC(2026, 0, 1) });
      },
      cleanup: async () => {
        rmSync(dir, { recursive: true, force: true });
      },
    });
}
