/**
 * Faults in a cluster of real Wharf processes (the built CLI) on one PostgreSQL database:
 *   - a node SIGKILLed under load: the others keep answering; every message it had handed out and
 *     that was not deleted is received again through them after its visibility timeout; nothing
 *     acknowledged is lost;
 *   - the database going away under load (its backends terminated, then the server stopped for
 *     two seconds): clients get only 503 ServiceUnavailable / 500 InternalFailure, quickly, never a
 *     hang; no node crashes; they recover by themselves; nothing acknowledged is lost and no
 *     acknowledged delete comes back;
 *   - a database that stops answering without closing connections (the node's backends frozen with
 *     SIGSTOP): the request fails with 503 when its statement times out, not a hang, and the next
 *     one is served on a new connection;
 *   - clear one-line startup errors (exit 1) for an unreachable database, a role without rights and
 *     an unknown role; a role that owns its schema needs no other right;
 *   - nodes starting together on a new schema (migrations under the advisory lock) share queues.
 *
 * Every test here runs on a throwaway PostgreSQL cluster of its own (test/helpers/pg-throwaway.ts):
 * the outage and the frozen backends never touch the machine's server. Needs `npm run build`
 * first and PostgreSQL's binaries on this machine.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, PG_URL, usePg } from '../helpers/pg.js';
import { startThrowawayPg, type ThrowawayPg } from '../helpers/pg-throwaway.js';
import {
  AwsError,
  bodyFor,
  confirmed,
  deleteAll,
  doubleDeliveries,
  eventually,
  idOf,
  killAll,
  Ledger,
  md5,
  none,
  queueCounts,
  requireBuild,
  runCli,
  runId,
  sleep,
  sql,
  Sqs,
  startNode,
  stopNode,
  terminateBackends,
  type Json,
  type WharfNode,
} from '../helpers/cluster.js';

const RUN = runId();
const APP = `wharf_faults_${RUN}_`;
const clients: Sqs[] = [];
let server: ThrowawayPg;
/** backends a test stopped with SIGSTOP: continued whatever happens */
const frozen: number[] = [];
function thaw(): void {
  for (const pid of frozen.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* gone */
    }
  }
}

function schema(): string {
  return freshSchema('wharf_faults');
}

function client(n: WharfNode): Sqs {
  const c = new Sqs(n.endpoint, n.name);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  requireBuild();
  server = await startThrowawayPg();
  usePg(server.url);
}, 60_000);

afterEach(async () => {
  thaw();
  for (const c of clients) c.close();
  clients.length = 0;
  await killAll();
});

afterAll(async () => {
  await killAll();
  // the whole cluster goes, with every schema and role the tests made
  server?.destroy();
}, 60_000);

// ── a load over several nodes ───────────────────────────────────────────────

interface Load {
  ledger: Ledger;
  stopProducers(): void;
  /** stops the consumers and waits for every worker */
  finish(): Promise<void>;
  /** requests that failed, by node, as `status type` or the network error */
  errors: Map<string, Map<string, number>>;
  /** the slowest failed request, ms */
  slowestError: number;
}

interface LoadOptions {
  url: string;
  via: Sqs[];
  vt: number;
  tag: string;
  /** a failed request on this client is no problem (the node is dead, the database is down) */
  expected(via: Sqs, e: unknown): boolean;
  /** whether a consumer on this client deletes the messages of this receive */
  deletes?(via: Sqs): boolean;
  /** requests slower than this fail as a hang */
  timeoutMs?: number;
}

function runLoad(o: LoadOptions): Load {
  const ledger = new Ledger();
  let producing = true;
  let consuming = true;
  const errors = new Map<string, Map<string, number>>();
  const load: Load = {
    ledger,
    errors,
    slowestError: 0,
    stopProducers: () => (producing = false),
    finish: async () => {
      producing = false;
      consuming = false;
      await workers;
    },
  };
  /** notes a failed request; returns false when the worker should stop (its node is gone) */
  const failed = (via: Sqs, op: string, e: unknown, ms: number): boolean => {
    load.slowestError = Math.max(load.slowestError, ms);
    const key = e instanceof AwsError ? `${e.status} ${e.type}` : (e as Error).message.replace(/\d+/g, 'N');
    if (!errors.has(via.name)) errors.set(via.name, new Map());
    const m = errors.get(via.name)!;
    m.set(key, (m.get(key) ?? 0) + 1);
    if (!o.expected(via, e)) {
      ledger.problems.push(`${op} on ${via.name} failed after ${ms} ms: ${(e as Error).message}`);
      return false;
    }
    // an error response: the node is up, retry; a refused connection: the node is gone
    return e instanceof AwsError;
  };
  const timeoutMs = o.timeoutMs ?? 10_000;

  const producer = async (via: Sqs, p: number) => {
    for (let n = 0; producing; n += 10) {
      const entries = Array.from({ length: 10 }, (_, i) => {
        const id = `${o.tag}.${via.name}${p}.${n + i}`;
        ledger.attempted.add(id);
        return { Id: String(i), MessageBody: bodyFor(id), id };
      });
      const t0 = Date.now();
      try {
        const r = await via.call(
          'SendMessageBatch',
          { QueueUrl: o.url, Entries: entries.map(({ Id, MessageBody }) => ({ Id, MessageBody })) },
          timeoutMs,
        );
        for (const s of (r.Successful ?? []) as Json[]) {
          const e = entries[Number(s.Id)];
          if (s.MD5OfMessageBody !== md5(e.MessageBody)) ledger.problems.push(`send: MD5 mismatch for ${e.id}`);
          ledger.sent.set(e.id, { messageId: s.MessageId as string, n: n + Number(s.Id), node: via.name });
        }
        if (((r.Failed ?? []) as Json[]).length)
          ledger.problems.push(`send entries failed: ${JSON.stringify(r.Failed)}`);
      } catch (e) {
        if (!failed(via, 'SendMessageBatch', e, Date.now() - t0)) return;
        await sleep(50); // as an SDK would, retry after a moment
      }
    }
  };

  const consumer = async (via: Sqs) => {
    while (consuming) {
      const start = Date.now();
      let msgs: Json[];
      try {
        const r = await via.call(
          'ReceiveMessage',
          {
            QueueUrl: o.url,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: o.vt,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          },
          timeoutMs,
        );
        msgs = (r.Messages ?? []) as Json[];
      } catch (e) {
        if (!failed(via, 'ReceiveMessage', e, Date.now() - start)) return;
        await sleep(50);
        continue;
      }
      const ds = ledger.record(via.name, msgs, start, Date.now(), o.vt * 1000);
      if (!ds.length || (o.deletes && !o.deletes(via))) continue;
      const t0 = Date.now();
      try {
        const bad = await deleteAll(
          via,
          o.url,
          ds,
          ds.map((d) => msgs[d.index].ReceiptHandle as string),
        );
        // an entry whose visibility timeout ran out may fail (FIFO only); on a standard queue none may
        if (bad.length) ledger.problems.push(`delete entries failed on ${via.name}: ${JSON.stringify(bad)}`);
      } catch (e) {
        if (!failed(via, 'DeleteMessageBatch', e, Date.now() - t0)) return;
      }
    }
  };

  const workers = Promise.all(
    o.via.flatMap((via) => [producer(via, 0), producer(via, 1), consumer(via), consumer(via)]),
  ).then(() => undefined);
  return load;
}

/**
 * Waits until everything acknowledged has been delivered and the queue is empty (checked through
 * `via`), then stops the load.
 */
async function drain(load: Load, url: string, via: Sqs, notBefore: number, timeoutMs: number): Promise<void> {
  load.stopProducers();
  try {
    await eventually('the queue to drain', timeoutMs, async () => {
      if (Date.now() < notBefore) return undefined;
      const seen = new Set(load.ledger.deliveries.map((d) => d.id));
      if ([...load.ledger.sent.keys()].some((id) => !seen.has(id))) return undefined;
      const c = await queueCounts(via, url);
      return c.visible + c.inflight + c.delayed === 0 ? true : undefined;
    });
  } finally {
    await load.finish();
  }
}

/** The common verdict: nothing acknowledged lost, no delivery inside another's window, intact bodies. */
function verify(load: Load, label: string): void {
  const { ledger } = load;
  expect(none(ledger.problems), `${label}: problems`).toEqual(none([]));
  expect(ledger.sent.size, `${label}: acknowledged sends`).toBeGreaterThan(0);
  const delivered = new Set(ledger.deliveries.map((d) => d.id));
  const lost = [...ledger.sent.keys()].filter((id) => !delivered.has(id));
  expect(none(lost), `${label}: acknowledged sends lost`).toEqual(none([]));
  expect(none(doubleDeliveries(ledger)), `${label}: deliveries inside a visibility timeout, or after a delete`).toEqual(
    none([]),
  );
}

const describeErrors = (load: Load) =>
  [...load.errors].map(([node, m]) => `${node}: ${[...m].map(([k, n]) => `${n}× ${k}`).join(', ')}`).join('; ');

// ── the tests ───────────────────────────────────────────────────────────────

describe('cluster faults', () => {
  it('a node killed with SIGKILL under load: the others serve on and redeliver what it handed out', async () => {
    const s = schema();
    const nodes = await Promise.all(
      ['A', 'B', 'C'].map((name) => startNode({ name, schema: s, app: `${APP}k_${name}` })),
    );
    const [a, b, c] = nodes.map(client);
    const url = (await a.call('CreateQueue', { QueueName: `kill-${RUN}` })).QueueUrl as string;
    const VT = 2;
    let killedAt = 0;
    const load = runLoad({
      url,
      via: [a, b, c],
      vt: VT,
      tag: 'k',
      // only the victim's requests may fail, and only once it is being killed
      expected: (via) => via === c && killedAt > 0,
      // the victim's consumers keep every other receive undeleted: messages it handed out
      deletes: (via) => via !== c || Math.random() < 0.5,
    });
    await sleep(1500);
    killedAt = Date.now();
    const victim = nodes[2];
    await stopNode(victim, 'SIGKILL');
    await sleep(1500);
    await drain(load, url, a, killedAt + VT * 1000 + 500, 30_000);

    const { ledger } = load;
    verify(load, 'kill -9');
    // every message C handed out and that was not deleted was received again; those still in
    // flight on C when it died came back through A or B, after their visibility timeout
    const byId = ledger.byId();
    // (a delete acknowledged late, or cut by the kill, may have deleted the message: not counted)
    const unfinished = ledger.deliveries.filter((d) => d.node === 'C' && !d.delAttempted);
    const notBack: string[] = [];
    for (const d of unfinished) {
      const later = byId.get(d.id)!.filter((x) => x.start > d.start);
      if (!later.length) notBack.push(`${d.id} (handed out by C at ${d.start})`);
    }
    const atKill = unfinished.filter((d) => d.start + d.vtMs > killedAt);
    for (const d of atKill) {
      if (!byId.get(d.id)!.some((x) => x.node !== 'C' && x.start > killedAt)) {
        notBack.push(`${d.id} (in flight on C at the kill)`);
      }
    }
    expect(atKill.length, 'messages in flight on C at the kill').toBeGreaterThan(0);
    expect(none(notBack), 'handed out by C without a delete, never received again').toEqual(none([]));
    expect(load.errors.has('A') || load.errors.has('B'), describeErrors(load)).toBe(false);
    for (const n of nodes.slice(0, 2)) expect(n.alive(), `${n.name}\n${n.output().slice(-2000)}`).toBe(true);
    console.log(
      `kill -9: ${ledger.sent.size} sends acknowledged, ${ledger.deliveries.length} deliveries, ` +
        `${unfinished.length} deliveries by C without a delete (${atKill.length} in flight at the kill) all received ` +
        `again; errors: ${describeErrors(load)}`,
    );
  }, 60_000);

  it('startup: clear one-line errors for an unreachable database, a role without rights, an unknown role', async () => {
    const s = schema();
    const base = new URL(PG_URL);
    const withUser = (user: string, port = base.port || '5432') => {
      const u = new URL(PG_URL);
      u.username = user;
      u.password = '';
      u.port = port;
      return u.toString();
    };
    const start = (url: string) =>
      runCli(['--port', '0', '--store', url, '--store-schema', s, '--log-level', 'warn'], 20_000);
    const oneLine = (r: { code: number | null; stdout: string; stderr: string }, code: string) => {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(code);
      expect(lines[0]).toMatch(/^wharf: /);
      return lines[0];
    };

    const unreachable = await start(withUser(base.username || 'postgres', '1'));
    const l1 = oneLine(unreachable, 'ERR_STORE_UNREACHABLE');
    expect(unreachable.ms).toBeLessThan(10_000);

    const limited = `wharf_limited_${RUN}`;
    await sql(`CREATE ROLE "${limited}" LOGIN`);
    const l2 = oneLine(await start(withUser(limited)), 'ERR_STORE_PERMISSION');

    const l3 = oneLine(await start(withUser(`wharf_nosuch_${RUN}`)), 'ERR_STORE_AUTH');

    // a role that owns an existing schema needs no right on the database itself
    const owned = schema();
    await sql(`CREATE SCHEMA "${owned}" AUTHORIZATION "${limited}"`);
    const n = await startNode({ name: 'owner', schema: owned, app: `${APP}owner`, url: withUser(limited) });
    const via = client(n);
    const q = (await via.call('CreateQueue', { QueueName: 'owned' })).QueueUrl as string;
    await via.call('SendMessage', { QueueUrl: q, MessageBody: 'hello' });
    expect(((await via.call('ReceiveMessage', { QueueUrl: q })).Messages as Json[])[0].Body).toBe('hello');
    await stopNode(n);
    await sql(`DROP SCHEMA "${owned}" CASCADE`);
    console.log(`startup errors:\n  ${l1}\n  ${l2}\n  ${l3}`);
  }, 60_000);

  it('nodes starting at the same moment on a new schema run the migrations once and share queues', async () => {
    const s = schema();
    const nodes = await Promise.all(
      ['A', 'B', 'C'].map((name) => startNode({ name, schema: s, app: `${APP}m_${name}` })),
    );
    const [a, b, c] = nodes.map(client);
    const migrations = readdirSync(
      join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'src/store/postgres/migrations'),
    ).filter((f) => /^\d+_.*\.sql$/.test(f)).length;
    const applied = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${s}".schema_migrations`);
    expect(applied[0].n).toBe(migrations);

    const urlA = (await a.call('CreateQueue', { QueueName: 'shared' })).QueueUrl as string;
    const urlB = (await b.call('GetQueueUrl', { QueueName: 'shared' })).QueueUrl as string;
    expect(new URL(urlB).pathname).toBe(new URL(urlA).pathname);
    await a.call('SendMessage', { QueueUrl: urlA, MessageBody: bodyFor('m.1') });
    const got = (await b.call('ReceiveMessage', { QueueUrl: urlB, WaitTimeSeconds: 2 })).Messages as Json[];
    expect(idOf(got[0].Body)).toBe('m.1');
    // a receipt handle from one node works on another (they share the signing secret)
    await c.call('DeleteMessage', { QueueUrl: urlB, ReceiptHandle: got[0].ReceiptHandle });
    expect(await queueCounts(a, urlA)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
  }, 60_000);

  it('a database that stops answering: a request fails within the query timeout, then a new connection serves', async () => {
    const s = schema();
    const app = `${APP}f_node`;
    // one pooled connection: the one that freezes is the one the next request gets
    const n = await startNode({ name: 'F', schema: s, app, extraArgs: ['--store-pool-size', '1'] });
    const via = client(n);
    const url = (await via.call('CreateQueue', { QueueName: 'frozen' })).QueueUrl as string;
    await via.call('SendMessage', { QueueUrl: url, MessageBody: bodyFor('f.before') });
    const pids = (
      await sql<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app])
    ).map((r) => r.pid);
    expect(pids.length, 'the pool connection and the listener').toBe(2);
    // the cluster is this file's own: its backends may be frozen
    for (const pid of pids) {
      process.kill(pid, 'SIGSTOP');
      frozen.push(pid);
    }
    const lines: string[] = [];
    try {
      // the frozen connection: ServiceUnavailable once the statement times out (10 s), not a hang
      const t0 = Date.now();
      const err = await via.call('SendMessage', { QueueUrl: url, MessageBody: bodyFor('f.during') }, 30_000).then(
        () => undefined,
        (e: unknown) => e,
      );
      const ms = Date.now() - t0;
      expect(err).toBeInstanceOf(AwsError);
      expect((err as AwsError).status).toBe(503);
      expect((err as AwsError).type).toBe('ServiceUnavailable');
      expect(ms).toBeLessThan(15_000);
      lines.push(`first request: 503 after ${ms} ms`);
      // the connection was discarded: the next request gets a new one, backends still frozen
      const t1 = Date.now();
      await via.call('SendMessage', { QueueUrl: url, MessageBody: bodyFor('f.after') }, 5000);
      lines.push(`next request: 200 after ${Date.now() - t1} ms`);
    } finally {
      thaw();
    }
    const got = new Set<string>();
    for (let i = 0; i < 10 && !got.has('f.before') && !got.has('f.after'); i++) {
      const r = await via.call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
      for (const m of (r.Messages ?? []) as Json[]) got.add(idOf(m.Body)!);
    }
    expect(got.has('f.before') && got.has('f.after'), [...got].join(',')).toBe(true);
    expect(n.alive()).toBe(true);
    console.log(`frozen database connection: ${lines.join('; ')}`);
  }, 60_000);

  it('the database going away under load: 503/500 fast, no crash, recovery, nothing acknowledged lost', async () => {
    const s = schema();
    const prefix = `${APP}o_`;
    const nodes = await Promise.all(
      ['A', 'B'].map((name) => startNode({ name, schema: s, app: `${prefix}node_${name}` })),
    );
    const [a, b] = nodes.map(client);
    const url = (await a.call('CreateQueue', { QueueName: `outage-${RUN}` })).QueueUrl as string;
    const VT = 5;
    const allowed = (e: unknown) =>
      e instanceof AwsError &&
      ((e.status === 503 && e.type === 'ServiceUnavailable') || (e.status === 500 && e.type === 'InternalFailure'));
    const load = runLoad({ url, via: [a, b], vt: VT, tag: 'o', expected: (_via, e) => allowed(e), timeoutMs: 10_000 });
    const notes: string[] = [];
    let lastFault = 0;
    try {
      await sleep(1000);
      // 1. every backend of the two nodes terminated, three times
      for (let i = 0; i < 3; i++) {
        const n = await terminateBackends(`${prefix}node_`);
        expect(n, 'backends terminated').toBeGreaterThan(0);
        notes.push(`terminated ${n} backends`);
        lastFault = Date.now();
        await sleep(700);
      }
      await sleep(500);
      expect(load.ledger.problems).toEqual([]);

      // 2. the server stopped for two seconds
      {
        const t0 = Date.now();
        try {
          server.stop();
          notes.push(`server stopped in ${Date.now() - t0} ms`);
          // requests fail fast, with a retryable error
          for (const via of [a, b]) {
            for (const [op, input] of [
              ['SendMessage', { QueueUrl: url, MessageBody: bodyFor(`probe.${via.name}`) }],
              ['GetQueueAttributes', { QueueUrl: url, AttributeNames: ['All'] }],
              ['ReceiveMessage', { QueueUrl: url, WaitTimeSeconds: 0 }],
            ] as const) {
              load.ledger.attempted.add(`probe.${via.name}`);
              const p0 = Date.now();
              const err = await via.call(op, input, 10_000).then(
                () => undefined,
                (e: unknown) => e,
              );
              const ms = Date.now() - p0;
              expect(err, `${op} on ${via.name} while the database is down`).toBeInstanceOf(AwsError);
              expect(allowed(err), String(err)).toBe(true);
              expect(ms, `${op} on ${via.name} failed fast`).toBeLessThan(5000);
              notes.push(`${op}@${via.name} → ${(err as AwsError).status} in ${ms} ms`);
            }
          }
          await sleep(Math.max(0, 2000 - (Date.now() - t0)));
        } finally {
          server.start();
        }
        lastFault = Date.now();
        notes.push(`server down for ${lastFault - t0} ms`);
      }

      // 3. the nodes recover by themselves
      for (const via of [a, b]) {
        const ms = await eventually(`${via.name} serving again`, 15_000, async () => {
          await via.call('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['All'] }, 5000);
          return Date.now() - lastFault;
        });
        expect(ms, `${via.name} recovered within a few seconds`).toBeLessThan(10_000);
        notes.push(`${via.name} serving ${ms} ms after the outage`);
      }
      await sleep(1500);
      await drain(load, url, a, lastFault + VT * 1000 + 500, 40_000);
    } finally {
      await load.finish();
    }

    verify(load, 'outage');
    // the outage was felt, only as retryable errors, and failures were quick
    expect(load.errors.size, 'requests failed during the outage').toBeGreaterThan(0);
    expect(load.slowestError, 'slowest failed request, ms').toBeLessThan(5000);
    // an acknowledged delete (within its window) never came back: checked by verify (doubleDeliveries)
    const confirmedDeletes = load.ledger.deliveries.filter(confirmed).length;
    expect(confirmedDeletes).toBeGreaterThan(0);
    for (const n of nodes) expect(n.alive(), `${n.name} still running\n${n.output().slice(-3000)}`).toBe(true);
    console.log(
      `outage: ${load.ledger.sent.size} sends acknowledged, ` +
        `${load.ledger.deliveries.length} deliveries, ${confirmedDeletes} confirmed deletes, slowest failure ` +
        `${load.slowestError} ms; ${notes.join('; ')}; errors: ${describeErrors(load)}`,
    );
  }, 240_000);
});
