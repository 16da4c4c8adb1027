/**
 * Three real Wharf processes (the built CLI) on one PostgreSQL schema, driven over raw HTTP
 * (AWS JSON 1.0) with producers and consumers spread over all three:
 *   - standard queue: every acknowledged send is delivered, intact; no message is delivered twice
 *     while an earlier delivery's visibility timeout was still running (redelivery after it is
 *     fine, and happens: consumers leave some messages undeleted); no node holds more connections
 *     than --store-pool-size (plus its LISTEN connection);
 *   - FIFO queue: each group, sent through one node, is delivered in send order, and never to two
 *     receivers (on any nodes) at once; deduplication holds across nodes;
 *   - SNS FIFO topic: each group, published through every node in turn, reaches a FIFO queue in
 *     publish order (records of a group are leased one at a time whichever node drains them);
 *   - dead-letter queue: with maxReceiveCount 2 and consumers that never delete, every message is
 *     moved exactly once;
 *   - long polling: a receive parked on one node returns as soon as a message is sent through
 *     another, or when a delay or a visibility timeout set through another node runs out;
 *   - queue changes made on one node (attributes, purge, deletion) are seen on the others;
 *   - a message move task started on one node runs once although every node runs its background
 *     loop.
 *
 * Times are the client's: a delivery happened on the server somewhere between the request's start
 * and the reply's end, so the checks flag only what is certain whatever the exact server times.
 * Needs `npm run build` first and PostgreSQL (test/helpers/pg.ts).
 */
import * as sns from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, freshSchema } from '../helpers/pg.js';
import {
  AwsError,
  bodyFor,
  deleteAll,
  doubleDeliveries,
  Ledger,
  type Delivery,
  eventually,
  idOf,
  killAll,
  md5,
  none,
  queueCounts,
  requireBuild,
  runId,
  sleep,
  sql,
  Sqs,
  startNode,
  stopNode,
  type Json,
  type WharfNode,
} from '../helpers/cluster.js';

const RUN = runId();
const APP = `wharf_cluster_${RUN}_`;
const schema = freshSchema('wharf_cluster');
/** --store-pool-size of the nodes: each may hold this many connections, plus its LISTEN connection */
const POOL = 5;
let nodes: WharfNode[] = [];
/** one client per node */
let sqs: Sqs[] = [];

beforeAll(async () => {
  requireBuild();
  // the three start together: the migrations run once, under the advisory lock
  nodes = await Promise.all(
    ['A', 'B', 'C'].map((name) =>
      startNode({ name, schema, app: `${APP}${name}`, extraArgs: ['--store-pool-size', String(POOL)] }),
    ),
  );
  sqs = nodes.map((n) => new Sqs(n.endpoint, n.name));
}, 120_000);

afterAll(async () => {
  for (const c of sqs) c.close();
  await Promise.all(nodes.map((n) => stopNode(n, 'SIGTERM')));
  await killAll();
  await dropSchema(schema);
}, 60_000);

/** Each test checks, at its end, that every node is still up. */
function expectNodesAlive(): void {
  for (const n of nodes) expect(n.alive(), `${n.name} is running\n${n.output().slice(-2000)}`).toBe(true);
}

async function createQueue(via: Sqs, name: string, attributes: Record<string, string> = {}): Promise<string> {
  return (await via.call('CreateQueue', { QueueName: name, Attributes: attributes })).QueueUrl as string;
}

async function arnOf(via: Sqs, url: string): Promise<string> {
  return ((await via.call('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['QueueArn'] })).Attributes as Json)
    .QueueArn as string;
}

const counts = (url: string) => queueCounts(sqs[0], url);
const empty = async (url: string) => {
  const c = await counts(url);
  return c.visible + c.inflight + c.delayed === 0;
};

// ── the tests ───────────────────────────────────────────────────────────────

describe('three nodes on one database', () => {
  it('standard queue: nothing lost, nothing delivered twice within its visibility timeout', async () => {
    const url = await createQueue(sqs[0], `std-${RUN}`);
    const ledger = new Ledger();
    const VT = 2;
    const PRODUCERS = 6;
    const CONSUMERS = 6;
    const BATCHES = 25; // per producer: 1,500 messages in all
    let producing = PRODUCERS;
    const errors: string[] = [];

    const producer = async (p: number) => {
      const via = sqs[p % 3];
      try {
        for (let b = 0; b < BATCHES; b++) {
          const entries = Array.from({ length: 10 }, (_, i) => {
            const id = `s${p}.${b * 10 + i}`;
            return { Id: String(i), MessageBody: bodyFor(id), id };
          });
          const r = await via.call('SendMessageBatch', {
            QueueUrl: url,
            Entries: entries.map(({ Id, MessageBody }) => ({ Id, MessageBody })),
          });
          for (const s of (r.Successful ?? []) as Json[]) {
            const e = entries[Number(s.Id)];
            if (s.MD5OfMessageBody !== md5(e.MessageBody)) ledger.problems.push(`send: MD5 mismatch for ${e.id}`);
            ledger.sent.set(e.id, { messageId: s.MessageId as string, n: b * 10 + Number(s.Id), node: via.name });
          }
          if (((r.Failed ?? []) as Json[]).length) errors.push(`send: ${JSON.stringify(r.Failed)}`);
        }
      } catch (e) {
        errors.push(`producer ${p}: ${(e as Error).message}`);
      } finally {
        producing--;
      }
    };

    let skipped = 0;
    const consumer = async (c: number) => {
      const via = sqs[c % 3];
      const deadline = Date.now() + 45_000;
      try {
        while (Date.now() < deadline) {
          const start = Date.now();
          const r = await via.call('ReceiveMessage', {
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: VT,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          });
          const end = Date.now();
          const msgs = (r.Messages ?? []) as Json[];
          if (!msgs.length) {
            // done once the producers are and every message sent was delivered and deleted
            if (producing === 0 && (await empty(url))) return;
            continue;
          }
          const ds = ledger.record(via.name, msgs, start, end, VT * 1000);
          // leave about one message in ten undeleted: it comes back after its visibility timeout
          const keep = ds.filter(() => Math.random() >= 0.1);
          skipped += ds.length - keep.length;
          const failed = await deleteAll(
            via,
            url,
            keep,
            keep.map((d) => msgs[d.index].ReceiptHandle as string),
          );
          if (failed.length) errors.push(`delete on ${via.name}: ${JSON.stringify(failed)}`);
        }
        errors.push(`consumer ${c}: still receiving after 45 s`);
      } catch (e) {
        errors.push(`consumer ${c}: ${(e as Error).message}`);
      }
    };

    // the connections each node holds, sampled while the load runs
    const most = new Map<string, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rows = await sql<{ app: string; n: number }>(
          `SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity
           WHERE starts_with(application_name, $1) AND application_name <> $2 GROUP BY 1`,
          [APP, `${APP}lock`],
        );
        for (const r of rows) most.set(r.app, Math.max(most.get(r.app) ?? 0, r.n));
        await sleep(100);
      }
    })();
    await Promise.all([
      ...Array.from({ length: PRODUCERS }, (_, p) => producer(p)),
      ...Array.from({ length: CONSUMERS }, (_, c) => consumer(c)),
    ]);
    sampling = false;
    await sampler;

    expect(errors).toEqual([]);
    expect(ledger.problems).toEqual([]);
    expect(ledger.sent.size).toBe(PRODUCERS * BATCHES * 10);
    // a bounded pool: never more than --store-pool-size connections, plus the listener
    expect(most.size, 'nodes seen in pg_stat_activity').toBe(3);
    for (const [app, n] of most) expect(n, `connections of ${app}`).toBeLessThanOrEqual(POOL + 1);
    const delivered = ledger.byId();
    const lost = [...ledger.sent.keys()].filter((id) => !delivered.has(id));
    expect(none(lost), 'acknowledged sends never delivered').toEqual(none([]));
    expect(none(doubleDeliveries(ledger)), 'deliveries inside a visibility timeout').toEqual(none([]));
    // the load really was spread: every node sent and delivered
    for (const n of nodes) {
      expect(
        [...ledger.sent.values()].some((s) => s.node === n.name),
        `sent through ${n.name}`,
      ).toBe(true);
      expect(
        ledger.deliveries.some((d) => d.node === n.name),
        `delivered through ${n.name}`,
      ).toBe(true);
    }
    const redelivered = [...delivered.values()].filter((ds) => ds.length > 1).length;
    expect(redelivered, 'messages left undeleted came back').toBeGreaterThan(0);
    expect(await counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    console.log(
      `standard: ${ledger.sent.size} sent, ${ledger.deliveries.length} deliveries, ${skipped} left undeleted, ` +
        `${redelivered} messages delivered more than once (after their timeout); most connections per node ` +
        `${[...most.values()].join('/')} (pool ${POOL} + listener)`,
    );
    expectNodesAlive();
  }, 60_000);

  it('FIFO queue: each group in send order, never held by two receivers at once', async () => {
    const url = await createQueue(sqs[1], `fifo-${RUN}.fifo`, { FifoQueue: 'true' });
    const ledger = new Ledger();
    const GROUPS = 9;
    const PER_GROUP = 40;
    const VT = 30;
    let producing = GROUPS;
    const errors: string[] = [];

    // one sequential producer per group, on the group's node
    const producer = async (g: number) => {
      const via = sqs[g % 3];
      const group = `g${g}`;
      try {
        for (let n = 0; n < PER_GROUP; n += 5) {
          const entries = Array.from({ length: 5 }, (_, i) => ({
            Id: String(i),
            MessageBody: bodyFor(`${group}.${n + i}`),
            MessageGroupId: group,
            MessageDeduplicationId: `${RUN}-${group}-${n + i}`,
          }));
          const r = await via.call('SendMessageBatch', { QueueUrl: url, Entries: entries });
          if (((r.Failed ?? []) as Json[]).length) throw new Error(`send failed: ${JSON.stringify(r.Failed)}`);
          for (const s of (r.Successful ?? []) as Json[]) {
            const i = Number(s.Id);
            ledger.sent.set(`${group}.${n + i}`, { messageId: s.MessageId as string, group, n: n + i, node: via.name });
          }
        }
      } catch (e) {
        errors.push(`producer ${group}: ${(e as Error).message}`);
      } finally {
        producing--;
      }
    };

    const consumer = async (c: number) => {
      const via = sqs[c % 3];
      const deadline = Date.now() + 45_000;
      try {
        while (Date.now() < deadline) {
          const start = Date.now();
          const r = await via.call('ReceiveMessage', {
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: VT,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount'],
          });
          const end = Date.now();
          const msgs = (r.Messages ?? []) as Json[];
          if (!msgs.length) {
            if (producing === 0 && (await empty(url))) return;
            continue;
          }
          const ds = ledger.record(via.name, msgs, start, end, VT * 1000);
          const failed = await deleteAll(
            via,
            url,
            ds,
            msgs.map((m) => m.ReceiptHandle as string),
          );
          if (failed.length) errors.push(`delete on ${via.name}: ${JSON.stringify(failed)}`);
        }
        errors.push(`consumer ${c}: still receiving after 45 s`);
      } catch (e) {
        errors.push(`consumer ${c}: ${(e as Error).message}`);
      }
    };

    await Promise.all([
      ...Array.from({ length: GROUPS }, (_, g) => producer(g)),
      ...Array.from({ length: 6 }, (_, c) => consumer(c)),
    ]);
    expect(errors).toEqual([]);
    expect(ledger.problems).toEqual([]);
    expect(ledger.sent.size).toBe(GROUPS * PER_GROUP);

    // per group: the deliveries in the order the group lock allowed them
    const groups = new Map<string, Delivery[]>();
    for (const d of ledger.deliveries) {
      if (d.group !== ledger.sent.get(d.id)?.group) ledger.problems.push(`${d.id} delivered with group ${d.group}`);
      if (!groups.has(d.group!)) groups.set(d.group!, []);
      groups.get(d.group!)!.push(d);
    }
    expect(ledger.problems).toEqual([]);
    const disorder: string[] = [];
    const concurrent: string[] = [];
    let crossNode = 0;
    for (const [group, ds] of groups) {
      ds.sort((a, b) => a.end - b.end || a.batch - b.batch || a.index - b.index);
      const order = ds.map((d) => ledger.sent.get(d.id)!.n);
      const want = Array.from({ length: PER_GROUP }, (_, i) => i);
      if (JSON.stringify(order) !== JSON.stringify(want)) disorder.push(`${group}: ${order.join(',')}`);
      // the group is certainly locked from the reply of a receive until its delete is sent: two such
      // spans of one group must not overlap
      const batches = [...new Map(ds.map((d) => [d.batch, d])).values()];
      for (let i = 0; i < batches.length; i++) {
        for (let j = i + 1; j < batches.length; j++) {
          const [a, b] = [batches[i], batches[j]];
          if (a.end < b.delStart! && b.end < a.delStart!) {
            concurrent.push(`${group}: ${a.node} ${a.end}..${a.delStart} and ${b.node} ${b.end}..${b.delStart}`);
          }
        }
      }
      if (new Set(ds.map((d) => d.node)).size > 1) crossNode++;
    }
    expect(groups.size).toBe(GROUPS);
    expect(none(disorder), 'groups out of send order (or with duplicates or losses)').toEqual(none([]));
    expect(none(concurrent), 'groups held by two receivers at once').toEqual(none([]));
    expect(crossNode, 'groups served through more than one node').toBeGreaterThan(0);
    // deduplication holds across nodes: the same id sent again through another node is a duplicate
    for (let g = 0; g < 3; g++) {
      const first = ledger.sent.get(`g${g}.7`)!;
      const again = await sqs[(g + 1) % 3].call('SendMessage', {
        QueueUrl: url,
        MessageBody: 'a duplicate',
        MessageGroupId: `g${g}`,
        MessageDeduplicationId: `${RUN}-g${g}-7`,
      });
      expect(again.MessageId, `g${g}: the original's MessageId`).toBe(first.messageId);
    }
    expect(await counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    console.log(
      `FIFO: ${ledger.sent.size} sent in ${GROUPS} groups, ${ledger.deliveries.length} deliveries, ` +
        `${crossNode} groups served through more than one node`,
    );
    expectNodesAlive();
  }, 60_000);

  it('SNS FIFO topic: each group, published through every node in turn, reaches a FIFO queue in publish order', async () => {
    const region = 'us-east-1';
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    const topics = nodes.map((n) => new sns.SNSClient({ endpoint: n.endpoint, region, credentials, maxAttempts: 1 }));
    try {
      const url = await createQueue(sqs[0], `from-topic-${RUN}.fifo`, { FifoQueue: 'true' });
      const { TopicArn } = await topics[0]!.send(
        new sns.CreateTopicCommand({ Name: `ordered-${RUN}.fifo`, Attributes: { FifoTopic: 'true' } }),
      );
      await topics[1]!.send(
        new sns.SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: await arnOf(sqs[0], url),
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
      const GROUPS = 3;
      const PER_GROUP = 30;
      // one sequential publisher per group, each publish through the next node
      await Promise.all(
        Array.from({ length: GROUPS }, async (_, g) => {
          for (let n = 0; n < PER_GROUP; n++) {
            await topics[(g + n) % 3]!.send(
              new sns.PublishCommand({
                TopicArn,
                Message: `g${g}.${n}`,
                MessageGroupId: `g${g}`,
                MessageDeduplicationId: `g${g}.${n}`,
              }),
            );
          }
        }),
      );
      const got: string[] = [];
      await eventually('every copy in the queue', 60_000, async () => {
        const r = await sqs[2].call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
        const msgs = (r.Messages ?? []) as Json[];
        for (const m of msgs) got.push(m.Body as string);
        if (msgs.length)
          await sqs[2].call('DeleteMessageBatch', {
            QueueUrl: url,
            Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          });
        return got.length >= GROUPS * PER_GROUP ? true : undefined;
      });
      for (let g = 0; g < GROUPS; g++) {
        const order = got.filter((b) => b.startsWith(`g${g}.`));
        expect(order).toEqual(Array.from({ length: PER_GROUP }, (_, n) => `g${g}.${n}`));
      }
      expectNodesAlive();
    } finally {
      for (const t of topics) t.destroy();
    }
  }, 120_000);

  it('dead-letter queue: every message moved exactly once with maxReceiveCount 2', async () => {
    const dlqUrl = await createQueue(sqs[2], `dlq-dead-${RUN}`);
    const dlqArn = await arnOf(sqs[2], dlqUrl);
    const url = await createQueue(sqs[0], `dlq-src-${RUN}`, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    const N = 60;
    const ledger = new Ledger();
    for (let b = 0; b < N / 10; b++) {
      const via = sqs[b % 3];
      const entries = Array.from({ length: 10 }, (_, i) => ({
        Id: String(i),
        MessageBody: bodyFor(`d.${b * 10 + i}`),
      }));
      const r = await via.call('SendMessageBatch', { QueueUrl: url, Entries: entries });
      for (const s of (r.Successful ?? []) as Json[]) {
        ledger.sent.set(`d.${b * 10 + Number(s.Id)}`, { messageId: s.MessageId as string, n: 0, node: via.name });
      }
    }
    expect(ledger.sent.size).toBe(N);

    // consumers that never delete, visibility 1 s: each message is delivered twice, then moved
    const VT = 1;
    let done = false;
    const errors: string[] = [];
    const consumer = async (c: number) => {
      const via = sqs[c % 3];
      try {
        while (!done) {
          const start = Date.now();
          const r = await via.call('ReceiveMessage', {
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: VT,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          });
          ledger.record(via.name, (r.Messages ?? []) as Json[], start, Date.now(), VT * 1000);
        }
      } catch (e) {
        errors.push(`consumer ${c}: ${(e as Error).message}`);
      }
    };
    const consumers = Array.from({ length: 6 }, (_, c) => consumer(c));
    try {
      await eventually('every message in the dead-letter queue', 40_000, async () => {
        const [src, dlq] = await Promise.all([queueCounts(sqs[1], url), queueCounts(sqs[2], dlqUrl)]);
        return src.visible + src.inflight === 0 && dlq.visible === N ? true : undefined;
      });
    } finally {
      done = true;
      await Promise.all(consumers);
    }
    expect(errors).toEqual([]);
    expect(ledger.problems).toEqual([]);
    expect(none(doubleDeliveries(ledger)), 'deliveries inside a visibility timeout').toEqual(none([]));
    // each message was delivered from the source exactly twice (receive counts 1 and 2), then moved
    const wrong: string[] = [];
    for (const id of ledger.sent.keys()) {
      const counts = (ledger.byId().get(id) ?? []).map((d) => d.receiveCount).sort();
      if (JSON.stringify(counts) !== '[1,2]') wrong.push(`${id}: receive counts ${counts.join(',')}`);
    }
    expect(none(wrong), 'deliveries from the source').toEqual(none([]));

    // the dead-letter queue holds each message once, and stays at N a while (no late second move)
    await sleep(1500);
    for (const via of sqs) expect((await queueCounts(via, dlqUrl)).visible, `DLQ count on ${via.name}`).toBe(N);
    const got = new Map<string, number>();
    for (let i = 0; got.size < N && i < 40; i++) {
      const via = sqs[i % 3];
      const r = await via.call('ReceiveMessage', { QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 });
      for (const m of (r.Messages ?? []) as Json[]) {
        const id = idOf(m.Body)!;
        expect(m.MessageId, `${id} keeps its MessageId in the DLQ`).toBe(ledger.sent.get(id)?.messageId);
        got.set(m.MessageId as string, (got.get(m.MessageId as string) ?? 0) + 1);
      }
    }
    expect(got.size).toBe(N);
    expect([...got.values()].filter((n) => n > 1)).toEqual([]);
    expect(await queueCounts(sqs[1], dlqUrl)).toEqual({ visible: 0, inflight: N, delayed: 0 });
    expect(await queueCounts(sqs[2], url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    expectNodesAlive();
  }, 60_000);

  it('long poll: a receive parked on one node returns at once for a send through another', async () => {
    const url = await createQueue(sqs[0], `lp-${RUN}`);
    const lines: string[] = [];
    for (const [parked, sender] of [
      [1, 0],
      [2, 1],
      [0, 2],
    ]) {
      const t0 = Date.now();
      const waiting = sqs[parked].call('ReceiveMessage', { QueueUrl: url, WaitTimeSeconds: 10 });
      await sleep(500);
      const body = bodyFor(`lp.${parked}`);
      const sentAt = Date.now();
      await sqs[sender].call('SendMessage', { QueueUrl: url, MessageBody: body });
      const acked = Date.now();
      const r = await waiting;
      const back = Date.now();
      expect((r.Messages as Json[] | undefined)?.map((m) => m.Body)).toEqual([body]);
      expect(back - sentAt, `parked on ${sqs[parked].name}, sent through ${sqs[sender].name}`).toBeLessThan(5000);
      expect(back - t0).toBeGreaterThanOrEqual(450); // it really was parked
      lines.push(
        `${sqs[sender].name}→${sqs[parked].name}: send ${acked - sentAt} ms, returned ${back - acked} ms after the ack`,
      );
      await sqs[parked].call('DeleteMessage', {
        QueueUrl: url,
        ReceiptHandle: (r.Messages as Json[])[0].ReceiptHandle,
      });
    }

    // a delayed message sent through A wakes a receive parked on B when its delay ends, not at B's deadline
    const t0 = Date.now();
    const waiting = sqs[1].call('ReceiveMessage', { QueueUrl: url, WaitTimeSeconds: 10 });
    await sleep(300);
    const body = bodyFor('lp.delayed');
    await sqs[0].call('SendMessage', { QueueUrl: url, MessageBody: body, DelaySeconds: 2 });
    const r = await waiting;
    const took = Date.now() - t0;
    expect((r.Messages as Json[] | undefined)?.map((m) => m.Body)).toEqual([body]);
    expect(took, 'a delayed send through another node ends the wait when the delay does').toBeLessThan(5000);
    lines.push(`delayed 2 s A→B: returned after ${took} ms`);
    await sqs[1].call('DeleteMessage', { QueueUrl: url, ReceiptHandle: (r.Messages as Json[])[0].ReceiptHandle });

    // a visibility timeout shortened through C wakes a receive parked on B when it runs out
    await sqs[2].call('SendMessage', { QueueUrl: url, MessageBody: bodyFor('lp.vis') });
    const held = (await sqs[2].call('ReceiveMessage', { QueueUrl: url, VisibilityTimeout: 60, WaitTimeSeconds: 2 }))
      .Messages as Json[];
    expect(held.length).toBe(1);
    const t1 = Date.now();
    const parked = sqs[1].call('ReceiveMessage', { QueueUrl: url, WaitTimeSeconds: 10 });
    await sleep(300);
    await sqs[2].call('ChangeMessageVisibility', {
      QueueUrl: url,
      ReceiptHandle: held[0].ReceiptHandle,
      VisibilityTimeout: 1,
    });
    const again = await parked;
    const tookVis = Date.now() - t1;
    expect((again.Messages as Json[] | undefined)?.map((m) => m.Body)).toEqual([bodyFor('lp.vis')]);
    expect(tookVis, 'a shortened visibility timeout on another node ends the wait').toBeLessThan(5000);
    lines.push(`visibility shortened to 1 s on C, parked on B: returned after ${tookVis} ms`);
    console.log(`long poll across nodes: ${lines.join('; ')}`);
    expectNodesAlive();
  }, 60_000);

  it('queue changes made on one node are seen on the others', async () => {
    const name = `chg-${RUN}`;
    const url = await createQueue(sqs[0], name);
    expect((await sqs[1].call('GetQueueUrl', { QueueName: name })).QueueUrl).toBe(
      url.replace(nodes[0].endpoint, nodes[1].endpoint),
    );
    // C caches the queue before the change
    const vt = async () =>
      (
        (await sqs[2].call('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['VisibilityTimeout'] }))
          .Attributes as Json
      ).VisibilityTimeout as string;
    expect(await vt()).toBe('30');
    const t0 = Date.now();
    await sqs[0].call('SetQueueAttributes', { QueueUrl: url, Attributes: { VisibilityTimeout: '77' } });
    await eventually('VisibilityTimeout 77 on C', 6000, async () => ((await vt()) === '77' ? true : undefined));
    const attrMs = Date.now() - t0;
    // ... and the new timeout applies to receives through C
    await sqs[0].call('SendMessage', { QueueUrl: url, MessageBody: 'x' });
    const r = await sqs[2].call('ReceiveMessage', {
      QueueUrl: url,
      WaitTimeSeconds: 2,
      MessageSystemAttributeNames: ['All'],
    });
    expect((r.Messages as Json[]).length).toBe(1);
    const c = await queueCounts(sqs[1], url);
    expect(c.inflight).toBe(1);

    // a purge through A empties the queue for B and C at once; what is sent after it stays
    await sqs[1].call('SendMessageBatch', {
      QueueUrl: url,
      Entries: Array.from({ length: 5 }, (_, i) => ({ Id: String(i), MessageBody: `before purge ${i}` })),
    });
    await sqs[0].call('PurgeQueue', { QueueUrl: url });
    expect((await sqs[2].call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10 })).Messages).toBeUndefined();
    expect(await queueCounts(sqs[1], url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    await sqs[2].call('SendMessage', { QueueUrl: url, MessageBody: 'after purge' });
    const after = await sqs[1].call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 });
    expect((after.Messages as Json[]).map((m) => m.Body)).toEqual(['after purge']);

    // C uses the queue, B deletes it: C answers QueueDoesNotExist
    await sqs[2].call('SendMessage', { QueueUrl: url, MessageBody: 'y' });
    const t1 = Date.now();
    await sqs[1].call('DeleteQueue', { QueueUrl: url });
    await eventually('QueueDoesNotExist on C', 6000, async () => {
      try {
        await sqs[2].call('SendMessage', { QueueUrl: url, MessageBody: 'z' });
        return undefined;
      } catch (e) {
        if (e instanceof AwsError && e.type === 'QueueDoesNotExist') return true;
        throw e;
      }
    });
    const delMs = Date.now() - t1;
    await expect(sqs[0].call('GetQueueUrl', { QueueName: name })).rejects.toMatchObject({ type: 'QueueDoesNotExist' });
    console.log(`queue changes: attributes seen on C after ${attrMs} ms, deletion after ${delMs} ms`);
    expectNodesAlive();
  }, 60_000);

  it('a message move task started on one node runs once while every node runs its background loop', async () => {
    const dlqUrl = await createQueue(sqs[0], `mv-dlq-${RUN}`);
    const dlqArn = await arnOf(sqs[0], dlqUrl);
    const url = await createQueue(sqs[1], `mv-src-${RUN}`, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }),
    });
    const N = 200;
    for (let b = 0; b < N / 10; b++) {
      await sqs[b % 3].call('SendMessageBatch', {
        QueueUrl: url,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: bodyFor(`mv.${b * 10 + i}`) })),
      });
    }
    // receive each message once (visibility 1 s); the next receives move them to the DLQ
    let got = 0;
    for (let i = 0; got < N && i < 200; i++) {
      const r = await sqs[i % 3].call('ReceiveMessage', {
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 1,
      });
      got += ((r.Messages ?? []) as Json[]).length;
    }
    expect(got).toBe(N);
    await sleep(1100);
    await eventually('all messages in the DLQ', 20_000, async () => {
      await Promise.all(sqs.map((via) => via.call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10 })));
      return (await queueCounts(sqs[2], dlqUrl)).visible === N ? true : undefined;
    });
    expect(await queueCounts(sqs[2], url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });

    // 50 per second: the task spans several background passes, and every node competes for it
    const task = await sqs[0].call('StartMessageMoveTask', { SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: 50 });
    expect(task.TaskHandle).toBeTruthy();
    const t0 = Date.now();
    const result = await eventually('the move task completing', 30_000, async () => {
      const list = await sqs[(Date.now() >> 8) % 3].call('ListMessageMoveTasks', { SourceArn: dlqArn });
      const t = (list.Results as Json[])[0];
      return t.Status === 'RUNNING' ? undefined : t;
    });
    const took = Date.now() - t0;
    expect(result.Status).toBe('COMPLETED');
    expect(result.ApproximateNumberOfMessagesMoved).toBe(N);
    expect(await queueCounts(sqs[1], dlqUrl)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    expect(await queueCounts(sqs[2], url)).toEqual({ visible: N, inflight: 0, delayed: 0 });
    const seen = new Map<string, number>();
    for (let i = 0; i < 60 && [...seen.values()].reduce((a, b) => a + b, 0) < N; i++) {
      const r = await sqs[i % 3].call('ReceiveMessage', {
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
      });
      for (const m of (r.Messages ?? []) as Json[]) {
        const id = idOf(m.Body);
        expect(id, 'an intact body').toBeDefined();
        seen.set(id!, (seen.get(id!) ?? 0) + 1);
      }
    }
    expect(seen.size).toBe(N);
    expect([...seen.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(await queueCounts(sqs[0], url)).toEqual({ visible: 0, inflight: N, delayed: 0 });
    console.log(`move task: ${N} messages moved in ${took} ms at 50/s`);
    expectNodesAlive();
  }, 60_000);
});
