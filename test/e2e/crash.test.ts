/**
 * Crash safety of the real server: the built CLI (`dist/cli/main.js`) runs as a child process on a
 * temporary data directory while this process drives a mixed load over raw HTTP (AWS JSON 1.0):
 * producers send batches of uniquely identified bodies, consumers receive with a short visibility
 * timeout and delete what they got. The server is SIGKILLed mid-flight, restarted on the same data
 * directory, and the queue is drained. Then:
 *   - every acknowledged send is still there, unless a delete of it was attempted;
 *   - no message whose delete was acknowledged comes back;
 *   - every body that comes back is one this process sent, intact (body, MD5, message id);
 *   - on a FIFO queue, what remains of each message group comes back in send order, and nothing
 *     older than a deleted message of its group.
 *
 * A delete acknowledged after the receive's visibility timeout may have used a stale handle (the
 * message was received again meanwhile, and AWS answers success without deleting), so only deletes
 * acknowledged within the window count as confirmed.
 *
 * This is the one suite that waits on the real clock: the load's visibility timeout (2 s) must pass
 * after the restart for the messages in flight at the crash to come back.
 * Needs `npm run build` first.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sqs, type Json } from '../helpers/raw-sqs.js';
import { CLI, kill, killAll, startServer, type Durability, type Server } from '../helpers/cli-server.js';

/** visibility timeout of the load's receives, seconds */
const LOAD_VT = 2;
const PRODUCERS = 4;
const CONSUMERS = 3;
/** message groups per producer on the FIFO queue */
const GROUPS_PER_PRODUCER = 5;

const tempDirs: string[] = [];
const clients = new Set<Sqs>();
function client(endpoint: string): Sqs {
  const c = new Sqs(endpoint);
  clients.add(c);
  return c;
}

// ── bodies: a unique id, then filler derived from it ────────────────────────

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function bodyFor(id: string): string {
  const h = createHash('sha256').update(id).digest('hex');
  const len = 64 + (parseInt(h.slice(0, 3), 16) % 800);
  return `${id}|${h.repeat(Math.ceil(len / h.length)).slice(0, len)}`;
}

/** The id of a well-formed body, or undefined for anything this process did not write. */
function idOf(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  const bar = body.indexOf('|');
  if (bar <= 0) return undefined;
  const id = body.slice(0, bar);
  return body === bodyFor(id) ? id : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ── what the load did, as the client saw it ─────────────────────────────────

interface Sent {
  group?: string;
  /** order within the producer (and so within its group) */
  n: number;
}

class Ledger {
  /** every body id a send was attempted for */
  readonly attempted = new Map<string, Sent>();
  /** acknowledged sends: id → MessageId */
  readonly acked = new Map<string, string>();
  /** ids some DeleteMessage(Batch) was sent for (acknowledged or not) */
  readonly deleteAttempted = new Set<string>();
  /** deletes acknowledged within the receive's visibility timeout */
  readonly confirmedDeletes = new Set<string>();
  /** id → MessageId, from every receive */
  readonly seenIds = new Map<string, string>();
  lateDeleteAcks = 0;
  received = 0;
  /** problems seen while the server was alive (must stay empty) */
  readonly problems: string[] = [];
  /** errors after the kill (expected: requests in flight die with the server) */
  errorsAfterKill = 0;
  sendFailedEntries = 0;
  deleteFailedEntries = 0;

  /** Checks a received message; returns its id when it is one of ours. */
  check(m: Json, where: string): string | undefined {
    const id = idOf(m.Body);
    if (id === undefined) {
      this.problems.push(`${where}: unknown or corrupt body ${JSON.stringify(String(m.Body).slice(0, 80))}`);
      return undefined;
    }
    if (!this.attempted.has(id)) this.problems.push(`${where}: body ${id} was never sent`);
    if (m.MD5OfBody !== md5(m.Body as string)) this.problems.push(`${where}: MD5OfBody mismatch for ${id}`);
    const known = this.acked.get(id) ?? this.seenIds.get(id);
    if (known !== undefined && known !== m.MessageId) {
      this.problems.push(`${where}: ${id} came back as MessageId ${m.MessageId}, was ${known}`);
    }
    this.seenIds.set(id, m.MessageId as string);
    return id;
  }
}

// ── load ────────────────────────────────────────────────────────────────────

interface LoadOptions {
  queueUrl: string;
  fifo: boolean;
  /** prefix of this cycle's body ids */
  tag: string;
  ledger: Ledger;
}

/**
 * Runs producers and consumers against the server until it dies; returns once they all stopped.
 * `killed()` tells a worker that a failing request is the crash, not a bug.
 */
async function runLoad(sqs: Sqs, o: LoadOptions, killed: () => boolean): Promise<void> {
  const { ledger } = o;
  const failed = (e: unknown, what: string) => {
    if (killed()) ledger.errorsAfterKill++;
    else ledger.problems.push(`${what} failed before the kill: ${(e as Error).message}`);
  };

  const producer = async (p: number) => {
    for (let n = 0; !killed();) {
      const entries: Json[] = [];
      for (let i = 0; i < 10; i++, n++) {
        const id = `${o.tag}:${p}:${n}`;
        const entry: Json = { Id: String(i), MessageBody: bodyFor(id) };
        const sent: Sent = { n };
        if (o.fifo) {
          sent.group = `${o.tag}-p${p}-g${n % GROUPS_PER_PRODUCER}`;
          entry.MessageGroupId = sent.group;
          entry.MessageDeduplicationId = id.replace(/:/g, '-');
        }
        ledger.attempted.set(id, sent);
        entries.push(entry);
      }
      let r: Json;
      try {
        r = await sqs.call('SendMessageBatch', { QueueUrl: o.queueUrl, Entries: entries });
      } catch (e) {
        return failed(e, 'SendMessageBatch');
      }
      for (const s of (r.Successful ?? []) as Json[]) {
        const body = entries[Number(s.Id)].MessageBody as string;
        if (s.MD5OfMessageBody !== md5(body)) ledger.problems.push(`send: MD5OfMessageBody mismatch`);
        ledger.acked.set(idOf(body)!, s.MessageId as string);
      }
      ledger.sendFailedEntries += ((r.Failed ?? []) as Json[]).length;
    }
  };

  const consumer = async () => {
    while (!killed()) {
      const t0 = Date.now();
      let r: Json;
      try {
        r = await sqs.call('ReceiveMessage', {
          QueueUrl: o.queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: LOAD_VT,
          WaitTimeSeconds: 1,
        });
      } catch (e) {
        return failed(e, 'ReceiveMessage');
      }
      const msgs = (r.Messages ?? []) as Json[];
      if (msgs.length === 0) continue;
      ledger.received += msgs.length;
      const ids = msgs.map((m) => ledger.check(m, 'receive during load'));
      for (const id of ids) {
        if (id !== undefined && ledger.confirmedDeletes.has(id)) {
          ledger.problems.push(`receive during load: ${id} came back after its delete was acknowledged`);
        }
        if (id !== undefined) ledger.deleteAttempted.add(id);
      }
      let d: Json;
      try {
        d = await sqs.call('DeleteMessageBatch', {
          QueueUrl: o.queueUrl,
          Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        });
      } catch (e) {
        return failed(e, 'DeleteMessageBatch');
      }
      // a margin for the server's clock reading after t0 is not needed: its receive came later
      const inWindow = Date.now() < t0 + LOAD_VT * 1000;
      for (const s of (d.Successful ?? []) as Json[]) {
        const id = ids[Number(s.Id)];
        if (id === undefined) continue;
        if (inWindow) ledger.confirmedDeletes.add(id);
        else ledger.lateDeleteAcks++;
      }
      ledger.deleteFailedEntries += ((d.Failed ?? []) as Json[]).length;
    }
  };

  await Promise.all([
    ...Array.from({ length: PRODUCERS }, (_, p) => producer(p)),
    ...Array.from({ length: CONSUMERS }, () => consumer()),
  ]);
}

// ── drain after the restart ─────────────────────────────────────────────────

interface Drained {
  /** ids in the order they came back */
  order: string[];
  duplicates: string[];
}

/**
 * Receives (and deletes) everything left in the queue. Messages in flight at the crash come back
 * when their visibility timeout passes, at the latest LOAD_VT after the kill; the drain stops once
 * that time has passed, a receive came back empty and the queue's counters say it is empty.
 */
async function drain(sqs: Sqs, queueUrl: string, killedAt: number, ledger: Ledger): Promise<Drained> {
  const order: string[] = [];
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await sqs.call('ReceiveMessage', {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 60,
      WaitTimeSeconds: 1,
    });
    const msgs = (r.Messages ?? []) as Json[];
    for (const m of msgs) {
      const id = ledger.check(m, 'drain');
      if (id === undefined) continue;
      if (seen.has(id)) duplicates.push(id);
      seen.add(id);
      order.push(id);
    }
    if (msgs.length) {
      const d = await sqs.call('DeleteMessageBatch', {
        QueueUrl: queueUrl,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      });
      expect(d.Failed ?? [], 'deletes during the drain').toEqual([]);
      continue;
    }
    if (Date.now() < killedAt + LOAD_VT * 1000 + 250) continue;
    const a = await sqs.call('GetQueueAttributes', {
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    });
    const left =
      Number(a.Attributes.ApproximateNumberOfMessages) +
      Number(a.Attributes.ApproximateNumberOfMessagesNotVisible) +
      Number(a.Attributes.ApproximateNumberOfMessagesDelayed);
    if (left === 0) return { order, duplicates };
  }
  throw new Error(`the queue did not drain within 30 s (${order.length} drained)`);
}

// ── one kill/restart cycle ──────────────────────────────────────────────────

interface CycleResult {
  server: Server;
  ledger: Ledger;
  drained: Drained;
}

/**
 * Drives the load on `server` for loadMs, SIGKILLs it, restarts it on the same directory, drains
 * the queue and checks the invariants common to both queue types. Returns the restarted server.
 */
async function cycle(
  server: Server,
  o: { dataDir: string; durability: Durability; queueName: string; fifo: boolean; tag: string; loadMs: number },
): Promise<CycleResult> {
  const ledger = new Ledger();
  const sqs = client(server.endpoint);
  const queueUrl = (await sqs.call('GetQueueUrl', { QueueName: o.queueName })).QueueUrl as string;
  let killedAt = 0;
  const load = runLoad(sqs, { queueUrl, fifo: o.fifo, tag: o.tag, ledger }, () => killedAt > 0);
  await sleep(o.loadMs);
  killedAt = Date.now();
  await kill(server);
  await load;
  sqs.close();
  clients.delete(sqs);

  const restarted = await startServer(o.dataDir, o.durability);
  const after = client(restarted.endpoint);
  const url = (await after.call('GetQueueUrl', { QueueName: o.queueName })).QueueUrl as string;
  const drained = await drain(after, url, killedAt, ledger);
  after.close();
  clients.delete(after);

  const label = `${o.tag} (${o.durability}${o.fifo ? ', FIFO' : ''})`;
  // the load did something worth checking
  expect(ledger.acked.size, `${label}: acknowledged sends`).toBeGreaterThan(0);
  expect(ledger.confirmedDeletes.size, `${label}: confirmed deletes`).toBeGreaterThan(0);
  expectNone(ledger.problems, `${label}: problems`);
  expect(ledger.sendFailedEntries, `${label}: failed send entries`).toBe(0);
  expectNone(drained.duplicates, `${label}: delivered twice by the drain`);

  const back = new Set(drained.order);
  const lost = [...ledger.acked.keys()].filter((id) => !back.has(id) && !ledger.deleteAttempted.has(id));
  expectNone(lost, `${label}: acknowledged sends lost`);
  const resurrected = drained.order.filter((id) => ledger.confirmedDeletes.has(id));
  expectNone(resurrected, `${label}: acknowledged deletes that came back`);
  return { server: restarted, ledger, drained };
}

/** Fails with the count and the first few entries (a crash bug can produce thousands). */
function expectNone(list: string[], what: string): void {
  expect({ count: list.length, first: list.slice(0, 10) }, what).toEqual({ count: 0, first: [] });
}

function summary(tag: string, r: CycleResult): string {
  const { ledger, drained } = r;
  const unackedKept = drained.order.filter((id) => !ledger.acked.has(id)).length;
  return (
    `${tag}: ${ledger.acked.size} sends acknowledged (${ledger.attempted.size} attempted), ` +
    `${ledger.received} received, ${ledger.confirmedDeletes.size} deletes confirmed (${ledger.lateDeleteAcks} late), ` +
    `${drained.order.length} drained after restart (${unackedKept} unacknowledged sends kept), ` +
    `${ledger.errorsAfterKill} requests cut by the kill`
  );
}

// ── the suite ───────────────────────────────────────────────────────────────

async function setup(durability: Durability, queueName: string, fifo: boolean) {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-crash-'));
  tempDirs.push(dataDir);
  const server = await startServer(dataDir, durability);
  const sqs = client(server.endpoint);
  await sqs.call('CreateQueue', {
    QueueName: queueName,
    Attributes: fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {},
  });
  sqs.close();
  clients.delete(sqs);
  return { dataDir, server };
}

describe('crash safety: SIGKILL under load, restart on the same data directory', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  });

  afterEach(async () => {
    for (const c of clients) c.close();
    clients.clear();
    await killAll();
  });

  afterAll(() => {
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });

  it('standard queue, durability fsync: three crashes lose no acknowledged send and resurrect no acknowledged delete', async () => {
    const queueName = 'crash-standard';
    const started = await setup('fsync', queueName, false);
    const { dataDir } = started;
    let server = started.server;
    const lines: string[] = [];
    for (const [i, loadMs] of [450, 700, 300].entries()) {
      const tag = `s${i}`;
      const r = await cycle(server, { dataDir, durability: 'fsync', queueName, fifo: false, tag, loadMs });
      server = r.server;
      lines.push(summary(tag, r));
    }
    console.log(lines.join('\n'));
  }, 120_000);

  it('FIFO queue, durability fsync: what remains of each group comes back in order', async () => {
    const queueName = 'crash-fifo.fifo';
    const { server, dataDir } = await setup('fsync', queueName, true);
    const tag = 'f0';
    const r = await cycle(server, { dataDir, durability: 'fsync', queueName, fifo: true, tag, loadMs: 600 });
    const { ledger, drained } = r;
    // per group: the order the drain saw, and the newest message whose delete was confirmed
    const seq = new Map<string, number[]>();
    for (const id of drained.order) {
      const s = ledger.attempted.get(id)!;
      if (!seq.has(s.group!)) seq.set(s.group!, []);
      seq.get(s.group!)!.push(s.n);
    }
    const newestDeleted = new Map<string, number>();
    for (const id of ledger.confirmedDeletes) {
      const s = ledger.attempted.get(id)!;
      newestDeleted.set(s.group!, Math.max(newestDeleted.get(s.group!) ?? -1, s.n));
    }
    const disorder: string[] = [];
    for (const [group, ns] of seq) {
      for (let i = 1; i < ns.length; i++) {
        if (ns[i] <= ns[i - 1]) disorder.push(`${group}: ${ns[i - 1]} then ${ns[i]}`);
      }
      const floor = newestDeleted.get(group);
      if (floor !== undefined && ns[0] < floor) {
        disorder.push(`${group}: ${ns[0]} came back, older than deleted ${floor}`);
      }
    }
    expectNone(disorder, 'order within message groups');
    expect(seq.size, 'groups with messages left after the crash').toBeGreaterThan(0);
    console.log(summary(tag, r) + `, ${seq.size} groups drained in order`);
  }, 60_000);

  it('standard queue, durability os (a process crash, not a power cut): the same guarantees', async () => {
    const queueName = 'crash-os';
    const { server, dataDir } = await setup('os', queueName, false);
    const r = await cycle(server, { dataDir, durability: 'os', queueName, fifo: false, tag: 'o0', loadMs: 600 });
    console.log(summary('o0', r));
  }, 60_000);
});
