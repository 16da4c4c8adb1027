/** STS on the platform: AWS Query, signed as `sts`. */
import { defineService, typedOperations } from '../definition.js';
import type { Operations } from './generated/types.js';
import { StsErrors } from './errors.js';
import * as ops from './operations.js';
import { StsService } from './service.js';

export const sts = defineService<StsService>({
  model: 'sts',
  signingName: 'sts',
  protocols: ['query'],
  operations: typedOperations<StsService, Operations>({
    AssumeRole: ops.assumeRole,
    GetAccessKeyInfo: ops.getAccessKeyInfo,
    GetCallerIdentity: ops.getCallerIdentity,
    GetSessionToken: ops.getSessionToken,
  }),
  errors: {
    internalFailure: StsErrors.InternalFailure,
    serviceUnavailable: StsErrors.ServiceUnavailable,
    invalidAction: StsErrors.InvalidAction,
    validation: StsErrors.ValidationError,
  },
  validation: 'coral',
  start: async (deps) =>
    StsService.create({
      secret: await deps.stores.kernel.secret('sts-sessions'),
      clock: deps.clock,
      accountOf: deps.accountOf,
    }),
  stop: () => {},
  session: (svc, accessKeyId, token) => svc.session(accessKeyId, token),
});
