/** The errors Kinesis sends (AWS JSON 1.1, bare shape names), in AWS's wording. */
import { ServiceError } from '../../kernel/errors.js';
import { modelErrors } from './generated/errors.js';

export const KinesisErrors = {
  /** the whole input failed the model's constraints (Coral wording, protocol/validate.ts) */
  validation: (message: string) => modelErrors.ValidationException(message),
  invalid: (message: string) => modelErrors.InvalidArgumentException(message),
  notFound: (message: string) => modelErrors.ResourceNotFoundException(message),
  inUse: (message: string) => modelErrors.ResourceInUseException(message),
  limit: (message: string) => modelErrors.LimitExceededException(message),
  expired: (message: string) => modelErrors.ExpiredIteratorException(message),
  expiredToken: (message: string) => modelErrors.ExpiredNextTokenException(message),
  shardLimit: (account: string, region: string, current: number, limit: number, more: number) =>
    modelErrors.LimitExceededException(
      `This request would exceed the shard limit for the account ${account} in ${region}. Current shard count for the account: ${current}. Limit: ${limit}. Number of additional shards that would have resulted from this request: ${more}. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.`,
    ),
  streamNotFound: (name: string, account: string) =>
    modelErrors.ResourceNotFoundException(`Stream ${name} under account ${account} not found.`),
  shardNotFound: (shardId: string, stream: string, account: string) =>
    modelErrors.ResourceNotFoundException(
      `Shard ${shardId} in stream ${stream} under account ${account} does not exist`,
    ),
  notActive: (name: string, account: string, status: string) =>
    modelErrors.ResourceInUseException(
      `Stream ${name} under account ${account} not ACTIVE, instead in state ${status}`,
    ),
  InternalFailure: () =>
    new ServiceError('InternalFailure', 'The request processing has failed because of an unknown error.', {
      status: 500,
      fault: 'server',
    }),
  ServiceUnavailable: () =>
    new ServiceError('ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', {
      status: 503,
      fault: 'server',
    }),
  InvalidAction: (action: string) =>
    new ServiceError('UnknownOperationException', `Kinesis has no operation ${action}`, { status: 400 }),
};
