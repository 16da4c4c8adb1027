import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/clock.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('ManualClock', () => {
  it('fires due timers in time order inside advance, and moves time to each', () => {
    const clock = new ManualClock(1000);
    const seen: [string, number][] = [];
    clock.setTimeout(() => seen.push(['b', clock.now()]), 200);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 100);
    clock.setTimeout(() => seen.push(['c', clock.now()]), 300);
    clock.advance(250);
    expect(seen).toEqual([
      ['a', 1100],
      ['b', 1200],
    ]);
    expect(clock.now()).toBe(1250);
    expect(clock.pending()).toBe(1);
  });

  it('fires a timer that is already due on the next turn, without advancing', async () => {
    const clock = new ManualClock(0);
    let fired = 0;
    clock.setTimeout(() => fired++, 0);
    const cancelled = clock.setTimeout(() => fired++, -5);
    clock.clearTimeout(cancelled);
    expect(fired).toBe(0);
    await turn();
    expect(fired).toBe(1);
    expect(clock.pending()).toBe(0);
    expect(clock.now()).toBe(0);
  });

  it('does not fire a cleared timer', () => {
    const clock = new ManualClock(0);
    let fired = false;
    const t = clock.setTimeout(() => (fired = true), 10);
    clock.clearTimeout(t);
    clock.advance(100);
    expect(fired).toBe(false);
  });
});
