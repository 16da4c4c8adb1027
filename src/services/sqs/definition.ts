/** SQS on the platform: AWS JSON 1.0 (awsQueryCompatible) and AWS Query, signed as `sqs`. */
import { defineService } from '../definition.js';
import { sqsAdminRoutes } from './admin.js';
import { SqsErrors } from './errors.js';
import { sqsOperations } from './operations.js';
import { SqsService } from './service.js';

// Query actions that address the service, not a queue: posting them to a queue URL is an error.
const SERVICE_ACTIONS = new Set(['CreateQueue', 'ListQueues', 'GetQueueUrl']);
const QUEUE_PATH = /^\/(queue\/[^/]+\/)?\d{12}\/[^/]+\/?$/;

const OWN_WORDING = new Set(['Entries', 'Actions', 'AWSAccountIds', 'TagKeys']);

export const sqs = defineService<SqsService>({
  model: 'sqs',
  signingName: 'sqs',
  protocols: ['json1.0', 'query'],
  targetPrefix: 'AmazonSQS',
  operations: sqsOperations,
  errors: {
    internalFailure: SqsErrors.InternalFailure,
    serviceUnavailable: SqsErrors.ServiceUnavailable,
    invalidAction: (action) => SqsErrors.InvalidAction(`The action ${action} is not valid for this endpoint.`),
    // lists AWS words its own way when absent: an empty batch (Entries), AddPermission's actions
    // and accounts, UntagQueue's keys (the handlers say it)
    missingParameter: (member, wireName) =>
      OWN_WORDING.has(member)
        ? undefined
        : SqsErrors.MissingParameter(`The request must contain the parameter ${wireName}.`),
  },
  // Java v1 and .NET post Query requests to the queue URL itself, without QueueUrl.
  queryPath(rawPath, action, params, baseUrl) {
    if (params.has('QueueUrl') || !QUEUE_PATH.test(rawPath)) return;
    if (SERVICE_ACTIONS.has(action)) {
      throw SqsErrors.InvalidAction(`The action ${action} is not valid for this endpoint.`);
    }
    params.set('QueueUrl', baseUrl + rawPath);
  },
  start: (deps) =>
    SqsService.create({
      store: deps.stores.sqs,
      kernel: deps.stores.kernel,
      clock: deps.clock,
      nodeId: deps.nodeId,
      maintenanceIntervalMs: deps.maintenanceIntervalMs,
      scheduler: deps.scheduler,
      inflightLimit: deps.quotas.sqsInflightLimit,
    }),
  adminRoutes: sqsAdminRoutes,
  stop: (svc) => svc.stop(),
  afterReset: (svc) => svc.queueChanged(),
});
