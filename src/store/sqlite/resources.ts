/** The resource store on the embedded engine: each call is one statement group in the turn's transaction. */
import type Database from 'better-sqlite3';
import type { SqliteEngine } from './engine.js';
import {
  fromRow,
  VersionConflict,
  type ListOptions,
  type PutOptions,
  type Resource,
  type ResourceKey,
  type ResourceRow,
  type ResourceStore,
} from '../resources.js';

const KEY = 'kind = ? AND account = ? AND region = ? AND name = ?';
const k = (key: ResourceKey) => [key.kind, key.account, key.region, key.name];

export class SqliteResourceStore implements ResourceStore {
  private readonly s: Record<string, Database.Statement>;

  constructor(private readonly engine: SqliteEngine) {
    const p = (sql: string) => engine.db.prepare(sql);
    this.s = {
      get: p(`SELECT * FROM resources WHERE ${KEY}`),
      insert: p(
        `INSERT INTO resources (kind, account, region, name, version, doc, tags, created_at, updated_at)
         VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`,
      ),
      update: p(`UPDATE resources SET version = version + 1, doc = ?, tags = ?, updated_at = ? WHERE ${KEY}`),
      remove: p(`DELETE FROM resources WHERE ${KEY}`),
      forget: p(`DELETE FROM resources_deleted WHERE ${KEY}`),
      remember: p(
        `INSERT INTO resources_deleted (kind, account, region, name, until) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (kind, account, region, name) DO UPDATE SET until = excluded.until`,
      ),
      deleted: p(`SELECT until FROM resources_deleted WHERE ${KEY}`),
      list: p(
        `SELECT * FROM resources WHERE kind = ? AND account = ? AND region = ?
           AND substr(name, 1, length(?)) = ? AND name > ? ORDER BY name LIMIT ?`,
      ),
    };
  }

  private row(key: ResourceKey): ResourceRow | undefined {
    return this.s.get.get(...k(key)) as ResourceRow | undefined;
  }

  // async: a conflict thrown inside the write becomes a rejection, not a synchronous throw
  async put<T>(key: ResourceKey, doc: T, opts: PutOptions): Promise<Resource<T>> {
    return this.engine.write(() => {
      const cur = this.row(key);
      if (opts.ifVersion !== undefined && opts.ifVersion !== (cur ? Number(cur.version) : 0)) {
        throw new VersionConflict(key, opts.ifVersion, cur && Number(cur.version));
      }
      const text = JSON.stringify(doc);
      if (cur) this.s.update.run(text, opts.tags ? JSON.stringify(opts.tags) : cur.tags, opts.now, ...k(key));
      else {
        this.s.insert.run(...k(key), text, JSON.stringify(opts.tags ?? {}), opts.now, opts.now);
        this.s.forget.run(...k(key));
      }
      return fromRow<T>(this.row(key)!);
    });
  }

  async get<T>(key: ResourceKey): Promise<Resource<T> | undefined> {
    const r = this.row(key);
    return r && fromRow<T>(r);
  }

  async list<T>(kind: string, account: string, region: string, o: ListOptions = {}): Promise<Resource<T>[]> {
    const prefix = o.prefix ?? '';
    const rows = this.s.list.all(kind, account, region, prefix, prefix, o.after ?? '', o.limit ?? -1) as ResourceRow[];
    return rows.map((r) => fromRow<T>(r));
  }

  async delete(key: ResourceKey, opts: { now: number; ifVersion?: number; rememberMs?: number }): Promise<boolean> {
    return this.engine.write(() => {
      const cur = this.row(key);
      if (opts.ifVersion !== undefined && opts.ifVersion !== (cur ? Number(cur.version) : 0)) {
        throw new VersionConflict(key, opts.ifVersion, cur && Number(cur.version));
      }
      if (!cur) return false;
      this.s.remove.run(...k(key));
      if (opts.rememberMs) this.s.remember.run(...k(key), opts.now + opts.rememberMs);
      return true;
    });
  }

  async deletedRecently(key: ResourceKey, now: number): Promise<boolean> {
    const r = this.s.deleted.get(...k(key)) as { until: number } | undefined;
    return !!r && r.until > now;
  }
}
