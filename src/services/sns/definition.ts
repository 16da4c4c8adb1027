/** SNS on the platform: AWS Query, signed as `sns`. */
import { defineService, typedOperations } from '../definition.js';
import type { Operations } from './generated/types.js';
import { SnsErrors } from './errors.js';
import { SnsService } from './service.js';
import { listTagsForResource, tagResource, untagResource } from './tags.js';
import { createTopic, deleteTopic, getTopicAttributes, listTopics, setTopicAttributes } from './topics.js';

export const sns = defineService<SnsService>({
  model: 'sns',
  signingName: 'sns',
  protocols: ['query'],
  operations: typedOperations<SnsService, Operations>({
    CreateTopic: createTopic,
    DeleteTopic: deleteTopic,
    GetTopicAttributes: getTopicAttributes,
    ListTagsForResource: listTagsForResource,
    ListTopics: listTopics,
    SetTopicAttributes: setTopicAttributes,
    TagResource: tagResource,
    UntagResource: untagResource,
  }),
  errors: {
    internalFailure: SnsErrors.InternalFailure,
    serviceUnavailable: SnsErrors.ServiceUnavailable,
    invalidAction: SnsErrors.InvalidAction,
    // AWS words a missing parameter the SNS way; the handlers check it
    missingParameter: () => undefined,
  },
  start: async (deps) => new SnsService(deps.stores.kernel.resources, deps.clock),
  stop: () => {},
});
