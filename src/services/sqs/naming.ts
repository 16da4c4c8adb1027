/** Queue names, URLs and ARNs. */
import { parseArn } from '../shared/arn.js';
import { SqsErrors } from './errors.js';

const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;
const ACCOUNT = /^\d{12}$/;

export const NAME_RULE = 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length';

export function validateQueueName(name: string, fifo: boolean): void {
  if (fifo) {
    if (!FIFO_NAME.test(name)) {
      throw SqsErrors.InvalidParameterValue(
        'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length',
      );
    }
  } else if (!NAME.test(name)) {
    throw SqsErrors.InvalidParameterValue(NAME_RULE);
  }
}

export function queueUrl(baseUrl: string, account: string, name: string): string {
  return `${baseUrl}/${account}/${name}`;
}

/** The key a queue's long polls wait under (kernel/waiters.ts). */
export function queueKey(id: number): string {
  return `sqs/${id}`;
}

export function queueArn(region: string, account: string, name: string): string {
  return `arn:aws:sqs:${region}:${account}:${name}`;
}

export interface QueueAddress {
  account: string;
  name: string;
  /** set when the URL names it (LocalStack-style /queue/<region>/<account>/<name>) */
  region?: string;
}

/**
 * Parses any queue URL form by its path: `<any host>/<account>/<name>` (AWS, ElasticMQ,
 * LocalStack dynamic) or `/queue/<region>/<account>/<name>` (LocalStack path strategy).
 * The host is ignored: clients reach the queue through whatever host they used.
 */
export function parseQueueUrl(url: string): QueueAddress | undefined {
  let path = url;
  const scheme = url.indexOf('://');
  if (scheme >= 0) {
    const slash = url.indexOf('/', scheme + 3);
    path = slash < 0 ? '' : url.slice(slash);
  }
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  const parts = path.split('/').filter(Boolean);
  if (parts.length < 2) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(parts[parts.length - 1]);
  } catch {
    return undefined; // a malformed escape ('%zz') names no queue
  }
  const account = parts[parts.length - 2];
  if (!ACCOUNT.test(account)) return undefined;
  const addr: QueueAddress = { account, name };
  if (parts.length === 4 && parts[0] === 'queue') addr.region = parts[1];
  return addr;
}

/** A queue ARN of the form arn:aws:sqs:<region>:<account>:<name>. */
export function parseQueueArn(arn: string): { region: string; account: string; name: string } | undefined {
  const a = parseArn(arn);
  if (!a || a.service !== 'sqs' || !a.region || !ACCOUNT.test(a.account) || !a.resource) return undefined;
  if (a.resource.includes(':') || a.resource.includes('/')) return undefined;
  return { region: a.region, account: a.account, name: a.resource };
}
