/**
 * The KinesisStore conformance suite: the embedded log and PostgreSQL run exactly these tests.
 * Time is passed in explicitly, so nothing here sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KinesisStore, NewRecord } from '../../src/store/kinesis/types.js';
import type { Stores } from '../../src/store/types.js';
import type { StoreFactory } from './sqs-store.conformance.js';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 24 * 3600_000;
const rec = (s: string, pk = 'k'): NewRecord => ({ partitionKey: pk, data: Buffer.from(s) });
const all = { limit: 10_000, maxBytes: 10 * 1024 * 1024, notBefore: 0 };
const firsts = (r: ({ first: number } | undefined)[]) => r.map((x) => x?.first ?? -1);
const texts = (rs: { data: Buffer }[]) => rs.map((r) => r.data.toString());

export function kinesisConformance(f: StoreFactory): void {
  describe(`KinesisStore conformance: ${f.name}`, () => {
    let stores: Stores;
    let k: KinesisStore;
    beforeEach(async () => {
      stores = await f.open();
      k = stores.kinesis;
    });
    afterEach(async () => {
      await stores.kernel.close();
      await f.cleanup();
    });

    it('appends records per shard with consecutive counters, in order, and reads them back', async () => {
      await k.openShards('s1', [0, 1], DAY);
      expect(firsts(await k.append('s1', [{ shard: 0, records: [rec('a', 'p1'), rec('b', 'p2')] }], T0))).toEqual([0]);
      expect(
        firsts(
          await k.append(
            's1',
            [
              { shard: 1, records: [rec('x')] },
              { shard: 0, records: [rec('c')] },
            ],
            T0 + 5,
          ),
        ),
      ).toEqual([0, 2]);
      const got = await k.read('s1', 0, 0, all);
      expect(got.map((r) => [r.counter, r.partitionKey, r.data.toString(), r.arrival])).toEqual([
        [0, 'p1', 'a', T0],
        [1, 'p2', 'b', T0],
        [2, 'k', 'c', T0 + 5],
      ]);
      expect(texts(await k.read('s1', 0, 1, all))).toEqual(['b', 'c']);
      expect(texts(await k.read('s1', 0, 3, all))).toEqual([]);
      expect(texts(await k.read('s1', 1, 0, all))).toEqual(['x']);
      expect(await k.states('s1', [0, 1, 7])).toEqual(
        new Map([
          [0, { next: 3, closed: false }],
          [1, { next: 1, closed: false }],
        ]),
      );
    });

    it('keeps arrival times from going back within a shard', async () => {
      await k.openShards('s1', [0], DAY);
      await k.append('s1', [{ shard: 0, records: [rec('a')] }], T0 + 100);
      await k.append('s1', [{ shard: 0, records: [rec('b')] }], T0 + 50);
      expect((await k.read('s1', 0, 0, all)).map((r) => r.arrival)).toEqual([T0 + 100, T0 + 100]);
    });

    it('keeps data byte for byte, empty and binary included', async () => {
      await k.openShards('s1', [0], DAY);
      const bin = Buffer.from([0, 255, 10, 13, 0x80]);
      await k.append('s1', [{ shard: 0, records: [{ partitionKey: 'ü', data: bin }, rec('')] }], T0);
      const got = await k.read('s1', 0, 0, all);
      expect(got[0]!.data.equals(bin)).toBe(true);
      expect(got[0]!.partitionKey).toBe('ü');
      expect(got[1]!.data.length).toBe(0);
    });

    it('pages by limit and by bytes, and always gives the first record', async () => {
      await k.openShards('s1', [0], DAY);
      await k.append('s1', [{ shard: 0, records: ['aaaa', 'bbbb', 'cccc', 'dddd'].map((s) => rec(s)) }], T0);
      expect(texts(await k.read('s1', 0, 0, { ...all, limit: 2 }))).toEqual(['aaaa', 'bbbb']);
      expect(texts(await k.read('s1', 0, 0, { ...all, maxBytes: 9 }))).toEqual(['aaaa', 'bbbb']);
      expect(texts(await k.read('s1', 0, 0, { ...all, maxBytes: 8 }))).toEqual(['aaaa', 'bbbb']);
      expect(texts(await k.read('s1', 0, 1, { ...all, maxBytes: 1 }))).toEqual(['bbbb']);
    });

    it('seeks by arrival time and skips records that arrived before notBefore', async () => {
      await k.openShards('s1', [0], DAY);
      await k.append('s1', [{ shard: 0, records: [rec('a')] }], T0);
      await k.append('s1', [{ shard: 0, records: [rec('b')] }], T0 + 10);
      await k.append('s1', [{ shard: 0, records: [rec('c')] }], T0 + 20);
      expect(await k.seek('s1', 0, T0 - 1)).toBe(0);
      expect(await k.seek('s1', 0, T0 + 10)).toBe(1);
      expect(await k.seek('s1', 0, T0 + 11)).toBe(2);
      expect(await k.seek('s1', 0, T0 + 21)).toBe(3);
      expect(texts(await k.read('s1', 0, 0, { ...all, notBefore: T0 + 5 }))).toEqual(['b', 'c']);
    });

    it('refuses appends to a closed or unknown shard, and writes none of that group', async () => {
      await k.openShards('s1', [0, 1], DAY);
      await k.append('s1', [{ shard: 0, records: [rec('a')] }], T0);
      expect(await k.close('s1', 0)).toEqual({ next: 1, closed: true });
      expect(await k.close('s1', 0)).toEqual({ next: 1, closed: true });
      expect(
        firsts(
          await k.append(
            's1',
            [
              { shard: 0, records: [rec('late')] },
              { shard: 1, records: [rec('ok')] },
              { shard: 9, records: [rec('nowhere')] },
            ],
            T0,
          ),
        ),
      ).toEqual([-1, 0, -1]);
      expect(texts(await k.read('s1', 0, 0, all))).toEqual(['a']);
      expect(texts(await k.read('s1', 1, 0, all))).toEqual(['ok']);
      expect(await k.close('s1', 9)).toBeUndefined();
      // shards opened later (a split's children) start at counter 0
      await k.openShards('s1', [2, 3], DAY);
      expect(firsts(await k.append('s1', [{ shard: 2, records: [rec('child')] }], T0))).toEqual([0]);
    });

    it('trims records beyond each stream’s retention, and a new retention applies at the next trim', async () => {
      await k.openShards('short', [0], DAY);
      await k.openShards('long', [0], 7 * DAY);
      for (const s of ['short', 'long']) {
        await k.append(s, [{ shard: 0, records: [rec('old')] }], T0);
        await k.append(s, [{ shard: 0, records: [rec('new')] }], T0 + DAY);
      }
      expect(await k.trim(T0 + DAY + 1)).toBe(1);
      expect(texts(await k.read('short', 0, 0, all))).toEqual(['new']);
      expect(texts(await k.read('long', 0, 0, all))).toEqual(['old', 'new']);
      // counters stay where they were: the next record follows the trimmed ones
      expect(firsts(await k.append('short', [{ shard: 0, records: [rec('next')] }], T0 + DAY + 2))).toEqual([2]);
      expect(await k.seek('short', 0, 0)).toBe(1);
      await k.setRetention('long', DAY);
      expect(await k.trim(T0 + DAY + 1)).toBe(1);
      expect(texts(await k.read('long', 0, 0, all))).toEqual(['new']);
      expect(await k.trim(T0 + DAY + 1)).toBe(0);
    });

    it('drops a stream: its records and shards are gone, others stay', async () => {
      await k.openShards('a', [0], DAY);
      await k.openShards('b', [0], DAY);
      await k.append('a', [{ shard: 0, records: [rec('x')] }], T0);
      await k.append('b', [{ shard: 0, records: [rec('y')] }], T0);
      await k.drop('a');
      expect(await k.read('a', 0, 0, all)).toEqual([]);
      expect(await k.states('a', [0])).toEqual(new Map());
      expect(firsts(await k.append('a', [{ shard: 0, records: [rec('z')] }], T0))).toEqual([-1]);
      expect(texts(await k.read('b', 0, 0, all))).toEqual(['y']);
    });

    it('clears everything on reset', async () => {
      await k.openShards('a', [0], DAY);
      await k.append('a', [{ shard: 0, records: [rec('x')] }], T0);
      await stores.kernel.reset();
      expect(await k.states('a', [0])).toEqual(new Map());
      expect(await k.read('a', 0, 0, all)).toEqual([]);
    });

    it('tells waiters about new records in a shard', async () => {
      await k.openShards('a', [0], DAY);
      const keys: string[] = [];
      stores.kernel.onWake((key) => keys.push(key));
      await k.append('a', [{ shard: 0, records: [rec('x')] }], T0);
      expect(keys).toContain('kinesis:a:0');
    });

    it('keeps records, trims, closes and counters across a restart', async () => {
      if (!f.reopen) return;
      await k.openShards('s', [0, 1], DAY);
      for (let i = 0; i < 50; i++) await k.append('s', [{ shard: i % 2, records: [rec(`r${i}`)] }], T0 + i);
      await k.close('s', 1);
      await k.openShards('gone', [0], DAY);
      await k.append('gone', [{ shard: 0, records: [rec('g')] }], T0);
      await k.drop('gone');
      await k.setRetention('s', 10);
      await k.trim(T0 + 20);
      stores = await f.reopen(stores);
      k = stores.kinesis;
      const evens = texts(await k.read('s', 0, 0, all));
      expect(evens[0]).toBe('r10');
      expect(evens.length).toBe(20);
      expect(await k.states('s', [0, 1])).toEqual(
        new Map([
          [0, { next: 25, closed: false }],
          [1, { next: 25, closed: true }],
        ]),
      );
      expect(firsts(await k.append('s', [{ shard: 0, records: [rec('after')] }], T0 + 60))).toEqual([25]);
      expect(await k.states('gone', [0])).toEqual(new Map());
    });
  });
}
