/** ListQueues / ListDeadLetterSourceQueues tokens: opaque to clients, they carry the last name. */
import { SqsErrors } from '../errors.js';

export function pageToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName })).toString('base64url');
}

export function readPageToken(token: unknown): string | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const o = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof o.after === 'string') return o.after;
  } catch {
    // fall through
  }
  throw SqsErrors.InvalidParameterValue('Invalid NextToken value.');
}
