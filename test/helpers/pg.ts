/**
 * PostgreSQL for tests: the machine's server on 127.0.0.1:5432 (WHARF_TEST_PG overrides), or a
 * throwaway cluster a fault suite started for itself (usePg).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

// a live binding: the helpers read it at each call
export let PG_URL = process.env.WHARF_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Points this test file's helpers at another server (a throwaway cluster). */
export function usePg(url: string): void {
  PG_URL = url;
}

/** A schema name no other test run uses. */
export function freshSchema(prefix = 'wharf_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}
