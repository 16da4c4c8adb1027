/**
 * The shape of the generated service models (src/protocol/generated/<service>.json, written by
 * scripts/gen-models.mjs from the botocore models, with SQS's Query names from its pinned SDK).
 */
import { createRequire } from 'node:module';

export type ScalarType = 'string' | 'number' | 'boolean' | 'blob' | 'timestamp' | 'document';

/** The constraints botocore gives a shape: lengths (strings, blobs, lists, maps) or values (numbers). */
export interface Rules {
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
}

export interface MemberModel {
  target: string; // a shape name or a ScalarType
  required?: boolean;
  /** Query: the member's name on the wire */
  xmlName?: string;
  flattened?: boolean;
  /** rest-json: where the member travels instead of the body */
  location?: 'header' | 'headers' | 'uri' | 'querystring' | 'statusCode';
  locationName?: string;
  /** a scalar member's constraints */
  rules?: Rules;
  numberType?: 'integer' | 'long' | 'float' | 'double';
  timestampFormat?: string;
  idempotencyToken?: boolean;
  jsonValue?: boolean;
  streaming?: boolean;
  eventPayload?: boolean;
}
export interface StructureShape {
  type: 'structure';
  members: Record<string, MemberModel>;
  /** rest-json: the member that is the whole body */
  payload?: string;
  union?: boolean;
  eventstream?: boolean;
  event?: boolean;
  exception?: boolean;
}
export interface ListShape {
  type: 'list';
  member: string;
  memberName?: string;
  rules?: Rules;
  /** the constraints of each element, when the elements are scalars */
  memberRules?: Rules;
}
export interface MapShape {
  type: 'map';
  key: string;
  value: string;
  keyName?: string;
  valueName?: string;
  rules?: Rules;
  keyRules?: Rules;
  valueRules?: Rules;
}
export type ShapeModel = StructureShape | ListShape | MapShape;

export interface OperationModel {
  input: string | null;
  output: string | null;
  /** Query: the element that wraps the result (GetCallerIdentityResult) */
  resultWrapper?: string;
  /** rest-json only (the other protocols are all POST /) */
  http?: { method: string; requestUri: string; responseCode?: number };
  paginator?: {
    inputToken: string | string[];
    outputToken: string | string[];
    limitKey?: string;
    resultKey?: string | string[];
  };
  deprecated?: boolean;
}

export interface ServiceModel {
  service: {
    name: string;
    namespace: string;
    targetPrefix: string;
    signingName: string;
    version: string;
    xmlNamespace?: string;
    protocol: string;
    awsQueryCompatible?: boolean;
  };
  operations: Record<string, OperationModel>;
  shapes: Record<string, ShapeModel>;
  errors: Record<string, { code: string; status: number; fault: 'client' | 'server' }>;
}

const require = createRequire(import.meta.url);
const cache = new Map<string, ServiceModel>();

export function loadModel(service: string): ServiceModel {
  let m = cache.get(service);
  if (!m) {
    m = require(`./generated/${service}.json`) as ServiceModel;
    cache.set(service, m);
  }
  return m;
}

const SCALARS = new Set(['string', 'number', 'boolean', 'blob', 'timestamp', 'document']);
export function isScalar(target: string): target is ScalarType {
  return SCALARS.has(target);
}

/** Sets a decoded map entry; a '__proto__' key stays an ordinary entry instead of replacing the prototype. */
export function setEntry(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
