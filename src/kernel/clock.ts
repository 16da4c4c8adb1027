/**
 * Time is injected so tests advance it instead of sleeping. Every timer the server sets
 * (long-poll deadlines, visibility wake-ups, background sweeps) goes through a Clock.
 */
export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

class SystemClock implements Clock {
  private next = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    const t = setTimeout(
      () => {
        this.timers.delete(id);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.set(id, t);
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    const t = this.timers.get(handle.id);
    if (t) {
      clearTimeout(t);
      this.timers.delete(handle.id);
    }
  }
  /** Number of timers not yet fired (tests assert nothing leaks). */
  pending(): number {
    return this.timers.size;
  }
}

export const systemClock = (): SystemClock => new SystemClock();
export type { SystemClock };

/**
 * A clock that only moves when told to. Due timers fire, in order, inside advance(); a timer
 * set when its time has already come fires on the next turn of the event loop, as it would
 * on a real clock (time does not move for it).
 */
export class ManualClock implements Clock {
  private current: number;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    if (ms <= 0) {
      setImmediate(() => {
        const t = this.timers.get(id);
        if (t && t.at <= this.current) {
          this.timers.delete(id);
          t.fn();
        }
      });
    }
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }
  pending(): number {
    return this.timers.size;
  }
  /** Moves time forward by ms, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let dueId = 0;
      let dueAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at <= target && t.at < dueAt) {
          dueAt = t.at;
          dueId = id;
        }
      }
      if (!dueId) break;
      const t = this.timers.get(dueId)!;
      this.timers.delete(dueId);
      this.current = Math.max(this.current, t.at);
      t.fn();
    }
    this.current = target;
  }
}
