/**
 * The PostgreSQL store kernel: the pool and its listener connection, migrations (under an advisory
 * lock), the meta table (secrets), leases, wake-ups shared between nodes with LISTEN/NOTIFY,
 * reset across every plugged-in module's tables, close.
 */
import { randomBytes } from 'node:crypto';
import type { StoreKernel, StoreModule } from '../kernel.js';
import { Db, type PgOptions } from './db.js';
import { PostgresResourceStore } from './resources.js';

/** the shortest gap between two NOTIFYs under a steady load */
const NOTIFY_GAP_MS = 10;

export class PostgresKernel implements StoreKernel {
  readonly kind = 'postgres' as const;
  readonly db: Db;
  readonly resources: PostgresResourceStore;
  private readonly modules: StoreModule[] = [];
  private readonly wakeListeners: Array<(key: string) => void> = [];
  private readonly missed: Array<() => void> = [];
  private pendingNotify = new Set<string>();
  private notifyScheduled = false;
  private lastNotifyAt = -Infinity;

  private constructor(opts: PgOptions) {
    this.db = new Db(opts);
    this.resources = new PostgresResourceStore(this.db);
    // every node hears every NOTIFY, its own included (harmless: a wake-up is a hint)
    this.db.onNotify((payload) => {
      for (const key of payload.split(',')) for (const l of this.wakeListeners) l(key);
    });
    this.db.onListenerReconnect(() => {
      for (const l of this.missed) l();
    });
  }

  /** Connects, migrates (under an advisory lock) and starts listening. */
  static async open(opts: PgOptions): Promise<PostgresKernel> {
    const k = new PostgresKernel(opts);
    try {
      await k.db.migrate();
      await k.db.listen();
    } catch (e) {
      await k.db.close().catch(() => {});
      throw e;
    }
    return k;
  }

  plug(module: StoreModule): void {
    this.modules.push(module);
  }

  onWake(listener: (key: string) => void): void {
    this.wakeListeners.push(listener);
  }

  onMissedWakeups(listener: () => void): void {
    this.missed.push(listener);
  }

  /**
   * Wakes local listeners at once and tells the other nodes with one NOTIFY per event-loop turn, and
   * under a steady load at most one per NOTIFY_GAP_MS: every NOTIFY is a transaction, a write to
   * the server's notification queue and a wake-up of every listener (about a tenth of the
   * database's CPU per message when each send batch had its own).
   */
  wake(key: string): void {
    for (const l of this.wakeListeners) l(key);
    this.pendingNotify.add(key);
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    const flush = () => {
      this.notifyScheduled = false;
      this.lastNotifyAt = performance.now();
      const payload = [...this.pendingNotify].join(',');
      this.pendingNotify.clear();
      this.db.notify(payload).catch(() => {});
    };
    const wait = this.lastNotifyAt + NOTIFY_GAP_MS - performance.now();
    if (wait <= 0) setImmediate(flush);
    else setTimeout(flush, wait).unref();
  }

  async secret(name: string): Promise<Buffer> {
    const key = `secret:${name}`;
    await this.db.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
      key,
      randomBytes(32).toString('base64'),
    ]);
    const r = await this.db.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
    return Buffer.from(r.rows[0].value, 'base64');
  }

  async tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const r = await this.db.query(
      `INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= $4`,
      [name, owner, now + ttlMs, now],
    );
    return r.rowCount === 1;
  }

  async reset(): Promise<void> {
    const tables = ['leases', 'resources', 'resources_deleted', ...this.modules.flatMap((m) => m.tables)];
    await this.db.tx(async (c) => {
      await c.query(`TRUNCATE ${tables.join(', ')}`);
      await c.query("DELETE FROM meta WHERE key NOT LIKE 'secret:%'");
    });
    for (const m of this.modules) await m.afterReset?.();
  }

  async close(): Promise<void> {
    for (const m of this.modules) await m.close?.();
    await this.db.close();
  }
}
