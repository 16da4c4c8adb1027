/**
 * The SQLite store kernel: the engine (one connection, group commit, checkpoints), migrations,
 * the meta table (secrets), leases, wake-ups (one process per data directory: all local), reset
 * across every plugged-in module's tables, close.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import type { StoreKernel, StoreModule } from '../kernel.js';
import { SegmentLog } from '../log/segment-log.js';
import { SqliteEngine, type Durability, type EngineOptions } from './engine.js';
import { SqliteResourceStore } from './resources.js';

export class SqliteKernel implements StoreKernel {
  readonly kind = 'sqlite' as const;
  readonly engine: SqliteEngine;
  readonly resources: SqliteResourceStore;
  private readonly modules: StoreModule[] = [];
  private readonly wakeListeners: Array<(key: string) => void> = [];
  private readonly s: Record<'getMeta' | 'putMeta' | 'lease', Database.Statement>;

  private readonly opts: EngineOptions;
  private readonly logs: SegmentLog[] = [];

  constructor(opts: EngineOptions) {
    this.opts = opts;
    this.engine = new SqliteEngine(opts);
    this.resources = new SqliteResourceStore(this.engine);
    const p = (sql: string) => this.engine.db.prepare(sql);
    this.s = {
      getMeta: p('SELECT value FROM meta WHERE key = ?'),
      putMeta: p('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      lease: p(
        `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE leases.owner = excluded.owner OR leases.expires_at <= ?`,
      ),
    };
  }

  /**
   * The embedded log of one module, in `<data dir>/log/<name>/` next to the database (in memory
   * with `:memory:`); `dir` is where the module keeps its snapshot.
   */
  openLog(name: string): { log: SegmentLog; dir: string | undefined; durability: Durability } {
    const dir = this.engine.memory ? undefined : join(dirname(this.opts.path), 'log', name);
    const log = new SegmentLog({
      dir,
      durability: this.opts.durability,
      segmentBytes: this.opts.logSegmentBytes,
      onError: this.opts.onError,
    });
    this.logs.push(log);
    return { log, dir, durability: this.opts.durability };
  }

  plug(module: StoreModule): void {
    this.modules.push(module);
  }

  wake(key: string): void {
    for (const l of this.wakeListeners) l(key);
  }

  onWake(listener: (key: string) => void): void {
    this.wakeListeners.push(listener);
  }

  onMissedWakeups(): void {
    // one process owns the database: no wake-up can be missed
  }

  async secret(name: string): Promise<Buffer> {
    const key = `secret:${name}`;
    const r = this.s.getMeta.get(key) as { value: string } | undefined;
    if (r) return Buffer.from(r.value, 'base64');
    const value = randomBytes(32);
    await this.engine.write(() => this.s.putMeta.run(key, value.toString('base64')));
    return value;
  }

  async tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return this.engine.write(() => this.s.lease.run(name, owner, now + ttlMs, now).changes === 1);
  }

  async reset(): Promise<void> {
    const db = this.engine.db;
    await this.engine.write(() => {
      for (const t of ['leases', 'resources', 'resources_deleted', ...this.modules.flatMap((m) => m.tables)])
        db.prepare(`DELETE FROM ${t}`).run();
      db.prepare("DELETE FROM meta WHERE key NOT LIKE 'secret:%'").run();
    });
    for (const m of this.modules) await m.afterReset?.();
  }

  async checkpoint(): Promise<void> {
    if (!this.engine.memory) await this.engine.checkpoint();
    for (const m of this.modules) await m.maintain?.();
  }

  async close(): Promise<void> {
    for (const m of this.modules) await m.close?.();
    // a module that failed to start never plugged in: its log still closes
    for (const l of this.logs) await l.close();
    await this.engine.close();
  }
}
