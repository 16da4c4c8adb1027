/**
 * Every error SQS sends, in AWS's wording. The modelled ones take their codes and statuses from
 * the model (generated/errors.ts); the rest are the Coral errors AWS sends outside the model.
 */
import { ServiceError } from '../../kernel/errors.js';
import { modelErrors as E } from './generated/errors.js';
// Errors outside the model: AWS sends a Coral shape name as `__type` and the Query code in
// x-amzn-query-error (InvalidParameterValueException / InvalidParameterValue, ...).
const CORAL = 'com.amazon.coral.service';
const plain =
  (type: string, code: string, status = 400) =>
  (message: string) =>
    new ServiceError(type, message, { code, status, namespace: CORAL });

export const SqsErrors = {
  QueueDoesNotExist: () =>
    E.QueueDoesNotExist('The specified queue does not exist.', {
      // the Query protocol still says it the old way
      queryMessage: 'The specified queue does not exist for this wsdl version.',
    }),
  QueueNameExists: E.QueueNameExists,
  QueueDeletedRecently: E.QueueDeletedRecently,
  InvalidAttributeName: E.InvalidAttributeName,
  InvalidAttributeValue: E.InvalidAttributeValue,
  InvalidMessageContents: E.InvalidMessageContents,
  InvalidIdFormat: E.InvalidIdFormat,
  ReceiptHandleIsInvalid: E.ReceiptHandleIsInvalid,
  MessageNotInflight: () => E.MessageNotInflight("The specified message isn't in flight."),
  PurgeQueueInProgress: E.PurgeQueueInProgress,
  EmptyBatchRequest: E.EmptyBatchRequest,
  TooManyEntriesInBatchRequest: E.TooManyEntriesInBatchRequest,
  BatchEntryIdsNotDistinct: E.BatchEntryIdsNotDistinct,
  InvalidBatchEntryId: E.InvalidBatchEntryId,
  BatchRequestTooLong: E.BatchRequestTooLong,
  OverLimit: E.OverLimit,
  ResourceNotFoundException: E.ResourceNotFoundException,
  UnsupportedOperation: E.UnsupportedOperation,
  InvalidAddress: E.InvalidAddress,
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
