/**
 * One job per copy that is not delivered inline (`sns.deliver`): HTTP/S notifications, the
 * confirmation requests HTTP/S endpoints get, and every copy whose first attempt failed. Each is
 * retried on its protocol's schedule (an HTTP/S subscription's effective DeliveryPolicy, AWS's
 * fixed policies for the rest), with jitter, and then dead-lettered. Jobs run concurrently, up
 * to a bound, so an endpoint that hangs for its 15 s timeout holds back no other.
 */
import { randomUUID } from 'node:crypto';
import { Drain } from '../../delivery/drain.js';
import type { Poster } from '../../delivery/http.js';
import type { Job, LeaseRef } from '../../store/jobs/types.js';
import type { Resource, ResourceKey } from '../../store/resources.js';
import {
  AWS_MANAGED_RETRY,
  CUSTOMER_MANAGED_RETRY,
  effectivePolicy,
  retryDelay,
  type RetryPolicy,
} from './delivery-policy.js';
import { confirmation, confirmationStringToSign, subscribeUrl, type Confirmation } from './envelope.js';
import type { PublishRecord } from './messages.js';
import { TOPIC, type SnsService, type SubscriptionDoc, type TopicDoc } from './service.js';
import { topicArn } from './naming.js';
import { toOutbox } from './outbox.js';
import type { Outcome } from './to-sqs.js';

export const DELIVER_QUEUE = 'sns.deliver';
/** AWS: an HTTP/S endpoint has 15 s to answer */
export const HTTP_TIMEOUT_MS = 15_000;
const LEASE_MS = 60_000;
const CONCURRENCY = 64;
const AGENT = 'Amazon Simple Notification Service Agent';

export type DeliveryJob =
  /** a notification: the record cut to one message and one subscription; `tried` attempts made before */
  | { k: 'n'; topic: ResourceKey; rec: PublishRecord; tried: number }
  /** a confirmation request (or the notice that a subscription was removed) to an HTTP/S endpoint */
  | { k: 'c'; c: Confirmation; endpoint: string; protocol: string; sub: ResourceKey; sv: string };

export interface DeliveryHost {
  svc: SnsService;
  poster: Poster;
  /** one email (confirmations of email subscriptions) */
  mail(
    to: string,
    subject: string,
    text: string,
  ): Promise<{ ok: true } | { ok: false; error: string; permanent: boolean }>;
  /** one attempt at one notification copy */
  attempt(
    topic: ResourceKey,
    rec: PublishRecord,
  ): Promise<{ outcome: Outcome; sub?: SubscriptionDoc; t?: TopicDoc } | undefined>;
  deadLetter(topic: ResourceKey, rec: PublishRecord, error: string): Promise<void>;
  sign(
    text: string,
    version: string,
    base: string,
  ): Promise<{ SignatureVersion: string; Signature: string; SigningCertURL: string }>;
  onError(err: Error): void;
  /** jitter as a share of each delay (AWS always applies some) */
  jitter: number;
}

export function retryPolicyOf(
  protocol: string,
  topic: TopicDoc | undefined,
  sub: SubscriptionDoc | undefined,
): RetryPolicy {
  if (protocol === 'http' || protocol === 'https')
    return sub
      ? effectivePolicy(topic, sub).healthyRetryPolicy
      : effectivePolicy(topic, { attributes: {} } as SubscriptionDoc).healthyRetryPolicy;
  if (protocol === 'sqs' || protocol === 'lambda' || protocol === 'firehose') return AWS_MANAGED_RETRY;
  return CUSTOMER_MANAGED_RETRY;
}

export class Deliveries {
  readonly drain: Drain;
  private readonly inFlight = new Set<Promise<void>>();
  private waiting: (() => void)[] = [];
  /** jitter as a share of each delay; tests that check a schedule exactly set 0 */
  jitter: number;

  constructor(private readonly h: DeliveryHost) {
    this.jitter = h.jitter;
    const svc = h.svc;
    this.drain = new Drain({
      queue: DELIVER_QUEUE,
      jobs: svc.jobs,
      kernel: svc.deps.kernel,
      clock: svc.clock,
      batch: 16,
      leaseMs: LEASE_MS,
      onError: h.onError,
      process: (jobs, now) => this.start(jobs, now),
    });
  }

  /** Adds delivery jobs, all due at `dueAt` or each at its own time. */
  async enqueue(jobs: DeliveryJob[], dueAt: number | number[]): Promise<void> {
    if (!jobs.length) return;
    const now = this.h.svc.clock.now();
    await this.h.svc.jobs.enqueue(
      DELIVER_QUEUE,
      jobs.map((j, i) => ({
        payload: Buffer.from(JSON.stringify(j)),
        dueAt: typeof dueAt === 'number' ? dueAt : dueAt[i],
      })),
      now,
    );
  }

  /** Starts each job once a slot is free; returns when all have started. */
  private async start(jobs: Job[], now: number): Promise<void> {
    for (const job of jobs) {
      while (this.inFlight.size >= CONCURRENCY) await new Promise<void>((r) => this.waiting.push(r));
      const run = this.run(job, now)
        .catch((e: Error) => this.h.onError(e))
        .finally(() => {
          this.inFlight.delete(run);
          this.waiting.shift()?.();
          // a retry set a due time the drain's timer may not cover yet
          void this.drain.kick();
        });
      this.inFlight.add(run);
    }
  }

  /** the wait before retry n (1-based) of a policy, with jitter, in whole milliseconds */
  retryDelayMs(p: RetryPolicy, retry: number): number {
    const s = retryDelay(p, retry);
    // whole milliseconds: the stores keep due times as integers
    return Math.max(0, Math.round(s * 1000 * (1 + (Math.random() * 2 - 1) * this.jitter)));
  }

  private async run(job: Job, now: number): Promise<void> {
    const { svc } = this.h;
    const lease: LeaseRef = { id: job.id, attempt: job.attempts };
    const d = JSON.parse(job.payload.toString()) as DeliveryJob;
    // the attempt this lease makes, counted from the first (0): the retry number
    const tried = (d.k === 'n' ? d.tried : 0) + job.attempts - 1;
    if (d.k === 'c') return this.confirm(d, lease, tried, now);
    const r = await this.h.attempt(d.topic, d.rec);
    // unsubscribed or topic gone: nothing is owed any more
    if (!r || r.outcome.ok) return void (await svc.jobs.ack(DELIVER_QUEUE, [lease]));
    const policy = retryPolicyOf(r.sub?.protocol ?? 'sqs', r.t, r.sub);
    if (!r.outcome.client && tried < policy.numRetries) {
      await svc.jobs.retry(DELIVER_QUEUE, lease, now + this.retryDelayMs(policy, tried + 1), r.outcome.error);
      return;
    }
    await this.h.deadLetter(d.topic, d.rec, r.outcome.error);
    await svc.jobs.ack(DELIVER_QUEUE, [lease]);
  }

  private async confirm(d: Extract<DeliveryJob, { k: 'c' }>, lease: LeaseRef, tried: number, now: number) {
    const { svc } = this.h;
    if (d.c.type === 'SubscriptionConfirmation') {
      const sub = await svc.resources.get<SubscriptionDoc>(d.sub);
      // confirmed or removed meanwhile: nothing to ask any more
      if (!sub?.doc.pending) return void (await svc.jobs.ack(DELIVER_QUEUE, [lease]));
    }
    const base = new URL(d.c.subscribeUrl).origin;
    const signed = await this.h.sign(confirmationStringToSign(d.c), d.sv, base);
    let ok: boolean;
    let error = '';
    if (d.protocol === 'email' || d.protocol === 'email-json') {
      const text =
        d.protocol === 'email-json'
          ? confirmation(d.c, signed)
          : `You have chosen to subscribe to the topic:\n${d.c.topic}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary):\n${d.c.subscribeUrl}`;
      const r = await this.h.mail(d.endpoint, 'AWS Notification - Subscription Confirmation', text);
      ok = r.ok || r.permanent;
      if (!r.ok) error = r.error;
    } else {
      const r = await this.h.poster.post(
        d.endpoint,
        {
          'content-type': 'text/plain; charset=UTF-8',
          'user-agent': AGENT,
          'x-amz-sns-message-type': d.c.type,
          'x-amz-sns-message-id': d.c.id,
          'x-amz-sns-topic-arn': d.c.topic,
        },
        confirmation(d.c, signed),
        HTTP_TIMEOUT_MS,
      );
      ok = 'status' in r && r.status >= 200 && r.status < 500;
      if (!ok) error = 'error' in r ? r.error : `HTTP ${r.status}`;
    }
    const policy = retryPolicyOf(d.protocol, undefined, undefined);
    if (ok || tried >= policy.numRetries) return void (await svc.jobs.ack(DELIVER_QUEUE, [lease]));
    await svc.jobs.retry(DELIVER_QUEUE, lease, now + this.retryDelayMs(policy, tried + 1), error);
  }

  /**
   * Asks a new subscription's endpoint to confirm (or tells an HTTP/S endpoint it was removed):
   * HTTP/S, and email with --smtp, as a retried job; email without SMTP into the outbox.
   */
  async requestConfirmation(
    kind: Confirmation['type'],
    sub: Resource<SubscriptionDoc>,
    base: string,
    mailing: boolean,
  ) {
    const email = sub.doc.protocol === 'email' || sub.doc.protocol === 'email-json';
    if (email && kind !== 'SubscriptionConfirmation') return;
    const topicName = sub.name.slice(0, sub.name.indexOf(':'));
    const arnOfTopic = topicArn(sub.region, sub.account, topicName);
    const topic = await this.h.svc.resources.get<TopicDoc>({
      kind: TOPIC,
      account: sub.account,
      region: sub.region,
      name: topicName,
    });
    const sv = topic?.doc.attributes.SignatureVersion === '2' ? '2' : '1';
    const key = { kind: sub.kind, account: sub.account, region: sub.region, name: sub.name };
    const job = this.confirmationJob(
      kind,
      { key, arn: `${arnOfTopic}:${sub.name.slice(topicName.length + 1)}`, doc: sub.doc },
      arnOfTopic,
      base,
      sv,
    );
    if (!email || mailing) return this.enqueue([job], this.h.svc.clock.now());
    if (job.k === 'c')
      await toOutbox(this.h.svc, sub.account, sub.region, sub.doc.protocol, {
        Endpoint: sub.doc.endpoint,
        TopicArn: arnOfTopic,
        Type: kind,
        Message: job.c.message,
        SubscribeURL: job.c.subscribeUrl,
        Token: job.c.token,
      });
  }

  /** The confirmation request a new HTTP/S subscription's endpoint gets. */
  confirmationJob(
    kind: Confirmation['type'],
    sub: { key: ResourceKey; arn: string; doc: SubscriptionDoc },
    topicArn: string,
    base: string,
    sv: string,
  ): DeliveryJob {
    const message =
      kind === 'SubscriptionConfirmation'
        ? `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`
        : `You have chosen to deactivate subscription ${sub.arn}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`;
    return {
      k: 'c',
      c: {
        type: kind,
        id: randomUUID(),
        token: sub.doc.token ?? '',
        topic: topicArn,
        message,
        subscribeUrl: subscribeUrl(base, topicArn, sub.doc.token ?? ''),
        ts: this.h.svc.clock.now(),
      },
      endpoint: sub.doc.endpoint,
      protocol: sub.doc.protocol,
      sub: sub.key,
      sv,
    };
  }

  /** Stops taking jobs; settle() then waits for the ones under way. */
  stop(): Promise<void> {
    return this.drain.stop();
  }

  async settle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }
}
