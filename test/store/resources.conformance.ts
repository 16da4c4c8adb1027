/**
 * The ResourceStore conformance suite: the embedded store and PostgreSQL run exactly these tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VersionConflict, type ResourceKey } from '../../src/store/resources.js';
import type { StoreFactory } from './sqs-store.conformance.js';
import type { StoreKernel } from '../../src/store/kernel.js';
import type { Stores } from '../../src/store/types.js';

const T0 = Date.UTC(2026, 0, 1);
const key = (name: string, over: Partial<ResourceKey> = {}): ResourceKey => ({
  kind: 'sns.topic',
  account: '000000000000',
  region: 'us-east-1',
  name,
  ...over,
});

export function resourceConformance(f: StoreFactory): void {
  describe(`ResourceStore conformance: ${f.name}`, () => {
    let stores: Stores;
    let kernel: StoreKernel;
    beforeEach(async () => {
      stores = await f.open();
      kernel = stores.kernel;
    });
    afterEach(async () => {
      await kernel.close();
      await f.cleanup();
    });

    it('creates, reads back byte for byte, replaces and bumps the version', async () => {
      const r = kernel.resources;
      const doc = { b: 1, a: ['x', { nested: true }], unicode: 'ünï ☃', big: 'x'.repeat(10_000) };
      const made = await r.put(key('t1'), doc, { now: T0, tags: { env: 'test' } });
      expect(made).toMatchObject({
        ...key('t1'),
        version: 1,
        doc,
        tags: { env: 'test' },
        createdAt: T0,
        updatedAt: T0,
      });
      expect(JSON.stringify((await r.get(key('t1')))!.doc)).toBe(JSON.stringify(doc)); // key order kept
      // tags are kept when not given, replaced when given
      const next = await r.put(key('t1'), { v: 2 }, { now: T0 + 5 });
      expect(next).toMatchObject({
        version: 2,
        doc: { v: 2 },
        tags: { env: 'test' },
        createdAt: T0,
        updatedAt: T0 + 5,
      });
      expect((await r.put(key('t1'), { v: 3 }, { now: T0 + 6, tags: {} })).tags).toEqual({});
      expect(await r.get(key('nope'))).toBeUndefined();
    });

    it('keeps kinds, accounts and regions apart', async () => {
      const r = kernel.resources;
      await r.put(key('same'), 'topic', { now: T0 });
      await r.put(key('same', { kind: 'events.rule' }), 'rule', { now: T0 });
      await r.put(key('same', { account: '111111111111' }), 'other account', { now: T0 });
      await r.put(key('same', { region: 'eu-west-1' }), 'other region', { now: T0 });
      expect((await r.get(key('same')))!.doc).toBe('topic');
      expect((await r.get(key('same', { kind: 'events.rule' })))!.doc).toBe('rule');
      expect((await r.list('sns.topic', '000000000000', 'us-east-1')).map((x) => x.doc)).toEqual(['topic']);
    });

    it('writes conditionally on the version', async () => {
      const r = kernel.resources;
      await r.put(key('c'), 1, { now: T0, ifVersion: 0 });
      const conflict = await r.put(key('c'), 2, { now: T0, ifVersion: 0 }).catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(VersionConflict);
      expect(conflict).toMatchObject({ expected: 0, actual: 1 });
      expect((await r.put(key('c'), 2, { now: T0, ifVersion: 1 })).version).toBe(2);
      await expect(r.put(key('c'), 3, { now: T0, ifVersion: 1 })).rejects.toMatchObject({ expected: 1, actual: 2 });
      await expect(r.put(key('absent'), 3, { now: T0, ifVersion: 4 })).rejects.toMatchObject({ actual: undefined });
      expect((await r.get(key('c')))!.doc).toBe(2);
      await expect(r.delete(key('c'), { now: T0, ifVersion: 1 })).rejects.toBeInstanceOf(VersionConflict);
      expect(await r.delete(key('c'), { now: T0, ifVersion: 2 })).toBe(true);
    });

    it('races: of two conditional creates, exactly one wins', async () => {
      const r = kernel.resources;
      const results = await Promise.allSettled([
        r.put(key('race'), 'a', { now: T0, ifVersion: 0 }),
        r.put(key('race'), 'b', { now: T0, ifVersion: 0 }),
      ]);
      expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(VersionConflict);
    });

    it('lists by name in byte order, with a prefix and pages', async () => {
      const r = kernel.resources;
      for (const n of ['b', 'a', 'B', 'ab', 'a-1', 'c', 'aa']) await r.put(key(n), n, { now: T0 });
      const names = async (o = {}) => (await r.list('sns.topic', '000000000000', 'us-east-1', o)).map((x) => x.name);
      expect(await names()).toEqual(['B', 'a', 'a-1', 'aa', 'ab', 'b', 'c']);
      expect(await names({ prefix: 'a' })).toEqual(['a', 'a-1', 'aa', 'ab']);
      expect(await names({ prefix: 'a', limit: 2 })).toEqual(['a', 'a-1']);
      expect(await names({ prefix: 'a', after: 'a-1', limit: 2 })).toEqual(['aa', 'ab']);
      expect(await names({ prefix: '%' })).toEqual([]); // no LIKE wildcards
    });

    it('deletes, and remembers a deletion for as long as asked', async () => {
      const r = kernel.resources;
      await r.put(key('d'), 1, { now: T0 });
      expect(await r.delete(key('d'), { now: T0, rememberMs: 60_000 })).toBe(true);
      expect(await r.delete(key('d'), { now: T0 })).toBe(false);
      expect(await r.get(key('d'))).toBeUndefined();
      expect(await r.deletedRecently(key('d'), T0 + 59_999)).toBe(true);
      expect(await r.deletedRecently(key('d'), T0 + 60_000)).toBe(false);
      expect(await r.deletedRecently(key('never'), T0)).toBe(false);
      // a new resource of that name forgets the deletion
      await r.put(key('d'), 2, { now: T0 + 1 });
      expect(await r.deletedRecently(key('d'), T0 + 2)).toBe(false);
      expect((await r.get(key('d')))!.version).toBe(1);
    });

    it('is emptied by reset', async () => {
      await kernel.resources.put(key('r'), 1, { now: T0 });
      await kernel.resources.put(key('gone'), 1, { now: T0 });
      await kernel.resources.delete(key('gone'), { now: T0, rememberMs: 60_000 });
      await kernel.reset();
      expect(await kernel.resources.get(key('r'))).toBeUndefined();
      expect(await kernel.resources.deletedRecently(key('gone'), T0)).toBe(false);
    });

    if (f.reopen) {
      it('keeps resources across a restart', async () => {
        await kernel.resources.put(key('kept'), { deep: [1, 2] }, { now: T0, tags: { a: 'b' } });
        await kernel.resources.put(key('kept'), { deep: [1, 2, 3] }, { now: T0 + 1 });
        stores = await f.reopen!(stores);
        kernel = stores.kernel;
        expect(await kernel.resources.get(key('kept'))).toMatchObject({
          version: 2,
          doc: { deep: [1, 2, 3] },
          tags: { a: 'b' },
        });
      });
    }
  });
}
