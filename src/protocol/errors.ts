/**
 * Error rendering, per wire protocol. A handler throws one ServiceError; this turns it into what
 * that service's clients parse:
 * - AWS JSON 1.0: `{"__type":"<namespace>#<Type>","message":…}`; AWS JSON 1.1: `__type` is the bare
 *   shape name; CBOR (Kinesis): the same map in CBOR, with `x-amzn-ErrorType`. `x-amzn-query-error: <Code>;Sender|Receiver` only where the model says
 *   awsQueryCompatible (SQS), so SDKs that read it find the legacy Query code.
 * - AWS Query: `<ErrorResponse><Error><Type/><Code/><Message/>…` in the service's XML namespace.
 * - rest-json: the `x-amzn-errortype` header plus a JSON body with `message` (and Lambda's `Type`).
 */
import type { ServiceError } from '../kernel/errors.js';
import type { ServiceModel } from './model.js';
import type { WireProtocol as Wire } from '../kernel/wire.js';
import { encodeQueryError } from './xml.js';
import { encodeCborError } from './cbor.js';

/** What rendering needs of a service model (the router has none before it knows the service). */
export interface ErrorDialect {
  namespace: string;
  xmlNamespace?: string;
  awsQueryCompatible?: boolean;
}

/** A service's error dialect, from its model. */
export function dialectOf(model: ServiceModel): ErrorDialect {
  const { namespace, xmlNamespace, awsQueryCompatible } = model.service;
  return {
    namespace,
    ...(xmlNamespace ? { xmlNamespace } : {}),
    ...(awsQueryCompatible ? { awsQueryCompatible } : {}),
  };
}

export interface RenderedResponse {
  status: number;
  contentType: string;
  /** text, or CBOR bytes */
  body: string | Buffer;
  headers: Record<string, string>;
}

export const CONTENT_TYPES: Record<Wire, string> = {
  'json1.0': 'application/x-amz-json-1.0',
  'json1.1': 'application/x-amz-json-1.1',
  query: 'text/xml',
  'rest-json': 'application/json',
  cbor: 'application/x-amz-cbor-1.1',
};

export function renderError(wire: Wire, dialect: ErrorDialect, err: ServiceError, requestId: string): RenderedResponse {
  const headers: Record<string, string> = { ...err.extra };
  if (wire === 'query') {
    const body = encodeQueryError(
      dialect.xmlNamespace ?? '',
      err.fault,
      err.code,
      err.queryMessage ?? err.message,
      requestId,
    );
    return { status: err.status, contentType: CONTENT_TYPES.query, body, headers };
  }
  if (wire === 'rest-json') {
    headers['x-amzn-errortype'] = err.type;
    const body = JSON.stringify({ Type: err.fault === 'server' ? 'Service' : 'User', message: err.message });
    return { status: err.status, contentType: CONTENT_TYPES['rest-json'], body, headers };
  }
  const namespace = err.namespace ?? dialect.namespace;
  const type = wire === 'json1.0' ? `${namespace}#${err.type}` : err.type;
  if (dialect.awsQueryCompatible) {
    headers['x-amzn-query-error'] = `${err.code};${err.fault === 'server' ? 'Receiver' : 'Sender'}`;
  }
  if (wire === 'cbor') {
    // Java's CBOR clients read the type from the header too
    headers['x-amzn-errortype'] = type;
    return { status: err.status, contentType: CONTENT_TYPES.cbor, body: encodeCborError(type, err.message), headers };
  }
  const body = JSON.stringify({ __type: type, message: err.message });
  return { status: err.status, contentType: CONTENT_TYPES[wire], body, headers };
}
