/**
 * Drains one durable queue (store/jobs): leases ready jobs in batches and hands them to a
 * processor, which answers each lease (ack, retry, deadLetter). It runs when the queue is woken
 * (an enqueue, on this node or, through the store's wake-ups, another), when its next job falls
 * due (a retry's time, an expired lease: one timer on the injected clock), and on a periodic kick
 * that covers wake-ups a database connection missed. One pass at a time per queue; a processor
 * that throws loses nothing, because unanswered leases expire and the jobs come back.
 */
import type { Clock, TimerHandle } from '../kernel/clock.js';
import type { StoreKernel } from '../store/kernel.js';
import { jobsWakeKey, type DurableQueues, type Job } from '../store/jobs/types.js';

export interface DrainOptions {
  queue: string;
  jobs: DurableQueues;
  kernel: Pick<StoreKernel, 'onWake' | 'onMissedWakeups'>;
  clock: Clock;
  /** jobs per lease */
  batch: number;
  /** how long a lease holds: longer than a processor takes for one batch */
  leaseMs: number;
  /** answers every lease of the batch; the time is the lease's `now` */
  process(jobs: Job[], now: number): Promise<void>;
  onError(err: Error): void;
}

export class Drain {
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private timer?: { handle: TimerHandle; at: number };

  constructor(private readonly o: DrainOptions) {
    const key = jobsWakeKey(o.queue);
    o.kernel.onWake((k) => k === key && this.kick());
    o.kernel.onMissedWakeups(() => this.kick());
  }

  /** Runs a pass now (or right after the one under way); resolves when the queue has nothing ready. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass()
      .catch((e: Error) => this.o.onError(e))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.kick();
        }
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    const { jobs, queue, clock } = this.o;
    for (;;) {
      if (this.stopped) return;
      const now = clock.now();
      const batch = await jobs.lease(queue, this.o.batch, this.o.leaseMs, now);
      if (batch.length === 0) break;
      await this.o.process(batch, now);
    }
    const next = await jobs.nextDueAt(queue, clock.now());
    if (next !== undefined) this.arm(next);
  }

  private arm(at: number): void {
    if (this.stopped || (this.timer && this.timer.at <= at)) return;
    if (this.timer) this.o.clock.clearTimeout(this.timer.handle);
    const handle = this.o.clock.setTimeout(
      () => {
        this.timer = undefined;
        void this.kick();
      },
      Math.max(0, at - this.o.clock.now()),
    );
    this.timer = { handle, at };
  }

  /** Stops arming timers and waits for the pass under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer.handle);
    this.timer = undefined;
    await this.running;
  }
}
