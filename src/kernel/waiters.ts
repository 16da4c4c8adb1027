/**
 * Waiters keyed by string: a long poll that found nothing waits here until something may be
 * available under its key (an SQS queue: the store reports sends and visibility changes, across
 * nodes on PostgreSQL; later a Kinesis shard for SubscribeToShard, a function's Runtime API
 * `next`, an event-source poller), until a known time (a message's delay or visibility timeout
 * runs out), its deadline, or until the client goes away.
 */
import type { Clock, TimerHandle } from './clock.js';

interface Waiter {
  wake: () => void;
  /** when its timer fires on its own (the next known visibility change, or the deadline) */
  at: number;
}

export class Waiters {
  private readonly waiters = new Map<string, Set<Waiter>>();
  // Bumped on every notify: a receive reads it before looking at the store, and a wait that
  // starts after a notify it would have missed returns at once.
  private readonly versions = new Map<string, number>();
  private closed = false;

  constructor(private readonly clock: Clock) {}

  /** Wakes everything waiting on the key; each looks again. */
  notify(key: string): void {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const w of set) w.wake();
  }

  /**
   * Something under the key becomes available at `at` (an SQS delayed send, a new visibility
   * timeout): wakes the waiters that would sleep past it, so they look again and set their timers
   * by it. Waiters that wake by then anyway keep waiting (SQS heartbeats that extend a visibility
   * timeout wake nobody).
   */
  wakeBy(key: string, at: number): void {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
    const set = this.waiters.get(key);
    if (!set) return;
    for (const w of [...set]) if (w.at > at) w.wake();
  }

  /** A counter bumped by every notification of the key. */
  version(key: string): number {
    return this.versions.get(key) ?? 0;
  }

  /**
   * Resolves when the key is notified, at `wakeAt` (the next known change, if any), at
   * `deadline`, or when the signal aborts. Returns at once when closed or when the key was
   * notified after `since` (a version read before the caller last looked).
   */
  wait(key: string, since: number, deadline: number, wakeAt: number | undefined, signal: AbortSignal): Promise<void> {
    if (this.closed || signal.aborted || this.version(key) !== since) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const at = Math.min(deadline, wakeAt ?? Infinity);
      const waiter: Waiter = {
        at,
        wake: () => {
          if (timer) this.clock.clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          const set = this.waiters.get(key);
          set?.delete(waiter);
          if (set && set.size === 0) this.waiters.delete(key);
          resolve();
        },
      };
      const onAbort = () => waiter.wake();
      timer = this.clock.setTimeout(() => {
        timer = undefined;
        waiter.wake();
      }, at - this.clock.now());
      signal.addEventListener('abort', onAbort, { once: true });
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      set.add(waiter);
    });
  }

  /** true once the server is stopping: nothing may wait any more. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Waiters parked on one key. */
  waitingOn(key: string): number {
    return this.waiters.get(key)?.size ?? 0;
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
