/** SNS on the platform: AWS Query, signed as `sns`. */
import { defineService, typedOperations } from '../definition.js';
import type { Operations } from './generated/types.js';
import { SnsErrors } from './errors.js';
import { snsAdminRoutes } from './admin.js';
import { Fanout } from './fanout.js';
import { publish, publishBatch } from './publish.js';
import { SnsService } from './service.js';
import {
  confirmSubscription,
  getSubscriptionAttributes,
  listSubscriptions,
  listSubscriptionsByTopic,
  setSubscriptionAttributes,
  subscribe,
  unsubscribe,
} from './subscriptions.js';
import { listTagsForResource, tagResource, untagResource } from './tags.js';
import { createTopic, deleteTopic, getTopicAttributes, listTopics, setTopicAttributes } from './topics.js';

export const sns = defineService<SnsService>({
  model: 'sns',
  signingName: 'sns',
  protocols: ['query'],
  operations: typedOperations<SnsService, Operations>({
    ConfirmSubscription: confirmSubscription,
    CreateTopic: createTopic,
    DeleteTopic: deleteTopic,
    GetSubscriptionAttributes: getSubscriptionAttributes,
    GetTopicAttributes: getTopicAttributes,
    ListSubscriptions: listSubscriptions,
    ListSubscriptionsByTopic: listSubscriptionsByTopic,
    ListTagsForResource: listTagsForResource,
    ListTopics: listTopics,
    Publish: publish,
    PublishBatch: publishBatch,
    SetSubscriptionAttributes: setSubscriptionAttributes,
    SetTopicAttributes: setTopicAttributes,
    Subscribe: subscribe,
    TagResource: tagResource,
    Unsubscribe: unsubscribe,
    UntagResource: untagResource,
  }),
  errors: {
    internalFailure: SnsErrors.InternalFailure,
    serviceUnavailable: SnsErrors.ServiceUnavailable,
    invalidAction: SnsErrors.InvalidAction,
    // AWS words a missing parameter the SNS way; the handlers check it
    missingParameter: () => undefined,
  },
  start: async (deps) => {
    const svc = new SnsService({
      resources: deps.stores.kernel.resources,
      clock: deps.clock,
      jobs: deps.stores.jobs,
      kernel: deps.stores.kernel,
      call: deps.call,
      quotas: { filterPoliciesPerTopic: deps.quotas.snsFilterPoliciesPerTopic },
    });
    const onError = (err: Error) => deps.logger.error({ err }, 'SNS delivery failed');
    svc.fanout = new Fanout(svc, {
      onError,
      secret: await deps.stores.kernel.secret('sns-unsubscribe'),
      ...(deps.trustCa ? { trustCa: deps.trustCa } : {}),
    });
    // deliveries left from before a restart (or by another node) start at once
    void svc.fanout.publishes.kick();
    void svc.fanout.deliveries.drain.kick();
    return svc;
  },
  adminRoutes: snsAdminRoutes,
  stop: (svc) => svc.fanout.stop(),
});
