/** SNS on the platform: AWS Query, signed as `sns`. */
import { defineService, typedOperations } from '../definition.js';
import type { Operations } from './generated/types.js';
import { SnsErrors } from './errors.js';
import { snsAdminRoutes } from './admin.js';
import { DELIVER_QUEUE } from './deliveries.js';
import { Fanout, PUBLISH_QUEUE } from './fanout.js';
import { REPLAY_QUEUE } from './archive.js';
import { addPermission, getDataProtectionPolicy, putDataProtectionPolicy, removePermission } from './permissions.js';
import {
  createPlatformApplication,
  createPlatformEndpoint,
  deleteEndpoint,
  deletePlatformApplication,
  getEndpointAttributes,
  getPlatformApplicationAttributes,
  listEndpointsByPlatformApplication,
  listPlatformApplications,
  setEndpointAttributes,
  setPlatformApplicationAttributes,
} from './platform.js';
import { publish, publishBatch } from './publish.js';
import {
  checkIfPhoneNumberIsOptedOut,
  createSMSSandboxPhoneNumber,
  deleteSMSSandboxPhoneNumber,
  getSMSAttributes,
  getSMSSandboxAccountStatus,
  listOriginationNumbers,
  listPhoneNumbersOptedOut,
  listSMSSandboxPhoneNumbers,
  optInPhoneNumber,
  setSMSAttributes,
  verifySMSSandboxPhoneNumber,
} from './sms.js';
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
    AddPermission: addPermission,
    CheckIfPhoneNumberIsOptedOut: checkIfPhoneNumberIsOptedOut,
    ConfirmSubscription: confirmSubscription,
    CreatePlatformApplication: createPlatformApplication,
    CreatePlatformEndpoint: createPlatformEndpoint,
    CreateSMSSandboxPhoneNumber: createSMSSandboxPhoneNumber,
    CreateTopic: createTopic,
    DeleteEndpoint: deleteEndpoint,
    DeletePlatformApplication: deletePlatformApplication,
    DeleteSMSSandboxPhoneNumber: deleteSMSSandboxPhoneNumber,
    DeleteTopic: deleteTopic,
    GetDataProtectionPolicy: getDataProtectionPolicy,
    GetEndpointAttributes: getEndpointAttributes,
    GetPlatformApplicationAttributes: getPlatformApplicationAttributes,
    GetSMSAttributes: getSMSAttributes,
    GetSMSSandboxAccountStatus: getSMSSandboxAccountStatus,
    GetSubscriptionAttributes: getSubscriptionAttributes,
    GetTopicAttributes: getTopicAttributes,
    ListEndpointsByPlatformApplication: listEndpointsByPlatformApplication,
    ListOriginationNumbers: listOriginationNumbers,
    ListPhoneNumbersOptedOut: listPhoneNumbersOptedOut,
    ListPlatformApplications: listPlatformApplications,
    ListSMSSandboxPhoneNumbers: listSMSSandboxPhoneNumbers,
    ListSubscriptions: listSubscriptions,
    ListSubscriptionsByTopic: listSubscriptionsByTopic,
    ListTagsForResource: listTagsForResource,
    ListTopics: listTopics,
    OptInPhoneNumber: optInPhoneNumber,
    Publish: publish,
    PublishBatch: publishBatch,
    PutDataProtectionPolicy: putDataProtectionPolicy,
    RemovePermission: removePermission,
    SetEndpointAttributes: setEndpointAttributes,
    SetPlatformApplicationAttributes: setPlatformApplicationAttributes,
    SetSMSAttributes: setSMSAttributes,
    SetSubscriptionAttributes: setSubscriptionAttributes,
    SetTopicAttributes: setTopicAttributes,
    Subscribe: subscribe,
    TagResource: tagResource,
    Unsubscribe: unsubscribe,
    UntagResource: untagResource,
    VerifySMSSandboxPhoneNumber: verifySMSSandboxPhoneNumber,
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
      ...(deps.smtp ? { smtp: deps.smtp } : {}),
    });
    // what a crashed run had leased is this run's now (embedded store: one process per data dir)
    for (const q of [PUBLISH_QUEUE, DELIVER_QUEUE, REPLAY_QUEUE])
      await deps.stores.jobs.releaseLeases?.(q, deps.clock.now());
    // deliveries left from before a restart (or by another node) start at once
    void svc.fanout.publishes.kick();
    void svc.fanout.deliveries.drain.kick();
    void svc.fanout.replays.drain.kick();
    return svc;
  },
  adminRoutes: snsAdminRoutes,
  stop: (svc) => svc.fanout.stop(),
});
