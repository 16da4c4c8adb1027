/**
 * Kinesis shards on PostgreSQL: one row per record. An append locks its shards' rows (in shard
 * order, so concurrent appends cannot deadlock) to take its counters, inserts the records and
 * commits; another node's append to the same shard waits for that commit, so counters become
 * visible in order. Wake-ups for new records reach every node (LISTEN/NOTIFY).
 */
import type { PostgresKernel } from '../postgres/kernel.js';
import type { Db } from '../postgres/db.js';
import {
  kinesisWakeKey,
  type Appended,
  type KinesisStore,
  type ShardAppend,
  type ShardState,
  type StoredRecord,
} from './types.js';

interface RecordRow {
  seq: string;
  arrival: string;
  partition_key: string;
  data: Buffer;
}

export class PostgresKinesis implements KinesisStore {
  private readonly db: Db;

  constructor(private readonly kernel: PostgresKernel) {
    this.db = kernel.db;
    kernel.plug({ tables: ['kinesis_records', 'kinesis_shards', 'kinesis_streams'] });
  }

  async openShards(stream: string, shards: number[], retentionMs: number): Promise<void> {
    await this.db.tx(async (c) => {
      await c.query(
        `INSERT INTO kinesis_streams (stream_id, retention_ms) VALUES ($1, $2)
         ON CONFLICT (stream_id) DO UPDATE SET retention_ms = excluded.retention_ms`,
        [stream, retentionMs],
      );
      await c.query(
        `INSERT INTO kinesis_shards (stream_id, shard) SELECT $1, unnest($2::int[]) ON CONFLICT DO NOTHING`,
        [stream, shards],
      );
    });
  }

  async setRetention(stream: string, retentionMs: number): Promise<void> {
    await this.db.query('UPDATE kinesis_streams SET retention_ms = $2 WHERE stream_id = $1', [stream, retentionMs]);
  }

  async append(stream: string, groups: ShardAppend[], now: number): Promise<(Appended | undefined)[]> {
    const order = groups.map((_, i) => i).sort((a, b) => groups[a]!.shard - groups[b]!.shard);
    const out = await this.db.tx(async (c) => {
      const out = new Array<Appended | undefined>(groups.length).fill(undefined);
      for (const i of order) {
        const g = groups[i]!;
        const n = g.records.length;
        const r = await c.query<{ first: string; arrival: string }>(
          `UPDATE kinesis_shards SET next_seq = next_seq + $3, last_arrival = GREATEST(last_arrival, $4)
           WHERE stream_id = $1 AND shard = $2 AND NOT closed
           RETURNING next_seq - $3 AS first, last_arrival AS arrival`,
          [stream, g.shard, n, now],
        );
        if (!r.rows.length) continue;
        const first = Number(r.rows[0]!.first);
        out[i] = { first, arrival: Number(r.rows[0]!.arrival) };
        if (!n) continue;
        await c.query(
          `INSERT INTO kinesis_records (stream_id, shard, seq, arrival, partition_key, data)
           SELECT $1, $2, $3::bigint + o - 1, $4, k, d FROM unnest($5::text[], $6::bytea[]) WITH ORDINALITY AS t(k, d, o)`,
          [
            stream,
            g.shard,
            first,
            r.rows[0]!.arrival,
            g.records.map((x) => x.partitionKey),
            g.records.map((x) => x.data),
          ],
        );
      }
      return out;
    });
    groups.forEach((g, i) => {
      if (out[i] && g.records.length) this.kernel.wake(kinesisWakeKey(stream, g.shard));
    });
    return out;
  }

  async read(
    stream: string,
    shard: number,
    from: number,
    opts: { limit: number; maxBytes: number; notBefore: number },
  ): Promise<StoredRecord[]> {
    // the running total of data sizes cuts the page at maxBytes inside the database
    const r = await this.db.query<RecordRow>(
      `SELECT seq, arrival, partition_key, data FROM (
         SELECT seq, arrival, partition_key, data,
                sum(octet_length(data)) OVER (ORDER BY seq) - octet_length(data) AS before
         FROM kinesis_records WHERE stream_id = $1 AND shard = $2 AND seq >= $3 AND arrival >= $4
         ORDER BY seq LIMIT $5) page
       WHERE before = 0 OR before + octet_length(data) <= $6 ORDER BY seq`,
      [stream, shard, from, opts.notBefore, opts.limit, opts.maxBytes],
    );
    return r.rows.map((row) => ({
      counter: Number(row.seq),
      arrival: Number(row.arrival),
      partitionKey: row.partition_key,
      data: row.data,
    }));
  }

  async seek(stream: string, shard: number, at: number): Promise<number> {
    const r = await this.db.query<{ seq: string | null; next: string | null }>(
      `SELECT (SELECT min(seq) FROM kinesis_records WHERE stream_id = $1 AND shard = $2 AND arrival >= $3) AS seq,
              (SELECT next_seq FROM kinesis_shards WHERE stream_id = $1 AND shard = $2) AS next`,
      [stream, shard, at],
    );
    const row = r.rows[0]!;
    return Number(row.seq ?? row.next ?? 0);
  }

  async states(stream: string, shards: number[]): Promise<Map<number, ShardState>> {
    const r = await this.db.query<{ shard: number; next_seq: string; closed: boolean }>(
      'SELECT shard, next_seq, closed FROM kinesis_shards WHERE stream_id = $1 AND shard = ANY($2::int[])',
      [stream, shards],
    );
    return new Map(r.rows.map((x) => [x.shard, { next: Number(x.next_seq), closed: x.closed }]));
  }

  async close(stream: string, shard: number): Promise<ShardState | undefined> {
    const r = await this.db.query<{ next_seq: string }>(
      'UPDATE kinesis_shards SET closed = true WHERE stream_id = $1 AND shard = $2 RETURNING next_seq',
      [stream, shard],
    );
    return r.rows.length ? { next: Number(r.rows[0]!.next_seq), closed: true } : undefined;
  }

  async drop(stream: string): Promise<void> {
    await this.db.tx(async (c) => {
      await c.query('DELETE FROM kinesis_records WHERE stream_id = $1', [stream]);
      await c.query('DELETE FROM kinesis_shards WHERE stream_id = $1', [stream]);
      await c.query('DELETE FROM kinesis_streams WHERE stream_id = $1', [stream]);
    });
  }

  async trim(now: number): Promise<number> {
    const r = await this.db.query(
      `DELETE FROM kinesis_records r USING kinesis_streams s
       WHERE r.stream_id = s.stream_id AND r.arrival < $1 - s.retention_ms`,
      [now],
    );
    return r.rowCount ?? 0;
  }
}
