/**
 * PostgreSQL plumbing: a bounded pool whose connections use the store's schema, migrations
 * under an advisory lock (nodes starting together do not race), transactions, LISTEN/NOTIFY,
 * and the mapping of connection failures to StoreUnavailableError (clients get AWS's
 * ServiceUnavailable and retry; the pool reconnects by itself when the database is back).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { StoreUnavailableError } from '../types.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
/**
 * A statement not answered by then fails (ServiceUnavailable): a database that stops answering
 * without closing its connections (a network partition, a frozen server) must not hold requests
 * forever. The connection is discarded.
 */
const QUERY_TIMEOUT_MS = 10_000;
/** migrations may wait for another node's under the advisory lock, and may take long themselves */
const MIGRATION_TIMEOUT_MS = 10 * 60_000;
const TIMED_OUT = 'Query read timeout'; // node-postgres' message for query_timeout

export interface PgOptions {
  url: string;
  schema: string;
  poolSize: number;
  onError?: (err: Error) => void;
}

/** SQLSTATE classes and socket errors that mean "the database is not reachable right now". */
function unavailable(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  const code = err?.code ?? '';
  if (/^(08|53|57P)/.test(code)) return true; // connection exception, insufficient resources, shutdown
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  const msg = err?.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|Query read timeout/.test(
    msg,
  );
}

export function wrapError(e: unknown): Error {
  if (unavailable(e)) return new StoreUnavailableError(`database unavailable: ${(e as Error).message}`, e);
  return e as Error;
}

export const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

export class Db {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly channel: string;
  private listener: pg.Client | undefined;
  private listening = false;
  private closed = false;
  private readonly handlers: Array<(payload: string) => void> = [];
  private readonly onReconnect: Array<() => void> = [];
  private readonly opts: PgOptions;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(opts: PgOptions) {
    this.opts = opts;
    this.schema = opts.schema;
    // one channel per schema: installations sharing a database do not wake each other
    this.channel = `wharf_${opts.schema}`.slice(0, 63);
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize,
      connectionTimeoutMillis: 3000,
      query_timeout: QUERY_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      options: `-c search_path=${quoteIdent(opts.schema)}`,
    });
    // an idle client that loses its connection must not crash the process (pg-pool attaches the
    // whole client to the error: not something to log)
    this.pool.on('error', (err) => {
      delete (err as Error & { client?: unknown }).client;
      opts.onError?.(err);
    });
  }

  /** Connects, creates the schema and runs migrations under an advisory lock. */
  async migrate(): Promise<void> {
    const c = await this.pool.connect();
    const ignore = () => {}; // a connection lost meanwhile fails the query in progress instead
    c.on('error', ignore);
    const q = (text: string, values?: unknown[]) =>
      c.query({ text, values, query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig);
    try {
      await q('SELECT pg_advisory_lock(hashtext($1))', [`wharf:${this.schema}`]);
      try {
        // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists:
        // a role that owns its schema (created by an administrator) needs no such right
        const exists = await q('SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema]);
        if (!exists.rows.length) await q(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
        await q('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint)');
        const done = new Set((await q('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
        for (const f of readdirSync(MIGRATIONS_DIR)
          .filter((x) => /^\d+_.*\.sql$/.test(x))
          .sort()) {
          const version = parseInt(f, 10);
          if (done.has(version)) continue;
          await q('BEGIN');
          try {
            await q(readFileSync(join(MIGRATIONS_DIR, f), 'utf8'));
            await q('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
            await q('COMMIT');
          } catch (e) {
            await q('ROLLBACK');
            throw e;
          }
        }
      } finally {
        await q('SELECT pg_advisory_unlock(hashtext($1))', [`wharf:${this.schema}`]);
      }
    } finally {
      c.removeListener('error', ignore);
      c.release();
    }
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (e) {
      throw wrapError(e);
    }
  }

  /** Runs fn in a READ COMMITTED transaction on one connection. */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw wrapError(e);
    }
    let broken = false;
    // A checked-out client has no error listener of the pool's: a connection lost between two
    // queries (pg_terminate_backend, a restart) would be an unhandled 'error' event and end the
    // process. The next query fails instead, and the client is discarded on release.
    const onError = () => {
      broken = true;
    };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      // after a timeout the connection is still busy with the statement: a ROLLBACK would only wait
      // behind it; the connection is discarded instead (the server rolls back when it closes)
      if ((e as Error)?.message === TIMED_OUT) broken = true;
      if (!broken) {
        try {
          await c.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      throw wrapError(e);
    } finally {
      c.removeListener('error', onError);
      c.release(broken);
    }
  }

  onNotify(handler: (payload: string) => void): void {
    this.handlers.push(handler);
  }

  /** Called after the listener reconnects: notifications may have been missed meanwhile. */
  onListenerReconnect(fn: () => void): void {
    this.onReconnect.push(fn);
  }

  async notify(payload: string): Promise<void> {
    // a wake-up hint, sent after the change it announces has committed: it needs no WAL flush of
    // its own (a synchronous commit here cost an fsync per send batch)
    await this.query("SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)", [
      this.channel,
      payload,
    ]);
  }

  /** Keeps one dedicated connection listening; reconnects with backoff when it drops. */
  async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.opts.url,
      options: `-c search_path=${quoteIdent(this.schema)}`,
    });
    client.on('notification', (n) => {
      if (n.channel === this.channel && n.payload !== undefined) for (const h of this.handlers) h(n.payload);
    });
    client.on('error', () => this.relisten(client));
    client.on('end', () => this.relisten(client));
    await client.connect();
    await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    const wasListening = this.listening;
    this.listener = client;
    this.listening = true;
    if (wasListening) for (const f of this.onReconnect) f();
  }

  private relisten(client: pg.Client): void {
    if (this.closed || this.listener !== client) return;
    this.listener = undefined;
    client.removeAllListeners('end');
    client.removeAllListeners('error');
    client.on('error', () => {});
    client.end().catch(() => {});
    const attempt = (delay: number) => {
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        if (this.closed) return;
        this.listen().catch(() => attempt(Math.min(delay * 2, 5000)));
      }, delay);
      this.reconnectTimer.unref();
    };
    attempt(100);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const l = this.listener;
    this.listener = undefined;
    if (l) {
      l.removeAllListeners('end');
      l.removeAllListeners('error');
      l.on('error', () => {});
      await l.end().catch(() => {});
    }
    await this.pool.end();
  }
}
