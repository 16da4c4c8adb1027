/**
 * Several real Wharf processes on one PostgreSQL database, for the cluster suites: the built CLI
 * (`dist/cli/main.js`, `npm run build` first) spawned with `--store postgres://...`, a raw AWS
 * JSON 1.0 client (no SDK: every error reaches the test as it came off the wire), message bodies
 * that carry a unique id, and PostgreSQL administration (statements, terminating backends).
 *
 * Every node of a suite connects with `application_name` set to a name of the suite's own, so a
 * test can find (and terminate) exactly its nodes' backends in pg_stat_activity.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PG_URL } from './pg.js';
import { AwsError, Sqs, type Json } from './raw-sqs.js';

export { AwsError, Sqs, type Json };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** the built CLI; WHARF_CLI points the suites at another build */
export const CLI = process.env.WHARF_CLI ?? join(ROOT, 'dist/cli/main.js');

export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PG_URL with an application_name, so the nodes' backends can be told apart. */
export function pgUrl(applicationName: string, base = PG_URL): string {
  return `${base}${base.includes('?') ? '&' : '?'}application_name=${encodeURIComponent(applicationName)}`;
}

/** A name no other run uses, for schemas, application names and roles. */
export const runId = () => randomBytes(4).toString('hex');

// ── nodes ───────────────────────────────────────────────────────────────────

export interface WharfNode {
  name: string;
  proc: ChildProcess;
  pid: number;
  endpoint: string;
  /** resolves when the process has exited */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
  alive: () => boolean;
}

const children = new Set<ChildProcess>();

export interface NodeOptions {
  name: string;
  schema: string;
  /** application_name of the node's connections */
  app: string;
  /** database URL without application_name (default PG_URL) */
  url?: string;
  extraArgs?: string[];
}

/** Spawns a node; resolves once it printed its endpoint and "ready in". */
export function startNode(o: NodeOptions): Promise<WharfNode> {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      '--port',
      '0',
      '--store',
      pgUrl(o.app, o.url),
      '--store-schema',
      o.schema,
      '--log-level',
      'warn',
      ...(o.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(proc);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      res({ code, signal });
    });
  });
  return new Promise<WharfNode>((res, rej) => {
    let done = false;
    const timer = setTimeout(() => fail(new Error(`${o.name} did not start within 20 s`)), 20_000);
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      rej(new Error(`${e.message}\n--- ${o.name} output ---\n${out}`));
    };
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Wharf listening on (http:\/\/\S+)/.exec(out);
      if (!done && m && /ready in \d+ ms/.test(out)) {
        done = true;
        clearTimeout(timer);
        res({
          name: o.name,
          proc,
          pid: proc.pid!,
          endpoint: m[1],
          exited,
          output: () => out,
          alive: () => proc.exitCode === null && proc.signalCode === null,
        });
      }
    });
    void exited.then(({ code, signal }) => fail(new Error(`${o.name} exited before ready (${code ?? signal})`)));
  });
}

/** SIGKILL, or SIGTERM with a SIGKILL after 10 s; resolves when the process is gone. */
export async function stopNode(n: WharfNode, signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM') {
  if (!n.alive()) return n.exited;
  n.proc.kill(signal);
  const t = setTimeout(() => n.proc.kill('SIGKILL'), 10_000);
  const r = await n.exited;
  clearTimeout(t);
  return r;
}

/** Kills every process these helpers spawned that is still running. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (p) =>
        new Promise<void>((res) => {
          if (p.exitCode !== null || p.signalCode !== null) return res();
          p.once('exit', () => res());
          p.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
}

/** Runs the CLI to completion (startup failures): exit code and output. */
export function runCli(
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  return new Promise((res) => {
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(proc);
      res({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

export async function queueCounts(
  sqs: Sqs,
  queueUrl: string,
): Promise<{ visible: number; inflight: number; delayed: number }> {
  const a = (
    await sqs.call('GetQueueAttributes', {
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    })
  ).Attributes as Record<string, string>;
  return {
    visible: Number(a.ApproximateNumberOfMessages),
    inflight: Number(a.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed),
  };
}

/** Polls fn until it returns a value other than undefined, or throws with `what` after timeoutMs. */
export async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    }
    await sleep(100);
  }
}

// ── bodies: a unique id, then filler derived from it ────────────────────────

export const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export function bodyFor(id: string): string {
  const h = createHash('sha256').update(id).digest('hex');
  const len = 64 + (parseInt(h.slice(0, 3), 16) % 800);
  return `${id}|${h.repeat(Math.ceil(len / h.length)).slice(0, len)}`;
}

/** The id of a well-formed body, or undefined for anything the suite did not write. */
export function idOf(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  const bar = body.indexOf('|');
  if (bar <= 0) return undefined;
  const id = body.slice(0, bar);
  return body === bodyFor(id) ? id : undefined;
}

/** Fails with the count and the first few entries. */
export function none(list: string[]): { count: number; first: string[] } {
  return { count: list.length, first: list.slice(0, 10) };
}

// ── deliveries as the client saw them ───────────────────────────────────────

export interface Delivery {
  id: string;
  node: string;
  messageId: string;
  receiveCount: number;
  /** the receive request's start and the end of its reply (client clock, ms) */
  start: number;
  end: number;
  vtMs: number;
  /** the delete request's start and reply end, when it succeeded for this entry */
  delStart?: number;
  delEnd?: number;
  /** a delete was sent for it (whatever came of it) */
  delAttempted?: boolean;
  group?: string;
  /** position in its receive's reply */
  index: number;
  /** the receive this delivery came in (deliveries of one receive share it) */
  batch: number;
}

export class Ledger {
  readonly sent = new Map<string, { messageId: string; group?: string; n: number; node: string }>();
  /** ids of every send attempted, when the test tracks them (a failed send may still have been stored) */
  readonly attempted = new Set<string>();
  readonly deliveries: Delivery[] = [];
  readonly problems: string[] = [];
  private batches = 0;

  /** Records a ReceiveMessage reply; checks body, MD5 and MessageId. */
  record(node: string, msgs: Json[], start: number, end: number, vtMs: number): Delivery[] {
    const batch = this.batches++;
    const out: Delivery[] = [];
    msgs.forEach((m, index) => {
      const id = idOf(m.Body);
      if (id === undefined) {
        this.problems.push(`${node}: unknown or corrupt body ${JSON.stringify(String(m.Body).slice(0, 60))}`);
        return;
      }
      if (m.MD5OfBody !== md5(m.Body as string)) this.problems.push(`${node}: MD5OfBody mismatch for ${id}`);
      if (this.attempted.size && !this.attempted.has(id)) this.problems.push(`${node}: ${id} was never sent`);
      const s = this.sent.get(id);
      if (s && s.messageId !== m.MessageId) {
        this.problems.push(`${node}: ${id} delivered as MessageId ${m.MessageId}, sent as ${s.messageId}`);
      }
      const attrs = (m.Attributes ?? {}) as Record<string, string>;
      const d: Delivery = {
        id,
        node,
        messageId: m.MessageId as string,
        receiveCount: Number(attrs.ApproximateReceiveCount ?? 0),
        start,
        end,
        vtMs,
        index,
        batch,
      };
      if (attrs.MessageGroupId !== undefined) d.group = attrs.MessageGroupId;
      this.deliveries.push(d);
      out.push(d);
    });
    return out;
  }

  byId(): Map<string, Delivery[]> {
    const m = new Map<string, Delivery[]>();
    for (const d of this.deliveries) {
      if (!m.has(d.id)) m.set(d.id, []);
      m.get(d.id)!.push(d);
    }
    return m;
  }
}

/**
 * Two deliveries of one message certainly overlapped inside a visibility timeout: whichever the
 * server made first, the other was answered before that one's timeout could have run out.
 */
export function overlapInWindow(a: Delivery, b: Delivery): boolean {
  return b.end < a.start + a.vtMs && a.end < b.start + b.vtMs;
}

/** Certain violations of "at most one live delivery at a time" for each message. */
export function doubleDeliveries(ledger: Ledger): string[] {
  const out: string[] = [];
  for (const [id, ds] of ledger.byId()) {
    for (let i = 0; i < ds.length; i++) {
      for (let j = i + 1; j < ds.length; j++) {
        const [a, b] = [ds[i], ds[j]];
        if (overlapInWindow(a, b)) {
          out.push(`${id}: on ${a.node} at ${a.start}..${a.end} and on ${b.node} at ${b.start}..${b.end}`);
        }
        // a delete acknowledged within its window removed the message: nothing may come after it
        for (const [x, y] of [
          [a, b],
          [b, a],
        ]) {
          if (confirmed(x) && y.start > x.delEnd!) {
            out.push(`${id}: delivered on ${y.node} at ${y.start} after its delete on ${x.node} at ${x.delEnd}`);
          }
        }
      }
    }
  }
  return out;
}

/**
 * DeleteMessageBatch for deliveries of one receive; notes on each when its delete was attempted and
 * when it succeeded. Returns the failed entries.
 */
export async function deleteAll(via: Sqs, url: string, ds: Delivery[], handles: string[]): Promise<Json[]> {
  if (!ds.length) return [];
  for (const d of ds) d.delAttempted = true;
  const t0 = Date.now();
  const r = await via.call('DeleteMessageBatch', {
    QueueUrl: url,
    Entries: handles.map((h, i) => ({ Id: String(i), ReceiptHandle: h })),
  });
  const t1 = Date.now();
  for (const s of (r.Successful ?? []) as Json[]) {
    const d = ds[Number(s.Id)];
    d.delStart = t0;
    d.delEnd = t1;
  }
  return (r.Failed ?? []) as Json[];
}

/** A delete acknowledged within the delivery's visibility timeout certainly removed the message. */
export const confirmed = (d: Delivery) => d.delEnd !== undefined && d.delEnd < d.start + d.vtMs;

// ── PostgreSQL administration ───────────────────────────────────────────────

export async function admin(applicationName: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: pgUrl(applicationName) });
  c.on('error', () => {}); // a connection lost during an outage must not end the test process
  await c.connect();
  return c;
}

/** Runs one statement on a connection of its own. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const c = await admin('wharf_test_admin');
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

/** Terminates every backend whose application_name starts with prefix; returns how many. */
export async function terminateBackends(prefix: string): Promise<number> {
  const rows = await sql<{ ok: boolean }>(
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
     WHERE pid <> pg_backend_pid() AND starts_with(application_name, $1)`,
    [prefix],
  );
  return rows.filter((r) => r.ok).length;
}
