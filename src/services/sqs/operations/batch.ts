/** Checks common to every *Batch action, and per-entry failures. */
import { ServiceError } from '../../../kernel/errors.js';
import { SqsErrors } from '../errors.js';

const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

export interface BatchFailure {
  Id: string;
  SenderFault: boolean;
  Code: string;
  Message: string;
}

export function checkBatch(entries: unknown, entryName: string): { Id: string }[] {
  const list = (entries ?? []) as { Id?: unknown }[];
  if (!Array.isArray(list) || list.length === 0) {
    throw SqsErrors.EmptyBatchRequest(`There should be at least one ${entryName} in the request.`);
  }
  if (list.length > 10) {
    throw SqsErrors.TooManyEntriesInBatchRequest(
      `Maximum number of entries per request are 10. You have sent ${list.length}.`,
    );
  }
  const seen = new Set<string>();
  for (const [i, e] of list.entries()) {
    if (e?.Id === undefined || e?.Id === null) {
      throw SqsErrors.MissingParameter(`The request must contain the parameter ${entryName}.${i + 1}.Id.`);
    }
    if (typeof e.Id !== 'string' || !ENTRY_ID.test(e.Id)) {
      throw SqsErrors.InvalidBatchEntryId(
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
    }
    if (seen.has(e.Id)) throw SqsErrors.BatchEntryIdsNotDistinct(`Id ${e.Id} repeated.`);
    seen.add(e.Id);
  }
  return list as { Id: string }[];
}

export function batchError(id: string, err: unknown): BatchFailure {
  if (err instanceof ServiceError) {
    return { Id: id, SenderFault: err.fault === 'client', Code: err.code, Message: err.message };
  }
  throw err;
}
