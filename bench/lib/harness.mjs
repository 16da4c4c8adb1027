// What the bench scripts share: where the built CLI and the shared load generators are, child
// processes and temp dirs that are cleaned up whatever happens, and starting/stopping Wharf.
// Imports nothing but node: modules, so scripts that need nothing but Node can use it.
//
// Importing this module registers cleanup() on exit, SIGINT, SIGTERM and SIGHUP (the signals exit
// with code 130): every tracked child is SIGKILLed and every temp dir removed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');
/** The shared load generators: WHARF_BENCH_DIR, or ../shared/bench next to the repository. */
export const BENCH = resolve(process.env.WHARF_BENCH_DIR ?? join(ROOT, '../shared/bench'));

/** Imports a module of the shared load generators, e.g. importBench('lib/aws.mjs'). */
export const importBench = (path) => import(pathToFileURL(join(BENCH, path)).href);

/** Exits 2 with a hint when the CLI has not been built. */
export function requireBuild() {
  if (!existsSync(CLI)) {
    console.error(`missing ${CLI}: run \`npm run build\``);
    process.exit(2);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ── child processes and temp dirs, cleaned up whatever happens ──────────────
const children = new Set();
const dirs = new Set();
export function cleanup() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

/** Kills proc at cleanup unless it has exited by then; returns a promise of its { code, signal }. */
export function track(proc) {
  children.add(proc);
  const exited = new Promise((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  exited.then(() => children.delete(proc));
  return exited;
}

/** A new directory under the system temp dir, removed at cleanup unless removeDir() got it first. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

// ── ports, probes, memory ────────────────────────────────────────────────────
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Status of GET path, or 0 when nothing answers. */
export function probe(port, path) {
  return new Promise((res) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode));
    });
    req.on('error', () => res(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** Resident set of a process (VmRSS), in MiB. */
export function rssMiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// ── Wharf ────────────────────────────────────────────────────────────────────
/**
 * Spawns `node dist/cli/main.js --port P --data-dir D --durability X --log-level warn ...args`,
 * tracked for cleanup, and resolves once it is up:
 *   waitFor 'listening' (default): stdout has shown "Wharf listening on URL" and "ready in N ms";
 *     the endpoint is that URL, so port 0 (the default) works
 *   waitFor 'ready': GET /_wharf/ready on 127.0.0.1:port has answered 200, polled every pollMs;
 *     needs a real port (freePort())
 * Rejects when the server exits first or is not up within timeoutMs. echoStderr copies the server's
 * stderr to ours, each chunk prefixed "[wharf] ".
 * Resolves with { proc, pid, port, endpoint, dataDir, exited, t0, readyMs, output }: exited is the
 * promise of the exit's { code, signal }, t0 the performance.now() of the spawn, readyMs the time
 * from spawn to up, output() everything the server has printed so far (stdout and stderr).
 */
export function startWharf({
  dataDir,
  port = 0,
  durability = 'fsync',
  args = [],
  waitFor = 'listening',
  pollMs = 2,
  timeoutMs = 15_000,
  echoStderr = false,
}) {
  if (!existsSync(CLI)) return Promise.reject(new Error(`missing ${CLI}: run \`npm run build\``));
  const t0 = performance.now();
  const proc = spawn(
    process.execPath,
    [CLI, '--port', String(port), '--data-dir', dataDir, '--durability', durability, '--log-level', 'warn', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = track(proc);
  let out = '';
  const up = (endpoint) => ({
    proc,
    pid: proc.pid,
    port: Number(new URL(endpoint).port),
    endpoint,
    dataDir,
    exited,
    t0,
    readyMs: performance.now() - t0,
    output: () => out,
  });
  proc.stderr.on('data', (d) => {
    out += d;
    if (echoStderr) process.stderr.write(`[wharf] ${d}`);
  });
  if (waitFor === 'ready') {
    proc.stdout.on('data', (d) => (out += d));
    let dead = false;
    exited.then(() => (dead = true));
    return (async () => {
      for (;;) {
        if (dead) throw new Error(`Wharf exited before ready:\n${out}`);
        if (performance.now() - t0 > timeoutMs) throw new Error(`Wharf not ready after ${timeoutMs / 1000} s:\n${out}`);
        if ((await probe(port, '/_wharf/ready')) === 200) return up(`http://127.0.0.1:${port}`);
        await sleep(pollMs);
      }
    })();
  }
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`Wharf did not start in ${timeoutMs / 1000} s:\n${out}`)), timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /Wharf listening on (http:\/\/\S+)/.exec(out);
      if (m && /ready in \d+ ms/.test(out)) {
        clearTimeout(timer);
        res(up(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`Wharf exited (code ${code}, signal ${signal}):\n${out}`));
    });
  });
}

/** SIGTERM, SIGKILL if still running after killAfterMs; resolves with the ms until it exited. */
export async function stopWharf(w, { killAfterMs = 10_000 } = {}) {
  const t0 = performance.now();
  w.proc.kill('SIGTERM');
  const t = setTimeout(() => w.proc.kill('SIGKILL'), killAfterMs);
  await w.exited;
  clearTimeout(t);
  return performance.now() - t0;
}
