/**
 * The shape of the generated service models (src/protocol/generated/<service>.json, written by
 * scripts/gen-models.mjs from the pinned @aws-sdk/client-* schemas).
 */
import { createRequire } from 'node:module';

export type ScalarType = 'string' | 'number' | 'boolean' | 'blob' | 'timestamp' | 'document';

export interface MemberModel {
  target: string; // a shape name or a ScalarType
  required?: boolean;
  xmlName?: string;
  flattened?: boolean;
}
export interface StructureShape {
  type: 'structure';
  members: Record<string, MemberModel>;
}
export interface ListShape {
  type: 'list';
  member: string;
  memberName?: string;
}
export interface MapShape {
  type: 'map';
  key: string;
  value: string;
  keyName?: string;
  valueName?: string;
}
export type ShapeModel = StructureShape | ListShape | MapShape;

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
  operations: Record<string, { input: string | null; output: string | null }>;
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
