import { PostgresSqsStore } from '../../src/store/postgres/sqs-store.js';
import type { SqsStore } from '../../src/store/types.js';
import { dropSchema, freshSchema, PG_URL } from '../helpers/pg.js';
import { storeConformance } from './sqs-store.conformance.js';
import { resourceConformance } from './resources.conformance.js';

let schema = '';
const open = () => PostgresSqsStore.open({ url: PG_URL, schema, poolSize: 4 });

for (const suite of [storeConformance, resourceConformance])
  suite({
    name: 'postgres',
    open: async () => {
      schema = freshSchema();
      return open();
    },
    reopen: async (store: SqsStore) => {
      await store.close();
      return open();
    },
    cleanup: async () => {
      await dropSchema(schema);
    },
  });
