/**
 * One SQLite connection on the main thread, with group commit.
 *
 * Writes from every request of one event-loop turn share one transaction (each request in its
 * own savepoint, so a failing request rolls back alone); the transaction commits at the end
 * of the turn. Commits use `synchronous=OFF` in WAL mode: a commit costs a few write() calls
 * into the OS page cache and never blocks on the disk. With durability `fsync`, callers are
 * answered only after an fdatasync of the WAL file that started after their commit. While one
 * sync runs, the open transaction is not committed but keeps collecting the writes of the
 * following turns; it commits when the sync ends and the next sync covers all of it (group
 * commit: one commit and one sync per disk round trip, and pages shared by many requests are
 * written once). The sync runs on libuv's thread pool, so the event loop never waits on it. With durability `os` callers are answered
 * right after the commit: that survives a process crash (the OS has the bytes) but not a power
 * cut.
 *
 * Checkpoints (copying the WAL back into the database file, which must be synced before the WAL
 * is reused) run on a worker thread with its own connection and `synchronous=FULL`. Under a
 * constant write load a passive checkpoint never catches the WAL's end, so once the WAL grows
 * past a limit the engine holds new write transactions for the moment the worker needs to copy
 * the last frames; the next write then restarts the WAL from its beginning.
 */
import Database from 'better-sqlite3';
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export type Durability = 'fsync' | 'os';

const require = createRequire(import.meta.url);
const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

// The checkpoint worker is plain CommonJS evaluated from a string so it runs the same from src
// (under vitest) and from dist.
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  let r;
  try { r = db.pragma('wal_checkpoint(PASSIVE)')[0]; } catch (e) { r = { error: String(e && e.message) }; }
  parentPort.postMessage(r);
});
`;

interface CheckpointResult {
  busy?: number;
  log?: number;
  checkpointed?: number;
  error?: string;
}

export interface EngineOptions {
  /** a file path, or ':memory:' */
  path: string;
  durability: Durability;
  /** WAL size in bytes after which writes pause briefly so a checkpoint can finish (default 64 MiB) */
  walLimitBytes?: number;
  /** the embedded log's segment size (default 64 MiB; tests make it small) */
  logSegmentBytes?: number;
  onError?: (err: Error) => void;
}

const RESOLVED = Promise.resolve();
const MIN_CHECKPOINT_BYTES = 4 * 1024 * 1024;

export class SqliteEngine {
  readonly db: Database.Database;
  readonly memory: boolean;
  private readonly durability: Durability;
  private walFd = -1;
  private waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private syncing = false;
  private scheduled = false;
  // the transaction shared by this event-loop turn
  private txOpen = false;
  private committing: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private readonly st: Record<
    'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo',
    Database.Statement
  >;
  /** run at the end of each turn's transaction, before it commits (bulk cleanup), in order */
  private readonly commitHooks: Array<() => void> = [];
  // checkpointing
  private worker: Worker | undefined;
  private path: string | undefined;
  private checkpointing = false;
  private paused = false;
  private held: Array<() => void> = [];
  private readonly walLimit: number;
  private closed = false;
  private readonly onError: (err: Error) => void;
  private walFrames = 0;

  constructor(opts: EngineOptions) {
    this.memory = opts.path === ':memory:';
    this.durability = opts.durability;
    this.walLimit = opts.walLimitBytes ?? 64 * 1024 * 1024;
    this.onError = opts.onError ?? (() => {});
    this.db = new Database(opts.path);
    if (!this.memory) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('wal_autocheckpoint = 0');
    }
    this.db.pragma('synchronous = OFF');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('cache_size = -65536'); // 64 MiB page cache
    this.db.pragma('temp_store = MEMORY');
    this.migrate();
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      begin: p('BEGIN IMMEDIATE'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      savepoint: p('SAVEPOINT w'),
      release: p('RELEASE w'),
      rollbackTo: p('ROLLBACK TO w'),
    };
    if (!this.memory) {
      // 'a' creates the WAL if SQLite has not yet; SQLite reuses the same file (same inode) until
      // the last connection closes, so this descriptor stays valid for fdatasync.
      this.walFd = openSync(opts.path + '-wal', 'a');
      this.path = opts.path;
    }
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)');
    const done = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
    );
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d+_.*\.sql$/.test(f))
      .sort();
    for (const f of files) {
      const version = parseInt(f, 10);
      if (done.has(version)) continue;
      const sql = readFileSync(join(MIGRATIONS_DIR, f), 'utf8');
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      })();
    }
  }

  /**
   * Runs fn inside this turn's write transaction (in its own savepoint: if fn throws, only its
   * changes roll back). Resolves with fn's result once the transaction has committed and is as
   * durable as configured.
   */
  write<T>(fn: () => T): Promise<T> {
    if (this.paused) {
      return new Promise<T>((resolve, reject) => {
        this.held.push(() => this.write(fn).then(resolve, reject));
      });
    }
    const result = this.inTurn(fn);
    return new Promise<T>((resolve, reject) => {
      this.committing.push({ resolve: () => resolve(result), reject });
    });
  }

  /** Like write(), without waiting for the commit (background cleanup that may be redone). */
  writeNoWait<T>(fn: () => T): T {
    return this.inTurn(fn);
  }

  private inTurn<T>(fn: () => T): T {
    if (this.closed) throw new Error('store closed');
    if (!this.txOpen) {
      this.st.begin.run();
      this.txOpen = true;
      setImmediate(this.commitTurn);
    }
    this.st.savepoint.run();
    try {
      const result = fn();
      this.st.release.run();
      return result;
    } catch (e) {
      this.st.rollbackTo.run();
      this.st.release.run();
      throw e;
    }
  }

  private readonly commitTurn = (): void => {
    if (!this.txOpen) return;
    // a sync is running: keep collecting; flush() commits when it ends
    if (this.syncing && !this.memory && this.durability === 'fsync' && !this.closed) return;
    const batch = this.committing;
    this.committing = [];
    try {
      for (const hook of this.commitHooks) hook();
      this.st.commit.run();
    } catch (e) {
      if (this.db.inTransaction) this.st.rollback.run();
      this.txOpen = false;
      this.onError(e as Error);
      for (const w of batch) w.reject(e as Error);
      return;
    }
    this.txOpen = false;
    this.walFrames++;
    if (this.memory || this.durability === 'os') {
      for (const w of batch) w.resolve();
      return;
    }
    for (const w of batch) this.waiting.push(w);
    this.scheduleSync();
  };

  private scheduleSync(): void {
    if (!this.scheduled && !this.syncing && this.waiting.length) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Syncs the WAL now, on the event loop (start-up work outside the group commit). */
  syncNow(): void {
    if (this.walFd >= 0) fdatasyncSync(this.walFd);
  }

  /** Adds work to the end of every turn's transaction, just before it commits (a module's bulk cleanup). */
  onBeforeCommit(hook: () => void): void {
    this.commitHooks.push(hook);
  }

  /** Resolves once everything written so far is durable. */
  durable(): Promise<void> {
    if (this.txOpen && !this.syncing) this.commitTurn();
    if (this.txOpen) {
      // committed (and synced) when the running sync ends
      return new Promise<void>((resolve, reject) => this.committing.push({ resolve, reject }));
    }
    if (this.memory || this.durability === 'os') return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.scheduleSync();
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.syncing || this.waiting.length === 0) return;
    const batch = this.waiting;
    this.waiting = [];
    this.syncing = true;
    fdatasync(this.walFd, (err) => {
      this.syncing = false;
      if (err) {
        this.onError(err);
        for (const w of batch) w.reject(err);
      } else for (const w of batch) w.resolve();
      // the writes collected while this sync ran commit now, and the next sync covers them
      if (this.txOpen) this.commitTurn();
      this.scheduleSync();
    });
  };

  /**
   * Copies the WAL into the database file on the worker. When the WAL is over its limit,
   * holds writes while a second pass catches up, so the next write restarts the WAL.
   */
  /** The checkpoint worker (~12 MB) starts with the first checkpoint, not with the server. */
  private startWorker(): Worker | undefined {
    if (!this.worker && this.path) {
      this.worker = new Worker(CHECKPOINT_WORKER, {
        eval: true,
        workerData: { driver: require.resolve('better-sqlite3'), path: this.path },
      });
      this.worker.unref();
      this.worker.on('error', (e) => this.onError(e));
    }
    return this.worker;
  }

  async checkpoint(): Promise<void> {
    if (this.checkpointing || this.closed || this.walFrames === 0) return;
    // a small WAL is cheap to keep (and to replay at start): an idle server starts no worker
    if (!this.worker && fstatSync(this.walFd).size < MIN_CHECKPOINT_BYTES) return;
    if (!this.startWorker()) return;
    this.checkpointing = true;
    try {
      this.walFrames = 0;
      const first = await this.runCheckpoint();
      const pageSize = 4096;
      if (first && first.log !== undefined && first.log * pageSize > this.walLimit) {
        this.paused = true;
        try {
          await this.durable();
          await this.runCheckpoint();
        } finally {
          this.paused = false;
          const held = this.held;
          this.held = [];
          for (const h of held) h();
        }
      }
    } finally {
      this.checkpointing = false;
    }
  }

  private runCheckpoint(): Promise<CheckpointResult | undefined> {
    const w = this.worker;
    if (!w) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onMsg = (r: CheckpointResult) => {
        w.off('message', onMsg);
        if (r.error) this.onError(new Error(`checkpoint failed: ${r.error}`));
        resolve(r);
      };
      w.on('message', onMsg);
      w.postMessage('checkpoint');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.held.length) {
      this.paused = false;
      for (const h of this.held.splice(0)) h();
    }
    await this.durable().catch(() => {});
    this.closed = true;
    if (this.worker) {
      const w = this.worker;
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        // the worker is unref'd while running; keep the process up until it has closed
        w.ref();
        w.postMessage('close');
      });
      this.worker = undefined;
    }
    // closing the last connection checkpoints the WAL into the database and removes it: with
    // durability fsync that checkpoint must sync, or a power cut just after could lose what
    // the WAL had made durable
    if (!this.memory && this.durability === 'fsync') this.db.pragma('synchronous = FULL');
    this.db.close();
    if (this.walFd >= 0) closeSync(this.walFd);
    this.walFd = -1;
  }
}
