/**
 * AWS Query request decoding driven by the generated model. Lists and maps follow the
 * xmlName / xmlFlattened traits:
 *   flattened list   Name.N                 non-flattened  Name.member.N
 *   flattened map    Name.N.Key / .Value    non-flattened  Name.entry.N.key / .value
 * N starts at 1. An empty list may arrive as `Name=` (botocore does this) and means [].
 */
import { isScalar, setEntry, type ServiceModel } from './model.js';
import { ServiceError } from '../kernel/errors.js';

export type QueryParams = Map<string, string>;

/** Parses an application/x-www-form-urlencoded body (and/or URL query string) into a Map. */
export function parseQueryParams(...sources: string[]): QueryParams {
  const out: QueryParams = new Map();
  for (const s of sources) {
    if (!s) continue;
    for (const [k, v] of new URLSearchParams(s)) if (!out.has(k)) out.set(k, v);
  }
  return out;
}

function invalid(name: string, raw: string, reason: string): ServiceError {
  return new ServiceError(
    'InvalidParameterValue',
    `Value (${raw}) for parameter ${name} is invalid. Reason: ${reason}`,
  );
}

function decodeScalar(target: string, raw: string, name: string): unknown {
  switch (target) {
    case 'number': {
      if (!/^[-+]?\d+(\.\d+)?$/.test(raw.trim())) throw invalid(name, raw, 'Must be a number.');
      return Number(raw);
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw invalid(name, raw, 'Must be true or false.');
    case 'blob':
      return Buffer.from(raw, 'base64');
    case 'timestamp': {
      const n = Number(raw);
      const d = Number.isFinite(n) ? new Date(n * 1000) : new Date(raw);
      if (Number.isNaN(d.getTime())) throw invalid(name, raw, 'Must be a timestamp.');
      return d;
    }
    default:
      return raw;
  }
}

// The dotted prefixes of every key ('A.1.B.2' → 'A', 'A.1', 'A.1.B'), built once per large request: without it,
// probing list items scans every key per item, which is quadratic in the parameter count (a 1 MB request of batch
// entries took a minute of CPU). Only the first MAX_DEPTH dots count (the deepest SQS key has 6), which keeps the
// index linear in the body size even for a key made of a million dots.
const prefixIndex = new WeakMap<QueryParams, Set<string>>();
const SCAN_LIMIT = 64;
const MAX_DEPTH = 10;

/** Whether some key starts with `<key>.` */
function hasChildren(params: QueryParams, key: string): boolean {
  if (params.size <= SCAN_LIMIT) {
    const prefix = `${key}.`;
    for (const k of params.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }
  let index = prefixIndex.get(params);
  if (!index) {
    index = new Set();
    for (const k of params.keys()) {
      let dot = k.indexOf('.');
      for (let depth = 0; dot > 0 && depth < MAX_DEPTH; depth++, dot = k.indexOf('.', dot + 1))
        index.add(k.slice(0, dot));
    }
    prefixIndex.set(params, index);
  }
  return index.has(key);
}

function decode(model: ServiceModel, target: string, params: QueryParams, key: string, flattened: boolean): unknown {
  if (isScalar(target)) {
    const raw = params.get(key);
    return raw === undefined ? undefined : decodeScalar(target, raw, key);
  }
  const shape = model.shapes[target];
  if (shape.type === 'structure') {
    const out: Record<string, unknown> = {};
    let any = false;
    for (const name in shape.members) {
      const m = shape.members[name];
      const v = decode(
        model,
        m.target,
        params,
        key ? `${key}.${m.xmlName ?? name}` : (m.xmlName ?? name),
        !!m.flattened,
      );
      if (v !== undefined) {
        out[name] = v;
        any = true;
      }
    }
    return any || !key ? out : undefined;
  }
  if (shape.type === 'list') {
    if (params.get(key) === '') return [];
    const base = flattened ? key : `${key}.${shape.memberName ?? 'member'}`;
    const out: unknown[] = [];
    for (let i = 1; ; i++) {
      const itemKey = `${base}.${i}`;
      if (!params.has(itemKey) && !hasChildren(params, itemKey)) break;
      out.push(decode(model, shape.member, params, itemKey, false));
    }
    return out.length || params.has(key) ? out : undefined;
  }
  // map
  if (params.get(key) === '') return {};
  const base = flattened ? key : `${key}.entry`;
  const kName = shape.keyName ?? 'key';
  const vName = shape.valueName ?? 'value';
  const out: Record<string, unknown> = {};
  let any = false;
  for (let i = 1; ; i++) {
    const k = params.get(`${base}.${i}.${kName}`);
    if (k === undefined) break;
    setEntry(out, k, decode(model, shape.value, params, `${base}.${i}.${vName}`, false));
    any = true;
  }
  return any ? out : undefined;
}

/** Decodes Query parameters into an operation's input structure. */
export function decodeQueryInput(
  model: ServiceModel,
  inputShape: string | null,
  params: QueryParams,
): Record<string, unknown> {
  if (!inputShape) return {};
  return decode(model, inputShape, params, '', false) as Record<string, unknown>;
}
