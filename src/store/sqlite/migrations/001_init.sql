-- Wharf embedded store, schema version 1. Times are epoch milliseconds.
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE queues (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  fifo INTEGER NOT NULL,
  attributes TEXT NOT NULL,
  tags TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_modified_at INTEGER NOT NULL,
  last_purge_at INTEGER,
  UNIQUE (account, region, name)
);

-- remembered for QueueDeletedRecently (60 s)
CREATE TABLE deleted_queues (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  deleted_at INTEGER NOT NULL,
  PRIMARY KEY (account, region, name)
) WITHOUT ROWID;

-- A message is two rows. `messages` holds the small state that changes on every receive
-- (visibility, receive count), so a receive rewrites a few bytes in a page shared by ~100
-- messages instead of the page that holds a 1 KiB body. `bodies` holds what never changes; it
-- is written once and deleted in contiguous ranges by a trailing collector, which frees whole
-- pages instead of rewriting them. A body outlives its state row until the collector passes.
-- Neither table has a secondary index: which message a receive takes next comes from an
-- in-memory index per queue (queue-index.ts), rebuilt from this table at start.
-- AUTOINCREMENT: a sequence is never reused, so a receipt handle naming a deleted message can
-- never match a newer one.
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue_id INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  receive_count INTEGER NOT NULL,
  sent_at INTEGER NOT NULL,
  first_receive_at INTEGER,
  group_id TEXT
);

CREATE TABLE bodies (
  seq INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  body TEXT NOT NULL,
  md5 TEXT NOT NULL,
  attrs TEXT,
  sender_id TEXT NOT NULL,
  dedup_id TEXT
);

-- FIFO deduplication window (5 minutes); scope is '' (queue) or the message group.
CREATE TABLE fifo_dedup (
  queue_id INTEGER NOT NULL,
  scope TEXT NOT NULL,
  dedup_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (queue_id, scope, dedup_id)
) WITHOUT ROWID;
CREATE INDEX fifo_dedup_expiry ON fifo_dedup (expires_at);

-- FIFO ReceiveRequestAttemptId (5 minutes): the messages one attempt returned.
CREATE TABLE receive_attempts (
  queue_id INTEGER NOT NULL,
  attempt_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  messages TEXT NOT NULL,
  PRIMARY KEY (queue_id, attempt_id)
) WITHOUT ROWID;
CREATE INDEX receive_attempts_expiry ON receive_attempts (expires_at);

CREATE TABLE move_tasks (
  task_handle TEXT PRIMARY KEY,
  source_queue_id INTEGER NOT NULL,
  source_arn TEXT NOT NULL,
  destination_arn TEXT,
  max_per_second INTEGER,
  status TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  moved INTEGER NOT NULL DEFAULT 0,
  to_move INTEGER NOT NULL DEFAULT 0,
  failure_reason TEXT
) WITHOUT ROWID;
CREATE INDEX move_tasks_source ON move_tasks (source_queue_id, started_at);

-- leases for background work that exactly one node must run
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
