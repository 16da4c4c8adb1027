/**
 * SNS state: topics (`sns.topic`) and subscriptions (`sns.subscription`) in the resource store;
 * published messages and their deliveries on durable queues (store/jobs): `sns.publish` holds one
 * record per Publish or PublishBatch (the bodies once, the matched subscriptions' ids), and
 * `sns.deliver` one job per delivery that waits for a retry or goes over HTTP.
 */
import type { Clock } from '../../kernel/clock.js';
import type { RequestContext } from '../../kernel/context.js';
import type { StoreKernel } from '../../store/kernel.js';
import type { DurableQueues } from '../../store/jobs/types.js';
import type { Resource, ResourceKey, ResourceStore } from '../../store/resources.js';
import { effectivePolicy } from './delivery-policy.js';
import type { ReplayState } from './archive.js';
import type { Fanout } from './fanout.js';

export const TOPIC = 'sns.topic';
export const SUBSCRIPTION = 'sns.subscription';

export interface TopicDoc {
  fifo: boolean;
  /** the attributes as the user set them (AWS string values) */
  attributes: Record<string, string>;
  /** since when an ArchivePolicy has kept its messages (archive.ts) */
  archiveSince?: number;
}

export interface SubscriptionDoc {
  protocol: string;
  endpoint: string;
  owner: string;
  /** who subscribed (SubscriptionPrincipal) */
  principal: string;
  /** the attributes as set (FilterPolicy, RawMessageDelivery, ...) */
  attributes: Record<string, string>;
  /** waiting for the endpoint to confirm (http, https, email) */
  pending: boolean;
  /** the confirmation token sent to the endpoint */
  token?: string;
  authenticateOnUnsubscribe?: boolean;
  /** the replay its ReplayPolicy started (archive.ts) */
  replay?: ReplayState;
}

export interface SnsQuotas {
  /** AWS: 200 filter policies per topic */
  filterPoliciesPerTopic: number;
}

/** Sends confirmation requests to endpoints that must confirm (HTTP/S, email). */
export interface Confirmations {
  request(sub: Resource<SubscriptionDoc>, baseUrl: string): Promise<void>;
  unsubscribed(sub: Resource<SubscriptionDoc>, baseUrl: string): Promise<void>;
}

export interface SnsDeps {
  resources: ResourceStore;
  clock: Clock;
  jobs: DurableQueues;
  kernel: Pick<StoreKernel, 'onWake' | 'onMissedWakeups' | 'secret'>;
  call(service: string, operation: string, ctx: RequestContext, input: Record<string, unknown>): Promise<unknown>;
  quotas?: Partial<SnsQuotas>;
}

export class SnsService {
  readonly resources: ResourceStore;
  readonly clock: Clock;
  readonly jobs: DurableQueues;
  readonly quotas: SnsQuotas;
  /** set by the delivery side once it has started */
  confirmations: Confirmations = { request: async () => {}, unsubscribed: async () => {} };
  /** publishes and delivers (set at start, once the service exists) */
  fanout!: Fanout;

  constructor(readonly deps: SnsDeps) {
    this.resources = deps.resources;
    this.clock = deps.clock;
    this.jobs = deps.jobs;
    this.quotas = { filterPoliciesPerTopic: 200, ...deps.quotas };
  }

  key(account: string, region: string, name: string): ResourceKey {
    return { kind: TOPIC, account, region, name };
  }

  /** How many of these subscriptions have a filter policy (AWS's quota counts them per topic). */
  filterPolicies(subs: Resource<SubscriptionDoc>[]): number {
    return subs.filter((s) => !!s.doc.attributes.FilterPolicy).length;
  }

  /** The EffectiveDeliveryPolicy an HTTP/S subscription reports. */
  effectiveDeliveryPolicy(topic: TopicDoc | undefined, sub: SubscriptionDoc): string {
    return JSON.stringify(effectivePolicy(topic, sub));
  }
}
