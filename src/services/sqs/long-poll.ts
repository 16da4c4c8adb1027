/**
 * Long polling: a receive that found nothing waits here until a message may be available on
 * its queue (the store reports sends and visibility changes, across nodes on PostgreSQL), a
 * message's delay or visibility timeout runs out, the wait time ends, or the client goes away.
 */
import type { Clock, TimerHandle } from '../../kernel/clock.js';

interface Waiter {
  wake: () => void;
  /** when its timer fires on its own (the next known visibility change, or the deadline) */
  at: number;
}

export class LongPoll {
  private readonly waiters = new Map<number, Set<Waiter>>();
  // Bumped on every notify: a receive reads it before looking at the store, and a wait that
  // starts after a notify it would have missed returns at once.
  private readonly versions = new Map<number, number>();
  private closed = false;

  constructor(private readonly clock: Clock) {}

  /** Wakes every receive waiting on the queue; each retries its receive. */
  notify(queueId: number): void {
    this.versions.set(queueId, (this.versions.get(queueId) ?? 0) + 1);
    const set = this.waiters.get(queueId);
    if (!set) return;
    this.waiters.delete(queueId);
    for (const w of set) w.wake();
  }

  /**
   * A message of the queue becomes visible at `at` (a delayed send, a new visibility timeout):
   * wakes the receives that would sleep past it, so they look again and set their timers by it.
   * Receives that wake by then anyway keep waiting; heartbeats that extend a visibility timeout
   * wake nobody.
   */
  wakeBy(queueId: number, at: number): void {
    this.versions.set(queueId, (this.versions.get(queueId) ?? 0) + 1);
    const set = this.waiters.get(queueId);
    if (!set) return;
    for (const w of [...set]) if (w.at > at) w.wake();
  }

  /** A counter bumped by every notification of the queue. */
  version(queueId: number): number {
    return this.versions.get(queueId) ?? 0;
  }

  /**
   * Resolves when the queue may have a message, at `wakeAt` (the next visibility change, if
   * known), at `deadline`, or when the signal aborts. Returns at once when closed or when the
   * queue was notified after `since` (a version read before the caller's last receive).
   */
  wait(
    queueId: number,
    since: number,
    deadline: number,
    wakeAt: number | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    if (this.closed || signal.aborted || this.version(queueId) !== since) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const at = Math.min(deadline, wakeAt ?? Infinity);
      const waiter: Waiter = {
        at,
        wake: () => {
          if (timer) this.clock.clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          const set = this.waiters.get(queueId);
          set?.delete(waiter);
          if (set && set.size === 0) this.waiters.delete(queueId);
          resolve();
        },
      };
      const onAbort = () => waiter.wake();
      timer = this.clock.setTimeout(() => {
        timer = undefined;
        waiter.wake();
      }, at - this.clock.now());
      signal.addEventListener('abort', onAbort, { once: true });
      let set = this.waiters.get(queueId);
      if (!set) this.waiters.set(queueId, (set = new Set()));
      set.add(waiter);
    });
  }

  /** true once the server is stopping: no receive may wait any more. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Receives parked on one queue. */
  waitingOn(queueId: number): number {
    return this.waiters.get(queueId)?.size ?? 0;
  }

  waiting(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  /** Ends every wait now and refuses new ones (server stopping). */
  close(): void {
    this.closed = true;
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }
}
