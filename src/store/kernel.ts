/**
 * The store kernel: what every service module of a backend shares. One per backend (SQLite for the
 * embedded store, PostgreSQL for several nodes); it owns the connection or pool and the
 * migrations, and gives modules secrets, leases, wake-ups, reset and close. Service modules
 * (store/sqs/ now; Kinesis, SNS… next) plug in: they name their tables, so reset clears every
 * module's tables without a list here, and they hear wake-ups by string key.
 */
import type { ResourceStore } from './resources.js';

export interface StoreModule {
  /** the tables reset clears (the kernel's own — leases, resources, non-secret meta — it clears itself) */
  readonly tables: readonly string[];
  /** after the tables were cleared: drop caches, tell other nodes */
  afterReset?(): void | Promise<void>;
  /** background upkeep (the embedded log's compaction and snapshots), run with checkpoint() */
  maintain?(): Promise<void>;
  /** before the kernel closes its connection */
  close?(): Promise<void>;
}

export interface StoreKernel {
  readonly kind: 'sqlite' | 'postgres';
  /** named, tagged, account/region-scoped documents of every service (topics, rules, functions…) */
  readonly resources: ResourceStore;
  /** A random secret shared by every node on this store (signs receipt handles, sessions). */
  secret(name: string): Promise<Buffer>;
  /** Takes or renews the lease `name` for `owner` when it is free or expired (one node runs a job). */
  tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /**
   * Something happened that waiters may care about (`sqs:m:<queueId>`: messages may be visible).
   * Wakes this node's listeners at once and, on a shared database, the other nodes' soon after.
   * Keys must not contain commas.
   */
  wake(key: string): void;
  onWake(listener: (key: string) => void): void;
  /** wake-ups may have been missed (a database listener reconnected): listeners should re-check */
  onMissedWakeups(listener: () => void): void;
  plug(module: StoreModule): void;
  /**
   * Background upkeep of the embedded store (copying the WAL into the database, compacting the
   * log); absent where there is none.
   */
  checkpoint?(): Promise<void>;
  /** Drops every module's state (admin reset for tests); secrets stay. */
  reset(): Promise<void>;
  close(): Promise<void>;
}
