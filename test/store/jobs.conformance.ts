/**
 * The DurableQueues conformance suite: the embedded log and PostgreSQL run exactly these tests.
 * Time is passed in explicitly, so nothing here sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DurableQueues, Job } from '../../src/store/jobs/types.js';
import type { Stores } from '../../src/store/types.js';
import type { StoreFactory } from './sqs-store.conformance.js';

const T0 = Date.UTC(2026, 0, 1);
const Q = 'sns:delivery:test';
const p = (s: string) => Buffer.from(s);
const ref = (j: Job) => ({ id: j.id, attempt: j.attempts });

export function jobsConformance(f: StoreFactory): void {
  describe(`DurableQueues conformance: ${f.name}`, () => {
    let stores: Stores;
    let jobs: DurableQueues;
    beforeEach(async () => {
      stores = await f.open();
      jobs = stores.jobs;
    });
    afterEach(async () => {
      await stores.kernel.close();
      await f.cleanup();
    });

    it('leases due jobs oldest due first, each at most once until its lease expires', async () => {
      const added = await jobs.enqueue(
        Q,
        [
          { id: 'b', payload: p('B'), dueAt: T0 + 2 },
          { id: 'a', payload: p('A'), dueAt: T0 + 1 },
          { id: 'later', payload: p('L'), dueAt: T0 + 60_000 },
        ],
        T0,
      );
      expect(added).toEqual([
        { id: 'b', duplicate: false },
        { id: 'a', duplicate: false },
        { id: 'later', duplicate: false },
      ]);
      expect(await jobs.counts(Q, T0 + 5)).toEqual({ ready: 2, delayed: 1, leased: 0, dead: 0 });
      const got = await jobs.lease(Q, 10, 30_000, T0 + 5);
      expect(got.map((j) => [j.id, j.payload.toString(), j.attempts, j.state])).toEqual([
        ['a', 'A', 1, 'leased'],
        ['b', 'B', 1, 'leased'],
      ]);
      expect(got[0]!.enqueuedAt).toBe(T0);
      expect(await jobs.lease(Q, 10, 30_000, T0 + 6)).toEqual([]);
      expect(await jobs.counts(Q, T0 + 6)).toEqual({ ready: 0, delayed: 1, leased: 2, dead: 0 });
      // the leases expire: ready again, a second attempt (same expiry: enqueue order decides)
      const again = await jobs.lease(Q, 1, 30_000, T0 + 5 + 30_000);
      expect(again.map((j) => [j.id, j.attempts])).toEqual([['b', 2]]);
    });

    it('acts only on the current lease: ack removes, a stale or repeated answer does nothing', async () => {
      await jobs.enqueue(Q, [{ id: 'x', payload: p('X'), dueAt: T0 }], T0);
      const [first] = await jobs.lease(Q, 1, 1000, T0);
      const [second] = await jobs.lease(Q, 1, 1000, T0 + 1000);
      expect(second!.attempts).toBe(2);
      expect(await jobs.ack(Q, [ref(first!)])).toEqual([false]);
      expect(await jobs.retry(Q, ref(first!), T0, 'late')).toBe(false);
      expect(await jobs.deadLetter(Q, ref(first!), 'late')).toBe(false);
      expect(await jobs.ack(Q, [ref(second!), { id: 'nope', attempt: 1 }])).toEqual([true, false]);
      expect(await jobs.ack(Q, [ref(second!)])).toEqual([false]);
      expect(await jobs.counts(Q, T0 + 2000)).toEqual({ ready: 0, delayed: 0, leased: 0, dead: 0 });
      expect(await jobs.nextDueAt(Q, T0 + 2000)).toBeUndefined();
    });

    it('retries at a given time with the error kept, and dead-letters for inspection', async () => {
      await jobs.enqueue(
        Q,
        [
          { id: 'r', payload: p('R'), dueAt: T0 },
          { id: 'd', payload: p('D'), dueAt: T0 },
        ],
        T0,
      );
      const leased = await jobs.lease(Q, 2, 10_000, T0);
      const r = leased.find((j) => j.id === 'r')!;
      const d = leased.find((j) => j.id === 'd')!;
      expect(await jobs.retry(Q, ref(r), T0 + 5000, 'HTTP 503')).toBe(true);
      expect(await jobs.deadLetter(Q, ref(d), 'no such queue')).toBe(true);
      expect(await jobs.nextDueAt(Q, T0 + 1)).toBe(T0 + 5000);
      expect(await jobs.lease(Q, 10, 10_000, T0 + 4999)).toEqual([]);
      const retried = await jobs.lease(Q, 10, 10_000, T0 + 5000);
      expect(retried.map((j) => [j.id, j.attempts, j.lastError])).toEqual([['r', 2, 'HTTP 503']]);
      const dead = await jobs.inspect(Q, T0 + 5000, { state: 'dead', limit: 10 });
      expect(dead.map((j) => [j.id, j.state, j.lastError, j.payload.toString()])).toEqual([
        ['d', 'dead', 'no such queue', 'D'],
      ]);
      // the dead job is never leased again
      expect(await jobs.lease(Q, 10, 10_000, T0 + 10 ** 9)).toEqual([expect.objectContaining({ id: 'r' })]);
      expect(await jobs.counts(Q, T0 + 10 ** 9 + 1)).toMatchObject({ dead: 1, leased: 1 });
      expect(await jobs.purge(Q)).toBe(2);
      expect(await jobs.counts(Q, T0)).toEqual({ ready: 0, delayed: 0, leased: 0, dead: 0 });
    });

    it('reports a duplicate id and keeps the first job; queues are separate', async () => {
      await jobs.enqueue(Q, [{ id: 'same', payload: p('first'), dueAt: T0 }], T0);
      const again = await jobs.enqueue(
        Q,
        [
          { id: 'same', payload: p('second'), dueAt: T0 },
          { id: 'new', payload: p('n'), dueAt: T0 },
          { id: 'new', payload: p('n2'), dueAt: T0 },
        ],
        T0,
      );
      expect(again.map((x) => x.duplicate)).toEqual([true, false, true]);
      const other = await jobs.enqueue('other', [{ payload: p('o'), dueAt: T0 }], T0);
      expect(other[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
      const got = await jobs.lease(Q, 10, 1000, T0);
      expect(got.map((j) => j.payload.toString()).sort()).toEqual(['first', 'n']);
      expect((await jobs.lease('other', 10, 1000, T0)).map((j) => j.payload.toString())).toEqual(['o']);
      expect(await jobs.purge('other')).toBe(1);
      expect(await jobs.counts(Q, T0)).toMatchObject({ leased: 2 });
    });

    it('replaces a job held for its id once its window closed, only with the same mark', async () => {
      const M = 'kept for deduplication';
      await jobs.enqueue(Q, [{ id: 'w', payload: p('old'), dueAt: T0 }], T0);
      const [first] = await jobs.lease(Q, 1, 1000, T0);
      await jobs.retry(Q, ref(first!), T0 + 100, M);
      // the window is open: a duplicate, with the mark or without
      expect(
        (await jobs.enqueue(Q, [{ id: 'w', payload: p('x'), dueAt: T0 + 50 }], T0 + 50, { expiredMark: M }))[0]!
          .duplicate,
      ).toBe(true);
      // closed: without the mark still a duplicate, with another mark too
      expect((await jobs.enqueue(Q, [{ id: 'w', payload: p('x'), dueAt: T0 + 100 }], T0 + 100))[0]!.duplicate).toBe(
        true,
      );
      expect(
        (await jobs.enqueue(Q, [{ id: 'w', payload: p('x'), dueAt: T0 + 100 }], T0 + 100, { expiredMark: 'other' }))[0]!
          .duplicate,
      ).toBe(true);
      // the pass that would remove it holds it now; the new job replaces it even so
      const [sweep] = await jobs.lease(Q, 1, 1000, T0 + 100);
      expect(sweep!.lastError).toBe(M);
      const again = await jobs.enqueue(
        Q,
        [
          { id: 'w', payload: p('new'), dueAt: T0 + 100 },
          { id: 'w', payload: p('twice'), dueAt: T0 + 100 },
        ],
        T0 + 100,
        { expiredMark: M },
      );
      expect(again.map((x) => x.duplicate)).toEqual([false, true]);
      // the sweep's lease no longer answers for the job
      expect(await jobs.ack(Q, [ref(sweep!)])).toEqual([false]);
      const [fresh] = await jobs.lease(Q, 5, 1000, T0 + 100);
      expect([fresh!.payload.toString(), fresh!.lastError, fresh!.enqueuedAt]).toEqual(['new', undefined, T0 + 100]);
      expect(fresh!.attempts).toBeGreaterThan(sweep!.attempts);
      expect(await jobs.ack(Q, [ref(fresh!)])).toEqual([true]);
      // a dead job keeps its id whatever its reason says
      await jobs.enqueue(Q, [{ id: 'd', payload: p('d'), dueAt: T0 }], T0);
      const [d] = await jobs.lease(Q, 1, 1000, T0);
      await jobs.deadLetter(Q, ref(d!), M);
      expect(
        (await jobs.enqueue(Q, [{ id: 'd', payload: p('x'), dueAt: T0 }], T0 + 200, { expiredMark: M }))[0]!.duplicate,
      ).toBe(true);
      if (f.reopen) {
        await jobs.enqueue(Q, [{ id: 'r', payload: p('r1'), dueAt: T0 }], T0);
        const [r] = await jobs.lease(Q, 1, 1000, T0);
        await jobs.retry(Q, ref(r!), T0 + 100, M);
        await jobs.enqueue(Q, [{ id: 'r', payload: p('r2'), dueAt: T0 + 300 }], T0 + 300, { expiredMark: M });
        stores = await f.reopen(stores);
        jobs = stores.jobs;
        const kept = await jobs.inspect(Q, T0 + 300, { limit: 10 });
        expect(kept.filter((j) => j.id === 'r').map((j) => j.payload.toString())).toEqual(['r2']);
      }
    });

    it('leases the jobs of a group one at a time, in order, until each is done, dead or leaves the group', async () => {
      const g = (id: string, group?: string) => ({ id, payload: p(id), dueAt: T0, ...(group ? { group } : {}) });
      await jobs.enqueue(Q, [g('a1', 'A'), g('a2', 'A'), g('b1', 'B'), g('a3', 'A'), g('x')], T0);
      const ids = (js: Job[]) => js.map((j) => j.id).sort();
      const first = await jobs.lease(Q, 10, 1000, T0);
      expect(ids(first)).toEqual(['a1', 'b1', 'x']);
      const held = (id: string) => ref(first.find((j) => j.id === id)!);
      // what waits behind a leased job is not due: the next thing is a lease running out
      expect(await jobs.nextDueAt(Q, T0 + 1)).toBe(T0 + 1000);
      expect(await jobs.counts(Q, T0 + 1)).toMatchObject({ ready: 2, leased: 3 });
      // a retried job keeps its place at the head of its group
      await jobs.retry(Q, held('a1'), T0 + 500, 'later');
      expect(ids(await jobs.lease(Q, 10, 1000, T0 + 100))).toEqual([]);
      expect(await jobs.nextDueAt(Q, T0 + 100)).toBe(T0 + 500);
      const [a1] = await jobs.lease(Q, 10, 1000, T0 + 500);
      expect(a1!.id).toBe('a1');
      // done: the next one comes
      await jobs.ack(Q, [ref(a1!)]);
      const [a2] = await jobs.lease(Q, 10, 1000, T0 + 500);
      expect(a2!.id).toBe('a2');
      // dead: the next one comes too
      await jobs.deadLetter(Q, ref(a2!), 'gave up');
      const [a3] = await jobs.lease(Q, 10, 1000, T0 + 500);
      expect(a3!.id).toBe('a3');
      // kept for later but out of the group: it holds back nothing
      await jobs.retry(Q, ref(a3!), T0 + 60_000, 'held', { leaveGroup: true });
      await jobs.enqueue(Q, [g('a4', 'A'), g('b2', 'B')], T0 + 500);
      expect(ids(await jobs.lease(Q, 10, 1000, T0 + 500))).toEqual(['a4']);
      if (f.reopen) {
        // after a restart b2 still waits for b1, whose lease the restart kept
        stores = await f.reopen(stores);
        jobs = stores.jobs;
      }
      expect(ids(await jobs.lease(Q, 10, 1000, T0 + 600))).toEqual([]);
      expect(await jobs.ack(Q, [held('b1')])).toEqual([true]);
      expect(ids(await jobs.lease(Q, 10, 1000, T0 + 600))).toEqual(['b2']);
      // a3 left its group for good: it comes back alone when its time comes (as do expired leases)
      expect(ids(await jobs.lease(Q, 10, 1000, T0 + 60_000))).toEqual(['a3', 'a4', 'b2', 'x']);
    });

    it('says when the next job is ready', async () => {
      expect(await jobs.nextDueAt(Q, T0)).toBeUndefined();
      await jobs.enqueue(Q, [{ id: 'x', payload: p('X'), dueAt: T0 + 100 }], T0);
      expect(await jobs.nextDueAt(Q, T0)).toBe(T0 + 100);
      expect(await jobs.nextDueAt(Q, T0 + 200)).toBe(T0 + 200);
      await jobs.lease(Q, 1, 1000, T0 + 200);
      expect(await jobs.nextDueAt(Q, T0 + 201)).toBe(T0 + 1200);
    });

    it('lists jobs by due time and state, and carries large binary payloads intact', async () => {
      const big = Buffer.alloc(1024 * 1024 + 3);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      await jobs.enqueue(
        Q,
        [
          { id: 'late', payload: p('late'), dueAt: T0 + 10 },
          { id: 'big', payload: big, dueAt: T0 },
        ],
        T0,
      );
      const all = await jobs.inspect(Q, T0, { limit: 10 });
      expect(all.map((j) => [j.id, j.state])).toEqual([
        ['big', 'ready'],
        ['late', 'delayed'],
      ]);
      expect(all[0]!.payload.equals(big)).toBe(true);
      expect((await jobs.inspect(Q, T0, { state: 'delayed', limit: 10 })).map((j) => j.id)).toEqual(['late']);
      expect((await jobs.inspect(Q, T0, { limit: 1 })).map((j) => j.id)).toEqual(['big']);
      const [leased] = await jobs.lease(Q, 1, 1000, T0);
      expect(leased!.payload.equals(big)).toBe(true);
    });

    it('never gives one job to two leases taken at the same moment', async () => {
      await jobs.enqueue(
        Q,
        Array.from({ length: 50 }, (_, i) => ({ id: `j${i}`, payload: p(String(i)), dueAt: T0 })),
        T0,
      );
      const [a, b, c] = await Promise.all([
        jobs.lease(Q, 20, 1000, T0),
        jobs.lease(Q, 20, 1000, T0),
        jobs.lease(Q, 20, 1000, T0),
      ]);
      const ids = [...a!, ...b!, ...c!].map((j) => j.id);
      expect(ids.length).toBe(50);
      expect(new Set(ids).size).toBe(50);
    });

    it('never gives two jobs of one group to leases taken at the same moment', async () => {
      await jobs.enqueue(
        Q,
        Array.from({ length: 50 }, (_, i) => ({ id: `j${i}`, payload: p(String(i)), dueAt: T0, group: `g${i % 10}` })),
        T0,
      );
      const got = (await Promise.all([0, 1, 2].map(() => jobs.lease(Q, 20, 1000, T0)))).flat();
      // the first of each group, and only it
      expect(got.map((j) => j.id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `j${i}`).sort());
    });

    if (f.reopen) {
      it('gives back, on the embedded store, the leases a previous process left', async () => {
        await jobs.enqueue(
          Q,
          [
            { id: 'x', payload: p('x'), dueAt: T0 },
            { id: 'y', payload: p('y'), dueAt: T0 + 60_000 },
          ],
          T0,
        );
        const [held] = await jobs.lease(Q, 1, 30_000, T0);
        stores = await f.reopen!(stores);
        jobs = stores.jobs;
        if (stores.kernel.kind === 'postgres') {
          // another node may hold it: PostgreSQL has no such verb
          expect(jobs.releaseLeases).toBeUndefined();
          return;
        }
        expect(await jobs.releaseLeases!(Q, T0 + 1)).toBe(1);
        // ready at once, a second attempt; the old lease no longer answers
        const again = await jobs.lease(Q, 10, 30_000, T0 + 1);
        expect(again.map((j) => [j.id, j.attempts])).toEqual([['x', 2]]);
        expect(await jobs.ack(Q, [ref(held)])).toEqual([false]);
        expect(await jobs.releaseLeases!('nothing-here', T0)).toBe(0);
      });

      it('keeps every acknowledged change across a restart', async () => {
        await jobs.enqueue(
          Q,
          [
            { id: 'acked', payload: p('1'), dueAt: T0 },
            { id: 'leased', payload: p('2'), dueAt: T0 },
            { id: 'dead', payload: p('3'), dueAt: T0 },
            { id: 'retried', payload: p('4'), dueAt: T0 },
            { id: 'delayed', payload: p('5'), dueAt: T0 + 60_000 },
          ],
          T0,
        );
        const got = await jobs.lease(Q, 4, 30_000, T0);
        const by = (id: string) => ref(got.find((j) => j.id === id)!);
        await jobs.ack(Q, [by('acked')]);
        await jobs.deadLetter(Q, by('dead'), 'gave up');
        await jobs.retry(Q, by('retried'), T0 + 10_000, 'boom');
        stores = await f.reopen!(stores);
        jobs = stores.jobs;
        const all = await jobs.inspect(Q, T0 + 1, { limit: 10 });
        expect(all.map((j) => [j.id, j.state, j.attempts, j.lastError ?? null, j.payload.toString()])).toEqual([
          ['retried', 'delayed', 1, 'boom', '4'],
          ['leased', 'leased', 1, null, '2'],
          ['dead', 'dead', 1, 'gave up', '3'],
          ['delayed', 'delayed', 0, null, '5'],
        ]);
        // the lease taken before the restart still answers for its job
        expect(await jobs.ack(Q, [by('leased')])).toEqual([true]);
        expect(await jobs.counts(Q, T0 + 1)).toEqual({ ready: 0, delayed: 2, leased: 0, dead: 1 });
      });
    }
  });
}
