-- Kinesis shards (store/kinesis/postgres.ts). A stream's id is unique per creation; its layout
-- (hash ranges, lineage) is a resource document, these tables hold what takes appends.
CREATE TABLE kinesis_streams (
  stream_id text PRIMARY KEY,
  retention_ms bigint NOT NULL
);
-- next_seq is the counter the next record gets: appends lock the row, so counters are given in
-- commit order and a reader never sees a later counter before an earlier one is committed
CREATE TABLE kinesis_shards (
  stream_id text NOT NULL,
  shard integer NOT NULL,
  next_seq bigint NOT NULL DEFAULT 0,
  last_arrival bigint NOT NULL DEFAULT 0,
  closed boolean NOT NULL DEFAULT false,
  PRIMARY KEY (stream_id, shard)
);
CREATE TABLE kinesis_records (
  stream_id text NOT NULL,
  shard integer NOT NULL,
  seq bigint NOT NULL,
  arrival bigint NOT NULL,
  partition_key text NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (stream_id, shard, seq)
);
CREATE INDEX kinesis_records_arrival ON kinesis_records (stream_id, shard, arrival);
