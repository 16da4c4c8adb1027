-- Durable internal queues (src/store/jobs/types.ts): deliveries and invocations Wharf owes.
-- `at` is when the job is next ready: its due time, or while leased, when the lease expires (an
-- expired lease is ready again without anyone touching the row).
CREATE TABLE jobs (
  queue text NOT NULL,
  id text NOT NULL,
  seq bigserial NOT NULL,
  payload bytea NOT NULL,
  at bigint NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  leased boolean NOT NULL DEFAULT false,
  dead boolean NOT NULL DEFAULT false,
  last_error text,
  enqueued_at bigint NOT NULL,
  PRIMARY KEY (queue, id)
);
CREATE INDEX jobs_due ON jobs (queue, at, seq) WHERE NOT dead;
