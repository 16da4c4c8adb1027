/** TagResource, UntagResource, ListTagsForResource (topics). */
import type { RequestContext } from '../../kernel/context.js';
import type { Resource } from '../../store/resources.js';
import type * as T from './generated/types.js';
import { modelErrors } from './generated/errors.js';
import { SnsErrors } from './errors.js';
import type { SnsService, TopicDoc } from './service.js';
import { topicKey } from './topics.js';

/** AWS's quota of tags per topic */
const MAX_TAGS = 50;

async function tagged(svc: SnsService, arn: string | undefined): Promise<Resource<TopicDoc>> {
  const topic = await svc.resources.get<TopicDoc>(topicKey(svc, arn, 'ResourceArn'));
  if (!topic) throw modelErrors.ResourceNotFoundException('Resource does not exist');
  return topic;
}

export async function tagResource(svc: SnsService, _ctx: RequestContext, input: T.TagResourceRequest) {
  const topic = await tagged(svc, input.ResourceArn);
  const tags = { ...topic.tags };
  for (const t of input.Tags ?? []) {
    if (!t.Key || t.Key.length > 128) throw SnsErrors.invalid('Tag Key');
    if ((t.Value ?? '').length > 256) throw SnsErrors.invalid('Tag Value');
    tags[t.Key] = t.Value ?? '';
  }
  if (Object.keys(tags).length > MAX_TAGS) {
    throw modelErrors.TagLimitExceededException('Could not complete request: tag quota of per resource exceeded');
  }
  await svc.resources.put(topic, topic.doc, { now: svc.clock.now(), tags, ifVersion: topic.version });
  return {};
}

export async function untagResource(svc: SnsService, _ctx: RequestContext, input: T.UntagResourceRequest) {
  const topic = await tagged(svc, input.ResourceArn);
  const tags = { ...topic.tags };
  for (const k of input.TagKeys ?? []) delete tags[k];
  await svc.resources.put(topic, topic.doc, { now: svc.clock.now(), tags, ifVersion: topic.version });
  return {};
}

export async function listTagsForResource(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.ListTagsForResourceRequest,
): Promise<T.ListTagsForResourceResponse> {
  const topic = await tagged(svc, input.ResourceArn);
  return { Tags: Object.entries(topic.tags).map(([Key, Value]) => ({ Key, Value })) };
}
