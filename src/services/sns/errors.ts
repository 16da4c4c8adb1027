/** The errors SNS sends: Query codes and statuses from the model, AWS's wording. */
import { ServiceError } from '../../kernel/errors.js';
import { modelErrors } from './generated/errors.js';

export const SnsErrors = {
  /** `Invalid parameter: <what>`, AWS's wording for every bad or missing parameter */
  invalid: (what: string) => modelErrors.InvalidParameterException(`Invalid parameter: ${what}`),
  /** InvalidParameter with a message AWS words without the `Invalid parameter:` prefix */
  plain: (message: string) => modelErrors.InvalidParameterException(message),
  /** ParameterValueInvalid: AWS's code for bad message attributes */
  value: (message: string) => modelErrors.InvalidParameterValueException(message),
  NotFound: (message: string) => modelErrors.NotFoundException(message),
  FilterPolicyLimitExceeded: () => modelErrors.FilterPolicyLimitExceededException('Filter policy limit exceeded'),
  InvalidAction: (action: string) =>
    new ServiceError('InvalidAction', `Could not find operation ${action} for version 2010-03-31`, {
      code: 'InvalidAction',
    }),
  InternalFailure: () =>
    modelErrors.InternalErrorException('The request processing has failed because of an unknown error.'),
  ServiceUnavailable: () =>
    new ServiceError('ServiceUnavailable', 'Service is unable to handle request.', {
      code: 'ServiceUnavailable',
      status: 503,
    }),
};
