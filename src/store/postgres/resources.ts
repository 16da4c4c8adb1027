/**
 * The resource store on PostgreSQL: every conditional write is one statement, so two nodes
 * racing on one resource cannot both win. Names compare in byte order (COLLATE "C"), as on the
 * embedded store.
 */
import type { Db } from './db.js';
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

const KEY = 'kind = $1 AND account = $2 AND region = $3 AND name = $4';
const k = (key: ResourceKey) => [key.kind, key.account, key.region, key.name];

export class PostgresResourceStore implements ResourceStore {
  constructor(private readonly db: Db) {}

  private async version(key: ResourceKey): Promise<number | undefined> {
    const r = await this.db.query<{ version: string }>(`SELECT version FROM resources WHERE ${KEY}`, k(key));
    return r.rows[0] ? Number(r.rows[0].version) : undefined;
  }

  async put<T>(key: ResourceKey, doc: T, opts: PutOptions): Promise<Resource<T>> {
    const text = JSON.stringify(doc);
    const tags = opts.tags ? JSON.stringify(opts.tags) : null;
    let rows: ResourceRow[];
    if (opts.ifVersion === 0) {
      rows = (
        await this.db.query<ResourceRow>(
          `INSERT INTO resources (kind, account, region, name, version, doc, tags, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 1, $5, coalesce($6, '{}'), $7, $7)
           ON CONFLICT (kind, account, region, name) DO NOTHING RETURNING *`,
          [...k(key), text, tags, opts.now],
        )
      ).rows;
    } else if (opts.ifVersion !== undefined) {
      rows = (
        await this.db.query<ResourceRow>(
          `UPDATE resources SET version = version + 1, doc = $5, tags = coalesce($6, tags), updated_at = $7
           WHERE ${KEY} AND version = $8 RETURNING *`,
          [...k(key), text, tags, opts.now, opts.ifVersion],
        )
      ).rows;
    } else {
      rows = (
        await this.db.query<ResourceRow>(
          `INSERT INTO resources AS r (kind, account, region, name, version, doc, tags, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 1, $5, coalesce($6, '{}'), $7, $7)
           ON CONFLICT (kind, account, region, name) DO UPDATE
             SET version = r.version + 1, doc = excluded.doc, tags = coalesce($6, r.tags), updated_at = $7
           RETURNING *`,
          [...k(key), text, tags, opts.now],
        )
      ).rows;
    }
    if (!rows[0]) throw new VersionConflict(key, opts.ifVersion!, await this.version(key));
    if (Number(rows[0].version) === 1) await this.db.query(`DELETE FROM resources_deleted WHERE ${KEY}`, k(key));
    return fromRow<T>(rows[0]);
  }

  async get<T>(key: ResourceKey): Promise<Resource<T> | undefined> {
    const r = await this.db.query<ResourceRow>(`SELECT * FROM resources WHERE ${KEY}`, k(key));
    return r.rows[0] && fromRow<T>(r.rows[0]);
  }

  async list<T>(kind: string, account: string, region: string, o: ListOptions = {}): Promise<Resource<T>[]> {
    const r = await this.db.query<ResourceRow>(
      `SELECT * FROM resources WHERE kind = $1 AND account = $2 AND region = $3
         AND starts_with(name, $4) AND name COLLATE "C" > $5
       ORDER BY name COLLATE "C" LIMIT $6`,
      [kind, account, region, o.prefix ?? '', o.after ?? '', o.limit ?? null],
    );
    return r.rows.map((row) => fromRow<T>(row));
  }

  async delete(key: ResourceKey, opts: { now: number; ifVersion?: number; rememberMs?: number }): Promise<boolean> {
    if (opts.ifVersion === 0) {
      const v = await this.version(key);
      if (v !== undefined) throw new VersionConflict(key, 0, v);
      return false;
    }
    const cond = opts.ifVersion !== undefined ? ' AND version = $5' : '';
    const params = opts.ifVersion !== undefined ? [...k(key), opts.ifVersion] : k(key);
    const r = await this.db.query(`DELETE FROM resources WHERE ${KEY}${cond} RETURNING version`, params);
    if (!r.rowCount) {
      if (opts.ifVersion !== undefined) throw new VersionConflict(key, opts.ifVersion, await this.version(key));
      return false;
    }
    if (opts.rememberMs) {
      await this.db.query(
        `INSERT INTO resources_deleted (kind, account, region, name, until) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind, account, region, name) DO UPDATE SET until = excluded.until`,
        [...k(key), opts.now + opts.rememberMs],
      );
    }
    return true;
  }

  async deletedRecently(key: ResourceKey, now: number): Promise<boolean> {
    const r = await this.db.query<{ until: string }>(`SELECT until FROM resources_deleted WHERE ${KEY}`, k(key));
    return !!r.rows[0] && Number(r.rows[0].until) > now;
  }
}
