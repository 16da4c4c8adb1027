/**
 * The SqsStore conformance suite: every backend (SQLite now, PostgreSQL next) runs exactly
 * these tests. Time is passed in explicitly, so nothing here sleeps.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewMessage, QueueRef, QueueRow, SqsStore, StoredMessage } from '../../src/store/sqs/types.js';
import type { Stores } from '../../src/store/types.js';
import type { StoreKernel } from '../../src/store/kernel.js';

export interface StoreFactory {
  name: string;
  open(): Promise<Stores>;
  /** closes the store and opens it again on the same data (omit for volatile backends) */
  reopen?(stores: Stores): Promise<Stores>;
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

function msg(body: string, extra: Partial<NewMessage> = {}): NewMessage {
  return { messageId: randomUUID(), body, md5OfBody: 'x', delayMs: 0, senderId: 'AKID', ...extra };
}

export function storeConformance(f: StoreFactory): void {
  describe(`SqsStore conformance: ${f.name}`, () => {
    let store: SqsStore;
    let kernel: StoreKernel;
    let stores: Stores;
    beforeEach(async () => {
      stores = await f.open();
      ({ sqs: store, kernel } = stores);
    });
    afterEach(async () => {
      await kernel.close();
      await f.cleanup();
    });

    async function queue(
      name: string,
      opts: { fifo?: boolean; retentionMs?: number } = {},
    ): Promise<[QueueRow, QueueRef]> {
      const { queue: q } = await store.createQueue({
        account: ACCOUNT,
        region: REGION,
        name,
        fifo: !!opts.fifo,
        attributes: {},
        tags: {},
        createdAt: T0,
        lastModifiedAt: T0,
      });
      const ref: QueueRef = {
        id: q.id,
        fifo: q.fifo,
        arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
        retentionMs: opts.retentionMs ?? 4 * 86_400_000,
        dedupScope: 'queue',
      };
      return [q, ref];
    }

    const recv = (ref: QueueRef, now: number, max = 10, visibilityMs = 30_000, attemptId?: string) =>
      store.receive(ref, { max, visibilityMs, now, ...(attemptId ? { attemptId } : {}) });
    const handle = (m: StoredMessage) => ({ seq: m.seq, receiveCount: m.receiveCount });

    describe('queues', () => {
      it('creates once, finds by name and id, lists by prefix in name order', async () => {
        const [a] = await queue('beta');
        await queue('alpha');
        const again = await store.createQueue({ ...a, attributes: { X: '1' } });
        expect(again.created).toBe(false);
        expect(again.queue.id).toBe(a.id);
        expect((await store.getQueue(ACCOUNT, REGION, 'beta'))?.id).toBe(a.id);
        expect((await store.getQueueById(a.id))?.name).toBe('beta');
        expect((await store.listQueues(ACCOUNT, REGION)).map((q) => q.name)).toEqual(['alpha', 'beta']);
        expect((await store.listQueues(ACCOUNT, REGION, 'al')).map((q) => q.name)).toEqual(['alpha']);
        expect(await store.listQueues('111111111111', REGION)).toEqual([]);
      });

      it('updates attributes and tags, and remembers deletions for a while', async () => {
        const [q, ref] = await queue('q');
        const u = await store.setQueueAttributes(q.id, { VisibilityTimeout: '5' }, T0 + 1000);
        expect(u.attributes).toEqual({ VisibilityTimeout: '5' });
        expect(u.lastModifiedAt).toBe(T0 + 1000);
        expect((await store.setQueueTags(q.id, { a: 'b' })).tags).toEqual({ a: 'b' });
        await store.send(ref, [msg('m')], T0);
        await store.deleteQueue(q.id, T0 + 2000);
        expect(await store.getQueue(ACCOUNT, REGION, 'q')).toBeUndefined();
        expect(await store.deletedRecently(ACCOUNT, REGION, 'q', T0 + 30_000, 60_000)).toBe(true);
        expect(await store.deletedRecently(ACCOUNT, REGION, 'q', T0 + 62_001, 60_000)).toBe(false);
        // a new queue of the same name starts empty
        const [, ref2] = await queue('q');
        expect(await recv(ref2, T0 + 70_000)).toEqual([]);
      });
    });

    describe('standard messages', () => {
      it('delivers what was sent, oldest first, and hides it for the visibility timeout', async () => {
        const [, ref] = await queue('s');
        const sent = await store.send(ref, [msg('a'), msg('b'), msg('c')], T0);
        expect(sent.map((s) => s.duplicate)).toEqual([false, false, false]);
        const got = await recv(ref, T0 + 1);
        expect(got.map((m) => m.body)).toEqual(['a', 'b', 'c']);
        expect(got[0]).toMatchObject({ receiveCount: 1, sentAt: T0, firstReceiveAt: T0 + 1, receivedAt: T0 + 1 });
        expect(await recv(ref, T0 + 2)).toEqual([]);
        expect(await store.counts(ref, T0 + 2)).toEqual({ visible: 0, notVisible: 3, delayed: 0 });
        expect(await store.nextVisibleAt(ref, T0 + 2)).toBe(T0 + 30_001);
        const again = await recv(ref, T0 + 30_001);
        expect(again.map((m) => m.receiveCount)).toEqual([2, 2, 2]);
        expect(again[0].firstReceiveAt).toBe(T0 + 1);
      });

      it('respects max and hands each message to one receiver', async () => {
        const [, ref] = await queue('s');
        await store.send(
          ref,
          Array.from({ length: 25 }, (_, i) => msg(`m${i}`)),
          T0,
        );
        const a = await recv(ref, T0, 10);
        const b = await recv(ref, T0, 10);
        const c = await recv(ref, T0, 10);
        expect([a.length, b.length, c.length]).toEqual([10, 10, 5]);
        const ids = new Set([...a, ...b, ...c].map((m) => m.messageId));
        expect(ids.size).toBe(25);
      });

      it('keeps attributes, system attributes and their digests', async () => {
        const [, ref] = await queue('s');
        await store.send(
          ref,
          [
            msg('x', {
              attributes: {
                n: { DataType: 'Number', StringValue: '1' },
                b: { DataType: 'Binary', BinaryValue: Buffer.from([7]) },
              },
              md5OfAttributes: 'digest',
              systemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1' } },
              md5OfSystemAttributes: 'sysdigest',
              groupId: 'tenant',
            }),
          ],
          T0,
        );
        const [m] = await recv(ref, T0);
        expect(m.attributes?.n).toEqual({ DataType: 'Number', StringValue: '1' });
        expect(Buffer.from(m.attributes!.b.BinaryValue!)).toEqual(Buffer.from([7]));
        expect(m.md5OfAttributes).toBe('digest');
        expect(m.systemAttributes?.AWSTraceHeader.StringValue).toBe('Root=1');
        expect(m.md5OfSystemAttributes).toBe('sysdigest');
        expect(m.groupId).toBe('tenant');
        expect(m.sequenceNumber).toBeUndefined();
      });

      it('delays messages and counts them as delayed', async () => {
        const [, ref] = await queue('s');
        await store.send(ref, [msg('later', { delayMs: 5000 }), msg('now')], T0);
        expect(await store.counts(ref, T0)).toEqual({ visible: 1, notVisible: 0, delayed: 1 });
        expect((await recv(ref, T0)).map((m) => m.body)).toEqual(['now']);
        expect(await store.nextVisibleAt(ref, T0)).toBe(T0 + 5000);
        expect(await recv(ref, T0 + 4999)).toEqual([]);
        expect((await recv(ref, T0 + 5000)).map((m) => m.body)).toEqual(['later']);
      });

      it('deletes with the current handle only; stale and repeated deletes change nothing', async () => {
        const [, ref] = await queue('s');
        await store.send(ref, [msg('a')], T0);
        const [first] = await recv(ref, T0, 1, 1000);
        const [second] = await recv(ref, T0 + 1000, 1, 1000);
        expect(second.seq).toBe(first.seq);
        const [stale] = await store.deleteMessages(ref, [handle(first)], T0 + 1001);
        expect(stale).not.toBe('deleted');
        expect(await store.counts(ref, T0 + 1001)).toEqual({ visible: 0, notVisible: 1, delayed: 0 });
        expect(await store.deleteMessages(ref, [handle(second)], T0 + 1002)).toEqual(['deleted']);
        expect(await store.deleteMessages(ref, [handle(second)], T0 + 1003)).toEqual(['gone']);
        expect(await store.counts(ref, T0 + 5000)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
      });

      it('deletes a standard message whose timeout passed when the handle is still the latest', async () => {
        const [, ref] = await queue('s');
        await store.send(ref, [msg('a')], T0);
        const [m] = await recv(ref, T0, 1, 1000);
        expect(await store.counts(ref, T0 + 2000)).toMatchObject({ visible: 1 });
        expect(await store.deleteMessages(ref, [handle(m)], T0 + 2000)).toEqual(['deleted']);
        expect(await store.counts(ref, T0 + 2000)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
        expect(await recv(ref, T0 + 3000)).toEqual([]);
      });

      it('refuses handles of another queue', async () => {
        const [, a] = await queue('a');
        const [, b] = await queue('b');
        await store.send(a, [msg('x')], T0);
        const [m] = await recv(a, T0);
        expect(await store.deleteMessages(b, [handle(m)], T0)).toEqual(['gone']);
        expect(await store.changeVisibility(b, [{ ref: handle(m), visibilityMs: 0 }], T0)).toEqual(['gone']);
      });

      it('changes visibility: extends, releases at once, and re-hides a visible message', async () => {
        const [, ref] = await queue('s');
        await store.send(ref, [msg('a')], T0);
        const [m] = await recv(ref, T0, 1, 1000);
        expect(await store.changeVisibility(ref, [{ ref: handle(m), visibilityMs: 60_000 }], T0 + 500)).toEqual(['ok']);
        expect(await recv(ref, T0 + 1500)).toEqual([]);
        expect(await store.nextVisibleAt(ref, T0 + 1500)).toBe(T0 + 60_500);
        expect(await store.changeVisibility(ref, [{ ref: handle(m), visibilityMs: 0 }], T0 + 2000)).toEqual(['ok']);
        const [again] = await recv(ref, T0 + 2000, 1, 1000);
        expect(again.receiveCount).toBe(2);
        // timeout passed, latest handle: standard queues accept a new timeout (AWS does)
        expect(await store.changeVisibility(ref, [{ ref: handle(again), visibilityMs: 10_000 }], T0 + 5000)).toEqual([
          'ok',
        ]);
        expect(await store.counts(ref, T0 + 5000)).toEqual({ visible: 0, notVisible: 1, delayed: 0 });
        expect(await recv(ref, T0 + 14_999)).toEqual([]);
        expect(await recv(ref, T0 + 15_000)).toHaveLength(1);
        expect(await store.changeVisibility(ref, [{ ref: handle(m), visibilityMs: 0 }], T0 + 16_000)).toEqual([
          'stale',
        ]);
      });

      it('drops messages past retention, at receive and in a sweep', async () => {
        const [, ref] = await queue('s', { retentionMs: 60_000 });
        await store.send(ref, [msg('old')], T0);
        await store.send(ref, [msg('new')], T0 + 30_000);
        expect((await recv(ref, T0 + 60_000, 10, 1)).map((m) => m.body)).toEqual(['new']);
        const [, ref2] = await queue('t', { retentionMs: 60_000 });
        await store.send(ref2, [msg('a'), msg('b')], T0);
        expect(await store.sweep([ref2], T0 + 60_000)).toBeGreaterThanOrEqual(2);
        expect(await store.counts(ref2, T0 + 60_000)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
      });

      it('purges what was sent before, at most once per interval', async () => {
        const [, ref] = await queue('s');
        await store.send(
          ref,
          Array.from({ length: 30 }, (_, i) => msg(`m${i}`)),
          T0,
        );
        await recv(ref, T0, 5);
        expect(await store.purge(ref, T0 + 1, 60_000)).toBe(true);
        expect(await store.purge(ref, T0 + 2, 60_000)).toBe(false);
        await store.send(ref, [msg('after')], T0 + 3);
        expect(await store.counts(ref, T0 + 3)).toEqual({ visible: 1, notVisible: 0, delayed: 0 });
        expect((await recv(ref, T0 + 40_000)).map((m) => m.body)).toEqual(['after']);
        expect(await store.purge(ref, T0 + 60_001, 60_000)).toBe(true);
      });

      it('moves a message to the dead-letter queue on the receive past maxReceiveCount', async () => {
        const [dlq, dlqRef] = await queue('dlq');
        const [, src] = await queue('src');
        const ref = { ...src, redrive: { deadLetterQueueId: dlq.id, maxReceiveCount: 2 } };
        const [sent] = await store.send(ref, [msg('poison')], T0);
        await recv(ref, T0, 1, 1000);
        await recv(ref, T0 + 1000, 1, 1000);
        expect(await recv(ref, T0 + 2000, 1, 1000)).toEqual([]);
        expect(await store.counts(ref, T0 + 2000)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
        const [moved] = await recv(dlqRef, T0 + 2000);
        expect(moved.messageId).toBe(sent.messageId);
        expect(moved.deadLetterSourceArn).toBe(src.arn);
        expect(moved.sentAt).toBe(T0);
        expect(moved.receiveCount).toBe(3);
      });

      it('moves messages back to their source queue or to a destination (redrive)', async () => {
        const [dlq, dlqRef] = await queue('dlq');
        const [, src] = await queue('src');
        const [, other] = await queue('other');
        const ref = { ...src, redrive: { deadLetterQueueId: dlq.id, maxReceiveCount: 1 } };
        await store.send(ref, [msg('a'), msg('b'), msg('c')], T0);
        await recv(ref, T0, 10, 1);
        expect(await recv(ref, T0 + 1, 10, 1)).toEqual([]);
        expect(await store.counts(dlqRef, T0 + 1)).toMatchObject({ visible: 3 });
        const bySource = (arn: string | undefined) => (arn === src.arn ? ref : undefined);
        expect(await store.moveMessages(dlqRef, bySource, 2, T0 + 2)).toEqual({ moved: 2, failed: 0 });
        expect(await store.moveMessages(dlqRef, () => other, 10, T0 + 3)).toEqual({ moved: 1, failed: 0 });
        const back = await recv(ref, T0 + 4);
        expect(back.map((m) => m.body).sort()).toEqual(['a', 'b']);
        expect(back[0]).toMatchObject({ receiveCount: 1, sentAt: T0 + 2 });
        expect(back[0].deadLetterSourceArn).toBeUndefined();
        expect((await recv(other, T0 + 4)).map((m) => m.body)).toEqual(['c']);
        // nowhere to go: reported as failed, and the message stays
        await store.send(dlqRef, [msg('orphan')], T0 + 5);
        expect(await store.moveMessages(dlqRef, () => undefined, 10, T0 + 6)).toEqual({ moved: 0, failed: 1 });
        expect(await store.counts(dlqRef, T0 + 6)).toMatchObject({ visible: 1 });
      });

      it('serves quiet tenants of a fair queue before a noisy one', async () => {
        const [, ref] = await queue('fair');
        // tenant A floods the queue and has 40 messages in flight
        await store.send(
          ref,
          Array.from({ length: 200 }, (_, i) => msg(`A${i}`, { groupId: 'A' })),
          T0,
        );
        for (let i = 0; i < 4; i++) await recv(ref, T0 + 1);
        await store.send(ref, [msg('B0', { groupId: 'B' }), msg('C0', { groupId: 'C' })], T0 + 2);
        const got = await recv(ref, T0 + 3, 3);
        expect(
          got
            .slice(0, 2)
            .map((m) => m.groupId)
            .sort(),
        ).toEqual(['B', 'C']);
      });
    });

    describe('FIFO', () => {
      const fmsg = (body: string, groupId: string, dedupId: string = randomUUID(), extra: Partial<NewMessage> = {}) =>
        msg(body, { groupId, dedupId, ...extra });

      it('keeps order within a group and locks the group while its head is in flight', async () => {
        const [, ref] = await queue('f.fifo', { fifo: true });
        await store.send(ref, [fmsg('a1', 'A'), fmsg('a2', 'A'), fmsg('b1', 'B'), fmsg('a3', 'A')], T0);
        const first = await recv(ref, T0, 2);
        expect(first.map((m) => m.body)).toEqual(['a1', 'a2']);
        const second = await recv(ref, T0, 10);
        expect(second.map((m) => m.body)).toEqual(['b1']);
        expect(await recv(ref, T0, 10)).toEqual([]);
        await store.deleteMessages(ref, [handle(first[0])], T0 + 1);
        expect(await recv(ref, T0 + 1)).toEqual([]); // a2 still in flight
        await store.deleteMessages(ref, [handle(first[1])], T0 + 2);
        expect((await recv(ref, T0 + 2)).map((m) => m.body)).toEqual(['a3']);
      });

      it('unlocks the group when the head times out or is released', async () => {
        const [, ref] = await queue('f.fifo', { fifo: true });
        await store.send(ref, [fmsg('a1', 'A'), fmsg('a2', 'A')], T0);
        const [a1] = await recv(ref, T0, 1, 1000);
        expect(await store.nextVisibleAt(ref, T0)).toBe(T0 + 1000);
        const [again] = await recv(ref, T0 + 1000, 1, 1000);
        expect(again.body).toBe('a1');
        expect(await store.changeVisibility(ref, [{ ref: handle(again), visibilityMs: 0 }], T0 + 1001)).toEqual(['ok']);
        expect((await recv(ref, T0 + 1001, 10)).map((m) => m.body)).toEqual(['a1', 'a2']);
        expect(await store.deleteMessages(ref, [handle(a1)], T0 + 1002)).toEqual(['stale']);
      });

      it('refuses handles past their timeout', async () => {
        const [, ref] = await queue('f.fifo', { fifo: true });
        await store.send(ref, [fmsg('a1', 'A')], T0);
        const [m] = await recv(ref, T0, 1, 1000);
        expect(await store.deleteMessages(ref, [handle(m)], T0 + 1000)).toEqual(['expired']);
        expect(await store.changeVisibility(ref, [{ ref: handle(m), visibilityMs: 5 }], T0 + 1000)).toEqual([
          'expired',
        ]);
      });

      it('deduplicates within the window per scope and returns the first message id', async () => {
        const [, ref] = await queue('f.fifo', { fifo: true });
        const [a] = await store.send(ref, [fmsg('x', 'A', 'd1')], T0);
        const [dup] = await store.send(ref, [fmsg('y', 'B', 'd1')], T0 + 1000);
        expect(dup).toMatchObject({ duplicate: true, messageId: a.messageId, sequenceNumber: a.sequenceNumber });
        const scoped = { ...ref, dedupScope: 'messageGroup' as const };
        const [other] = await store.send(scoped, [fmsg('z', 'B', 'd1')], T0 + 1000);
        expect(other.duplicate).toBe(false);
        const [later] = await store.send(ref, [fmsg('w', 'A', 'd1')], T0 + 5 * 60_000 + 1);
        expect(later.duplicate).toBe(false);
        const inBatch = await store.send(ref, [fmsg('p', 'C', 'd2'), fmsg('q', 'C', 'd2')], T0 + 2000);
        expect(inBatch.map((r) => r.duplicate)).toEqual([false, true]);
        expect(Number(a.sequenceNumber)).toBeLessThan(Number(inBatch[0].sequenceNumber));
      });

      it('returns the same messages to a retried attempt id while they are untouched', async () => {
        const [, ref] = await queue('f.fifo', { fifo: true });
        await store.send(ref, [fmsg('a1', 'A'), fmsg('a2', 'A')], T0);
        const first = await recv(ref, T0, 10, 1000, 'try-1');
        const retry = await recv(ref, T0 + 500, 10, 1000, 'try-1');
        expect(retry.map((m) => [m.seq, m.receiveCount, m.receivedAt])).toEqual(
          first.map((m) => [m.seq, m.receiveCount, m.receivedAt]),
        );
        // the retry reset the visibility timeout
        expect(await store.nextVisibleAt(ref, T0 + 600)).toBe(T0 + 1500);
        await store.deleteMessages(ref, [handle(first[0])], T0 + 700);
        expect(await recv(ref, T0 + 800, 10, 1000, 'try-1')).toEqual([]);
      });

      it('moves a FIFO head to a FIFO dead-letter queue with a fresh enqueue time', async () => {
        const [dlq, dlqRef] = await queue('d.fifo', { fifo: true });
        const [, src] = await queue('s.fifo', { fifo: true });
        const ref = { ...src, redrive: { deadLetterQueueId: dlq.id, maxReceiveCount: 1 } };
        await store.send(ref, [fmsg('a1', 'A'), fmsg('a2', 'A')], T0);
        const [a1] = await recv(ref, T0, 1, 1000);
        const next = await recv(ref, T0 + 1000, 10);
        expect(next.map((m) => m.body)).toEqual(['a2']);
        const [moved] = await recv(dlqRef, T0 + 1000);
        expect(moved).toMatchObject({ body: 'a1', messageId: a1.messageId, sentAt: T0 + 1000, dedupId: a1.messageId });
      });
    });

    describe('background work', () => {
      it('leases exclusively until expiry', async () => {
        expect(await kernel.tryLease('job', 'n1', T0, 1000)).toBe(true);
        expect(await kernel.tryLease('job', 'n2', T0 + 500, 1000)).toBe(false);
        expect(await kernel.tryLease('job', 'n1', T0 + 600, 1000)).toBe(true);
        expect(await kernel.tryLease('job', 'n2', T0 + 1601, 1000)).toBe(true);
      });

      it('keeps move tasks', async () => {
        const [q] = await queue('dlq');
        const task = {
          taskHandle: 'h1',
          sourceQueueId: q.id,
          sourceArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
          status: 'RUNNING' as const,
          startedAt: T0,
          moved: 0,
          toMove: 5,
        };
        await store.createMoveTask(task);
        await store.updateMoveTask('h1', { moved: 3, status: 'COMPLETED' });
        expect(await store.getMoveTask('h1')).toMatchObject({ moved: 3, status: 'COMPLETED', toMove: 5 });
        expect(await store.activeMoveTasks()).toEqual([]);
        expect((await store.listMoveTasks(q.id)).map((t) => t.taskHandle)).toEqual(['h1']);
      });

      it('keeps a stable secret and resets to empty', async () => {
        const s1 = await kernel.secret('k');
        expect(s1.length).toBeGreaterThanOrEqual(32);
        expect((await kernel.secret('k')).equals(s1)).toBe(true);
        const [, ref] = await queue('q');
        await store.send(ref, [msg('a')], T0);
        await kernel.reset();
        expect(await store.listQueues(ACCOUNT, REGION)).toEqual([]);
      });

      it('reports sends and visibility releases to listeners', async () => {
        const [, ref] = await queue('q');
        const seen: number[] = [];
        const keys: string[] = [];
        store.onAvailable((id) => seen.push(id));
        kernel.onWake((key) => keys.push(key));
        await store.send(ref, [msg('a')], T0);
        expect(seen).toContain(ref.id);
        // through the kernel, keyed by string
        expect(keys).toContain(`sqs:m:${ref.id}`);
      });
    });

    if (f.reopen) {
      it('brings every message back with its state after a restart', async () => {
        const [dlq] = await queue('dlq');
        const [, std] = await queue('std');
        const [, fifo] = await queue('f.fifo', { fifo: true });
        const stdRef = { ...std, redrive: { deadLetterQueueId: dlq.id, maxReceiveCount: 5 } };
        await store.send(stdRef, [msg('inflight'), msg('visible'), msg('delayed', { delayMs: 60_000 })], T0);
        const [inflight] = await recv(stdRef, T0, 1, 30_000);
        await recv(stdRef, T0 + 1, 1, 0);
        await store.send(
          fifo,
          [msg('f1', { groupId: 'G', dedupId: 'd1' }), msg('f2', { groupId: 'G', dedupId: 'd2' })],
          T0,
        );
        const [f1] = await recv(fifo, T0, 1, 30_000);
        const secret = await kernel.secret('k');

        stores = await f.reopen!(stores);
        ({ sqs: store, kernel } = stores);
        expect((await kernel.secret('k')).equals(secret)).toBe(true);
        const std2 = { ...stdRef, id: (await store.getQueue(ACCOUNT, REGION, 'std'))!.id };
        expect(await store.counts(std2, T0 + 2)).toEqual({ visible: 1, notVisible: 1, delayed: 1 });
        const [v] = await recv(std2, T0 + 2, 10, 100_000);
        expect(v).toMatchObject({ body: 'visible', receiveCount: 2 });
        expect(await recv(std2, T0 + 29_999)).toEqual([]);
        const back = await recv(std2, T0 + 30_000, 10, 100_000);
        expect(back.map((m) => [m.body, m.receiveCount, m.messageId])).toEqual([['inflight', 2, inflight.messageId]]);
        expect((await recv(std2, T0 + 60_000)).map((m) => m.body)).toEqual(['delayed']);
        // FIFO: the group stays locked, order and deduplication survive
        expect(await recv(fifo, T0 + 2)).toEqual([]);
        const [dup] = await store.send(fifo, [msg('f1 again', { groupId: 'G', dedupId: 'd1' })], T0 + 3);
        expect(dup.duplicate).toBe(true);
        expect(await store.deleteMessages(fifo, [handle(f1)], T0 + 4)).toEqual(['deleted']);
        expect((await recv(fifo, T0 + 5)).map((m) => m.body)).toEqual(['f2']);
      });

      it('finishes a purge that a restart interrupted', async () => {
        const [, ref] = await queue('big');
        for (let i = 0; i < 6; i++)
          await store.send(
            ref,
            Array.from({ length: 1000 }, (_, j) => msg(`m${i}-${j}`)),
            T0,
          );
        expect(await store.purge(ref, T0 + 1, 60_000)).toBe(true);
        stores = await f.reopen!(stores);
        ({ sqs: store, kernel } = stores);
        expect(await store.counts(ref, T0 + 2)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
        expect(await recv(ref, T0 + 2)).toEqual([]);
      });
    }
  });
}
