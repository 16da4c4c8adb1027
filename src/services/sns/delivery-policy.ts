/**
 * Delivery policies: what a topic's or an HTTP/S subscription's DeliveryPolicy may say, the
 * effective policy of a subscription, and the retry schedule it gives. AWS documents the four
 * phases (immediate, pre-backoff, backoff, post-backoff), the limits and the defaults; it does not
 * publish the backoff curves, so Wharf's are stated in retryDelay() and in PARITY.md.
 */
import type { SubscriptionDoc, TopicDoc } from './service.js';

export type BackoffFunction = 'linear' | 'arithmetic' | 'geometric' | 'exponential';

export interface RetryPolicy {
  minDelayTarget: number;
  maxDelayTarget: number;
  numRetries: number;
  numMaxDelayRetries: number;
  numNoDelayRetries: number;
  numMinDelayRetries: number;
  backoffFunction: BackoffFunction;
}

export const DEFAULT_RETRY: RetryPolicy = {
  minDelayTarget: 20,
  maxDelayTarget: 20,
  numRetries: 3,
  numMaxDelayRetries: 0,
  numNoDelayRetries: 0,
  numMinDelayRetries: 0,
  backoffFunction: 'linear',
};

/** AWS-managed endpoints (SQS, Lambda, Firehose): 3 immediate, 2 at 1 s, 10 exponential 1→20 s, 100,000 at 20 s. */
export const AWS_MANAGED_RETRY: RetryPolicy = {
  minDelayTarget: 1,
  maxDelayTarget: 20,
  numRetries: 100_015 - 1,
  numNoDelayRetries: 3,
  numMinDelayRetries: 2,
  numMaxDelayRetries: 100_000,
  backoffFunction: 'exponential',
};

/** Customer-managed endpoints (SMTP, SMS, mobile push): 2 at 10 s, 10 exponential 10→600 s, 38 at 600 s. */
export const CUSTOMER_MANAGED_RETRY: RetryPolicy = {
  minDelayTarget: 10,
  maxDelayTarget: 600,
  numRetries: 50 - 1 - 0,
  numNoDelayRetries: 0,
  numMinDelayRetries: 2,
  numMaxDelayRetries: 38,
  backoffFunction: 'exponential',
};

const BACKOFF = new Set(['linear', 'arithmetic', 'geometric', 'exponential']);
/** AWS: an HTTP/S policy may not retry for longer than this, in total */
const MAX_TOTAL_SECONDS = 3600;
const HEADER_TYPES = new Set(['text/plain', 'application/json', 'application/xml']);

type Fail = (why: string) => Error;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function intIn(o: Record<string, unknown>, k: string, lo: number, hi: number, fail: Fail): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw fail(`${k} must be an integer from ${lo} to ${hi}`);
  return v;
}

/** The retry policy a healthyRetryPolicy object gives (AWS's defaults for what it leaves out), or AWS-like errors. */
export function parseRetryPolicy(v: unknown, fail: Fail): RetryPolicy {
  if (!isObject(v)) throw fail('healthyRetryPolicy must be an object');
  const p: RetryPolicy = { ...DEFAULT_RETRY };
  const min = intIn(v, 'minDelayTarget', 1, MAX_TOTAL_SECONDS, fail);
  const max = intIn(v, 'maxDelayTarget', 1, MAX_TOTAL_SECONDS, fail);
  if (max !== undefined) p.maxDelayTarget = max;
  if (min !== undefined) p.minDelayTarget = min;
  if (min !== undefined && max === undefined) p.maxDelayTarget = Math.max(min, p.maxDelayTarget);
  if (p.minDelayTarget > p.maxDelayTarget) throw fail('minDelayTarget must be less than or equal to maxDelayTarget');
  p.numRetries = intIn(v, 'numRetries', 0, 100, fail) ?? p.numRetries;
  p.numNoDelayRetries = intIn(v, 'numNoDelayRetries', 0, 100, fail) ?? 0;
  p.numMinDelayRetries = intIn(v, 'numMinDelayRetries', 0, 100, fail) ?? 0;
  p.numMaxDelayRetries = intIn(v, 'numMaxDelayRetries', 0, 100, fail) ?? 0;
  if (p.numNoDelayRetries + p.numMinDelayRetries + p.numMaxDelayRetries > p.numRetries)
    throw fail('numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries');
  if (v.backoffFunction !== undefined) {
    if (typeof v.backoffFunction !== 'string' || !BACKOFF.has(v.backoffFunction))
      throw fail('backoffFunction must be one of linear, arithmetic, geometric, exponential');
    p.backoffFunction = v.backoffFunction as BackoffFunction;
  }
  let total = 0;
  for (let n = 1; n <= p.numRetries; n++) total += retryDelay(p, n);
  if (total > MAX_TOTAL_SECONDS) throw fail(`the total retry time may not exceed ${MAX_TOTAL_SECONDS} seconds`);
  return p;
}

function checkThrottle(v: unknown, fail: Fail): void {
  if (v === undefined || v === null) return;
  if (!isObject(v)) throw fail('throttlePolicy must be an object');
  intIn(v, 'maxReceivesPerSecond', 1, Number.MAX_SAFE_INTEGER, fail);
}

function checkRequest(v: unknown, fail: Fail): void {
  if (v === undefined || v === null) return;
  if (!isObject(v)) throw fail('requestPolicy must be an object');
  const t = v.headerContentType;
  if (t !== undefined && (typeof t !== 'string' || !HEADER_TYPES.has(t.split(';')[0].trim())))
    throw fail('headerContentType must be text/plain, application/json or application/xml');
}

/** Checks a DeliveryPolicy: a subscription's, or a topic's (per protocol, `{"http": {...}}`). */
export function checkDeliveryPolicy(policy: unknown, of: 'subscription' | 'topic', fail: Fail): void {
  if (!isObject(policy)) throw fail('must be a JSON object');
  if (of === 'subscription') {
    if (policy.healthyRetryPolicy !== undefined) parseRetryPolicy(policy.healthyRetryPolicy, fail);
    checkThrottle(policy.throttlePolicy, fail);
    checkRequest(policy.requestPolicy, fail);
    return;
  }
  for (const [protocol, p] of Object.entries(policy)) {
    if (!isObject(p)) throw fail(`${protocol} must be an object`);
    if (p.defaultHealthyRetryPolicy !== undefined) parseRetryPolicy(p.defaultHealthyRetryPolicy, fail);
    checkThrottle(p.defaultThrottlePolicy, fail);
    checkRequest(p.defaultRequestPolicy, fail);
  }
}

const json = (s: string | undefined): Record<string, unknown> | undefined => {
  if (!s) return undefined;
  try {
    const v = JSON.parse(s) as unknown;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
};

/** What an HTTP/S subscription's deliveries follow: its own policy unless the topic disables overrides, else the topic's. */
export function effectivePolicy(topic: TopicDoc | undefined, sub: SubscriptionDoc) {
  const t = json(topic?.attributes.DeliveryPolicy);
  const http = isObject(t?.http) ? t.http : {};
  const s = http.disableSubscriptionOverrides === true ? undefined : json(sub.attributes.DeliveryPolicy);
  const never = () => new Error('unreachable');
  const retry = s?.healthyRetryPolicy ?? http.defaultHealthyRetryPolicy;
  return {
    healthyRetryPolicy: retry === undefined ? { ...DEFAULT_RETRY } : parseRetryPolicy(retry, never),
    sicklyRetryPolicy: null,
    throttlePolicy: (s?.throttlePolicy ?? http.defaultThrottlePolicy ?? null) as {
      maxReceivesPerSecond?: number;
    } | null,
    requestPolicy: (s?.requestPolicy ??
      http.defaultRequestPolicy ?? {
        headerContentType: 'text/plain; charset=UTF-8',
      }) as { headerContentType?: string },
    guaranteed: false,
  };
}

/**
 * Seconds to wait before retry n (1-based): the immediate phase waits 0, pre-backoff waits
 * minDelayTarget, post-backoff maxDelayTarget, and the backoff phase's B retries climb from
 * minDelayTarget to maxDelayTarget along the policy's function of x = i/B (i = 1..B):
 * linear min + (max-min)·x, arithmetic min + (max-min)·x², geometric min·(max/min)^x,
 * exponential min + (max-min)·(2^(x·10) - 1)/(2^10 - 1). Jitter is added by the caller.
 */
export function retryDelay(p: RetryPolicy, n: number): number {
  const backoff = p.numRetries - p.numNoDelayRetries - p.numMinDelayRetries - p.numMaxDelayRetries;
  if (n <= p.numNoDelayRetries) return 0;
  n -= p.numNoDelayRetries;
  if (n <= p.numMinDelayRetries) return p.minDelayTarget;
  n -= p.numMinDelayRetries;
  if (n > backoff) return p.maxDelayTarget;
  const x = n / backoff;
  const { minDelayTarget: lo, maxDelayTarget: hi } = p;
  switch (p.backoffFunction) {
    case 'linear':
      return lo + (hi - lo) * x;
    case 'arithmetic':
      return lo + (hi - lo) * x * x;
    case 'geometric':
      return lo * Math.pow(hi / lo, x);
    case 'exponential':
      return lo + ((hi - lo) * (Math.pow(2, x * 10) - 1)) / (Math.pow(2, 10) - 1);
  }
}
