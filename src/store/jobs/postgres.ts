/**
 * Durable internal queues on PostgreSQL: one row per job, leased with SKIP LOCKED so that
 * several nodes share a queue's work without taking the same job; an expired lease is ready
 * again by its time alone. Wake-ups for due jobs go to every node (LISTEN/NOTIFY).
 */
import { randomUUID } from 'node:crypto';
import type { PostgresKernel } from '../postgres/kernel.js';
import type { Db } from '../postgres/db.js';
import {
  jobsWakeKey,
  type DurableQueues,
  type EnqueueOptions,
  type Job,
  type JobCounts,
  type JobState,
  type LeaseRef,
  type NewJob,
  type RetryOptions,
} from './types.js';

interface Row {
  queue: string;
  id: string;
  seq: string;
  payload: Buffer;
  at: string;
  attempts: number;
  leased: boolean;
  dead: boolean;
  last_error: string | null;
  enqueued_at: string;
}

function toJob(r: Row, now: number): Job {
  const at = Number(r.at);
  const state: JobState = r.dead ? 'dead' : r.leased && at > now ? 'leased' : at <= now ? 'ready' : 'delayed';
  const j: Job = {
    queue: r.queue,
    id: r.id,
    payload: r.payload,
    at,
    attempts: r.attempts,
    enqueuedAt: Number(r.enqueued_at),
    state,
  };
  if (r.last_error !== null) j.lastError = r.last_error;
  return j;
}

/** a job (aliased j) that no earlier job of its group holds back */
const HEADS = `(j.grp IS NULL OR NOT EXISTS (
  SELECT 1 FROM jobs e WHERE e.queue = j.queue AND e.grp = j.grp AND e.seq < j.seq AND NOT e.dead))`;

export class PostgresJobs implements DurableQueues {
  private readonly db: Db;

  constructor(private readonly kernel: PostgresKernel) {
    this.db = kernel.db;
    kernel.plug({ tables: ['jobs'] });
  }

  async enqueue(
    queue: string,
    jobs: NewJob[],
    now: number,
    opts: EnqueueOptions = {},
  ): Promise<{ id: string; duplicate: boolean }[]> {
    if (jobs.length === 0) return [];
    const ids = jobs.map((j) => j.id ?? randomUUID());
    // a duplicate within the batch itself: the first one is offered, the rest are duplicates
    const firstAt = new Map<string, number>();
    ids.forEach((id, i) => firstAt.has(id) || firstAt.set(id, i));
    const offeredIds = [...firstAt.keys()];
    const offered = [...firstAt.values()].map((i) => jobs[i]!);
    // a job whose deduplication window closed (EnqueueOptions.expiredMark) is replaced in place
    const onConflict =
      opts.expiredMark === undefined
        ? 'DO NOTHING'
        : `DO UPDATE SET payload = excluded.payload, at = excluded.at, enqueued_at = excluded.enqueued_at,
             seq = excluded.seq, grp = excluded.grp, leased = false, last_error = NULL
           WHERE jobs.last_error = $7 AND NOT jobs.dead AND (jobs.leased OR jobs.at <= $2)`;
    const params: unknown[] = [
      queue,
      now,
      offeredIds,
      offered.map((j) => j.payload),
      offered.map((j) => j.dueAt),
      offered.map((j) => j.group ?? null),
    ];
    if (opts.expiredMark !== undefined) params.push(opts.expiredMark);
    const r = await this.db.query<{ id: string }>(
      `INSERT INTO jobs (queue, id, payload, at, enqueued_at, grp)
       SELECT $1, u.id, u.payload, u.at, $2, u.grp
       FROM unnest($3::text[], $4::bytea[], $5::bigint[], $6::text[]) WITH ORDINALITY AS u(id, payload, at, grp, n)
       ORDER BY u.n
       ON CONFLICT (queue, id) ${onConflict} RETURNING id`,
      params,
    );
    const added = new Set(r.rows.map((x) => x.id));
    if (offered.some((j, i) => added.has(offeredIds[i]!) && j.dueAt <= now)) this.kernel.wake(jobsWakeKey(queue));
    // added, and the one of the batch that was offered
    return ids.map((id, i) => ({ id, duplicate: !added.has(id) || firstAt.get(id) !== i }));
  }

  async lease(queue: string, max: number, leaseMs: number, now: number): Promise<Job[]> {
    const r = await this.db.query<Row & { due: string }>(
      `WITH pick AS (
         SELECT queue, id, at AS due FROM jobs j WHERE queue = $1 AND NOT dead AND at <= $2 AND ${HEADS}
         ORDER BY at, seq LIMIT $4 FOR UPDATE SKIP LOCKED)
       UPDATE jobs j SET at = $3, attempts = j.attempts + 1, leased = true
       FROM pick WHERE j.queue = pick.queue AND j.id = pick.id
       RETURNING j.*, pick.due`,
      [queue, now, now + leaseMs, max],
    );
    // oldest due first, as picked (RETURNING keeps no order)
    const rows = r.rows.sort((a, b) => Number(a.due) - Number(b.due) || Number(a.seq) - Number(b.seq));
    return rows.map((x) => toJob(x, now));
  }

  async ack(queue: string, leases: LeaseRef[]): Promise<boolean[]> {
    if (leases.length === 0) return [];
    const r = await this.db.query<{ id: string; attempts: number; grp: string | null }>(
      `DELETE FROM jobs j USING unnest($2::text[], $3::int[]) AS l(id, attempt)
       WHERE j.queue = $1 AND j.id = l.id AND j.attempts = l.attempt AND j.leased AND NOT j.dead
       RETURNING j.id, j.attempts, j.grp`,
      [queue, leases.map((l) => l.id), leases.map((l) => l.attempt)],
    );
    // the next job of a group may be leased now
    if (r.rows.some((x) => x.grp !== null)) this.kernel.wake(jobsWakeKey(queue));
    const done = new Set(r.rows.map((x) => `${x.id}\u0000${x.attempts}`));
    return leases.map((l) => done.has(`${l.id}\u0000${l.attempt}`));
  }

  async retry(queue: string, lease: LeaseRef, at: number, error: string, opts: RetryOptions = {}): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE jobs SET at = $4, leased = false, last_error = $5${opts.leaveGroup ? ', grp = NULL' : ''}
       WHERE queue = $1 AND id = $2 AND attempts = $3 AND leased AND NOT dead`,
      [queue, lease.id, lease.attempt, at, error],
    );
    // the next job of its group (if it had one) may be leased now
    if (opts.leaveGroup && r.rowCount === 1) this.kernel.wake(jobsWakeKey(queue));
    return r.rowCount === 1;
  }

  async deadLetter(queue: string, lease: LeaseRef, reason: string): Promise<boolean> {
    const r = await this.db.query<{ grp: string | null }>(
      `UPDATE jobs SET dead = true, leased = false, last_error = $4
       WHERE queue = $1 AND id = $2 AND attempts = $3 AND leased AND NOT dead RETURNING grp`,
      [queue, lease.id, lease.attempt, reason],
    );
    if (r.rows[0] && r.rows[0].grp !== null) this.kernel.wake(jobsWakeKey(queue));
    return r.rowCount === 1;
  }

  async inspect(queue: string, now: number, opts: { state?: JobState; limit: number }): Promise<Job[]> {
    const where: Record<JobState, string> = {
      dead: 'dead',
      leased: 'NOT dead AND leased AND at > $2',
      ready: 'NOT dead AND at <= $2',
      delayed: 'NOT dead AND NOT leased AND at > $2',
    };
    const r = await this.db.query<Row>(
      // $2 is typed here because not every filter uses it
      `SELECT * FROM jobs WHERE queue = $1 AND $2::bigint IS NOT NULL AND ${opts.state ? where[opts.state] : 'true'}
       ORDER BY at, seq LIMIT $3`,
      [queue, now, opts.limit],
    );
    return r.rows.map((x) => toJob(x, now));
  }

  async counts(queue: string, now: number): Promise<JobCounts> {
    const r = await this.db.query<Record<keyof JobCounts, string>>(
      `SELECT count(*) FILTER (WHERE NOT dead AND at <= $2) AS ready,
              count(*) FILTER (WHERE NOT dead AND NOT leased AND at > $2) AS delayed,
              count(*) FILTER (WHERE NOT dead AND leased AND at > $2) AS leased,
              count(*) FILTER (WHERE dead) AS dead
       FROM jobs WHERE queue = $1`,
      [queue, now],
    );
    const x = r.rows[0]!;
    return { ready: Number(x.ready), delayed: Number(x.delayed), leased: Number(x.leased), dead: Number(x.dead) };
  }

  async nextDueAt(queue: string, now: number): Promise<number | undefined> {
    const r = await this.db.query<{ at: string | null }>(
      `SELECT min(at) AS at FROM jobs j WHERE queue = $1 AND NOT dead AND ${HEADS}`,
      [queue],
    );
    const at = r.rows[0]?.at;
    if (at === null || at === undefined) return undefined;
    return Math.max(Number(at), now);
  }

  async purge(queue: string): Promise<number> {
    const r = await this.db.query('DELETE FROM jobs WHERE queue = $1', [queue]);
    return r.rowCount ?? 0;
  }
}
