/**
 * From Publish to every subscriber. Publish writes one durable record (`sns.publish`: the bodies
 * once, the ids of the subscriptions that matched) and answers; a drain of that queue then makes
 * each copy: into SQS inline, through the SQS service's own SendMessageBatch; HTTP/S as jobs on
 * `sns.deliver` (deliveries.ts), which also takes every copy whose first attempt failed with a
 * server-side error. A client-side error (the queue is gone) sends the copy to the subscription's
 * dead-letter queue, or drops it when there is none, as AWS does. Protocols Wharf cannot reach
 * yet (lambda, firehose until their issues; sms, mobile push, email without SMTP) go to an outbox.
 */
import { createHmac } from 'node:crypto';
import type { RequestContext } from '../../kernel/context.js';
import { Drain } from '../../delivery/drain.js';
import { createPoster, type Poster } from '../../delivery/http.js';
import { createMailer, type Mailer } from '../../delivery/smtp.js';
import type { Job } from '../../store/jobs/types.js';
import type { Resource, ResourceKey } from '../../store/resources.js';
import { parseArn } from '../shared/arn.js';
import { AWS_MANAGED_RETRY, effectivePolicy } from './delivery-policy.js';
import { Deliveries, HTTP_TIMEOUT_MS, type DeliveryJob } from './deliveries.js';
import {
  notification,
  notificationParts,
  notificationStringToSign,
  textFor,
  unsubscribeUrl,
  type EnvelopeParts,
  type Signed,
} from './envelope.js';
import { TopicFilter } from './filter.js';
import type { Published, PublishRecord } from './messages.js';
import { topicArn } from './naming.js';
import { TOPIC, type SnsService, type SubscriptionDoc, type TopicDoc } from './service.js';
import { Signer } from './signing.js';
import { subscriptionsOf, touchTopic } from './subscriptions.js';
import { toOutbox } from './outbox.js';
import { archive, Replays, retentionMs } from './archive.js';
import { sendToQueue, type Outcome, type QueueCopy } from './to-sqs.js';

export const PUBLISH_QUEUE = 'sns.publish';
/** how long a cached subscriber list is trusted without the topic's version changing (a node that crashed mid-write) */
const CACHE_MS = 10_000;
const LEASE_MS = 30_000;
const AGENT = 'Amazon Simple Notification Service Agent';
/** AWS: a FIFO topic drops a message whose deduplication id it saw in the last 5 minutes */
const DEDUP_WINDOW_MS = 5 * 60_000;
/** what a FIFO record that was delivered keeps as its last error while it waits out the window */
const DELIVERED = 'delivered; kept for deduplication';

interface Subscriber {
  id: string;
  arn: string;
  /** its UnsubscribeURL's token */
  token: string;
  key: ResourceKey;
  doc: SubscriptionDoc;
  raw: boolean;
  /** HTTP/S: the effective delivery policy (from the topic and subscription at this version) */
  policy?: ReturnType<typeof effectivePolicy>;
}

interface Cached {
  version: number;
  at: number;
  topic: Resource<TopicDoc>;
  subs: Subscriber[];
  filter: TopicFilter;
  /** how long its ArchivePolicy keeps messages, when it has one */
  keepMs: number | undefined;
}

export interface FanoutOptions {
  onError(err: Error): void;
  /** extra CAs for HTTPS endpoints (PEM) */
  trustCa?: string;
  smtp?: { url: string; from: string };
  /** the store secret that signs unsubscribe links */
  secret: Buffer;
  jitter?: number;
}

export class Fanout {
  private readonly cache = new Map<string, Cached>();
  private signer?: Promise<Signer>;
  private seq = 0;
  /** throttled subscriptions: when each may next receive (ms) */
  private readonly slots = new Map<string, number>();
  private seqAt = 0;
  readonly publishes: Drain;
  readonly deliveries: Deliveries;
  readonly replays: Replays;
  readonly poster: Poster;
  /** with --smtp: email and email-json deliveries */
  readonly mailer?: Mailer;

  constructor(
    private readonly svc: SnsService,
    private readonly o: FanoutOptions,
  ) {
    this.poster = createPoster(o.trustCa);
    if (o.smtp) this.mailer = createMailer(o.smtp.url, o.smtp.from, o.trustCa);
    this.publishes = new Drain({
      queue: PUBLISH_QUEUE,
      jobs: svc.jobs,
      kernel: svc.deps.kernel,
      clock: svc.clock,
      batch: 16,
      leaseMs: LEASE_MS,
      onError: o.onError,
      process: (j) => this.fanOut(j),
    });
    this.deliveries = new Deliveries({
      svc,
      poster: this.poster,
      mail: (to, subject, text) =>
        this.mailer
          ? this.mailer.send({ to, subject, text, fromName: 'AWS Notifications' })
          : Promise.resolve({ ok: true as const }),
      attempt: (topic, rec) => this.attempt(topic, rec),
      deadLetter: (topic, rec, error) => this.deadLetter(topic, rec, error),
      sign: async (text, version, base) => this.signed(await this.signerNow(), text, version, base),
      onError: o.onError,
      jitter: o.jitter ?? 0.1,
    });
    this.replays = new Replays({
      svc,
      deliver: (_sub, rec, replayId) => this.replayTo(rec, replayId),
      // the topic's version moves: every node's cached subscribers drop the subscription
      ended: (sub) => touchTopic(svc, { ...sub, kind: TOPIC, name: sub.name.slice(0, sub.name.indexOf(':')) }),
      onError: o.onError,
    });
    svc.confirmations = {
      request: (sub, base) => this.deliveries.requestConfirmation('SubscriptionConfirmation', sub, base, !!this.mailer),
      unsubscribed: (sub, base) =>
        this.deliveries.requestConfirmation('UnsubscribeConfirmation', sub, base, !!this.mailer),
    };
  }

  /** the token of a subscription's UnsubscribeURL */
  unsubscribeToken(arn: string): string {
    return createHmac('sha256', this.o.secret).update(arn).digest('hex').slice(0, 32);
  }

  signerNow(): Promise<Signer> {
    this.signer ??= Signer.load(this.svc.resources, this.svc.clock.now());
    return this.signer;
  }

  private signed(s: Signer, text: string, version: string, base: string): Signed {
    return {
      SignatureVersion: version,
      Signature: s.sign(text, version),
      SigningCertURL: `${base}/_wharf/sns/${s.certName}`,
    };
  }

  /** The topic (as read) and its confirmed subscribers, cached on the topic's version. */
  private async load(topic: Resource<TopicDoc>): Promise<Cached> {
    const k = `${topic.account}/${topic.region}/${topic.name}`;
    const hit = this.cache.get(k);
    const now = this.svc.clock.now();
    if (hit && hit.version === topic.version && now - hit.at < CACHE_MS) return hit;
    const subs: Subscriber[] = [];
    for (const s of await subscriptionsOf(this.svc, topic)) {
      // a replay with an EndingPoint that completed leaves the subscription without new messages
      if (s.doc.pending || (s.doc.replay?.status === 'Completed' && s.doc.replay.end !== undefined)) continue;
      const a = s.doc.attributes;
      const id = s.name.slice(s.name.indexOf(':') + 1);
      const arn = `${topicArn(topic.region, topic.account, topic.name)}:${id}`;
      const http = s.doc.protocol === 'http' || s.doc.protocol === 'https';
      subs.push({
        id,
        arn,
        token: this.unsubscribeToken(arn),
        key: { kind: s.kind, account: s.account, region: s.region, name: s.name },
        doc: s.doc,
        raw: a.RawMessageDelivery === 'true',
        ...(http ? { policy: effectivePolicy(topic.doc, s.doc) } : {}),
      });
    }
    if (this.cache.size > 10_000) this.cache.clear();
    const filter = new TopicFilter(
      subs.map((s) => ({ policy: s.doc.attributes.FilterPolicy, scope: s.doc.attributes.FilterPolicyScope })),
    );
    const c = { version: topic.version, at: now, topic, subs, filter, keepMs: retentionMs(topic.doc) };
    this.cache.set(k, c);
    return c;
  }

  private async loadKey(key: ResourceKey): Promise<Cached | undefined> {
    const t = await this.svc.resources.get<TopicDoc>({ ...key, kind: TOPIC });
    return t && this.load(t);
  }

  /** Makes the publish durable: resolves once the record is; nothing is written when nobody matched. */
  async publish(ctx: RequestContext, topic: Resource<TopicDoc>, msgs: Published[]): Promise<void> {
    const { subs, filter } = await this.load(topic);
    const ids: string[] = [];
    const index = new Map<string, number>();
    let any = false;
    for (const m of msgs) {
      const to: number[] = [];
      for (const k of filter.matching(m)) {
        const s = subs[k];
        let i = index.get(s.id);
        if (i === undefined) index.set(s.id, (i = ids.push(s.id) - 1));
        to.push(i);
      }
      if (to.length) any = true;
      if (to.length !== subs.length) m.to = to;
    }
    const now = this.svc.clock.now();
    const rec: PublishRecord = {
      topic: topicArn(topic.region, topic.account, topic.name),
      fifo: topic.doc.fifo,
      sv: topic.doc.attributes.SignatureVersion === '2' ? '2' : '1',
      base: ctx.baseUrl,
      ts: now,
      subs: ids,
      msgs,
    };
    if (!topic.doc.fifo) {
      if (any)
        await this.svc.jobs.enqueue(PUBLISH_QUEUE, [{ payload: Buffer.from(JSON.stringify(rec)), dueAt: now }], now);
      return;
    }
    // FIFO: one record per message, its id the topic and deduplication id, so the enqueue that
    // makes it durable is also the deduplication check (the record stays 5 minutes: fanOut)
    for (const m of msgs) m.seq = this.sequence(now);
    // and one group per message group: the records of a group are delivered one at a time, in order,
    // however many nodes drain the queue and however often one is retried
    const jobs = msgs.map((m) => ({
      id: `${rec.topic}\n${m.dedup}`,
      payload: Buffer.from(JSON.stringify({ ...rec, msgs: [m] })),
      dueAt: now,
      group: `${rec.topic}\n${m.group}`,
    }));
    // a record whose window closed may be waiting for its sweep: a new message replaces it
    await this.svc.jobs.enqueue(PUBLISH_QUEUE, jobs, now, { expiredMark: DELIVERED });
  }

  /** FIFO sequence numbers: 20 digits, increasing (the time, then a counter within the millisecond). */
  private sequence(now: number): string {
    this.seq = now === this.seqAt ? this.seq + 1 : 0;
    this.seqAt = now;
    return (BigInt(now) * 1_000_000n + BigInt(this.seq)).toString().padStart(20, '0');
  }

  private async fanOut(jobs: Job[]): Promise<void> {
    for (const job of jobs) {
      const lease = { id: job.id, attempt: job.attempts };
      // a FIFO record delivered 5 minutes ago: its deduplication window is over
      if (job.lastError === DELIVERED) {
        await this.svc.jobs.ack(PUBLISH_QUEUE, [lease]);
        continue;
      }
      const rec = JSON.parse(job.payload.toString()) as PublishRecord;
      const t = parseArn(rec.topic)!;
      const key: ResourceKey = { kind: TOPIC, account: t.account, region: t.region, name: t.resource };
      const loaded = await this.loadKey(key);
      const later: DeliveryJob[] = [];
      const laterAt: number[] = [];
      const retry: DeliveryJob[] = [];
      let failed: string | undefined;
      const start = this.svc.clock.now();
      // a FIFO topic with an ArchivePolicy keeps the message (again, idempotently, on a retry)
      if (rec.fifo && loaded?.keepMs !== undefined) await archive(this.svc, key, rec, loaded.keepMs);
      if (loaded) {
        const byId = new Map(loaded.subs.map((s) => [s.id, s]));
        const sigs = new Map<string, EnvelopeParts>();
        await Promise.all(
          rec.subs.map(async (id, i) => {
            const sub = byId.get(id);
            // unsubscribed since the publish: nothing is owed
            if (!sub) return;
            const msgs = rec.msgs.filter((m) => !m.to || m.to.includes(i));
            const one = (m: Published): PublishRecord => ({ ...rec, subs: [id], msgs: [{ ...m, to: undefined }] });
            if (sub.doc.protocol !== 'sqs') {
              for (const m of msgs) {
                later.push({ k: 'n', topic: key, rec: one(m), tried: 0 });
                laterAt.push(this.slot(sub, start));
              }
              return;
            }
            const outcomes = await this.toSqs(sub, rec, msgs, sigs);
            for (let j = 0; j < msgs.length; j++) {
              const o = outcomes[j];
              if (o.ok) continue;
              if (o.client) await this.deadLetterTo(sub, one(msgs[j]), o.error);
              else if (rec.fifo) failed = o.error;
              else retry.push({ k: 'n', topic: key, rec: one(msgs[j]), tried: 1 });
            }
          }),
        );
      }
      const now = this.svc.clock.now();
      await this.deliveries.enqueue(later, laterAt);
      // AWS-managed endpoints: the first retries come at once
      await this.deliveries.enqueue(retry, now);
      if (!rec.fifo) await this.svc.jobs.ack(PUBLISH_QUEUE, [lease]);
      // FIFO, a copy failed: the whole record is retried on AWS's schedule for SQS, holding back the
      // rest of its group (the copies that did arrive are dropped by the queues as duplicates: a
      // copy's deduplication id is its MessageId)
      else if (failed !== undefined) {
        const at = now + this.deliveries.retryDelayMs(AWS_MANAGED_RETRY, job.attempts);
        await this.svc.jobs.retry(PUBLISH_QUEUE, lease, at, failed);
      }
      // FIFO, delivered: the record stays as the deduplication entry until the window closes, out of its group
      else
        await this.svc.jobs.retry(PUBLISH_QUEUE, lease, job.enqueuedAt + DEDUP_WINDOW_MS, DELIVERED, {
          leaveGroup: true,
        });
    }
  }

  /**
   * When a new copy to an HTTP/S subscription may go: now, or, with a throttlePolicy, the next of
   * its maxReceivesPerSecond slots (kept per node: a cluster of N nodes allows N times the rate).
   */
  private slot(sub: Subscriber, now: number): number {
    const rate = sub.policy?.throttlePolicy?.maxReceivesPerSecond;
    if (!rate) return now;
    const at = Math.max(now, this.slots.get(sub.arn) ?? 0);
    this.slots.set(sub.arn, at + 1000 / rate);
    if (this.slots.size > 100_000) this.slots.clear();
    return Math.ceil(at);
  }

  /** One attempt at the one message of a cut-down record, for its one subscription. */
  private async attempt(key: ResourceKey, rec: PublishRecord) {
    const loaded = await this.loadKey(key);
    const sub = loaded?.subs.find((s) => s.id === rec.subs[0]);
    if (!loaded || !sub) return undefined;
    const m = rec.msgs[0];
    let outcome: Outcome;
    switch (sub.doc.protocol) {
      case 'sqs':
        [outcome] = await this.toSqs(sub, rec, [m], new Map());
        break;
      case 'http':
      case 'https':
        outcome = await this.toHttp(sub, rec, m);
        break;
      case 'email':
      case 'email-json':
        if (this.mailer) {
          outcome = await this.toEmail(this.mailer, sub, loaded.topic.doc, rec, m);
          break;
        }
        // without --smtp, email waits in the outbox like the protocols Wharf does not send
        outcome = await this.outboxCopy(loaded.topic, sub, rec, m);
        break;
      default:
        outcome = await this.outboxCopy(loaded.topic, sub, rec, m);
    }
    return { outcome, sub: sub.doc, t: loaded.topic.doc };
  }

  private async outboxCopy(
    topic: Resource<TopicDoc>,
    sub: Subscriber,
    rec: PublishRecord,
    m: Published,
  ): Promise<Outcome> {
    await toOutbox(this.svc, topic.account, topic.region, sub.doc.protocol, {
      SubscriptionArn: sub.arn,
      Endpoint: sub.doc.endpoint,
      TopicArn: rec.topic,
      MessageId: m.id,
      Message: sub.raw ? textFor(m, sub.doc.protocol) : await this.body(sub, rec, m, new Map()),
      ...(m.subject !== undefined ? { Subject: m.subject } : {}),
    });
    return { ok: true };
  }

  /** The copy one subscriber gets: the message itself (raw), or the signed JSON envelope. */
  private async body(
    sub: Subscriber,
    rec: PublishRecord,
    m: Published,
    shared: Map<string, EnvelopeParts>,
    replayed = false,
  ): Promise<string> {
    if (sub.raw) return textFor(m, sub.doc.protocol);
    const signer = await this.signerNow();
    const text = textFor(m, sub.doc.protocol);
    // one signature and layout per message and text, however many subscribers share it
    // (nothing is awaited between the get and the set)
    const k = `${m.id}\n${text === m.body ? '' : sub.doc.protocol}`;
    let parts = shared.get(k);
    if (!parts) {
      const toSign = notificationStringToSign(rec, m, sub.doc.protocol);
      const signed = this.signed(signer, toSign, rec.sv ?? '1', rec.base);
      parts = notificationParts(rec, m, sub.doc.protocol, signed, replayed);
      shared.set(k, parts);
    }
    return notification(parts, rec.base, sub.arn, sub.token);
  }

  /**
   * A replay's copy of an archived message to its one subscription (rec.subs[0]): marked as
   * replayed, with its MessageId and Timestamp, and a deduplication id of its own so a FIFO
   * queue that had the original within 5 minutes takes it. False: retry.
   */
  private async replayTo(rec: PublishRecord, replayId: string): Promise<boolean> {
    const t = parseArn(rec.topic)!;
    const loaded = await this.loadKey({ kind: TOPIC, account: t.account, region: t.region, name: t.resource });
    const sub = loaded?.subs.find((s) => s.id === rec.subs[0]);
    if (!loaded || !sub) return true;
    const m = rec.msgs[0]!;
    if (sub.doc.protocol !== 'sqs') return (await this.outboxCopy(loaded.topic, sub, rec, m)).ok;
    const [o] = await this.toSqs(sub, rec, [m], new Map(), `${m.id}:${replayId}`);
    if (o!.ok) return true;
    if (o!.client) await this.deadLetterTo(sub, rec, o!.error);
    return o!.client;
  }

  private async toSqs(
    sub: Subscriber,
    rec: PublishRecord,
    msgs: Published[],
    sigs: Map<string, EnvelopeParts>,
    replay?: string,
  ) {
    const queueFifo = sub.doc.endpoint.endsWith('.fifo');
    const copies: QueueCopy[] = [];
    for (const m of msgs) {
      const c: QueueCopy = { body: await this.body(sub, rec, m, sigs, replay !== undefined), dedup: replay ?? m.id };
      if (sub.raw && m.attrs) c.attrs = m.attrs;
      // a FIFO topic's group reaches FIFO queues only
      if (queueFifo && m.group !== undefined) c.group = m.group;
      copies.push(c);
    }
    return sendToQueue(this.svc, sub.doc.endpoint, rec.base, copies, this.o.onError);
  }

  private async toHttp(sub: Subscriber, rec: PublishRecord, m: Published): Promise<Outcome> {
    const headers: Record<string, string> = {
      'content-type': sub.policy?.requestPolicy.headerContentType ?? 'text/plain; charset=UTF-8',
      'user-agent': AGENT,
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': m.id,
      'x-amz-sns-topic-arn': rec.topic,
      'x-amz-sns-subscription-arn': sub.arn,
    };
    if (sub.raw) headers['x-amz-sns-rawdelivery'] = 'true';
    const r = await this.poster.post(
      sub.doc.endpoint,
      headers,
      await this.body(sub, rec, m, new Map()),
      HTTP_TIMEOUT_MS,
    );
    if ('error' in r) return { ok: false, client: false, error: r.error };
    // AWS: anything from 200 to 499 counts as delivered
    return r.status >= 200 && r.status < 500 ? { ok: true } : { ok: false, client: false, error: `HTTP ${r.status}` };
  }

  private async toEmail(
    mailer: Mailer,
    sub: Subscriber,
    topic: TopicDoc,
    rec: PublishRecord,
    m: Published,
  ): Promise<Outcome> {
    const text =
      sub.doc.protocol === 'email-json'
        ? await this.body(sub, rec, m, new Map())
        : `${textFor(m, 'email')}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n${unsubscribeUrl(rec.base, sub.arn, sub.token)}\n\nPlease do not reply directly to this email.`;
    const r = await mailer.send({
      to: sub.doc.endpoint,
      subject: m.subject ?? 'AWS Notification Message',
      text,
      fromName: topic.attributes.DisplayName || 'AWS Notifications',
    });
    return r.ok ? { ok: true } : { ok: false, client: r.permanent, error: r.error };
  }

  private async deadLetter(key: ResourceKey, rec: PublishRecord, error: string): Promise<void> {
    const sub = (await this.loadKey(key))?.subs.find((s) => s.id === rec.subs[0]);
    if (sub) await this.deadLetterTo(sub, rec, error);
  }

  /** The copy goes to the subscription's dead-letter queue; without one it is dropped, as AWS drops it. */
  private async deadLetterTo(sub: Subscriber, rec: PublishRecord, _error: string): Promise<void> {
    const policy = sub.doc.attributes.RedrivePolicy;
    if (!policy) return;
    let arn: string | undefined;
    try {
      arn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
    } catch {
      arn = undefined;
    }
    if (!arn) return;
    const copies: QueueCopy[] = [];
    for (const m of rec.msgs) {
      const c: QueueCopy = { body: await this.body(sub, rec, m, new Map()), dedup: m.id };
      if (sub.raw && m.attrs) c.attrs = m.attrs;
      if (arn.endsWith('.fifo') && m.group !== undefined) c.group = m.group;
      copies.push(c);
    }
    const [o] = await sendToQueue(this.svc, arn, rec.base, copies, this.o.onError);
    if (o && !o.ok) this.o.onError(new Error(`dead-letter queue ${arn} refused a copy: ${o.error}`));
  }

  /** A topic was deleted: its cached subscribers go. */
  forget(topic: ResourceKey): void {
    this.cache.delete(`${topic.account}/${topic.region}/${topic.name}`);
  }

  async stop(): Promise<void> {
    await Promise.all([this.publishes.stop(), this.deliveries.stop(), this.replays.stop()]);
    // requests still waiting for an endpoint end now; their jobs stay for the next start
    this.poster.close();
    await this.deliveries.settle();
    this.mailer?.close();
  }
}
