import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/clock.js';
import { Scheduler } from '../../src/kernel/scheduler.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('Scheduler', () => {
  it('runs jobs on the injected clock, never two runs of one job at once', async () => {
    const clock = new ManualClock();
    const s = new Scheduler(clock, () => {});
    let runs = 0;
    let release: () => void = () => {};
    s.add({
      name: 'slow',
      intervalMs: 1000,
      run: () => {
        runs++;
        return new Promise<void>((r) => (release = r));
      },
    });
    s.start();
    clock.advance(999);
    expect(runs).toBe(0);
    clock.advance(1);
    expect(runs).toBe(1);
    // the next run is armed only after this one ends
    clock.advance(5000);
    expect(runs).toBe(1);
    // runOnce joins the run under way instead of starting another
    const joined = s.runOnce('slow');
    expect(runs).toBe(1);
    release();
    await joined;
    await tick();
    clock.advance(1000);
    expect(runs).toBe(2);
    release();
    await s.stop();
  });

  it('runOnce runs every job, interval 0 only then; errors go to onError; stop ends the timers', async () => {
    const clock = new ManualClock();
    const errors: string[] = [];
    const s = new Scheduler(clock, (job, err) => errors.push(`${job}: ${err.message}`));
    const ran: string[] = [];
    s.add({ name: 'manual', intervalMs: 0, run: async () => void ran.push('manual') });
    s.add({
      name: 'failing',
      intervalMs: 10,
      run: async () => {
        ran.push('failing');
        throw new Error('boom');
      },
    });
    expect(() => s.add({ name: 'manual', intervalMs: 0, run: async () => {} })).toThrow(/already/);
    s.start();
    // 'manual' never ticks; 'failing' runs once: its next tick is armed when the run settles
    clock.advance(100);
    expect(ran).toEqual(['failing']);
    await tick();
    await s.runOnce();
    expect(ran).toEqual(['failing', 'manual', 'failing']);
    expect(errors).toEqual(['failing: boom', 'failing: boom']);
    await expect(s.runOnce('nope')).rejects.toThrow(/no job nope/);
    await s.stop();
    clock.advance(1000);
    await tick();
    expect(ran).toHaveLength(3);
  });

  it('ticks wall-clock jobs on the wall clock', async () => {
    const injected = new ManualClock();
    const wall = new ManualClock();
    const s = new Scheduler(injected, () => {}, wall);
    let runs = 0;
    s.add({ name: 'io', intervalMs: 50, wallClock: true, run: async () => void runs++ });
    s.start();
    injected.advance(1000);
    expect(runs).toBe(0);
    wall.advance(50);
    expect(runs).toBe(1);
    await s.stop();
  });
});
