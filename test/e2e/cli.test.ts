/**
 * The `wharf` command line, run as a child process from the build (`npm test` builds dist/ first; by hand, run
 * `npm run build` before this file). Options by flag, environment and config file; one-line errors; graceful stops.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../helpers/proc.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const CRED = { accessKeyId: 'AKIDCLITEST', secretAccessKey: 'cli-test-secret', accountId: '444455556666' };

interface Started {
  child: ChildProcess;
  endpoint: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'wharf-cli-'));
  dirs.push(d);
  return d;
}

/** Only what node needs: nothing WHARF_* leaks in from the environment running the tests. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

/** Starts `wharf` and resolves once it printed its endpoint; rejects with its stderr if it exits first. */
function start(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: baseEnv(env), cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^Wharf listening on (\S+)$/m.exec(out);
      if (m) resolve({ child, endpoint: m[1], stdout: () => out, stderr: () => err, exited });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    void exited.then(({ code }) => reject(new Error(`wharf exited (${code}) before listening:\n${err}${out}`)));
  });
}

/** Runs `wharf` expecting it to fail at startup: its exit code and output. */
function fails(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A clear one-line error: `wharf: <message> [ERR_CODE]` on stderr, nothing on stdout, exit status 1. */
function expectOneLineError(r: { code: number | null; stdout: string; stderr: string }, code: string, text: string) {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^wharf: .+ \\[${code}\\]$`));
  expect(lines[0]).toContain(text);
}

async function stop(s: Started, signal: NodeJS.Signals = 'SIGTERM') {
  s.child.kill(signal);
  return s.exited;
}

/** An unsigned Query call (anonymous mode); returns the XML. */
async function call(endpoint: string, params: Record<string, string>): Promise<{ status: number; body: string }> {
  const r = await fetch(`${endpoint}/?${new URLSearchParams({ ...params, Version: '2012-11-05' })}`);
  return { status: r.status, body: await r.text() };
}

async function signedListQueues(endpoint: string, signingDate: Date) {
  const u = new URL(endpoint);
  const signer = new SignatureV4({
    credentials: CRED,
    region: 'us-east-1',
    service: 'sqs',
    sha256: Hash.bind(null, 'sha256'),
  });
  const body = '{}';
  const req = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: '/',
      headers: { host: u.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
      body,
    },
    { signingDate },
  );
  const r = await fetch(`${endpoint}/`, { method: 'POST', headers: req.headers as Record<string, string>, body });
  return { status: r.status, body: await r.text() };
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
});

afterEach(async () => {
  for (const child of children) {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
  children.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('wharf command line', () => {
  it('prints its options with --help', async () => {
    const r = await fails(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: wharf \[options\]/);
    for (const text of [
      '--host <string>',
      'WHARF_HOST',
      '--port <number>',
      'WHARF_PORT',
      '--data-dir <string>',
      'WHARF_DATA_DIR',
      '--durability <fsync|os>',
      '--credentials',
      '--allow-anonymous',
      'WHARF_ALLOW_ANONYMOUS',
      '--tls-cert',
      '--tls-key',
      '--log-level',
      '--default-account',
      '--default-region',
      '--clock-skew',
      'WHARF_CLOCK_SKEW',
      '--max-body-bytes',
      'WHARF_MAX_BODY_BYTES',
      '--config <file>',
      'WHARF_CONFIG',
    ]) {
      expect(r.stdout).toContain(text);
    }
  });

  it('starts on port 0 with a data directory and prints where it listens', async () => {
    const dir = tempDir();
    const s = await start(['--port', '0', '--data-dir', join(dir, 'data')]);
    expect(s.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.endpoint).not.toMatch(/:0$/);
    expect(s.stdout()).toContain(`data directory: ${join(dir, 'data')}`);
    expect(s.stdout()).toContain('durability: fsync');
    expect(s.stdout()).toContain('auth: any credentials (anonymous)');
    // the default log level is info: pino's line follows the banner
    await vi.waitFor(() => expect(s.stdout()).toMatch(/"msg":"ready"/), { timeout: 5000, interval: 10 });
    expect(existsSync(join(dir, 'data', 'wharf.db'))).toBe(true);
    const health = await fetch(`${s.endpoint}/_wharf/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', dataDir: join(dir, 'data') });
    expect(await stop(s)).toEqual({ code: 0, signal: null });
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops gracefully on %s and keeps its messages', async (signal) => {
    const dir = tempDir();
    const first = await start(['--port', '0', '--data-dir', dir]);
    expect((await call(first.endpoint, { Action: 'CreateQueue', QueueName: 'kept' })).status).toBe(200);
    const queueUrl = `${first.endpoint}/000000000000/kept`;
    const sent = await call(first.endpoint, {
      Action: 'SendMessage',
      QueueUrl: queueUrl,
      MessageBody: `sent before ${signal}`,
    });
    expect(sent.status).toBe(200);
    expect(await stop(first, signal)).toEqual({ code: 0, signal: null });
    expect(first.stdout()).toMatch(new RegExp(`"signal":"${signal}","msg":"stopping"`));
    expect(first.stdout()).toMatch(/"msg":"stopped"/);
    expect(first.stderr()).toBe('');

    const second = await start(['--port', '0', '--data-dir', dir]);
    const url = `${second.endpoint}/000000000000/kept`;
    const got = await call(second.endpoint, { Action: 'ReceiveMessage', QueueUrl: url });
    expect(got.body).toContain(`<Body>sent before ${signal}</Body>`);
    expect(await stop(second)).toEqual({ code: 0, signal: null });
  });

  it('keeps nothing with --data-dir :memory:', async () => {
    const cwd = tempDir();
    const first = await start(['--port', '0', '--data-dir', ':memory:'], {}, cwd);
    expect(first.stdout()).toContain('data directory: :memory: (nothing kept)');
    expect((await call(first.endpoint, { Action: 'CreateQueue', QueueName: 'gone' })).status).toBe(200);
    expect(await stop(first)).toEqual({ code: 0, signal: null });
    const second = await start(['--port', '0', '--data-dir', ':memory:'], {}, cwd);
    const r = await call(second.endpoint, { Action: 'GetQueueUrl', QueueName: 'gone' });
    expect(r.status).toBe(400);
    expect(r.body).toContain('AWS.SimpleQueueService.NonExistentQueue');
    await stop(second);
    expect(readdirSync(cwd)).toEqual([]); // no ./.wharf, no database file anywhere here
  });

  it('keeps its data in ./.wharf by default', async () => {
    const cwd = tempDir();
    const s = await start(['--port', '0'], {}, cwd);
    expect(s.stdout()).toContain(`data directory: ${join(cwd, '.wharf')}`);
    expect(existsSync(join(cwd, '.wharf', 'wharf.db'))).toBe(true);
    await stop(s);
  });
});

// ── every option from each source ────────────────────────────────────────────

type Source = 'flags' | 'env' | 'file';
type Options = Record<string, string | number | boolean>;

/** The same options as flags, as WHARF_* variables, or as a --config file (camelCase keys). */
function optionsFrom(source: Source, options: Options, dir: string): { args: string[]; env: Record<string, string> } {
  const flag = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const flagName: Record<string, string> = { clockSkewSeconds: 'clock-skew' };
  const envName: Record<string, string> = { clockSkewSeconds: 'WHARF_CLOCK_SKEW' };
  if (source === 'flags') {
    const args: string[] = [];
    for (const [k, v] of Object.entries(options)) {
      const name = `--${flagName[k] ?? flag(k)}`;
      if (v === true) args.push(name);
      else args.push(name, String(v));
    }
    return { args, env: {} };
  }
  if (source === 'env') {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(options)) {
      env[envName[k] ?? `WHARF_${flag(k).replace(/-/g, '_').toUpperCase()}`] = String(v);
    }
    return { args: [], env };
  }
  const file = join(dir, 'wharf.json');
  writeFileSync(file, JSON.stringify(options));
  return { args: ['--config', file], env: {} };
}

describe.each(['flags', 'env', 'file'] as const)('options as %s', (source) => {
  it('strict mode: port, data directory, durability, credentials, log level, clock skew, body limit', async () => {
    const dir = tempDir();
    const credentials = join(dir, 'credentials.json');
    writeFileSync(credentials, JSON.stringify([CRED]));
    const port = await freePort();
    const dataDir = join(dir, 'data');
    const { args, env } = optionsFrom(
      source,
      {
        port,
        dataDir,
        durability: 'os',
        credentials,
        logLevel: 'warn',
        clockSkewSeconds: 60,
        maxBodyBytes: 2048,
      },
      dir,
    );
    const s = await start(args, env);
    expect(s.endpoint).toBe(`http://127.0.0.1:${port}`);
    expect(s.stdout()).toContain(`data directory: ${dataDir}`);
    expect(existsSync(join(dataDir, 'wharf.db'))).toBe(true);
    expect(s.stdout()).toContain('durability: os');
    expect(s.stdout()).toContain(`auth: SigV4 with ${credentials}`);

    // credentials: unsigned is refused, signed now is fine; clock skew 60 s: five minutes old is refused
    const unsigned = await call(s.endpoint, { Action: 'ListQueues' });
    expect(unsigned.status).toBe(403);
    expect(unsigned.body).toContain('<Code>MissingAuthenticationToken</Code>');
    expect((await signedListQueues(s.endpoint, new Date())).status).toBe(200);
    const old = await signedListQueues(s.endpoint, new Date(Date.now() - 5 * 60_000));
    expect(old.status).toBe(403);
    expect(old.body).toContain('Signature expired');
    expect(old.body).toContain('- 1 min.');

    // body limit 2048
    const big = await fetch(`${s.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=ListQueues&Pad=${'x'.repeat(4096)}`,
    });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain('Request body is larger than 2048 bytes.');
    expect(await stop(s)).toEqual({ code: 0, signal: null });
    // log level warn: none of the info lines (ready, stopping, stopped) were written
    expect(s.stdout()).not.toContain('"msg"');
  });

  it('anonymous mode: host, allow-anonymous, :memory:, default account and region', async () => {
    const dir = tempDir();
    const { args, env } = optionsFrom(
      source,
      {
        host: '0.0.0.0',
        port: 0,
        allowAnonymous: true,
        dataDir: ':memory:',
        defaultAccount: '123456789012',
        defaultRegion: 'eu-north-1',
      },
      dir,
    );
    const s = await start(args, env);
    expect(s.endpoint).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(s.stdout()).toContain('data directory: :memory: (nothing kept)');
    const local = s.endpoint.replace('0.0.0.0', '127.0.0.1');
    const created = await call(local, { Action: 'CreateQueue', QueueName: 'anon' });
    expect(created.body).toContain(`<QueueUrl>${local}/123456789012/anon</QueueUrl>`);
    const attrs = await call(local, {
      Action: 'GetQueueAttributes',
      QueueUrl: `${local}/123456789012/anon`,
      'AttributeName.1': 'QueueArn',
    });
    expect(attrs.body).toContain('<Value>arn:aws:sqs:eu-north-1:123456789012:anon</Value>');
    expect(await stop(s)).toEqual({ code: 0, signal: null });
  });

  it('TLS: certificate and key', async () => {
    const dir = tempDir();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      // prettier-ignore
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-keyout', key, '-out', cert],
      { stdio: 'ignore', env: baseEnv() },
    );
    const { args, env } = optionsFrom(source, { port: 0, dataDir: ':memory:', tlsCert: cert, tlsKey: key }, dir);
    const s = await start(args, env);
    expect(s.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(`${s.endpoint}/_wharf/health`, { rejectUnauthorized: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject);
    });
    expect(status).toBe(200);
    expect(await stop(s)).toEqual({ code: 0, signal: null });
  });
});

describe('option sources', () => {
  it('takes a flag over the environment over the config file (and WHARF_CONFIG names the file)', async () => {
    const dir = tempDir();
    const file = join(dir, 'wharf.json');
    writeFileSync(
      file,
      JSON.stringify({ 'data-dir': ':memory:', durability: 'os', 'default-region': 'file-region-1' }),
    );
    const fromFile = await start(['--port', '0'], { WHARF_CONFIG: file });
    expect(fromFile.stdout()).toContain('durability: os');
    await stop(fromFile);
    const fromEnv = await start(['--port', '0', '--config', file], { WHARF_DURABILITY: 'fsync' });
    expect(fromEnv.stdout()).toContain('durability: fsync');
    await stop(fromEnv);
    const fromFlag = await start(['--port', '0', '--config', file, '--durability', 'os'], {
      WHARF_DURABILITY: 'fsync',
    });
    expect(fromFlag.stdout()).toContain('durability: os');
    const created = await call(fromFlag.endpoint, { Action: 'CreateQueue', QueueName: 'r' });
    expect(created.status).toBe(200);
    const attrs = await call(fromFlag.endpoint, {
      Action: 'GetQueueAttributes',
      QueueUrl: `${fromFlag.endpoint}/000000000000/r`,
      'AttributeName.1': 'QueueArn',
    });
    expect(attrs.body).toContain('arn:aws:sqs:file-region-1:000000000000:r');
    await stop(fromFlag);
  });
});

// ── startup errors ───────────────────────────────────────────────────────────

describe('startup errors', () => {
  it('prints its version with --version', async () => {
    const r = await fails(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wharf \d+\.\d+\.\d+\n$/);
  });

  it('logs a line per request at debug: service, operation, status, milliseconds', async () => {
    const s = await start(['--port', '0', '--data-dir', ':memory:', '--log-level', 'debug']);
    expect((await call(s.endpoint, { Action: 'CreateQueue', QueueName: 'logged' })).status).toBe(200);
    expect((await call(s.endpoint, { Action: 'GetQueueUrl', QueueName: 'nope' })).status).toBe(400);
    await stop(s);
    const lines = s
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.service, l.operation, l.status])).toEqual([
      ['sqs', 'CreateQueue', 200],
      ['sqs', 'GetQueueUrl', 400],
    ]);
    for (const l of lines) {
      expect(l.level).toBe(20);
      expect(typeof l.ms).toBe('number');
      expect(l.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('logs no error with --data-dir :memory:', async () => {
    const s = await start(['--port', '0', '--data-dir', ':memory:', '--log-level', 'warn']);
    // the checkpoint interval is 1 s: it used to log a failure on every tick
    await new Promise((r) => setTimeout(r, 2500));
    expect(await stop(s)).toEqual({ code: 0, signal: null });
    expect(s.stdout()).not.toMatch(/"level":(40|50|60)/);
    expect(s.stderr()).toBe('');
  });

  it('refuses a data directory another Wharf uses, and takes it over once that one is gone', async () => {
    const dir = tempDir();
    const first = await start(['--port', '0', '--data-dir', dir]);
    const second = await fails(['--port', '0', '--data-dir', dir]);
    expectOneLineError(second, 'ERR_DATA_DIR_IN_USE', `data directory ${dir} is in use by another Wharf process`);
    // the first one is unharmed
    expect((await call(first.endpoint, { Action: 'CreateQueue', QueueName: 'mine' })).status).toBe(200);
    // killed without a chance to clean up: the lock goes with the process
    first.child.kill('SIGKILL');
    await first.exited;
    const third = await start(['--port', '0', '--data-dir', dir]);
    expect((await call(third.endpoint, { Action: 'GetQueueUrl', QueueName: 'mine' })).status).toBe(200);
    await stop(third);
  });

  it('reports a busy port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const r = await fails(['--port', String(port), '--data-dir', ':memory:']);
      expectOneLineError(r, 'ERR_PORT_BUSY', `port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('reports a data directory it cannot create or write', async () => {
    const dir = tempDir();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const r = await fails(['--port', '0', '--data-dir', join(file, 'data')]);
    expectOneLineError(r, 'ERR_DATA_DIR', `data directory ${join(file, 'data')} is not writable`);
    // a directory that cannot be created fails fast (it used to spin)
    const proc = await fails(['--port', '0', '--data-dir', '/proc/nope']);
    expectOneLineError(proc, 'ERR_DATA_DIR', 'data directory /proc/nope is not writable');
    const viaEnv = await fails([], { WHARF_PORT: '0', WHARF_DATA_DIR: join(file, 'x') });
    expectOneLineError(viaEnv, 'ERR_DATA_DIR', 'is not writable');
    // a database file that is not a database
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'wharf.db'), 'this is not SQLite '.repeat(400));
    const corrupt = await fails(['--port', '0', '--data-dir', bad]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(corrupt.stderr).toMatch(/^wharf: /);
  });

  it.each([
    [['--port', 'abc'], {}, "--port: port must be a non-negative integer, got 'abc'"],
    [['--port', '70000'], {}, 'port must be 0..65535, got 70000'],
    [['--port', '1e3'], {}, "got '1e3'"],
    [['--durability', 'never'], {}, "--durability: durability must be one of fsync, os, got 'never'"],
    [['--log-level', 'loud'], {}, 'log-level must be one of'],
    [['--default-account', '123'], {}, "default-account must be 12 digits, got '123'"],
    [['--tls-cert', '/nonexistent.pem'], {}, '--tls-cert and --tls-key go together'],
    [[], { WHARF_CLOCK_SKEW: 'soon' }, "WHARF_CLOCK_SKEW: clock-skew must be a non-negative integer, got 'soon'"],
    [
      [],
      { WHARF_ALLOW_ANONYMOUS: 'maybe' },
      "WHARF_ALLOW_ANONYMOUS: allow-anonymous must be true or false, got 'maybe'",
    ],
    [[], { WHARF_MAX_BODY_BYTES: '-1' }, 'max-body-bytes must be a non-negative integer'],
    [['--port'], {}, "Option '--port <value>' argument missing"],
  ] as [string[], Record<string, string>, string][])('rejects a bad option value: %j %j', async (args, env, text) => {
    expectOneLineError(await fails(args, env), 'ERR_BAD_OPTION', text);
  });

  it('rejects an unknown flag and positional arguments', async () => {
    expectOneLineError(await fails(['--bogus']), 'ERR_BAD_OPTION', "Unknown option '--bogus'");
    expectOneLineError(await fails(['--port', '0', 'serve']), 'ERR_BAD_OPTION', "Unexpected argument 'serve'");
  });

  it('rejects a bad config file', async () => {
    const dir = tempDir();
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ port: 0, colour: 'blue' }));
    expectOneLineError(
      await fails(['--config', unknown]),
      'ERR_BAD_OPTION',
      `config file ${unknown}: unknown option 'colour'`,
    );
    const notJson = join(dir, 'broken.json');
    writeFileSync(notJson, '{ port: 0 ');
    expectOneLineError(await fails(['--config', notJson]), 'ERR_BAD_OPTION', `config file ${notJson}:`);
    expectOneLineError(await fails(['--config', join(dir, 'missing.json')]), 'ERR_BAD_OPTION', 'ENOENT');
    const badValue = join(dir, 'bad-value.json');
    writeFileSync(badValue, JSON.stringify({ port: 1.5 }));
    expectOneLineError(
      await fails(['--config', badValue]),
      'ERR_BAD_OPTION',
      "port must be a non-negative integer, got '1.5'",
    );
  });

  it('refuses a public address without credentials; reports bad credentials and TLS files', async () => {
    expectOneLineError(
      await fails(['--host', '0.0.0.0', '--port', '0', '--data-dir', ':memory:']),
      'ERR_INSECURE_BIND',
      'refusing to listen on 0.0.0.0 without --credentials',
    );
    const dir = tempDir();
    expectOneLineError(
      await fails(['--port', '0', '--data-dir', ':memory:', '--credentials', join(dir, 'none.json')]),
      'ERR_CREDENTIALS_FILE',
      'Cannot read credentials file',
    );
    const creds = join(dir, 'creds.json');
    writeFileSync(creds, JSON.stringify([{ accessKeyId: 'a', secretAccessKey: 'b', accountId: '12' }]));
    expectOneLineError(
      await fails(['--port', '0', '--data-dir', ':memory:', '--credentials', creds]),
      'ERR_CREDENTIALS_FILE',
      'accountId must be a string of exactly 12 digits',
    );
    expectOneLineError(
      await fails(['--port', '0', '--data-dir', ':memory:'], {
        WHARF_TLS_CERT: join(dir, 'c.pem'),
        WHARF_TLS_KEY: join(dir, 'k.pem'),
      }),
      'ERR_TLS',
      'cannot read TLS certificate or key',
    );
  });
});
