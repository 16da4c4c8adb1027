/**
 * Durable internal queues: the work Wharf owes after it has answered a client — SNS deliveries,
 * EventBridge target invocations, Lambda asynchronous invocations, Firehose buffers. The
 * embedded log (store/jobs/log.ts) and PostgreSQL (store/jobs/postgres.ts) implement it and
 * pass the same conformance suite (test/store/jobs.conformance.ts), so every service that
 * delivers is durable on both stores the same way.
 *
 * A job is in one of four states: ready (due, not leased), delayed (due later), leased (a worker
 * holds it until its lease expires) or dead (given up on; kept for inspection until purged). A
 * lease that expires without an answer makes the job ready again: a worker that crashed loses
 * nothing. Every answer to a lease names the lease (the job id and its attempt number), so a
 * worker whose lease expired and was taken by another cannot act on the job any more.
 */

export interface NewJob {
  /** unique within the queue; a random id when absent. Enqueueing an id that exists replaces nothing and is reported. */
  id?: string;
  payload: Buffer;
  /** when it may first be leased (epoch ms, a whole number: PostgreSQL keeps it as a bigint) */
  dueAt: number;
  /**
   * Jobs of one group are leased one at a time, in the order they were enqueued: a job waits
   * while an earlier job of its group is ready, delayed, leased or retrying (not once it is dead,
   * acknowledged or has left the group: RetryOptions.leaveGroup). SNS FIFO keeps message groups
   * in order this way, on one node or many.
   */
  group?: string;
}

export interface RetryOptions {
  /** the job stays (e.g. to hold its id) but no longer holds back the rest of its group */
  leaveGroup?: boolean;
}

export interface EnqueueOptions {
  /**
   * A job kept only to hold its id (a deduplication window: SNS FIFO) is retried with this mark
   * as its last error, due when the window closes. An enqueue with the same mark replaces such a
   * job once its window has closed (it is due by `now`, or leased by the pass that would remove
   * it) instead of reporting a duplicate. Its attempt count carries on, so a lease of the job it
   * replaced cannot answer for the new one.
   */
  expiredMark?: string;
}

export type JobState = 'ready' | 'delayed' | 'leased' | 'dead';

export interface Job {
  queue: string;
  id: string;
  payload: Buffer;
  /** ready or delayed: when it is due; leased: when the lease expires */
  at: number;
  /** how many times it has been leased */
  attempts: number;
  enqueuedAt: number;
  lastError?: string;
  state: JobState;
}

/** Names one lease of a job: its id and the attempt the lease gave it. */
export interface LeaseRef {
  id: string;
  attempt: number;
}

export interface JobCounts {
  ready: number;
  delayed: number;
  leased: number;
  dead: number;
}

export interface DurableQueues {
  /**
   * Adds jobs to `queue`; each may be leased from its dueAt on. Resolves with their ids once
   * they are durable; an id already in the queue keeps its job and reports `duplicate` (but see
   * EnqueueOptions.expiredMark).
   */
  enqueue(
    queue: string,
    jobs: NewJob[],
    now: number,
    opts?: EnqueueOptions,
  ): Promise<{ id: string; duplicate: boolean }[]>;
  /**
   * Leases up to `max` ready jobs, oldest due first, until now + leaseMs; each lease counts as
   * an attempt. A lease is answered by ack, retry or deadLetter, or expires.
   */
  lease(queue: string, max: number, leaseMs: number, now: number): Promise<Job[]>;
  /** The work is done: the job goes. false when this lease no longer holds the job. */
  ack(queue: string, leases: LeaseRef[]): Promise<boolean[]>;
  /** The attempt failed: the job is due again at `at`, with the error kept. */
  retry(queue: string, lease: LeaseRef, at: number, error: string, opts?: RetryOptions): Promise<boolean>;
  /** Given up: the job is dead, kept for inspection with its reason. */
  deadLetter(queue: string, lease: LeaseRef, reason: string): Promise<boolean>;
  /** Up to `limit` jobs of the queue (in one state, or all), by due time. */
  inspect(queue: string, now: number, opts: { state?: JobState; limit: number }): Promise<Job[]>;
  counts(queue: string, now: number): Promise<JobCounts>;
  /**
   * When a job of the queue is next ready (due, or its lease expires; a job waiting for an
   * earlier one of its group does not count): `now` when one is ready already, undefined when
   * the queue holds none that will be.
   */
  nextDueAt(queue: string, now: number): Promise<number | undefined>;
  /**
   * Embedded store only (one process owns the data directory): every lease of the queue was left
   * by a process that is gone, so its job is ready now instead of when the lease runs out.
   * Returns how many. Absent on PostgreSQL, where another node may hold the leases.
   */
  releaseLeases?(queue: string, now: number): Promise<number>;
  /** Drops every job of the queue (its topic, rule or function was deleted); returns how many. */
  purge(queue: string): Promise<number>;
}

/** the wake-up key (StoreKernel.wake) of a queue with jobs that became ready */
export const jobsWakeKey = (queue: string) => `jobs:${queue}`;
