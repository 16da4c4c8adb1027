/** SQS clients for tests: the current JS SDK (AWS JSON 1.0) and 3.445 (AWS Query) side by side. */
import * as jsonSdk from '@aws-sdk/client-sqs';
import * as querySdk from 'sqs-query-client';
import { startWharf, type StartOptions, type Wharf } from '../../src/index.js';
import { dropSchema, freshSchema, PG_URL } from './pg.js';

export type Proto = 'json' | 'query';
export const PROTOCOLS: Proto[] = ['json', 'query'];

// Both SDK builds expose the same command names; the tests drive them by name.
type AnyInput = Record<string, unknown>;
type AnyOutput = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SqsTestClient {
  proto: Proto;
  call(op: string, input?: AnyInput): Promise<AnyOutput>;
  destroy(): void;
}

export function sqsClient(endpoint: string, proto: Proto, accessKeyId = 'test'): SqsTestClient {
  const mod = (proto === 'json' ? jsonSdk : querySdk) as unknown as Record<string, new (x: unknown) => unknown>;
  const Client = mod.SQSClient as unknown as new (cfg: unknown) => {
    send(c: unknown): Promise<AnyOutput>;
    destroy(): void;
  };
  const client = new Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    proto,
    call: (op, input = {}) => {
      const Cmd = mod[`${op}Command`];
      if (!Cmd) throw new Error(`no command ${op}`);
      return client.send(new Cmd(input));
    },
    destroy: () => client.destroy(),
  };
}

// The Query-era SDK names errors by their legacy Query code, as it would against AWS.
const QUERY_CODES: Record<string, string> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  QueueDeletedRecently: 'AWS.SimpleQueueService.QueueDeletedRecently',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
};

export type SdkError = Error & { $metadata?: { httpStatusCode?: number }; Code?: string; $fault?: string };

/**
 * Expects a call to fail with the given error (shape name, or for unmodelled errors the Query
 * code such as InvalidParameterValue); returns the error.
 */
export async function expectError(p: Promise<unknown>, name: string, proto: Proto = 'json'): Promise<SdkError> {
  // a Query-era SDK maps the code to the modelled class only for operations whose model lists it
  const accepted = proto === 'query' ? [name, QUERY_CODES[name] ?? name] : [name];
  const want = accepted.join(' or ');
  try {
    await p;
  } catch (e) {
    const err = e as SdkError;
    // the JSON SDK names unmodelled errors by their query code header (x-amzn-query-error)
    const got = err.name === 'SQSServiceException' && err.Code ? err.Code : err.name;
    if (!accepted.includes(got) && !accepted.includes(err.Code ?? ''))
      throw new Error(`expected ${want}, got ${err.name}: ${err.message}`);
    return err;
  }
  throw new Error(`expected ${want}, but the call succeeded`);
}

/**
 * An in-process server for a test file. With WHARF_TEST_STORE=postgres it runs on the machine's
 * PostgreSQL in a schema of its own, dropped again by stop().
 */
export async function withWharf(opts: StartOptions = {}): Promise<Wharf> {
  if (process.env.WHARF_TEST_STORE !== 'postgres' || opts.store)
    return startWharf({ maintenanceIntervalMs: 0, ...opts });
  const schema = freshSchema();
  const wharf = await startWharf({
    maintenanceIntervalMs: 0,
    store: PG_URL,
    storeSchema: schema,
    storePoolSize: 4,
    ...opts,
  });
  const stop = wharf.stop.bind(wharf);
  return Object.assign(wharf, {
    stop: async () => {
      await stop();
      await dropSchema(schema);
    },
  });
}
