/**
 * A PostgreSQL cluster of the test's own: initdb in a temporary directory, a free port on
 * 127.0.0.1, trust authentication for the `postgres` role, removed afterwards. Fault tests stop,
 * freeze and restart it; the machine's own server is never touched.
 *
 * initdb and postgres refuse to run as root: as root, the cluster runs as the `postgres` user.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './proc.js';

export interface ThrowawayPg {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** stops the server (fast shutdown), keeping its data */
  stop(): void;
  /** starts it again on the same port */
  start(): void;
  /** stops it and removes every file */
  destroy(): void;
}

/** The newest installed PostgreSQL's bin directory (Debian layout), or undefined. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

export async function startThrowawayPg(): Promise<ThrowawayPg> {
  const bin = postgresBin();
  if (!bin) throw new Error('no PostgreSQL installation under /usr/lib/postgresql (apt-get install postgresql)');
  const root = mkdtempSync(join(tmpdir(), 'wharf-pg-'));
  const data = join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  let uid = 0;
  let gid = 0;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(root, uid, gid);
  }
  const run = (tool: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : join(bin, tool),
      asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args,
      {
        stdio: 'pipe',
        timeout: 60_000,
      },
    );
  const port = await freePort();
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const ctl = (...args: string[]) => run('pg_ctl', ['-D', data, '-w', '-t', '30', ...args]);
  const start = () => ctl('-o', options, '-l', join(root, 'server.log'), 'start');
  let running = false;
  start();
  running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop() {
      ctl('-m', 'fast', 'stop');
      running = false;
    },
    start() {
      start();
      running = true;
    },
    destroy() {
      try {
        if (running) ctl('-m', 'immediate', 'stop');
      } finally {
        running = false;
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
