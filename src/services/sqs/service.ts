/**
 * The SQS service: queue resolution, configuration caches, receipt signing, long polling and
 * the background work (retention sweeps, message move tasks). Operations live in
 * operations/*.ts and receive this object.
 */
import type { Clock } from '../../kernel/clock.js';
import type { Scheduler } from '../../kernel/scheduler.js';
import type { RequestContext } from '../../kernel/context.js';
import type { QueueRef, QueueRow, SqsStore } from '../../store/sqs/types.js';
import type { StoreKernel } from '../../store/kernel.js';
import { LIMITS, parseConfig, type QueueConfig } from './attributes.js';
import { missing, SqsErrors } from './errors.js';
import { Waiters } from '../../kernel/waiters.js';
import { parseQueueArn, parseQueueUrl, queueArn, queueKey, queueUrl, type QueueAddress } from './naming.js';
import { ReceiptSigner } from './receipts.js';
import { MoveTaskRunner } from './move-tasks.js';

export interface SqsServiceOptions {
  store: SqsStore;
  /** secrets and leases */
  kernel: Pick<StoreKernel, 'secret' | 'tryLease'>;
  clock: Clock;
  /** identifies this node for leases on shared background work */
  nodeId: string;
  /** background sweep interval; 0 disables (tests drive runMaintenance themselves) */
  maintenanceIntervalMs?: number;
  /** runs the maintenance job (`sqs.maintenance`); without one, nothing runs by itself */
  scheduler?: Scheduler;
  /** in-flight messages per standard queue before a receive gets OverLimit (AWS: 120,000) */
  inflightLimit?: number;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

interface Resolved {
  config: QueueConfig;
  ref: QueueRef;
  gen: number;
}

export class SqsService {
  readonly store: SqsStore;
  readonly kernel: Pick<StoreKernel, 'secret' | 'tryLease'>;
  readonly clock: Clock;
  /** long polls, keyed by queueKey(queue id) */
  readonly longPoll: Waiters;
  readonly signer: ReceiptSigner;
  readonly moveTasks: MoveTaskRunner;
  readonly nodeId: string;
  private readonly resolved = new WeakMap<QueueRow, Resolved>();
  private readonly addresses = new Map<string, QueueAddress | null>();
  /** bumped whenever a queue is created or deleted: DLQ references must be looked up again */
  private gen = 0;
  private readonly intervalMs: number;
  readonly inflightLimit: number;

  private constructor(opts: SqsServiceOptions, secret: Buffer) {
    this.store = opts.store;
    this.kernel = opts.kernel;
    this.clock = opts.clock;
    this.nodeId = opts.nodeId;
    this.signer = new ReceiptSigner(secret);
    this.longPoll = new Waiters(opts.clock);
    this.moveTasks = new MoveTaskRunner(this);
    this.intervalMs = opts.maintenanceIntervalMs ?? 1000;
    this.inflightLimit = opts.inflightLimit ?? LIMITS.inflightLimit;
    this.store.onAvailable((id) => this.longPoll.notify(queueKey(id)));
    // another node changed queues: DLQ references resolved here may be stale
    this.store.onQueuesChanged?.(() => this.queueChanged());
  }

  static async create(opts: SqsServiceOptions): Promise<SqsService> {
    const svc = new SqsService(opts, await opts.kernel.secret('receipt-handles'));
    opts.scheduler?.add({ name: 'sqs.maintenance', intervalMs: svc.intervalMs, run: () => svc.runMaintenance() });
    return svc;
  }

  queueChanged(): void {
    this.gen++;
  }

  url(ctx: RequestContext, q: QueueRow): string {
    return queueUrl(ctx.baseUrl, q.account, q.name);
  }

  arn(q: QueueRow): string {
    return queueArn(q.region, q.account, q.name);
  }

  /** Finds the queue a QueueUrl names, or throws AWS's errors. */
  async resolve(ctx: RequestContext, url: unknown): Promise<QueueRow> {
    if (url === undefined || url === null || url === '') throw missing('QueueUrl');
    if (typeof url !== 'string') throw SqsErrors.QueueDoesNotExist();
    // AWS also takes a bare queue name and acts on the caller's queue of that name
    const addr = this.address(url) ?? (QUEUE_NAME.test(url) ? { account: ctx.account, name: url } : undefined);
    if (!addr) throw SqsErrors.QueueDoesNotExist();
    const q = await this.store.getQueue(addr.account, addr.region ?? ctx.region, addr.name);
    if (!q) throw SqsErrors.QueueDoesNotExist();
    return q;
  }

  /** parseQueueUrl, remembered: clients send the same few URLs on every request. */
  private address(url: string): QueueAddress | undefined {
    const hit = this.addresses.get(url);
    if (hit !== undefined) return hit ?? undefined;
    const addr = parseQueueUrl(url);
    if (this.addresses.size >= 4096) this.addresses.clear();
    this.addresses.set(url, addr ?? null);
    return addr;
  }

  async byArn(arn: string): Promise<QueueRow | undefined> {
    const a = parseQueueArn(arn);
    return a && this.store.getQueue(a.account, a.region, a.name);
  }

  private async resolveRow(q: QueueRow): Promise<Resolved> {
    const hit = this.resolved.get(q);
    if (hit && hit.gen === this.gen) return hit;
    const config = parseConfig(q.attributes, q.fifo);
    const ref: QueueRef = {
      id: q.id,
      fifo: q.fifo,
      arn: this.arn(q),
      retentionMs: config.retentionSeconds * 1000,
      dedupScope: config.dedupScope,
    };
    if (config.redrive) {
      const dlq = await this.byArn(config.redrive.deadLetterTargetArn);
      if (dlq) ref.redrive = { deadLetterQueueId: dlq.id, maxReceiveCount: config.redrive.maxReceiveCount };
    }
    const r = { config, ref, gen: this.gen };
    this.resolved.set(q, r);
    return r;
  }

  async config(q: QueueRow): Promise<QueueConfig> {
    return (await this.resolveRow(q)).config;
  }

  async ref(q: QueueRow): Promise<QueueRef> {
    return (await this.resolveRow(q)).ref;
  }

  // ── background work ───────────────────────────────────────────────────────

  /** Retention sweep, deduplication window cleanup and message move tasks; one pass. */
  async runMaintenance(): Promise<void> {
    const now = this.clock.now();
    const rows = await this.store.allQueues();
    const refs = await Promise.all(rows.map((q) => this.ref(q)));
    if (await this.kernel.tryLease('sweep', this.nodeId, now, Math.max(this.intervalMs * 3, 3000))) {
      await this.store.sweep(refs, now);
    }
    await this.moveTasks.runOnce(rows);
  }

  /** Ends every long poll (the scheduler, stopped first, runs no more maintenance). */
  stop(): void {
    this.longPoll.close();
  }
}
