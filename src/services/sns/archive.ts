/**
 * FIFO message archiving and replay.
 *
 * A FIFO topic with an ArchivePolicy keeps every message published while the policy is set, for
 * its MessageRetentionPeriod (1–365 days), each as a resource (`sns.archived`) named
 * `<topic>:<sequence number>:<message id>`, so that a topic's archive lists in publish order.
 * Entries past their retention are dropped as a listing meets them; the archive goes with the
 * policy or the topic.
 *
 * A ReplayPolicy set on a subscription (`{"PointType":"Timestamp","StartingPoint":…,
 * "EndingPoint":…}`) starts a replay: one job on the durable queue `sns.replay` that delivers the
 * archived messages published from StartingPoint (to EndingPoint) that pass the subscription's
 * filter policy, a page at a time, in order. Its position and ReplayStatus (Pending, In progress,
 * Completed, Failed) are kept on the subscription, so a replay carries on after a crash or on
 * another node. A new ReplayPolicy replaces the replay under way.
 */
import { randomUUID } from 'node:crypto';
import { Drain } from '../../delivery/drain.js';
import type { Job } from '../../store/jobs/types.js';
import type { Resource, ResourceKey } from '../../store/resources.js';
import { SnsErrors } from './errors.js';
import { TopicFilter } from './filter.js';
import type { Published, PublishRecord } from './messages.js';
import type { SnsService, SubscriptionDoc, TopicDoc } from './service.js';

export const ARCHIVED = 'sns.archived';
export const REPLAY_QUEUE = 'sns.replay';
const DAY_MS = 86_400_000;
const PAGE = 100;
const LEASE_MS = 60_000;

export interface ArchivedDoc {
  /** the record cut to this one message, for no subscription */
  rec: PublishRecord;
  keepUntil: number;
}

/** A subscription's replay: what its ReplayPolicy asked for, and how far it got. */
export interface ReplayState {
  id: string;
  start: number;
  end?: number;
  status: 'Pending' | 'In progress' | 'Completed' | 'Failed';
  /** the name of the last archive entry looked at */
  after?: string;
}

const invalid = (why: string) => SnsErrors.invalid(`ArchivePolicy Reason: ${why}`);

/** A policy's JSON object, with no field but the ones it may have. */
function policyFields(value: string, fields: string[], fail: (why: string) => Error): Record<string, unknown> {
  let p: unknown;
  try {
    p = JSON.parse(value);
  } catch {
    throw fail('failed to parse JSON.');
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw fail('must be a JSON object');
  for (const k of Object.keys(p)) if (!fields.includes(k)) throw fail(`Unknown field ${k}`);
  return p as Record<string, unknown>;
}

/** Checks an ArchivePolicy value; `{}` turns archiving off. */
export function checkArchivePolicy(value: string, fifo: boolean): void {
  if (!fifo) throw SnsErrors.invalid('ArchivePolicy Reason: Message archiving is only supported on FIFO topics');
  const days = policyFields(value, ['MessageRetentionPeriod'], invalid).MessageRetentionPeriod;
  if (days === undefined) return;
  const n = typeof days === 'string' && /^\d+$/.test(days) ? Number(days) : days;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 365)
    throw invalid('MessageRetentionPeriod must be an integer from 1 to 365 days');
}

/** How long the topic keeps its messages, or undefined when it does not archive. */
export function retentionMs(topic: TopicDoc): number | undefined {
  const p = topic.attributes.ArchivePolicy;
  if (!p || !topic.fifo) return undefined;
  const days = (JSON.parse(p) as { MessageRetentionPeriod?: unknown }).MessageRetentionPeriod;
  return days === undefined ? undefined : Number(days) * DAY_MS;
}

/** The earliest time a replay can start from: when archiving began, or the retention's start. */
export function beginningArchiveTime(topic: TopicDoc, now: number): number | undefined {
  const keep = retentionMs(topic);
  if (keep === undefined || topic.archiveSince === undefined) return undefined;
  return Math.max(topic.archiveSince, now - keep);
}

const replayInvalid = (why: string) => SnsErrors.invalid(`ReplayPolicy Reason: ${why}`);

function instant(v: unknown, name: string): number {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw replayInvalid(`${name} must be a timestamp (ISO 8601)`);
  return t;
}

/** Checks a ReplayPolicy against the topic's archive; answers the window it asks for. */
export function parseReplayPolicy(value: string, topic: TopicDoc, now: number): { start: number; end?: number } {
  const r = policyFields(value, ['PointType', 'StartingPoint', 'EndingPoint'], replayInvalid);
  if (r.PointType !== 'Timestamp') throw replayInvalid('PointType must be Timestamp');
  const start = instant(r.StartingPoint, 'StartingPoint');
  const begins = beginningArchiveTime(topic, now);
  if (begins === undefined) throw replayInvalid('the topic has no ArchivePolicy');
  if (start > now) throw replayInvalid('StartingPoint must not be in the future');
  if (start < begins)
    throw replayInvalid(
      `StartingPoint must not be before the topic's BeginningArchiveTime ${new Date(begins).toISOString()}`,
    );
  if (r.EndingPoint === undefined) return { start };
  const end = instant(r.EndingPoint, 'EndingPoint');
  if (end <= start) throw replayInvalid('EndingPoint must be after StartingPoint');
  return { start, end };
}

/** Keeps a FIFO topic's message in its archive (idempotent: a retried record writes the same entry). */
export async function archive(svc: SnsService, topic: ResourceKey, rec: PublishRecord, keepMs: number): Promise<void> {
  for (const m of rec.msgs) {
    const one: PublishRecord = { ...rec, subs: [], msgs: [{ ...m, to: undefined }] };
    await svc.resources.put<ArchivedDoc>(
      { kind: ARCHIVED, account: topic.account, region: topic.region, name: `${topic.name}:${m.seq}:${m.id}` },
      { rec: one, keepUntil: rec.ts + keepMs },
      { now: svc.clock.now() },
    );
  }
}

/** Drops a topic's whole archive (its policy or the topic went). */
export async function dropArchive(svc: SnsService, topic: ResourceKey): Promise<void> {
  for (;;) {
    const page = await svc.resources.list(ARCHIVED, topic.account, topic.region, {
      prefix: `${topic.name}:`,
      limit: 500,
    });
    if (!page.length) return;
    for (const e of page) await svc.resources.delete(e, { now: svc.clock.now() });
  }
}

/** Starts (or replaces) a subscription's replay: its state on the doc, and the job that runs it. */
export async function startReplay(
  svc: SnsService,
  sub: Resource<SubscriptionDoc>,
  window: { start: number; end?: number },
): Promise<SubscriptionDoc> {
  const replay: ReplayState = { id: randomUUID(), ...window, status: 'Pending' };
  const doc: SubscriptionDoc = { ...sub.doc, replay };
  await svc.resources.put(sub, doc, { now: svc.clock.now(), ifVersion: sub.version });
  const key = { kind: sub.kind, account: sub.account, region: sub.region, name: sub.name };
  const now = svc.clock.now();
  await svc.jobs.enqueue(
    REPLAY_QUEUE,
    [{ id: `${sub.name}\n${replay.id}`, payload: Buffer.from(JSON.stringify(key)), dueAt: now }],
    now,
  );
  return doc;
}

interface ReplayDeps {
  svc: SnsService;
  /** delivers one archived message, marked as replayed, to the subscription; false: retry later */
  deliver(sub: Resource<SubscriptionDoc>, rec: PublishRecord, replayId: string): Promise<boolean>;
  /** a replay with an EndingPoint finished: the subscription takes no new messages */
  ended(sub: Resource<SubscriptionDoc>): Promise<void>;
  onError(e: Error): void;
}

/** Runs replays: the drain of `sns.replay`. */
export class Replays {
  readonly drain: Drain;

  constructor(private readonly d: ReplayDeps) {
    const { svc } = d;
    this.drain = new Drain({
      queue: REPLAY_QUEUE,
      jobs: svc.jobs,
      kernel: svc.deps.kernel,
      clock: svc.clock,
      batch: 4,
      leaseMs: LEASE_MS,
      onError: d.onError,
      process: (jobs) => this.run(jobs),
    });
  }

  private async run(jobs: Job[]): Promise<void> {
    const { svc } = this.d;
    for (const job of jobs) {
      const lease = { id: job.id, attempt: job.attempts };
      const key = JSON.parse(job.payload.toString()) as ResourceKey;
      const replayId = job.id.slice(job.id.indexOf('\n') + 1);
      const more = await this.page(key, replayId).catch((e: Error) => {
        this.d.onError(e);
        return 'retry' as const;
      });
      const now = svc.clock.now();
      if (more === 'done') await svc.jobs.ack(REPLAY_QUEUE, [lease]);
      else if (more === 'more') await svc.jobs.retry(REPLAY_QUEUE, lease, now, 'next page');
      else await svc.jobs.retry(REPLAY_QUEUE, lease, now + 1000, 'a delivery failed');
    }
  }

  /** One page of a replay: 'more' to come, 'done', or 'retry' after a failed delivery. */
  private async page(key: ResourceKey, replayId: string): Promise<'more' | 'done' | 'retry'> {
    const { svc } = this.d;
    const sub = await svc.resources.get<SubscriptionDoc>(key);
    // unsubscribed, or a newer ReplayPolicy took over
    if (!sub || sub.doc.replay?.id !== replayId) return 'done';
    const state = sub.doc.replay;
    const topicName = key.name.slice(0, key.name.indexOf(':'));
    const now = svc.clock.now();
    const entries = await svc.resources.list<ArchivedDoc>(ARCHIVED, key.account, key.region, {
      prefix: `${topicName}:`,
      ...(state.after !== undefined ? { after: state.after } : {}),
      limit: PAGE,
    });
    const filter = new TopicFilter([
      { policy: sub.doc.attributes.FilterPolicy, scope: sub.doc.attributes.FilterPolicyScope },
    ]);
    let after = state.after;
    let finished = entries.length < PAGE;
    for (const e of entries) {
      if (e.doc.keepUntil < now) {
        await svc.resources.delete(e, { now });
        after = e.name;
        continue;
      }
      const rec = e.doc.rec;
      if (state.end !== undefined && rec.ts > state.end) {
        finished = true;
        break;
      }
      const m: Published = rec.msgs[0]!;
      if (rec.ts >= state.start && filter.matching(m).length) {
        if (!(await this.d.deliver(sub, { ...rec, subs: [key.name.slice(topicName.length + 1)] }, replayId))) {
          await this.save(sub, { ...state, after, status: 'In progress' });
          return 'retry';
        }
      }
      after = e.name;
    }
    const status = finished ? 'Completed' : 'In progress';
    const saved = await this.save(sub, { ...state, ...(after !== undefined ? { after } : {}), status });
    if (finished && state.end !== undefined && saved) await this.d.ended(saved);
    return finished ? 'done' : 'more';
  }

  private async save(sub: Resource<SubscriptionDoc>, replay: ReplayState) {
    // a concurrent change to the subscription (another attribute, a new replay) wins; the job
    // reads the subscription again on its next page
    const fresh = await this.d.svc.resources.get<SubscriptionDoc>(sub);
    if (!fresh || fresh.doc.replay?.id !== replay.id) return undefined;
    return this.d.svc.resources.put(fresh, { ...fresh.doc, replay }, { now: this.d.svc.clock.now() });
  }

  stop(): Promise<void> {
    return this.drain.stop();
  }
}
