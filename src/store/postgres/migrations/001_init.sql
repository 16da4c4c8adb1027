-- Wharf on PostgreSQL, schema version 1. Times are epoch milliseconds. Several Wharf nodes share
-- these tables; every rule that must hold across nodes is enforced here (row locks, unique keys).
CREATE TABLE meta (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE queues (
  id bigserial PRIMARY KEY,
  account text NOT NULL,
  region text NOT NULL,
  name text NOT NULL,
  fifo boolean NOT NULL,
  attributes text NOT NULL,
  tags text NOT NULL,
  created_at bigint NOT NULL,
  last_modified_at bigint NOT NULL,
  last_purge_at bigint,
  -- a purge sets this to the newest sequence: messages at or below it are gone at once for every
  -- node; their rows are deleted in the background
  purged_to bigint NOT NULL DEFAULT 0,
  -- how far the background deletion of purged rows has got
  drained_to bigint NOT NULL DEFAULT 0,
  UNIQUE (account, region, name)
);

CREATE TABLE deleted_queues (
  account text NOT NULL,
  region text NOT NULL,
  name text NOT NULL,
  deleted_at bigint NOT NULL,
  PRIMARY KEY (account, region, name)
);

-- the messages of deleted queues, waiting for background deletion
CREATE TABLE drops (
  queue_id bigint PRIMARY KEY,
  to_seq bigint NOT NULL
);

CREATE TABLE messages (
  seq bigserial PRIMARY KEY,
  queue_id bigint NOT NULL,
  visible_at bigint NOT NULL,
  receive_count integer NOT NULL DEFAULT 0,
  sent_at bigint NOT NULL,
  first_receive_at bigint,
  group_id text,
  message_id text NOT NULL,
  body text NOT NULL,
  md5 text NOT NULL,
  attrs text,
  sender_id text NOT NULL,
  dedup_id text
);
-- receives take the oldest visible messages: ORDER BY visible_at ... FOR UPDATE SKIP LOCKED
CREATE INDEX messages_ready ON messages (queue_id, visible_at);
-- FIFO group order and fair-queue tenants
CREATE INDEX messages_group ON messages (queue_id, group_id, seq) WHERE group_id IS NOT NULL;

-- FIFO: one row per message group with messages. The row is the group's lock: senders lock it
-- before taking sequence numbers (so a group's order is its commit order), receivers lock it
-- with SKIP LOCKED (so one group is served by one receive at a time across nodes).
-- head_visible_at is the visibility of the group's oldest message: a head in flight locks the
-- group until its visibility timeout.
CREATE TABLE fifo_groups (
  queue_id bigint NOT NULL,
  group_id text NOT NULL,
  head_visible_at bigint NOT NULL,
  PRIMARY KEY (queue_id, group_id)
);
CREATE INDEX fifo_groups_ready ON fifo_groups (queue_id, head_visible_at);

CREATE TABLE fifo_dedup (
  queue_id bigint NOT NULL,
  scope text NOT NULL,
  dedup_id text NOT NULL,
  message_id text NOT NULL,
  seq bigint NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (queue_id, scope, dedup_id)
);
CREATE INDEX fifo_dedup_expiry ON fifo_dedup (expires_at);

CREATE TABLE receive_attempts (
  queue_id bigint NOT NULL,
  attempt_id text NOT NULL,
  expires_at bigint NOT NULL,
  messages text NOT NULL,
  PRIMARY KEY (queue_id, attempt_id)
);
CREATE INDEX receive_attempts_expiry ON receive_attempts (expires_at);

CREATE TABLE move_tasks (
  task_handle text PRIMARY KEY,
  source_queue_id bigint NOT NULL,
  source_arn text NOT NULL,
  destination_arn text,
  max_per_second integer,
  status text NOT NULL,
  started_at bigint NOT NULL,
  moved bigint NOT NULL DEFAULT 0,
  to_move bigint NOT NULL DEFAULT 0,
  failure_reason text
);
CREATE INDEX move_tasks_source ON move_tasks (source_queue_id, started_at);

-- background work that exactly one node runs at a time
CREATE TABLE leases (
  name text PRIMARY KEY,
  owner text NOT NULL,
  expires_at bigint NOT NULL
);
