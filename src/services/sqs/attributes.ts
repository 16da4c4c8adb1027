/**
 * Queue attributes: validation on CreateQueue / SetQueueAttributes, defaults, and the parsed
 * configuration the hot path uses. Values are AWS strings throughout.
 */
import { invalidAttrValue, invalidParam, SqsErrors } from './errors.js';
import { parseQueueArn } from './naming.js';
import { invalidCharacter } from './chars.js';
import { DEDUP_WINDOW_MS } from '../../store/sqs/rules.js';

export const LIMITS = Object.freeze({
  maxMessageSize: 1_048_576,
  maxBatchBytes: 1_048_576,
  maxVisibilitySeconds: 43_200,
  maxDelaySeconds: 900,
  maxWaitSeconds: 20,
  maxReceiveCount: 1000,
  maxTags: 50,
  maxAttributesPerMessage: 10,
  dedupWindowMs: DEDUP_WINDOW_MS,
  deleteRecreateMs: 60_000,
  purgeIntervalMs: 60_000,
  /** the default of --sqs-inflight-limit */
  inflightLimit: 120_000,
});

const INTEGER_RANGES: Record<string, [number, number]> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};

const DEFAULTS: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};
const FIFO_DEFAULTS: Record<string, string> = {
  FifoQueue: 'true',
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
};

const SETTABLE = new Set([
  ...Object.keys(INTEGER_RANGES),
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'SqsManagedSseEnabled',
]);
const FIFO_ONLY = new Set(['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']);
export const READ_ONLY = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
];
export const ALL_NAMES = new Set([...SETTABLE, ...FIFO_ONLY, 'FifoQueue', ...READ_ONLY]);

export const unknownAttribute = (name: string) => SqsErrors.InvalidAttributeName(`Unknown Attribute ${name}.`);

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

/** Looks up a queue by ARN for RedrivePolicy validation. */
export type QueueLookup = (arn: string) => { fifo: boolean; attributes: Record<string, string> } | undefined;

function parseBool(name: string, v: string): string {
  const l = v.toLowerCase();
  if (l !== 'true' && l !== 'false') throw invalidAttrValue(name);
  return l;
}

function parseJsonObject(v: string): Record<string, unknown> | undefined {
  try {
    const o = JSON.parse(v);
    return o && typeof o === 'object' && !Array.isArray(o) ? o : undefined;
  } catch {
    return undefined;
  }
}

/** JSON the way AWS echoes a policy in its errors: Python's json.dumps, `, ` and `: ` separators. */
export function echoJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(echoJson).join(', ')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${echoJson(x)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function validateRedrivePolicy(v: string, fifo: boolean, sourceArn: string, lookup: QueueLookup): string {
  const o = parseJsonObject(v);
  if (!o) throw invalidAttrValue('RedrivePolicy', 'Redrive policy is not a valid JSON map.');
  const echo = echoJson(o);
  const bad = (reason: string) => invalidParam('RedrivePolicy', echo, reason);
  for (const k of Object.keys(o)) {
    if (k !== 'deadLetterTargetArn' && k !== 'maxReceiveCount') {
      throw bad('Only following attributes are supported: [maxReceiveCount, deadLetterTargetArn].');
    }
  }
  if (o.deadLetterTargetArn === undefined) {
    throw bad('Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
  }
  if (o.maxReceiveCount === undefined)
    throw bad('Redrive policy does not contain mandatory attribute: maxReceiveCount.');
  const count = typeof o.maxReceiveCount === 'string' ? Number(o.maxReceiveCount) : o.maxReceiveCount;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > LIMITS.maxReceiveCount) {
    throw bad(
      `Invalid value for maxReceiveCount: ${String(o.maxReceiveCount)}, valid values are from 1 to 1000 both inclusive.`,
    );
  }
  const arn = o.deadLetterTargetArn;
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) throw bad('Invalid value for deadLetterTargetArn.');
  if (!parseQueueArn(arn)) throw bad('Only SQS queues are valid resources for deadLetterTargetArn.');
  const dlq = lookup(arn);
  if (!dlq) throw bad('Dead letter target does not exist.');
  if (dlq.fifo !== fifo) throw bad('Dead-letter queue must be same type of queue as the source..');
  const allow = dlq.attributes.RedriveAllowPolicy && parseJsonObject(dlq.attributes.RedriveAllowPolicy);
  if (allow) {
    const permitted =
      allow.redrivePermission === 'allowAll' ||
      (allow.redrivePermission === 'byQueue' &&
        Array.isArray(allow.sourceQueueArns) &&
        allow.sourceQueueArns.includes(sourceArn));
    if (!permitted) throw bad(`Queue ${arn} does not allow this queue to use it as its dead-letter queue.`);
  }
  return JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: count });
}

function validateRedriveAllowPolicy(v: string): string {
  const o = parseJsonObject(v);
  const unsupported = () =>
    invalidAttrValue(
      'RedriveAllowPolicy',
      'Amazon SQS can\u2019t create the redrive allow policy, as it\u2019s in an unsupported format.',
    );
  if (!o) throw unsupported();
  const bad = (reason: string) =>
    invalidParam('RedriveAllowPolicy', v, `Amazon SQS can't create the redrive allow policy. ${reason}`);
  const perm = o.redrivePermission;
  if (perm !== 'allowAll' && perm !== 'denyAll' && perm !== 'byQueue') throw unsupported();
  const arns = o.sourceQueueArns;
  if (perm === 'byQueue') {
    if (!Array.isArray(arns) || arns.length === 0) {
      throw bad(
        'When you specify the byQueue permission type, you must also specify one or more sourceQueueArns values.',
      );
    }
    if (arns.length > 10) throw bad('The maximum number of source queue ARNs you can specify is 10.');
    if (!arns.every((a) => typeof a === 'string')) throw unsupported();
  } else if (arns !== undefined) {
    throw bad('To specify one or more source queue ARNs, you must set redrivePermission to byQueue.');
  }
  return JSON.stringify(o);
}

/**
 * Validates attributes for CreateQueue ('create') or SetQueueAttributes ('set') and returns
 * them normalised. An empty value for Policy, RedrivePolicy, RedriveAllowPolicy or
 * KmsMasterKeyId on SetQueueAttributes removes it.
 */
export function validateAttributes(
  input: Record<string, string>,
  fifo: boolean,
  mode: 'create' | 'set',
  queueArnValue: string,
  lookup: QueueLookup,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(input)) {
    const v = String(raw);
    // values come back in Query XML: characters XML cannot carry would make responses unreadable
    if (invalidCharacter(v)) throw invalidAttrValue(name);
    if (name === 'FifoQueue') {
      if (!fifo) throw unknownAttribute(name);
      if (mode === 'set') throw invalidAttrValue(name, 'Modifying queue type is not supported.');
      if (parseBool(name, v) !== 'true') throw invalidAttrValue(name);
      continue;
    }
    if (FIFO_ONLY.has(name)) {
      if (!fifo) {
        if (name === 'ContentBasedDeduplication') throw unknownAttribute(name);
        throw SqsErrors.InvalidAttributeName(`You can specify the ${name} only when FifoQueue is set to true.`);
      }
      if (name === 'ContentBasedDeduplication') out[name] = parseBool(name, v);
      else if (name === 'DeduplicationScope') {
        if (v !== 'messageGroup' && v !== 'queue') throw invalidAttrValue(name);
        out[name] = v;
      } else {
        if (v !== 'perQueue' && v !== 'perMessageGroupId') throw invalidAttrValue(name);
        out[name] = v;
      }
      continue;
    }
    if (!SETTABLE.has(name)) throw unknownAttribute(name);
    const range = INTEGER_RANGES[name];
    if (range) {
      const t = v.trim();
      if (!/^\d+$/.test(t) || Number(t) < range[0] || Number(t) > range[1]) throw invalidAttrValue(name);
      out[name] = String(Number(t));
    } else if (name === 'SqsManagedSseEnabled') out[name] = parseBool(name, v);
    else if (v === '' && mode === 'set') out[name] = '';
    else if (name === 'Policy') {
      if (!parseJsonObject(v) || Buffer.byteLength(v) > 8192) throw invalidAttrValue(name);
      out[name] = v;
    } else if (name === 'RedrivePolicy') out[name] = validateRedrivePolicy(v, fifo, queueArnValue, lookup);
    else if (name === 'RedriveAllowPolicy') out[name] = validateRedriveAllowPolicy(v);
    else out[name] = v; // KmsMasterKeyId: any key id or alias; there is no KMS here
  }
  if (out.KmsMasterKeyId && out.SqsManagedSseEnabled === 'true') {
    throw SqsErrors.InvalidAttributeName(
      'You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.',
    );
  }
  return out;
}

/** Applies validated changes to the stored attributes (empty values remove). */
export function mergeAttributes(
  stored: Record<string, string>,
  changes: Record<string, string>,
): Record<string, string> {
  const out = { ...stored };
  for (const [k, v] of Object.entries(changes)) {
    if (v === '') delete out[k];
    else out[k] = v;
  }
  // SSE-KMS and SSE-SQS exclude each other: setting one turns the other off
  if (changes.KmsMasterKeyId) out.SqsManagedSseEnabled = 'false';
  if (changes.SqsManagedSseEnabled === 'true') {
    delete out.KmsMasterKeyId;
    delete out.KmsDataKeyReusePeriodSeconds;
  }
  return out;
}

/** The settable attributes with their defaults filled in. */
export function effectiveAttributes(stored: Record<string, string>, fifo: boolean): Record<string, string> {
  const out: Record<string, string> = { ...DEFAULTS, ...(fifo ? FIFO_DEFAULTS : {}), ...stored };
  if (out.KmsMasterKeyId) {
    out.SqsManagedSseEnabled = 'false';
    out.KmsDataKeyReusePeriodSeconds ??= '300';
  }
  return out;
}

/** The first attribute whose requested value differs from the queue's current one, if any. */
export function firstDifference(
  requested: Record<string, string>,
  current: Record<string, string>,
): string | undefined {
  for (const [k, v] of Object.entries(requested)) {
    if (current[k] !== v) return k;
  }
  return undefined;
}

export interface QueueConfig {
  delaySeconds: number;
  maximumMessageSize: number;
  retentionSeconds: number;
  receiveWaitSeconds: number;
  visibilityTimeout: number;
  contentBasedDedup: boolean;
  dedupScope: 'queue' | 'messageGroup';
  redrive?: RedrivePolicy;
}

export function parseConfig(stored: Record<string, string>, fifo: boolean): QueueConfig {
  const e = effectiveAttributes(stored, fifo);
  const c: QueueConfig = {
    delaySeconds: Number(e.DelaySeconds),
    maximumMessageSize: Number(e.MaximumMessageSize),
    retentionSeconds: Number(e.MessageRetentionPeriod),
    receiveWaitSeconds: Number(e.ReceiveMessageWaitTimeSeconds),
    visibilityTimeout: Number(e.VisibilityTimeout),
    contentBasedDedup: e.ContentBasedDeduplication === 'true',
    dedupScope: e.DeduplicationScope === 'messageGroup' ? 'messageGroup' : 'queue',
  };
  if (e.RedrivePolicy) c.redrive = JSON.parse(e.RedrivePolicy) as RedrivePolicy;
  return c;
}
