/**
 * One configuration schema with defaults, read by the CLI (flags, environment, config file),
 * the server and tests. Precedence: flag > environment (WHARF_*) > config file > default.
 */
import { readFileSync } from 'node:fs';
import { AppError } from '../kernel/errors.js';

export interface WharfConfig {
  host: string;
  port: number;
  /** a directory, or ':memory:' */
  dataDir: string;
  /** 'sqlite' (the embedded store in dataDir) or a postgres:// URL (several nodes on one database) */
  store: string;
  /** PostgreSQL schema: keeps several installations or test runs apart in one database */
  storeSchema: string;
  /** PostgreSQL connections per node */
  storePoolSize: number;
  durability: 'fsync' | 'os';
  /** strict SigV4 with the credentials in this file */
  credentials?: string;
  /** allow listening on a non-loopback address without credentials */
  allowAnonymous: boolean;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** account used when the access key id is not a 12-digit account id (anonymous mode) */
  defaultAccount: string;
  defaultRegion: string;
  /** accepted SigV4 clock skew */
  clockSkewSeconds: number;
  /** largest request body accepted, bytes */
  maxBodyBytes: number;
  /** AWS's quota of in-flight messages per standard queue (120,000); benchmarks may raise it */
  sqsInflightLimit: number;
  /** extra CA certificates (PEM) trusted for outgoing HTTPS deliveries, besides the system's */
  trustCa?: string;
  /** SMTP relay for SNS email deliveries: smtp://user:pass@host:port or smtps://... */
  smtp?: string;
  /** the sender address of SNS emails */
  smtpFrom: string;
  /** AWS's quota of subscriptions with a filter policy per topic (200); benchmarks may raise it */
  snsFilterPoliciesPerTopic: number;
  /** Kinesis per-shard throughput limits for provisioned streams: 'on' (AWS's) or 'off' */
  kinesisThrottling: 'on' | 'off';
  /** how long a Kinesis stream stays CREATING or UPDATING, ms */
  kinesisStatusDelayMs: number;
  /** AWS's quota of open Kinesis shards per account and region (500); benchmarks may raise it */
  kinesisShardLimit: number;
}

export const DEFAULTS: WharfConfig = {
  host: '127.0.0.1',
  port: 4566,
  dataDir: './.wharf',
  store: 'sqlite',
  storeSchema: 'wharf',
  storePoolSize: 10,
  durability: 'fsync',
  allowAnonymous: false,
  logLevel: 'info',
  defaultAccount: '000000000000',
  defaultRegion: 'us-east-1',
  clockSkewSeconds: 900,
  maxBodyBytes: 8 * 1024 * 1024,
  sqsInflightLimit: 120_000,
  snsFilterPoliciesPerTopic: 200,
  kinesisThrottling: 'on',
  kinesisStatusDelayMs: 0,
  kinesisShardLimit: 500,
  smtpFrom: 'no-reply@sns.amazonaws.com',
};

interface OptionSpec {
  key: keyof WharfConfig;
  flag: string;
  env: string;
  type: 'string' | 'number' | 'boolean';
  values?: readonly string[];
  help: string;
}

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'host', flag: 'host', env: 'WHARF_HOST', type: 'string', help: 'address to listen on' },
  { key: 'port', flag: 'port', env: 'WHARF_PORT', type: 'number', help: 'port (0 picks a free one)' },
  { key: 'dataDir', flag: 'data-dir', env: 'WHARF_DATA_DIR', type: 'string', help: "data directory, or ':memory:'" },
  {
    key: 'store',
    flag: 'store',
    env: 'WHARF_STORE',
    type: 'string',
    help: "'sqlite', or postgres://user@host:5432/db for several nodes on one database",
  },
  {
    key: 'storeSchema',
    flag: 'store-schema',
    env: 'WHARF_STORE_SCHEMA',
    type: 'string',
    help: 'PostgreSQL schema for this installation',
  },
  {
    key: 'storePoolSize',
    flag: 'store-pool-size',
    env: 'WHARF_STORE_POOL_SIZE',
    type: 'number',
    help: 'PostgreSQL connections per node',
  },
  {
    key: 'durability',
    flag: 'durability',
    env: 'WHARF_DURABILITY',
    type: 'string',
    values: ['fsync', 'os'],
    help: 'fsync: answer after the disk has it; os: after the OS has it',
  },
  {
    key: 'credentials',
    flag: 'credentials',
    env: 'WHARF_CREDENTIALS',
    type: 'string',
    help: 'JSON credentials file; enables strict SigV4',
  },
  {
    key: 'allowAnonymous',
    flag: 'allow-anonymous',
    env: 'WHARF_ALLOW_ANONYMOUS',
    type: 'boolean',
    help: 'allow a non-loopback address without credentials',
  },
  { key: 'tlsCert', flag: 'tls-cert', env: 'WHARF_TLS_CERT', type: 'string', help: 'TLS certificate (PEM)' },
  { key: 'tlsKey', flag: 'tls-key', env: 'WHARF_TLS_KEY', type: 'string', help: 'TLS private key (PEM)' },
  {
    key: 'trustCa',
    flag: 'trust-ca',
    env: 'WHARF_TRUST_CA',
    type: 'string',
    help: 'extra CA certificates (PEM) for HTTPS deliveries; NODE_EXTRA_CA_CERTS works too',
  },
  {
    key: 'smtp',
    flag: 'smtp',
    env: 'WHARF_SMTP',
    type: 'string',
    help: 'SMTP relay for SNS email subscriptions (smtp://user:pass@host:port); without it email goes to the outbox',
  },
  { key: 'smtpFrom', flag: 'smtp-from', env: 'WHARF_SMTP_FROM', type: 'string', help: 'sender address of SNS emails' },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'WHARF_LOG_LEVEL',
    type: 'string',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    help: 'log level',
  },
  {
    key: 'defaultAccount',
    flag: 'default-account',
    env: 'WHARF_DEFAULT_ACCOUNT',
    type: 'string',
    help: 'account for non-numeric access keys (anonymous mode)',
  },
  {
    key: 'defaultRegion',
    flag: 'default-region',
    env: 'WHARF_DEFAULT_REGION',
    type: 'string',
    help: 'region for unsigned requests',
  },
  {
    key: 'clockSkewSeconds',
    flag: 'clock-skew',
    env: 'WHARF_CLOCK_SKEW',
    type: 'number',
    help: 'accepted SigV4 clock skew, seconds',
  },
  {
    key: 'maxBodyBytes',
    flag: 'max-body-bytes',
    env: 'WHARF_MAX_BODY_BYTES',
    type: 'number',
    help: 'largest request body',
  },
  {
    key: 'sqsInflightLimit',
    flag: 'sqs-inflight-limit',
    env: 'WHARF_SQS_INFLIGHT_LIMIT',
    type: 'number',
    help: 'in-flight messages per standard queue (the AWS quota) before receives get OverLimit',
  },
  {
    key: 'snsFilterPoliciesPerTopic',
    flag: 'sns-filter-policies-per-topic',
    env: 'WHARF_SNS_FILTER_POLICIES_PER_TOPIC',
    type: 'number',
    help: 'subscriptions with a filter policy per topic (the AWS quota)',
  },
  {
    key: 'kinesisThrottling',
    flag: 'kinesis-throttling',
    env: 'WHARF_KINESIS_THROTTLING',
    type: 'string',
    values: ['on', 'off'],
    help: "Kinesis per-shard throughput limits of provisioned streams (AWS's), or off",
  },
  {
    key: 'kinesisStatusDelayMs',
    flag: 'kinesis-status-delay-ms',
    env: 'WHARF_KINESIS_STATUS_DELAY_MS',
    type: 'number',
    help: 'how long a Kinesis stream stays CREATING or UPDATING, ms',
  },
  {
    key: 'kinesisShardLimit',
    flag: 'kinesis-shard-limit',
    env: 'WHARF_KINESIS_SHARD_LIMIT',
    type: 'number',
    help: 'open Kinesis shards per account and region (the AWS quota)',
  },
];

function bad(message: string): AppError {
  return new AppError('ERR_BAD_OPTION', message);
}

function coerce(spec: OptionSpec, raw: unknown, source: string): unknown {
  if (spec.type === 'number') {
    // digits only: Number() would also take '1e3', '0x10' or '' (0)
    const text = String(raw).trim();
    const n = typeof raw === 'number' ? raw : /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < 0)
      throw bad(`${source}: ${spec.flag} must be a non-negative integer, got '${raw}'`);
    if (spec.key === 'port' && n > 65535) throw bad(`${source}: port must be 0..65535, got ${n}`);
    return n;
  }
  if (spec.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const s = String(raw).toLowerCase();
    if (['1', 'true', 'yes', ''].includes(s)) return true;
    if (['0', 'false', 'no'].includes(s)) return false;
    throw bad(`${source}: ${spec.flag} must be true or false, got '${raw}'`);
  }
  const s = String(raw);
  if (spec.values && !spec.values.includes(s)) {
    throw bad(`${source}: ${spec.flag} must be one of ${spec.values.join(', ')}, got '${s}'`);
  }
  return s;
}

/** Resolves the configuration from parsed flags, the environment and an optional config file. */
export function resolveConfig(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined> = process.env,
): WharfConfig {
  const out: Record<string, unknown> = { ...DEFAULTS };
  const file = (flags.config as string | undefined) ?? env.WHARF_CONFIG;
  if (file) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw bad(`config file ${file}: ${(e as Error).message}`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      const spec = OPTIONS.find((o) => o.key === k || o.flag === k);
      if (!spec) throw bad(`config file ${file}: unknown option '${k}'`);
      out[spec.key] = coerce(spec, v, `config file ${file}`);
    }
  }
  for (const spec of OPTIONS) {
    const e = env[spec.env];
    if (e !== undefined && e !== '') out[spec.key] = coerce(spec, e, spec.env);
  }
  for (const spec of OPTIONS) {
    const f = flags[spec.flag];
    if (f !== undefined) out[spec.key] = coerce(spec, f, `--${spec.flag}`);
  }
  const c = out as unknown as WharfConfig;
  if (!/^\d{12}$/.test(c.defaultAccount)) throw bad(`default-account must be 12 digits, got '${c.defaultAccount}'`);
  if (c.store !== 'sqlite' && !/^postgres(ql)?:\/\//.test(c.store)) {
    throw bad(`store must be 'sqlite' or a postgres:// URL, got '${c.store}'`);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(c.storeSchema)) {
    throw bad(`store-schema must be a plain SQL identifier (letters, digits, _), got '${c.storeSchema}'`);
  }
  if (c.storePoolSize < 1) throw bad('store-pool-size must be at least 1');
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) throw bad('--tls-cert and --tls-key go together');
  return c;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '[::1]';
}
