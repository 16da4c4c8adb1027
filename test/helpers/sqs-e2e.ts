/** Shared set-up for the SQS end-to-end suites: one in-memory server on a ManualClock per describe block. */
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { ManualClock, type Wharf } from '../../src/index.js';
import { expectError, PROTOCOLS, sqsClient, withWharf, type Proto, type SdkError, type SqsTestClient } from './sqs.js';
import { queueKey } from '../../src/services/sqs/naming.js';

export interface Env {
  wharf: Wharf;
  clock: ManualClock;
  /** the default client (account 000000000000) */
  sqs: SqsTestClient;
  proto: Proto;
  /** another client on the same server and protocol (a second consumer) */
  other: SqsTestClient;
}

/** Starts a server with a ManualClock before the block's tests and stops it (and its clients) after. */
export function useWharf(proto: Proto): Env {
  const env = { proto } as Env;
  beforeAll(async () => {
    env.clock = new ManualClock();
    env.wharf = await withWharf({ clock: env.clock });
    env.sqs = sqsClient(env.wharf.endpoint, proto);
    env.other = sqsClient(env.wharf.endpoint, proto);
  });
  afterAll(async () => {
    env.sqs?.destroy();
    env.other?.destroy();
    await env.wharf?.stop();
  });
  return env;
}

export interface Variant {
  proto: Proto;
  fifo: boolean;
  label: string;
}

/** Every protocol × queue type. */
export const VARIANTS: Variant[] = PROTOCOLS.flatMap((proto) =>
  [false, true].map((fifo) => ({ proto, fifo, label: `${proto} ${fifo ? 'FIFO' : 'standard'}` })),
);

let counter = 0;
/** A queue name unique within the process (FIFO names get the .fifo suffix). */
export function uniqueName(prefix: string, fifo = false): string {
  return `${prefix}-${++counter}${fifo ? '.fifo' : ''}`;
}

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
export const arnOf = (name: string, account = ACCOUNT) => `arn:aws:sqs:${REGION}:${account}:${name}`;
export const nameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
export const arnOfUrl = (url: string) => arnOf(nameOf(url), url.split('/').slice(-2)[0]);

/** Creates a queue of the variant's type; FIFO queues get content-based deduplication unless told otherwise. */
export async function createQueue(
  sqs: SqsTestClient,
  prefix: string,
  fifo: boolean,
  attributes: Record<string, string> = {},
): Promise<string> {
  const base: Record<string, string> = fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {};
  const { QueueUrl } = await sqs.call('CreateQueue', {
    QueueName: uniqueName(prefix, fifo),
    Attributes: { ...base, ...attributes },
  });
  return QueueUrl as string;
}

let dedup = 0;
/** Adds what a FIFO send needs (a group, a fresh deduplication id) unless the entry names them. */
export function fifoFields(fifo: boolean, entry: Record<string, unknown> = {}): Record<string, unknown> {
  if (!fifo) return entry;
  return { MessageGroupId: 'g', MessageDeduplicationId: `d-${++dedup}`, ...entry };
}

/** The number of receives parked in a long poll, on one queue or on all of them. */
export async function parked(wharf: Wharf, queueUrl?: string): Promise<number> {
  if (!queueUrl) return wharf.services.sqs.longPoll.waiting();
  const [account, name] = queueUrl.split('/').slice(-2);
  const q = await wharf.stores.sqs.getQueue(account, REGION, name);
  return q ? wharf.services.sqs.longPoll.waitingOn(queueKey(q.id)) : 0;
}

/**
 * Waits (in real time, briefly) until the server has exactly n receives parked in a long poll,
 * on the queue if given.
 */
export async function waitForWaiters(wharf: Wharf, n: number, queueUrl?: string): Promise<void> {
  await vi.waitFor(async () => expect(await parked(wharf, queueUrl)).toBe(n), { timeout: 5000, interval: 2 });
}

/** Lets pending I/O run: a full request round trip on another client. */
export async function roundTrip(sqs: SqsTestClient): Promise<void> {
  await sqs.call('ListQueues', { QueueNamePrefix: 'no-such-prefix-' });
}

/** Tracks whether a promise has settled, without awaiting it. */
export function track<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  const promise = p.finally(() => {
    done = true;
  });
  // the result is awaited by the test; keep an early rejection from being reported as unhandled
  promise.catch(() => {});
  return { promise, settled: () => done };
}

export async function attrs(sqs: SqsTestClient, QueueUrl: string, ...names: string[]): Promise<Record<string, string>> {
  const r = await sqs.call('GetQueueAttributes', { QueueUrl, AttributeNames: names.length ? names : ['All'] });
  return (r.Attributes ?? {}) as Record<string, string>;
}

export async function counts(sqs: SqsTestClient, QueueUrl: string): Promise<[number, number, number]> {
  const a = await attrs(
    sqs,
    QueueUrl,
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
    'ApproximateNumberOfMessagesDelayed',
  );
  return [
    Number(a.ApproximateNumberOfMessages),
    Number(a.ApproximateNumberOfMessagesNotVisible),
    Number(a.ApproximateNumberOfMessagesDelayed),
  ];
}

/**
 * expectError, with the AWS message in err.message: the Query-era SDK builds modelled errors
 * without it (it says 'UnknownError' and keeps the text in err.Error.Message), as it would
 * against AWS, whose XML error body is the same.
 */
export async function awsError(p: Promise<unknown>, name: string, proto: Proto): Promise<SdkError> {
  const err = (await expectError(p, name, proto)) as SdkError & { Error?: { Message?: string } };
  if (err.message === 'UnknownError' && typeof err.Error?.Message === 'string') err.message = err.Error.Message;
  return err;
}
