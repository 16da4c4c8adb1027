#!/usr/bin/env node
// Wharf as a cluster on PostgreSQL, against the raw SKIP LOCKED queue table on the same database,
// in one session.
//
// Scenarios (each on a fresh schema, dropped afterwards):
//   one     1 node, ../shared/bench/sqs-load.mjs straight at it (--server-pid = the node)
//   one-rr  1 node behind the round-robin proxy below (the proxy's own cost, for comparison)
//   three   3 nodes on one schema behind the proxy: one sqs-load, one queue, served by all three
//   raw     ../shared/bench/bench-postgres.mjs (the classic SKIP LOCKED table, batches of 10)
// sqs-load runs with batch 10, 1 KiB bodies and --verify (MD5s, duplicates, losses).
//
// Why a proxy: sqs-load takes one endpoint. A small TCP proxy inside this process hands each new
// connection of sqs-load's keep-alive pool to the next node in turn, so one sqs-load process (and
// so one --verify ledger) drives one queue through all three nodes: a duplicate delivered by two
// nodes, or a message lost between them, is caught. Three sqs-load processes would each need a
// queue of their own (--verify cannot follow messages another process sent), so nodes would never
// share a queue. The proxy copies bytes; its CPU is reported (and `one-rr` shows what it costs).
//
// CPU per 100k messages, for the Wharf nodes (summed) and for PostgreSQL (the postmaster and all of
// its children: backends, WAL writer, checkpointer...), is sampled from /proc by this script
// from the start to the exit of the load generator, and divided by the messages it moved
// ((sent + deleted) / 2, all of them, drain included). The raw table's run is measured the same
// way (and bench-postgres.mjs' own figure for its timed window is printed beside it). msgs/s are
// the load generators' timed-window figures ((sent + deleted) / 2 per second).
//
// Usage: node bench/cluster.mjs [--duration 15] [--runs 1] [--warmup 3] [--scenarios one,one-rr,three,raw]
//          [--producers 4] [--consumers 4] [--pg-producers 8] [--pg-consumers 8] [--size 1024]
//          [--pool-size 10] [--url postgres://postgres@127.0.0.1:5432/postgres] [--pg-pid PID] [--out file.jsonl]
// Build Wharf first (`npm run build`); the load generators come from WHARF_BENCH_DIR or
// ../shared/bench next to the repository (`npm ci` there once).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  BENCH,
  cleanup,
  importBench,
  removeDir,
  requireBuild,
  startWharf,
  stopWharf,
  tempDir,
  track,
} from './lib/harness.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
requireBuild();
for (const f of ['sqs-load.mjs', 'bench-postgres.mjs']) {
  if (!existsSync(join(BENCH, f))) {
    console.error(`missing ${join(BENCH, f)} (set WHARF_BENCH_DIR to the load generators; \`npm ci\` there)`);
    process.exit(2);
  }
}
const { parseArgs, median, fmt, procCpu } = await importBench('lib/cpu.mjs');

const args = parseArgs(process.argv.slice(2), {
  duration: 15,
  runs: 1,
  warmup: 3,
  scenarios: 'one,one-rr,three,raw',
  producers: 4,
  consumers: 4,
  pgProducers: 8,
  pgConsumers: 8,
  size: 1024,
  poolSize: 10,
  url: 'postgres://postgres@127.0.0.1:5432/postgres',
  pgPid: null,
  out: null,
});
const KNOWN = ['one', 'one-rr', 'three', 'raw'];
const chosen = String(args.scenarios)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const s of chosen) {
  if (!KNOWN.includes(s)) {
    console.error(`unknown scenario ${s} (known: ${KNOWN.join(', ')})`);
    process.exit(2);
  }
}

// ── cleanup, whatever happens ───────────────────────────────────────────────
// The harness kills the children and exits on a signal; the schemas are dropped here first, with a
// synchronous child (the nodes' connections go with the nodes, so DROP SCHEMA does not wait).
const schemas = new Set();
const servers = new Set();
const DROP = `const pg = require('pg'); const c = new pg.Client({ connectionString: process.argv[1] });
  c.connect().then(async () => { for (const s of process.argv.slice(2)) await c.query('DROP SCHEMA IF EXISTS "' + s + '" CASCADE'); })
  .catch((e) => { console.error('could not drop schemas: ' + e.message); process.exitCode = 1; }).finally(() => c.end());`;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.prependListener(sig, () => {
    for (const s of servers) s.close();
    cleanup();
    if (schemas.size) {
      spawnSync(process.execPath, ['-e', DROP, args.url, ...schemas], { cwd: ROOT, stdio: 'inherit', timeout: 15_000 });
    }
  });
}
async function dropSchemas() {
  if (!schemas.size) return;
  const c = new pg.Client({ connectionString: args.url });
  try {
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    schemas.clear();
  } catch (e) {
    console.error(`could not drop schemas ${[...schemas].join(', ')}: ${e.message}`);
  } finally {
    await c.end().catch(() => {});
  }
}

// ── PostgreSQL ──────────────────────────────────────────────────────────────
/** The postmaster: the parent of a backend of ours (or --pg-pid). */
async function postmasterPid() {
  if (args.pgPid) return Number(args.pgPid);
  const c = new pg.Client({ connectionString: args.url });
  await c.connect();
  try {
    const backend = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const stat = readFileSync(`/proc/${backend}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } finally {
    await c.end();
  }
}

/** Client backends on the server that are not ours: another load would skew the CPU figures. */
async function otherClients(ownApp) {
  const c = new pg.Client({ connectionString: args.url });
  await c.connect();
  try {
    const r = await c.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'
       AND pid <> pg_backend_pid() AND NOT starts_with(coalesce(application_name, ''), $1)`,
      [ownApp],
    );
    return r.rows[0].n;
  } finally {
    await c.end();
  }
}

// ── Wharf nodes ─────────────────────────────────────────────────────────────
const withApp = (url, app) => `${url}${url.includes('?') ? '&' : '?'}application_name=${app}`;

/** A node on the schema (its temp --data-dir stays unused: the store is PostgreSQL). */
async function startNode(schema, app) {
  const dataDir = tempDir('wharf-cluster-bench-');
  const w = await startWharf({
    dataDir,
    args: ['--store', withApp(args.url, app), '--store-schema', schema, '--store-pool-size', String(args.poolSize)],
    echoStderr: true,
    timeoutMs: 20_000,
  });
  const u = new URL(w.endpoint);
  return { ...w, host: u.hostname, port: Number(u.port) };
}

async function stopNode(n) {
  await stopWharf(n);
  removeDir(n.dataDir);
}

// ── the round-robin TCP proxy ───────────────────────────────────────────────
/** Listens on 127.0.0.1:0; each accepted connection is piped to the next backend in turn. */
function startProxy(backends) {
  let next = 0;
  const perBackend = backends.map(() => 0);
  const server = net.createServer((client) => {
    const i = next++ % backends.length;
    perBackend[i]++;
    const upstream = net.connect(backends[i].port, backends[i].host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  servers.add(server);
  return new Promise((res) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      res({
        endpoint: `http://127.0.0.1:${port}`,
        perBackend,
        close: () => {
          servers.delete(server);
          server.close();
        },
      });
    }),
  );
}

// ── load generators ─────────────────────────────────────────────────────────
/**
 * Runs a generator from the bench dir, echoing its output, while sampling the CPU of `pids` (each
 * with its process tree) and of this process (the proxy). Resolves with its --out record and the
 * CPU-seconds consumed from its start to its exit.
 */
async function runGenerator(script, argv, label, pids) {
  const outDir = tempDir('wharf-cluster-bench-out-');
  const outFile = join(outDir, 'out.jsonl');
  const cpu0 = pids.map((p) => procCpu(p).total);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const proc = spawn(process.execPath, [join(BENCH, script), ...argv, '--out', outFile], {
    cwd: BENCH,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = track(proc);
  const prefix = (d) =>
    String(d)
      .split('\n')
      .filter((l) => l.length)
      .map((l) => `  [${label}] ${l}\n`)
      .join('');
  proc.stdout.on('data', (d) => process.stdout.write(prefix(d)));
  proc.stderr.on('data', (d) => process.stderr.write(prefix(d)));
  const { code, signal } = await exited;
  const cpu = pids.map((p, i) => procCpu(p).total - cpu0[i]);
  const self = process.cpuUsage(self0);
  const wallS = (performance.now() - t0) / 1000;
  let rec = null;
  try {
    const lines = readFileSync(outFile, 'utf8').trim().split('\n');
    rec = JSON.parse(lines[lines.length - 1]);
  } catch {
    /* no record: the generator failed */
  }
  removeDir(outDir);
  if (code !== 0 || !rec) throw new Error(`${script} failed (code ${code}, signal ${signal})`);
  return { rec, cpu, selfCpuS: (self.user + self.system) / 1e6, wallS };
}

const sum = (runs, k) => runs.reduce((a, r) => a + (typeof r[k] === 'number' ? r[k] : 0), 0);
const per100k = (cpuS, msgs) => (msgs > 0 ? (cpuS / msgs) * 1e5 : null);

async function wharfScenario(name, nodeCount, proxied, pgPid) {
  const schema = `wharf_bench_${randomBytes(4).toString('hex')}`;
  const app = `wharf_bench_${name.replace(/\W/g, '_')}_`;
  schemas.add(schema);
  console.log(`\n### ${name}: ${nodeCount} node(s)${proxied ? ' behind the round-robin proxy' : ''}, schema ${schema}`);
  const nodes = await Promise.all(Array.from({ length: nodeCount }, (_, i) => startNode(schema, `${app}${i}`)));
  const proxy = proxied ? await startProxy(nodes) : null;
  const endpoint = proxy ? proxy.endpoint : nodes[0].endpoint;
  const busy = await otherClients(app);
  if (busy) console.log(`  note: ${busy} other client(s) connected to PostgreSQL during this run`);
  const load = [
    '--endpoint',
    endpoint,
    '--queue',
    `bench-${name}`,
    '--batch',
    '10',
    '--size',
    String(args.size),
    '--producers',
    String(args.producers),
    '--consumers',
    String(args.consumers),
    '--verify',
  ];
  try {
    if (args.warmup > 0) {
      await runGenerator(
        'sqs-load.mjs',
        [...load, '--duration', String(args.warmup), '--runs', '1'],
        `${name} warm-up`,
        [],
      );
    }
    // sqs-load's own server CPU figure (its timed window) is for the one node it can follow
    const serverPid = nodeCount === 1 ? ['--server-pid', String(nodes[0].pid)] : [];
    const r = await runGenerator(
      'sqs-load.mjs',
      [...load, '--duration', String(args.duration), '--runs', String(args.runs), '--warmup', '0', ...serverPid],
      name,
      [...nodes.map((n) => n.pid), pgPid],
    );
    const runs = r.rec.runs;
    const moved = (sum(runs, 'sentTotal') + sum(runs, 'deletedTotal')) / 2;
    const wharfCpu = r.cpu.slice(0, nodeCount).reduce((a, b) => a + b, 0);
    const pgCpu = r.cpu[nodeCount];
    return {
      scenario: name,
      nodes: nodeCount,
      msgsPerS: median(runs.map((x) => (x.sentPerS + x.deletedPerS) / 2)),
      wharfCpuPer100k: per100k(wharfCpu, moved),
      wharfCpuPer100kWindow: nodeCount === 1 ? median(runs.map((x) => x.serverCpuPer100k)) : null,
      pgCpuPer100k: per100k(pgCpu, moved),
      proxyCpuPer100k: proxy ? per100k(r.selfCpuS, moved) : null,
      clientCpuPer100k: median(runs.map((x) => x.clientCpuPer100k)),
      machineBusyPct: median(runs.map((x) => x.machineBusyPct)),
      connections: proxy ? proxy.perBackend.join('/') : null,
      lost: sum(runs, 'lost'),
      duplicates: sum(runs, 'duplicates'),
      md5: sum(runs, 'md5Mismatch'),
      errors: sum(runs, 'errors'),
      moved,
    };
  } finally {
    proxy?.close();
    await Promise.all(nodes.map(stopNode));
    await dropSchemas();
  }
}

async function rawScenario(pgPid) {
  console.log(`\n### raw: bench-postgres.mjs, batches of 10, ${args.pgProducers}p/${args.pgConsumers}c`);
  const busy = await otherClients('wharf_bench_');
  if (busy) console.log(`  note: ${busy} other client(s) connected to PostgreSQL during this run`);
  const common = ['--url', args.url, '--size', String(args.size)];
  if (args.warmup > 0) {
    await runGenerator(
      'bench-postgres.mjs',
      [
        ...common,
        '--send-batch',
        '10',
        '--recv-batch',
        '10',
        '--delete-batch',
        '10',
        '--duration',
        String(args.warmup),
        '--runs',
        '1',
        '--warmup',
        '0',
      ],
      'raw warm-up',
      [],
    );
  }
  const r = await runGenerator(
    'bench-postgres.mjs',
    [
      ...common,
      '--producers',
      String(args.pgProducers),
      '--consumers',
      String(args.pgConsumers),
      '--send-batch',
      '10',
      '--recv-batch',
      '10',
      '--delete-batch',
      '10',
      '--duration',
      String(args.duration),
      '--runs',
      String(args.runs),
      '--warmup',
      '0',
      '--server-pid',
      String(pgPid),
    ],
    'raw',
    [pgPid],
  );
  const runs = r.rec.runs;
  // bench-postgres stops at the end of its window (no drain): its messages are the window's
  const moved = runs.reduce((a, x) => a + ((x.sentPerS + x.deletedPerS) / 2) * x.wallS, 0);
  return {
    scenario: 'raw',
    nodes: 0,
    msgsPerS: median(runs.map((x) => (x.sentPerS + x.deletedPerS) / 2)),
    wharfCpuPer100k: null,
    wharfCpuPer100kWindow: null,
    pgCpuPer100k: per100k(r.cpu[0], moved),
    pgCpuPer100kWindow: median(runs.map((x) => x.serverCpuPer100k)),
    proxyCpuPer100k: null,
    clientCpuPer100k: median(runs.map((x) => x.clientCpuPer100k)),
    machineBusyPct: median(runs.map((x) => x.machineBusyPct)),
    connections: null,
    lost: null,
    duplicates: null,
    md5: null,
    errors: sum(runs, 'errors'),
    moved,
  };
}

// ── run ─────────────────────────────────────────────────────────────────────
const rows = [];
try {
  const pgPid = await postmasterPid();
  console.log(`PostgreSQL postmaster pid ${pgPid}; ${args.duration} s x ${args.runs} run(s), warm-up ${args.warmup} s`);
  for (const s of chosen) {
    if (s === 'one') rows.push(await wharfScenario('one', 1, false, pgPid));
    if (s === 'one-rr') rows.push(await wharfScenario('one-rr', 1, true, pgPid));
    if (s === 'three') rows.push(await wharfScenario('three', 3, true, pgPid));
    if (s === 'raw') rows.push(await rawScenario(pgPid));
  }
} catch (e) {
  console.error(`error: ${e.stack ?? e.message}`);
  process.exitCode = 1;
} finally {
  for (const srv of servers) srv.close();
  cleanup();
  await dropSchemas();
}

// ── summary ─────────────────────────────────────────────────────────────────
if (rows.length) {
  const raw = rows.find((r) => r.scenario === 'raw');
  const one = rows.find((r) => r.scenario === 'one');
  const oneRr = rows.find((r) => r.scenario === 'one-rr');
  const table = [
    [
      'scenario',
      'msgs/s',
      'vs raw',
      'Wharf CPU-s/100k',
      'PG CPU-s/100k',
      'proxy CPU-s/100k',
      'client CPU-s/100k',
      'box busy',
      'lost',
      'dups',
      'md5',
      'errors',
    ],
  ];
  for (const r of rows) {
    table.push([
      r.scenario + (r.connections ? ` (conns ${r.connections})` : ''),
      fmt(r.msgsPerS),
      raw && r !== raw ? `${((100 * r.msgsPerS) / raw.msgsPerS).toFixed(0)}%` : '-',
      r.wharfCpuPer100k == null
        ? '-'
        : fmt(r.wharfCpuPer100k, 2) + (r.wharfCpuPer100kWindow != null ? ` (${fmt(r.wharfCpuPer100kWindow, 2)})` : ''),
      fmt(r.pgCpuPer100k, 2) + (r.pgCpuPer100kWindow != null ? ` (${fmt(r.pgCpuPer100kWindow, 2)})` : ''),
      r.proxyCpuPer100k == null ? '-' : fmt(r.proxyCpuPer100k, 2),
      fmt(r.clientCpuPer100k, 2),
      r.machineBusyPct == null ? '-' : `${r.machineBusyPct.toFixed(0)}%`,
      r.lost == null ? '-' : String(r.lost),
      r.duplicates == null ? '-' : String(r.duplicates),
      r.md5 == null ? '-' : String(r.md5),
      String(r.errors),
    ]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log(
    `\n== summary: median of ${args.runs} run(s) x ${args.duration} s; Wharf ${args.producers}p/${args.consumers}c ` +
      `batch 10, raw table ${args.pgProducers}p/${args.pgConsumers}c batches of 10; ${args.size} B bodies`,
  );
  for (const row of table)
    console.log('  ' + row.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  console.log(
    '  CPU-s/100k: sampled from the load generator start to its exit, over all messages it moved; in parentheses\n' +
      '  the load generator’s own figure for its timed window (one node: the node; raw: the postmaster tree).',
  );
  const three = rows.find((r) => r.scenario === 'three');
  if (raw) {
    for (const r of rows.filter((x) => x !== raw)) {
      const ok = r.msgsPerS >= raw.msgsPerS / 1.3;
      console.log(
        `  ${r.scenario}: Wharf/raw = ${(r.msgsPerS / raw.msgsPerS).toFixed(2)} (target ≥ ${(1 / 1.3).toFixed(2)}: ${ok ? 'met' : 'not met'})`,
      );
    }
  }
  if (three && (oneRr || one)) {
    const base = oneRr ?? one;
    console.log(
      `  one → three nodes: ${fmt(base.msgsPerS)} → ${fmt(three.msgsPerS)} msgs/s (${three.msgsPerS >= base.msgsPerS ? '+' : ''}${(
        (100 * (three.msgsPerS - base.msgsPerS)) /
        base.msgsPerS
      ).toFixed(0)}%, against ${base.scenario})`,
    );
  }
  const bad = rows.filter((r) => r.lost || r.md5 || r.duplicates);
  if (bad.length) {
    console.log('  !! lost, corrupted or duplicated messages in: ' + bad.map((r) => r.scenario).join(', '));
    process.exitCode = 1;
  }
  if (args.out) appendFileSync(args.out, JSON.stringify({ at: new Date().toISOString(), args, rows }) + '\n');
}
