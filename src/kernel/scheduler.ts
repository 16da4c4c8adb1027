/**
 * One scheduler for background work: named jobs on an interval of the injected clock, each run
 * only after the previous run finished (no overlap), optionally under a lease so that one node of
 * a cluster runs it at a time. Tests call runOnce() instead of waiting for timers.
 */
import type { Clock, TimerHandle } from './clock.js';

export interface Job {
  /** unique, e.g. `sqs.maintenance`, `store.checkpoint` */
  name: string;
  /** 0 schedules nothing: the job runs only through runOnce() */
  intervalMs: number;
  /**
   * Ticks on the wall clock even when time is injected: work paced by real I/O (copying the
   * SQLite WAL into the database) rather than by the behaviour a test observes.
   */
  wallClock?: boolean;
  run(): Promise<void>;
}

export class Scheduler {
  private readonly jobs = new Map<string, { job: Job; timer?: TimerHandle; running?: Promise<void> }>();
  private started = false;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly onError: (job: string, err: Error) => void,
    /** the clock of wallClock jobs */
    private readonly wall: Clock = clock,
  ) {}

  /** Adds a job; it starts ticking with start() (or at once if the scheduler runs already). */
  add(job: Job): void {
    if (this.jobs.has(job.name)) throw new Error(`job ${job.name} is scheduled already`);
    this.jobs.set(job.name, { job });
    if (this.started) this.arm(job.name);
  }

  start(): void {
    this.started = true;
    for (const name of this.jobs.keys()) this.arm(name);
  }

  private arm(name: string): void {
    const e = this.jobs.get(name)!;
    if (this.stopped || e.job.intervalMs <= 0) return;
    e.timer = this.clockOf(e.job).setTimeout(() => {
      e.timer = undefined;
      void this.runJob(name).finally(() => this.arm(name));
    }, e.job.intervalMs);
  }

  private clockOf(job: Job): Clock {
    return job.wallClock ? this.wall : this.clock;
  }

  private runJob(name: string): Promise<void> {
    const e = this.jobs.get(name)!;
    // a run already under way is the run: callers wait for it instead of starting another
    e.running ??= e.job
      .run()
      .catch((err: Error) => this.onError(name, err))
      .finally(() => (e.running = undefined));
    return e.running;
  }

  /** Runs the named job (or every job) now, once; resolves when the runs are done. Errors go to onError. */
  async runOnce(name?: string): Promise<void> {
    const names = name === undefined ? [...this.jobs.keys()] : [name];
    for (const n of names) {
      if (!this.jobs.has(n)) throw new Error(`no job ${n}`);
      await this.runJob(n);
    }
  }

  /** Cancels every timer and waits for the runs under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running: Promise<void>[] = [];
    for (const e of this.jobs.values()) {
      if (e.timer) this.clockOf(e.job).clearTimeout(e.timer);
      e.timer = undefined;
      if (e.running) running.push(e.running);
    }
    await Promise.all(running);
  }
}
