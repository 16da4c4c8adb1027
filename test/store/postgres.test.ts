import { describe, expect, it } from 'vitest';
import { openPostgresStores } from '../../src/store/postgres/open.js';
import { PostgresKernel } from '../../src/store/postgres/kernel.js';
import type { Stores } from '../../src/store/types.js';
import { dropSchema, freshSchema, PG_URL } from '../helpers/pg.js';
import { storeConformance } from './sqs-store.conformance.js';
import { resourceConformance } from './resources.conformance.js';
import { jobsConformance } from './jobs.conformance.js';
import { kinesisConformance } from './kinesis.conformance.js';

let schema = '';
const open = () => openPostgresStores({ url: PG_URL, schema, poolSize: 4 });

for (const suite of [storeConformance, resourceConformance, jobsConformance, kinesisConformance])
  suite({
    name: 'postgres',
    open: async () => {
      schema = freshSchema();
      return open();
    },
    reopen: async (stores: Stores) => {
      await stores.kernel.close();
      return open();
    },
    cleanup: async () => {
      await dropSchema(schema);
    },
  });

describe('PostgreSQL store kernel', () => {
  it('resets the tables every plugged-in module names, and shares wake-ups between nodes', async () => {
    const s = freshSchema();
    const a = await PostgresKernel.open({ url: PG_URL, schema: s, poolSize: 2 });
    const b = await PostgresKernel.open({ url: PG_URL, schema: s, poolSize: 2 });
    try {
      await a.db.query('CREATE TABLE module_a (x INTEGER); CREATE TABLE module_b (y INTEGER)');
      await a.db.query('INSERT INTO module_a VALUES (1); INSERT INTO module_b VALUES (2)');
      let told = 0;
      a.plug({ tables: ['module_a'], afterReset: () => void told++ });
      const secret = await a.secret('s');
      await a.reset();
      const count = async (t: string) => Number((await a.db.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
      expect(await count('module_a')).toBe(0);
      expect(await count('module_b')).toBe(1);
      expect(told).toBe(1);
      expect((await b.secret('s')).equals(secret)).toBe(true);
      // a wake-up on one node reaches the other through LISTEN/NOTIFY
      const heard = new Promise<string>((resolve) => b.onWake((key) => key === 'test:k' && resolve(key)));
      a.wake('test:k');
      expect(await heard).toBe('test:k');
    } finally {
      await a.close();
      await b.close();
      await dropSchema(s);
    }
  });
});
