/**
 * One store of named resources for every service: topics, subscriptions, buses, rules,
 * archives, functions, mappings, delivery streams. Each is a JSON document under a key
 * (kind, account, region, name) with tags, a version that every write bumps, conditional
 * writes on that version, and a memory of recent deletions (AWS refuses to recreate some names
 * for a while). Written once per backend; test/store/resources.conformance.ts runs on both.
 */

export interface ResourceKey {
  /** the service's resource type, e.g. `sns.topic` */
  kind: string;
  account: string;
  region: string;
  name: string;
}

export interface Resource<T = unknown> extends ResourceKey {
  /** 1 after creation, bumped by every write */
  version: number;
  doc: T;
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

/** A conditional write or delete found another version (undefined: the resource does not exist). */
export class VersionConflict extends Error {
  constructor(
    readonly key: ResourceKey,
    readonly expected: number,
    readonly actual: number | undefined,
  ) {
    super(`${key.kind} ${key.name}: expected version ${expected}, found ${actual ?? 'none'}`);
    this.name = 'VersionConflict';
  }
}

export interface PutOptions {
  now: number;
  /** 0: only if absent; n: only if at version n; omitted: unconditionally */
  ifVersion?: number;
  /** replaces the tags; omitted keeps them (an empty set for a new resource) */
  tags?: Record<string, string>;
}

export interface ListOptions {
  /** names starting with this */
  prefix?: string;
  /** names after this one (exclusive): the next page */
  after?: string;
  limit?: number;
}

export interface ResourceStore {
  /** Creates or replaces the document; throws VersionConflict when ifVersion does not hold. */
  put<T>(key: ResourceKey, doc: T, opts: PutOptions): Promise<Resource<T>>;
  get<T>(key: ResourceKey): Promise<Resource<T> | undefined>;
  /** One kind in one account and region, ordered by name (byte order). */
  list<T>(kind: string, account: string, region: string, opts?: ListOptions): Promise<Resource<T>[]>;
  /**
   * Deletes; answers whether it existed. With rememberMs, deletedRecently() answers true for
   * that long. Throws VersionConflict when ifVersion is given and does not hold.
   */
  delete(key: ResourceKey, opts: { now: number; ifVersion?: number; rememberMs?: number }): Promise<boolean>;
  /** Whether the key was deleted with rememberMs less than that long before now (a put forgets it). */
  deletedRecently(key: ResourceKey, now: number): Promise<boolean>;
}

/** The row both backends store (doc and tags as JSON text, so documents come back byte for byte). */
export interface ResourceRow {
  kind: string;
  account: string;
  region: string;
  name: string;
  version: number | string;
  doc: string;
  tags: string;
  created_at: number | string;
  updated_at: number | string;
}

export function fromRow<T>(r: ResourceRow): Resource<T> {
  return {
    kind: r.kind,
    account: r.account,
    region: r.region,
    name: r.name,
    version: Number(r.version),
    doc: JSON.parse(r.doc) as T,
    tags: JSON.parse(r.tags) as Record<string, string>,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
