/**
 * Starting and stopping a Wharf server: used by the CLI and, in-process, by test suites
 * (`import { startWharf } from 'wharf-aws'`).
 */
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import Database from 'better-sqlite3';
import { DEFAULTS, isLoopback, type WharfConfig } from '../config/config.js';
import { AppError } from '../kernel/errors.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import { REGISTRY, type ServiceInstances } from '../services/registry.js';
import type { ServiceDeps } from '../services/definition.js';
import { loadModel } from '../protocol/model.js';
import { dialectOf } from '../protocol/errors.js';
import { openSqliteStores } from '../store/sqlite/open.js';
import type { Stores } from '../store/types.js';
import { loadCredentialsFile } from '../protocol/sigv4.js';
import { createFrontDoor } from './front-door.js';
import { anonymousAccount, createPipeline } from './pipeline.js';
import { createAdmin } from './admin.js';
import { createRouter, type Mounted } from './router.js';
import { Scheduler } from '../kernel/scheduler.js';

export interface StartOptions extends Partial<WharfConfig> {
  /** injected time (tests advance a ManualClock instead of sleeping) */
  clock?: Clock;
  logger?: Logger;
  /** background sweep interval in ms; 0 disables it (default 1000) */
  maintenanceIntervalMs?: number;
}

export interface Wharf {
  /** http://host:port */
  endpoint: string;
  port: number;
  host: string;
  config: WharfConfig;
  /** the store kernel and its service modules (tests look into the SQS module) */
  stores: Stores;
  /** every service's running instance, by registry name */
  services: ServiceInstances;
  /** background jobs (`sqs.maintenance`, `store.checkpoint`); tests call runOnce() */
  scheduler: Scheduler;
  startedInMs: number;
  /** Stops accepting, finishes requests in flight, flushes and closes the store. */
  stop(): Promise<void>;
}

/** The URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

async function openPostgres(c: WharfConfig, logger: Logger): Promise<Stores> {
  // the PostgreSQL driver (~15 MB) is loaded only when a postgres:// store is chosen
  const { openPostgresStores } = await import('../store/postgres/open.js');
  try {
    return await openPostgresStores({
      url: c.store,
      schema: c.storeSchema,
      poolSize: c.storePoolSize,
      onError: (err: Error) => logger.warn({ err }, 'database connection error'),
    });
  } catch (e) {
    const err = e as Error & { code?: string; cause?: { code?: string } };
    const code = err.code ?? err.cause?.code ?? '';
    const where = redactUrl(c.store);
    if (code === '42501') {
      throw new AppError(
        'ERR_STORE_PERMISSION',
        `the database role lacks rights on ${where} (schema ${c.storeSchema}): ${err.message}`,
      );
    }
    if (code === '28P01' || code === '28000') {
      throw new AppError('ERR_STORE_AUTH', `the database refused the login for ${where}: ${err.message}`);
    }
    if (code === '3D000') throw new AppError('ERR_STORE_UNREACHABLE', `no such database at ${where}: ${err.message}`);
    throw new AppError('ERR_STORE_UNREACHABLE', `cannot reach the database at ${where}: ${err.message || code}`);
  }
}

function openStore(
  c: WharfConfig,
  logger: Logger,
  clock: Clock,
): { stores: Stores; path: string; unlock?: () => void } {
  if (c.dataDir === ':memory:') {
    return {
      stores: openSqliteStores({ path: ':memory:', durability: c.durability, now: () => clock.now() }),
      path: ':memory:',
    };
  }
  const dir = resolve(c.dataDir);
  try {
    makeDir(dir);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new AppError(
      'ERR_DATA_DIR',
      `data directory ${dir} is not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const lock = lockDataDir(dir);
  const path = join(dir, 'wharf.db');
  try {
    const stores = openSqliteStores({
      path,
      durability: c.durability,
      onError: (err: Error) => logger.error({ err }, 'store error'),
      now: () => clock.now(),
    });
    return { stores, path, unlock: () => lock.close() };
  } catch (e) {
    lock.close();
    throw new AppError('ERR_DATA_DIR', `cannot open ${path}: ${(e as Error).message}`);
  }
}

/**
 * mkdir -p without Node's recursive mkdir, which spins forever on a path it cannot create under
 * a pseudo file system (`/proc/nope`).
 */
function makeDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw e;
    makeDir(dirname(dir));
    mkdirSync(dir);
  }
}

/**
 * One process per data directory: an exclusive SQLite lock on <dir>/wharf.lock, held while the
 * server runs. The operating system drops it when the process dies, so a crash leaves no stale
 * lock behind, and a second server on the same directory fails at once instead of splitting
 * state with the first.
 */
function lockDataDir(dir: string): Database.Database {
  const path = join(dir, 'wharf.lock');
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    return db;
  } catch (e) {
    db?.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new AppError('ERR_DATA_DIR_IN_USE', `data directory ${dir} is in use by another Wharf process`);
    }
    throw new AppError('ERR_DATA_DIR', `cannot lock ${path}: ${(e as Error).message}`);
  }
}

/** Starts Wharf. In-process defaults: in memory, a free port on 127.0.0.1, logs off. */
export async function startWharf(opts: StartOptions = {}): Promise<Wharf> {
  const t0 = performance.now();
  const { clock: givenClock, logger: givenLogger, maintenanceIntervalMs, ...rest } = opts;
  const config: WharfConfig = { ...DEFAULTS, dataDir: ':memory:', port: 0, logLevel: 'silent', ...rest };
  const logger = givenLogger ?? pino({ level: config.logLevel });
  const clock = givenClock ?? systemClock();

  if (!isLoopback(config.host) && !config.credentials && !config.allowAnonymous) {
    throw new AppError(
      'ERR_INSECURE_BIND',
      `refusing to listen on ${config.host} without --credentials; pass --allow-anonymous to accept any client`,
    );
  }
  const credentials = config.credentials ? loadCredentialsFile(config.credentials) : undefined;
  let trustCa: string | undefined;
  if (config.trustCa) {
    try {
      trustCa = readFileSync(config.trustCa, 'utf8');
    } catch (e) {
      throw new AppError('ERR_TRUST_CA', `cannot read --trust-ca ${config.trustCa}: ${(e as Error).message}`);
    }
  }
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (config.tlsCert && config.tlsKey) {
    try {
      tls = { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) };
    } catch (e) {
      throw new AppError('ERR_TLS', `cannot read TLS certificate or key: ${(e as Error).message}`);
    }
  }

  const opened: { stores: Stores; unlock?: () => void } =
    config.store === 'sqlite' ? openStore(config, logger, clock) : { stores: await openPostgres(config, logger) };
  const { stores } = opened;
  const { kernel } = stores;
  const closeStore = async () => {
    await kernel.close();
    opened.unlock?.();
  };
  const onJobError = (job: string, err: Error) => logger.error({ err, job }, 'background work failed');
  const scheduler = new Scheduler(clock, onJobError, systemClock());
  const deps: ServiceDeps = {
    stores,
    clock,
    logger,
    nodeId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    maintenanceIntervalMs: maintenanceIntervalMs ?? 1000,
    scheduler,
    quotas: {
      sqsInflightLimit: config.sqsInflightLimit,
      snsFilterPoliciesPerTopic: config.snsFilterPoliciesPerTopic,
      kinesisShardLimit: config.kinesisShardLimit,
    },
    kinesis: { throttling: config.kinesisThrottling === 'on', statusDelayMs: config.kinesisStatusDelayMs },
    ...(trustCa ? { trustCa } : {}),
    ...(config.smtp ? { smtp: { url: config.smtp, from: config.smtpFrom } } : {}),
    accountOf: (k) => credentials?.get(k)?.accountId ?? anonymousAccount(k, config.defaultAccount),
    call: async (service, operation, ctx, input) => {
      const m = mounted.find((x) => x.name === service);
      const handler = m?.def.operations[operation];
      if (!m || !handler) throw new Error(`no operation ${service}.${operation}`);
      return handler(m.svc, ctx, input);
    },
  };
  const mounted: Mounted[] = [];
  const stopServices = async () => {
    for (const m of [...mounted].reverse()) await m.def.stop(m.svc);
  };
  try {
    for (const [name, def] of Object.entries(REGISTRY)) {
      const model = loadModel(def.model);
      const json = def.protocols.find((p): p is 'json1.0' | 'json1.1' => p === 'json1.0' || p === 'json1.1');
      mounted.push({
        name,
        def,
        svc: await def.start(deps),
        model,
        dialect: dialectOf(model),
        ...(json ? { json } : {}),
      });
    }
  } catch (e) {
    await stopServices();
    await closeStore();
    throw e;
  }
  const services = Object.fromEntries(mounted.map((m) => [m.name, m.svc])) as ServiceInstances;
  let ready = false;
  const admin = createAdmin({
    services: mounted,
    reset: async () => {
      await kernel.reset();
      for (const m of mounted) m.def.afterReset?.(m.svc);
    },
    defaultAccount: config.defaultAccount,
    defaultRegion: config.defaultRegion,
    ready: () => ready,
    info: () =>
      kernel.kind === 'sqlite'
        ? { store: kernel.kind, dataDir: config.dataDir, durability: config.durability }
        : { store: kernel.kind, schema: config.storeSchema },
  });
  const pipeline = createPipeline({
    router: createRouter(mounted),
    sessions: mounted.filter((m) => m.def.session),
    clock,
    logger,
    ...(credentials ? { credentials } : {}),
    clockSkewMs: config.clockSkewSeconds * 1000,
    maxBodyBytes: config.maxBodyBytes,
    defaultAccount: config.defaultAccount,
    defaultRegion: config.defaultRegion,
    tls: !!tls,
    admin,
    unsignedAdmin: mounted.flatMap((m) => (m.def.adminRoutes ?? []).filter((r) => r.unsigned).map((r) => r.pattern)),
  });
  const door = createFrontDoor({
    onRequest: pipeline,
    ...(tls ? { tls } : {}),
    onError: (err) => logger.error({ err }, 'listener error'),
  });
  let address: { port: number; address: string };
  try {
    address = await door.listen(config.port, config.host);
  } catch (e) {
    await stopServices();
    await closeStore();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new AppError('ERR_PORT_BUSY', `port ${config.port} on ${config.host} is already in use`);
    if (code === 'EACCES') throw new AppError('ERR_PORT_DENIED', `not allowed to listen on port ${config.port}`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new AppError('ERR_BAD_HOST', `cannot listen on ${config.host}: no such local address`);
    }
    throw e;
  }
  ready = true;
  // store upkeep in the background: copy the WAL into the database file (a worker thread does
  // the I/O), compact the log and snapshot its index; in memory too, where it frees dead segments
  const checkpoint = kernel.checkpoint?.bind(kernel);
  if (checkpoint) scheduler.add({ name: 'store.checkpoint', intervalMs: 1000, wallClock: true, run: checkpoint });
  scheduler.start();

  const hostForUrl = address.address.includes(':') ? `[${address.address}]` : address.address;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `${tls ? 'https' : 'http'}://${hostForUrl}:${address.port}`,
    port: address.port,
    host: address.address,
    config,
    stores,
    services,
    scheduler,
    startedInMs: performance.now() - t0,
    stop() {
      stopping ??= (async () => {
        // The store's checkpoint worker and timers are unref'd: without a handle of our own, a process with
        // nothing else to do (the CLI after a signal) exits in the middle of closing the store.
        const hold = setInterval(() => {}, 60_000);
        try {
          ready = false;
          await scheduler.stop();
          await stopServices(); // ends long polls so in-flight requests can finish
          await door.close();
          await closeStore();
        } finally {
          clearInterval(hold);
        }
      })();
      return stopping;
    },
  };
}
