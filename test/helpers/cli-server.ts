/** The built CLI as a child process on a data directory, for the crash suites; killAll() in afterEach. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Durability = 'fsync' | 'os';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** the built CLI; WHARF_CLI points the suites at another build */
export const CLI = process.env.WHARF_CLI ?? join(ROOT, 'dist/cli/main.js');

export interface Server {
  proc: ChildProcess;
  endpoint: string;
  exited: Promise<void>;
  output: () => string;
}

const children = new Set<ChildProcess>();

export function startServer(dataDir: string, durability: Durability): Promise<Server> {
  const proc = spawn(
    process.execPath,
    [CLI, '--port', '0', '--data-dir', dataDir, '--durability', durability, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(proc);
  let out = '';
  const exited = new Promise<void>((res) => {
    proc.once('exit', () => {
      children.delete(proc);
      res();
    });
  });
  return new Promise<Server>((res, rej) => {
    const timer = setTimeout(() => fail(new Error('server did not start within 15 s')), 15_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      rej(new Error(`${e.message}\n--- server output ---\n${out}`));
    };
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Wharf listening on (http:\/\/[^\s]+)/.exec(out);
      if (m && /ready in \d+ ms/.test(out)) {
        clearTimeout(timer);
        res({ proc, endpoint: m[1], exited, output: () => out });
      }
    });
    proc.once('exit', (code, signal) => fail(new Error(`server exited before ready (code ${code}, signal ${signal})`)));
  });
}

export async function kill(server: Server): Promise<void> {
  server.proc.kill('SIGKILL');
  await server.exited;
}

/** SIGKILLs every server still running. */
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
