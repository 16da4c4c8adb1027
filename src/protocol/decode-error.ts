import { ServiceError } from '../kernel/errors.js';

/** Errors raised while decoding a request body, before any service sees it (a Coral error, as AWS sends it). */
export function serializationError(message: string): ServiceError {
  return new ServiceError('SerializationException', message, { status: 400, namespace: 'com.amazon.coral.service' });
}
