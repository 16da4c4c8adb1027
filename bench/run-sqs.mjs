#!/usr/bin/env node
// Throughput of the built server under the shared SQS load generator, with RabbitMQ as the
// reference measured in the same session.
//
// For each scenario a fresh Wharf (temp data dir, durability fsync) runs and
// ../shared/bench/sqs-load.mjs drives it: 4 producers / 4 consumers, 1 KiB bodies, --verify
// (MD5s, duplicates, losses), --server-pid = the Wharf process. Then bench-rabbitmq.mjs runs
// against the local RabbitMQ (--server-pid = the oldest beam.smp). One table at the end:
// msgs/s ((sent + deleted) / 2 per second), server CPU-s per 100k messages, lost, MD5 mismatches,
// duplicates, and the ratio Wharf/RabbitMQ in msgs/s.
//
// Usage: node bench/run-sqs.mjs [--duration 15] [--runs 3] [--warmup 3]
//          [--scenarios std10,std1,fifo10] [--durability fsync|os] [--producers 4] [--consumers 4]
//          [--size 1024] [--no-rabbit] [--out results.jsonl]
// The load generators come from WHARF_BENCH_DIR, or ../shared/bench next to the repository
// (run `npm ci` there first). Build Wharf first (`npm run build`).
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BENCH, CLI, cleanup, importBench, removeDir, startWharf, stopWharf, tempDir, track } from './lib/harness.mjs';

for (const f of [CLI, join(BENCH, 'sqs-load.mjs')]) {
  if (!existsSync(f)) {
    console.error(`missing ${f} (build with \`npm run build\`; set WHARF_BENCH_DIR to the load generators)`);
    process.exit(2);
  }
}
const { parseArgs, median, fmt } = await importBench('lib/cpu.mjs');

const args = parseArgs(process.argv.slice(2), {
  duration: 15,
  runs: 3,
  warmup: 3,
  scenarios: 'std10,std1,fifo10',
  durability: 'fsync',
  producers: 4,
  consumers: 4,
  size: 1024,
  rabbit: true,
  out: null,
});

const SCENARIOS = {
  std10: { label: 'standard, batch 10', load: ['--batch', '10'] },
  std1: { label: 'standard, batch 1', load: ['--batch', '1'] },
  fifo10: { label: 'FIFO 100 groups, batch 10', load: ['--batch', '10', '--fifo', '--groups', '100'] },
};
const chosen = String(args.scenarios)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const s of chosen) {
  if (!SCENARIOS[s]) {
    console.error(`unknown scenario ${s} (known: ${Object.keys(SCENARIOS).join(', ')})`);
    process.exit(2);
  }
}

/** Runs a load generator from the bench dir, echoing its output; resolves with its --out record. */
async function runGenerator(script, argv, label) {
  const outFile = join(tempDir('wharf-bench-out-'), 'out.jsonl');
  const proc = spawn(process.execPath, [join(BENCH, script), ...argv, '--out', outFile], {
    cwd: BENCH,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = track(proc);
  const prefix = (d) =>
    String(d)
      .split('\n')
      .filter((l) => l.length)
      .map((l) => `[${label}] ${l}\n`)
      .join('');
  proc.stdout.on('data', (d) => process.stdout.write(prefix(d)));
  proc.stderr.on('data', (d) => process.stderr.write(prefix(d)));
  const { code, signal } = await exited;
  let rec = null;
  try {
    const lines = readFileSync(outFile, 'utf8').trim().split('\n');
    rec = JSON.parse(lines[lines.length - 1]);
  } catch {
    /* no record: the generator failed */
  }
  removeDir(dirname(outFile));
  if (code !== 0 || !rec) throw new Error(`${script} failed (code ${code}, signal ${signal})`);
  return rec;
}

const sum = (runs, k) => runs.reduce((a, r) => a + (typeof r[k] === 'number' ? r[k] : 0), 0);

// ── scenarios ───────────────────────────────────────────────────────────────
const rows = [];
const common = [
  ['--producers', args.producers],
  ['--consumers', args.consumers],
  ['--size', args.size],
  ['--duration', args.duration],
  ['--runs', args.runs],
  ['--warmup', args.warmup],
].flatMap(([k, v]) => [k, String(v)]);

try {
  for (const name of chosen) {
    const sc = SCENARIOS[name];
    console.log(`\n### Wharf: ${sc.label} (durability ${args.durability})`);
    const w = await startWharf({ dataDir: tempDir('wharf-bench-'), durability: args.durability, echoStderr: true });
    try {
      const rec = await runGenerator(
        'sqs-load.mjs',
        [
          '--endpoint',
          w.endpoint,
          '--queue',
          `bench-${name}`,
          ...sc.load,
          ...common,
          '--server-pid',
          String(w.pid),
          '--verify',
        ],
        `wharf ${name}`,
      );
      rows.push({
        target: 'wharf',
        scenario: sc.label,
        msgsPerS: median(rec.runs.map((r) => (r.sentPerS + r.deletedPerS) / 2)),
        cpuPer100k: median(rec.runs.map((r) => r.serverCpuPer100k)),
        lost: sum(rec.runs, 'lost'),
        md5: sum(rec.runs, 'md5Mismatch'),
        duplicates: sum(rec.runs, 'duplicates'),
        errors: sum(rec.runs, 'errors'),
        runs: rec.runs.length,
      });
    } finally {
      await stopWharf(w);
      removeDir(w.dataDir);
    }
  }

  if (args.rabbit) {
    let beam = null;
    try {
      beam = execFileSync('pgrep', ['-o', 'beam.smp']).toString().trim();
    } catch {
      /* not running */
    }
    if (!beam) console.log('\n### RabbitMQ: no beam.smp process found, reference skipped');
    else {
      console.log(`\n### RabbitMQ reference (beam.smp pid ${beam})`);
      const rec = await runGenerator(
        'bench-rabbitmq.mjs',
        [
          '--server-pid',
          beam,
          '--size',
          String(args.size),
          '--duration',
          String(args.duration),
          '--runs',
          String(args.runs),
          '--warmup',
          String(args.warmup),
        ],
        'rabbitmq',
      );
      rows.push({
        target: 'rabbitmq',
        scenario: 'classic durable queue, confirms, manual ack',
        msgsPerS: median(rec.runs.map((r) => (r.sentPerS + r.ackedPerS) / 2)),
        cpuPer100k: median(rec.runs.map((r) => r.serverCpuPer100k)),
        lost: null,
        md5: null,
        duplicates: null,
        errors: sum(rec.runs, 'nacked'),
        runs: rec.runs.length,
      });
    }
  }
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}

// ── summary ─────────────────────────────────────────────────────────────────
if (rows.length) {
  const rabbit = rows.find((r) => r.target === 'rabbitmq');
  const table = [
    ['target', 'scenario', 'msgs/s', 'CPU-s/100k', 'lost', 'md5 mismatch', 'dups', 'errors', 'vs RabbitMQ'],
  ];
  for (const r of rows) {
    table.push([
      r.target,
      r.scenario,
      fmt(r.msgsPerS),
      fmt(r.cpuPer100k, 2),
      r.lost == null ? '-' : String(r.lost),
      r.md5 == null ? '-' : String(r.md5),
      r.duplicates == null ? '-' : String(r.duplicates),
      String(r.errors),
      rabbit && r.target === 'wharf' ? `${(r.msgsPerS / rabbit.msgsPerS).toFixed(2)}x` : '-',
    ]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log(
    `\n== summary: median of ${args.runs} run(s) x ${args.duration} s, ${args.producers}p/${args.consumers}c, ${args.size} B bodies`,
  );
  for (const row of table)
    console.log('  ' + row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  const bad = rows.filter((r) => r.target === 'wharf' && (r.lost || r.md5));
  if (bad.length) {
    console.log('  !! Wharf lost or corrupted messages in: ' + bad.map((r) => r.scenario).join(', '));
    process.exitCode = 1;
  }
  if (args.out) appendFileSync(args.out, JSON.stringify({ at: new Date().toISOString(), args, rows }) + '\n');
}
