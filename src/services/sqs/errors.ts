/**
 * Every error SQS sends, with AWS's codes and statuses (checked against the generated model by
 * test/unit/sqs-errors.test.ts) and AWS's wording.
 */
import { ServiceError } from '../../kernel/errors.js';

const modelled = (type: string, code: string, status: number) => (message: string) =>
  new ServiceError(type, message, { code, status });
// Errors outside the model: AWS sends a Coral shape name as `__type` and the Query code in
// x-amzn-query-error (InvalidParameterValueException / InvalidParameterValue, ...).
const CORAL = 'com.amazon.coral.service';
const plain =
  (type: string, code: string, status = 400) =>
  (message: string) =>
    new ServiceError(type, message, { code, status, namespace: CORAL });

export const SqsErrors = {
  QueueDoesNotExist: () =>
    new ServiceError('QueueDoesNotExist', 'The specified queue does not exist.', {
      code: 'AWS.SimpleQueueService.NonExistentQueue',
      // the Query protocol still says it the old way
      queryMessage: 'The specified queue does not exist for this wsdl version.',
    }),
  QueueNameExists: modelled('QueueNameExists', 'QueueAlreadyExists', 400),
  QueueDeletedRecently: modelled('QueueDeletedRecently', 'AWS.SimpleQueueService.QueueDeletedRecently', 400),
  InvalidAttributeName: modelled('InvalidAttributeName', 'InvalidAttributeName', 400),
  InvalidAttributeValue: modelled('InvalidAttributeValue', 'InvalidAttributeValue', 400),
  InvalidMessageContents: modelled('InvalidMessageContents', 'InvalidMessageContents', 400),
  InvalidIdFormat: modelled('InvalidIdFormat', 'InvalidIdFormat', 400),
  ReceiptHandleIsInvalid: modelled('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 404),
  MessageNotInflight: () =>
    modelled(
      'MessageNotInflight',
      'AWS.SimpleQueueService.MessageNotInflight',
      400,
    )("The specified message isn't in flight."),
  PurgeQueueInProgress: modelled('PurgeQueueInProgress', 'AWS.SimpleQueueService.PurgeQueueInProgress', 403),
  EmptyBatchRequest: modelled('EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest', 400),
  TooManyEntriesInBatchRequest: modelled(
    'TooManyEntriesInBatchRequest',
    'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    400,
  ),
  BatchEntryIdsNotDistinct: modelled(
    'BatchEntryIdsNotDistinct',
    'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
    400,
  ),
  InvalidBatchEntryId: modelled('InvalidBatchEntryId', 'AWS.SimpleQueueService.InvalidBatchEntryId', 400),
  BatchRequestTooLong: modelled('BatchRequestTooLong', 'AWS.SimpleQueueService.BatchRequestTooLong', 400),
  OverLimit: modelled('OverLimit', 'OverLimit', 403),
  ResourceNotFoundException: modelled('ResourceNotFoundException', 'ResourceNotFoundException', 404),
  UnsupportedOperation: modelled('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', 400),
  InvalidAddress: modelled('InvalidAddress', 'InvalidAddress', 404),
  // not modelled: shape name equals the Query code
  InvalidParameterValue: plain('InvalidParameterValueException', 'InvalidParameterValue'),
  MissingParameter: plain('MissingRequiredParameterException', 'MissingParameter'),
  InvalidAction: plain('InvalidAction', 'InvalidAction'),
  InternalFailure: () =>
    new ServiceError(
      'InternalFailure',
      'The request processing has failed because of an unknown error, exception or failure.',
      { status: 500, namespace: CORAL },
    ),
  ServiceUnavailable: () =>
    new ServiceError('ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', {
      status: 503,
      namespace: CORAL,
    }),
};

export function missing(name: string): ServiceError {
  return SqsErrors.MissingParameter(`The request must contain the parameter ${name}.`);
}

export function invalidParam(name: string, value: unknown, reason: string): ServiceError {
  return SqsErrors.InvalidParameterValue(`Value ${String(value)} for parameter ${name} is invalid. Reason: ${reason}`);
}

export function invalidAttrValue(name: string, reason?: string): ServiceError {
  return SqsErrors.InvalidAttributeValue(
    reason ? `Invalid value for the parameter ${name}. Reason: ${reason}` : `Invalid value for the parameter ${name}.`,
  );
}
