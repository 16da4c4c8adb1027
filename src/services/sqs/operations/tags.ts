/** TagQueue, UntagQueue, ListQueueTags. */
import type { RequestContext } from '../../../kernel/context.js';
import { LIMITS } from '../attributes.js';
import { missing, SqsErrors } from '../errors.js';
import type { SqsService } from '../service.js';

type Input = Record<string, unknown>;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export function validateTags(queueName: string, current: Record<string, string>, add: Record<string, string>): void {
  for (const [k, v] of Object.entries(add)) {
    if (k.length < 1 || k.length > 128) {
      throw SqsErrors.InvalidParameterValue('Tag keys must be between 1 and 128 characters in length.');
    }
    if (!TAG_KEY.test(k)) {
      throw SqsErrors.InvalidParameterValue(
        'Tag keys may only contain unicode letters, digits, whitespace, or one of these symbols: _ . : / = + - @',
      );
    }
    if (typeof v !== 'string' || v.length > 256) {
      throw SqsErrors.InvalidParameterValue('Tag values must be between 0 and 256 characters in length.');
    }
    if (!TAG_KEY.test(v)) {
      throw SqsErrors.InvalidParameterValue(
        'Tag values may only contain unicode letters, digits, whitespace, or one of these symbols: _ . : / = + - @',
      );
    }
  }
  if (Object.keys({ ...current, ...add }).length > LIMITS.maxTags) {
    throw SqsErrors.InvalidParameterValue(`Too many tags added for queue ${queueName}.`);
  }
}

export async function tagQueue(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const tags = input.Tags as Record<string, string> | undefined;
  if (!tags || Object.keys(tags).length === 0) throw missing('Tags');
  validateTags(q.name, q.tags, tags);
  await svc.store.setQueueTags(q.id, { ...q.tags, ...tags });
  return {};
}

export async function untagQueue(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  const keys = input.TagKeys as string[] | undefined;
  // AWS words no keys (absent or empty) as a key of the wrong length
  if (!keys || keys.length === 0)
    throw SqsErrors.InvalidParameterValue('Tag keys must be between 1 and 128 characters in length.');
  const tags = { ...q.tags };
  for (const k of keys) delete tags[k];
  await svc.store.setQueueTags(q.id, tags);
  return {};
}

export async function listQueueTags(svc: SqsService, ctx: RequestContext, input: Input) {
  const q = await svc.resolve(ctx, input.QueueUrl);
  return Object.keys(q.tags).length ? { Tags: q.tags } : {};
}
