/**
 * Kinesis shard records: each shard is an append-only log of records, each at a counter (0, 1,
 * 2, … within its shard) from which the service forms AWS's sequence numbers. The stream's
 * layout (hash ranges, lineage, names) lives in the resource store; this store is the truth on
 * which shards take appends, so a node holding a stale layout cannot write into a closed shard.
 * Both backends run test/store/kinesis.conformance.ts.
 */

/** A record on its way in. */
export interface NewRecord {
  partitionKey: string;
  data: Buffer;
}

/** A record as stored. */
export interface StoredRecord {
  /** its position in its shard: the first record is 0 */
  counter: number;
  /** when it arrived, epoch ms (never earlier than the record before it in its shard) */
  arrival: number;
  partitionKey: string;
  data: Buffer;
}

export interface ShardState {
  /** the counter the next record gets: one past the last record */
  next: number;
  closed: boolean;
}

/** Where a group of records went: the first one's counter, and the arrival time of them all. */
export interface Appended {
  first: number;
  arrival: number;
}

/** One group of an append: records for one shard, in order. */
export interface ShardAppend {
  shard: number;
  records: NewRecord[];
}

export interface KinesisStore {
  /**
   * Creates a stream's record space with these shards open (a stream id is unique per creation:
   * a stream deleted and created again under its name starts empty). Idempotent per shard.
   * `retentionMs`: records older than that are trimmed (trim()).
   */
  openShards(stream: string, shards: number[], retentionMs: number): Promise<void>;
  /** Sets how long the stream keeps records; trimming follows at the next trim(). */
  setRetention(stream: string, retentionMs: number): Promise<void>;
  /**
   * Appends each group to its shard in order, stamped `now` (or the shard's last arrival time,
   * if later); resolves once every record is durable, with each group's first counter and
   * arrival time, or undefined for a group whose shard is closed or unknown (none of that group
   * is written). Records of one shard get consecutive counters, in the order their appends were
   * made.
   */
  append(stream: string, groups: ShardAppend[], now: number): Promise<(Appended | undefined)[]>;
  /**
   * The shard's records from counter `from` on that arrived at or after `notBefore`: at most
   * `limit`, and no more once `maxBytes` of data are reached (the first record always comes).
   */
  read(
    stream: string,
    shard: number,
    from: number,
    opts: { limit: number; maxBytes: number; notBefore: number },
  ): Promise<StoredRecord[]>;
  /** The counter of the first record that arrived at or after `at` (epoch ms), else the shard's next. */
  seek(stream: string, shard: number, at: number): Promise<number>;
  /** The state of these shards; an unknown shard is absent from the map. */
  states(stream: string, shards: number[]): Promise<Map<number, ShardState>>;
  /** Closes a shard for appends (idempotent); answers its final state. */
  close(stream: string, shard: number): Promise<ShardState | undefined>;
  /** Forgets the stream and its records. */
  drop(stream: string): Promise<void>;
  /** Deletes the records every stream holds beyond its retention at `now`; answers how many. */
  trim(now: number): Promise<number>;
}

/** The wake-up key the store raises after records were appended to a shard. */
export const kinesisWakeKey = (stream: string, shard: number) => `kinesis:${stream}:${shard}`;
