#!/usr/bin/env node
/** `wharf` command line: flags and environment → configuration → server. */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import pino from 'pino';
import { OPTIONS, resolveConfig } from '../config/config.js';
import { AppError } from '../kernel/errors.js';
import { redactUrl, startWharf } from '../server/wharf.js';

function usage(): string {
  const rows: [string, string, string][] = OPTIONS.map((o) => {
    // a short list of values goes in the flag column, a long one after the help text
    const values = o.values?.join('|');
    const inline = values !== undefined && values.length <= 12;
    const arg = o.type === 'boolean' ? '' : ` <${inline ? values : o.values ? 'value' : o.type}>`;
    return [`--${o.flag}${arg}`, o.env, values && !inline ? `${o.help}: ${o.values!.join(', ')}` : o.help];
  });
  rows.push(['--config <file>', 'WHARF_CONFIG', 'JSON file of options (keys as the flags, or camelCase)']);
  rows.push(['--help', '', 'this text']);
  rows.push(['--version', '', 'the version of Wharf']);
  const w1 = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  const lines = ['Usage: wharf [options]', '', 'Options (each also as an environment variable):'];
  for (const [flag, env, help] of rows) lines.push(`  ${flag.padEnd(w1)}  ${env.padEnd(w2)}  ${help}`);
  lines.push('', 'Precedence: flag > environment > config file > default.');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    config: { type: 'string' },
    help: { type: 'boolean' },
    version: { type: 'boolean' },
  };
  for (const o of OPTIONS) options[o.flag] = { type: o.type === 'boolean' ? 'boolean' : 'string' };
  let flags: Record<string, unknown>;
  try {
    flags = parseArgs({ options, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new AppError('ERR_BAD_OPTION', `${(e as Error).message} (see wharf --help)`);
  }
  if (flags.help) {
    process.stdout.write(usage() + '\n');
    return;
  }
  if (flags.version) {
    // dist/cli/main.js and src/cli/main.ts both sit two levels below package.json
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
    process.stdout.write(`wharf ${pkg.version}\n`);
    return;
  }
  const config = resolveConfig(flags);
  const logger = pino({ level: config.logLevel });
  const wharf = await startWharf({ ...config, logger });
  const pgStore = config.store !== 'sqlite';
  const dataDir = config.dataDir === ':memory:' ? ':memory: (nothing kept)' : resolve(config.dataDir);
  const storeLine = pgStore
    ? `  store: postgres ${redactUrl(config.store)} (schema ${config.storeSchema}), durability: the database's commit\n`
    : `  data directory: ${dataDir}\n  store: sqlite, durability: ${config.durability}\n`;
  process.stdout.write(
    `Wharf listening on ${wharf.endpoint}\n` +
      storeLine +
      `  auth: ${config.credentials ? `SigV4 with ${config.credentials}` : 'any credentials (anonymous)'}\n` +
      `  ready in ${wharf.startedInMs.toFixed(0)} ms\n`,
  );
  logger.info(
    pgStore
      ? { endpoint: wharf.endpoint, store: redactUrl(config.store), schema: config.storeSchema }
      : { endpoint: wharf.endpoint, dataDir, durability: config.durability },
    'ready',
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    wharf.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: Error) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  const err = e as Error & { code?: string };
  if (err instanceof AppError) process.stderr.write(`wharf: ${err.message} [${err.code}]\n`);
  else process.stderr.write(`wharf: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
