#!/usr/bin/env node
// Cold start of the built CLI on an empty data directory, --runs times:
//   spawn -> first 200 from GET /_wharf/ready (polled every --poll ms on a port picked beforehand),
//   the server's own "ready in N ms" line, and the resident set (VmRSS) --settle ms after ready.
// Targets (the issue): start-to-ready < 300 ms, idle RSS < 80 MB.
//
// Usage: node bench/startup.mjs [--runs 10] [--settle 2000] [--poll 2] [--durability fsync|os]
// Needs `npm run build`. Imports nothing but node: modules (and ./lib/harness.mjs, which does the same).
import { parseArgs } from 'node:util';
import {
  cleanup,
  freePort,
  removeDir,
  requireBuild,
  rssMiB,
  sleep,
  startWharf,
  stopWharf,
  tempDir,
} from './lib/harness.mjs';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    settle: { type: 'string', default: '2000' },
    poll: { type: 'string', default: '2' },
    durability: { type: 'string', default: 'fsync' },
  },
});
const runs = Number(opt.runs);
const settleMs = Number(opt.settle);
const pollMs = Number(opt.poll);
requireBuild();

async function once() {
  const dataDir = tempDir('wharf-startup-');
  const port = await freePort();
  const w = await startWharf({ dataDir, port, durability: opt.durability, waitFor: 'ready', pollMs });
  try {
    await sleep(settleMs);
    const self = /ready in (\d+) ms/.exec(w.output());
    return { readyMs: w.readyMs, selfMs: self ? Number(self[1]) : NaN, rss: rssMiB(w.pid) };
  } finally {
    await stopWharf(w);
    removeDir(dataDir);
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)], min: s[0], max: s[s.length - 1] };
};

try {
  const results = [];
  console.log(`${runs} cold starts, empty data dir, durability ${opt.durability}, RSS ${settleMs} ms after ready`);
  for (let i = 0; i < runs; i++) {
    const r = await once();
    results.push(r);
    console.log(
      `  run ${String(i + 1).padStart(2)}: spawn -> ready ${r.readyMs.toFixed(0).padStart(4)} ms ` +
        `(server says ${r.selfMs} ms), RSS ${r.rss.toFixed(1)} MiB`,
    );
  }
  const ready = stats(results.map((r) => r.readyMs));
  const self = stats(results.map((r) => r.selfMs));
  const rss = stats(results.map((r) => r.rss));
  const f = (s, d = 0) => `${s.median.toFixed(d)} (${s.min.toFixed(d)} - ${s.max.toFixed(d)})`;
  console.log(`\n== startup, median (min - max) over ${runs} runs`);
  console.log(
    `  spawn -> /_wharf/ready 200   ${f(ready)} ms    target < 300 ms: ${ready.median < 300 ? 'PASS' : 'FAIL'}`,
  );
  console.log(`  server's own "ready in"      ${f(self)} ms`);
  console.log(`  idle RSS                     ${f(rss, 1)} MiB  target < 80 MiB: ${rss.median < 80 ? 'PASS' : 'FAIL'}`);
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
