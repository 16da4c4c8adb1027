/** The errors STS sends: Query codes and statuses as AWS sends them, Coral validation wording. */
import { ServiceError } from '../../kernel/errors.js';
import { validationMessage, type Violation } from '../../kernel/coral.js';

export const StsErrors = {
  /** the whole Coral message (the pipeline's validator writes it) */
  ValidationError: (message: string) => new ServiceError('ValidationError', message, { code: 'ValidationError' }),
  /** a check beyond the model's constraints, in the same wording */
  invalid: (violations: Violation[]) => StsErrors.ValidationError(validationMessage(violations)),
  AccessDenied: (message: string) => new ServiceError('AccessDenied', message, { code: 'AccessDenied', status: 403 }),
  InvalidAction: (action: string) =>
    new ServiceError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`, {
      code: 'InvalidAction',
    }),
  InternalFailure: () =>
    new ServiceError('InternalFailure', 'The request processing has failed because of an unknown error.', {
      code: 'InternalFailure',
      status: 500,
    }),
  ServiceUnavailable: () =>
    new ServiceError('ServiceUnavailable', 'Service is unable to handle request.', {
      code: 'ServiceUnavailable',
      status: 503,
    }),
};
