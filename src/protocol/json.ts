/**
 * AWS JSON 1.0 / 1.1 codec driven by the generated model: type-checks the decoded request
 * against the input shape (blobs base64 → Buffer, timestamps epoch seconds → Date) and turns
 * handler output back into JSON (Buffers → base64, Dates → epoch seconds). Each shape is
 * compiled once into a function, so the hot path does no model lookups.
 */
import { isScalar, type ServiceModel } from './model.js';
import { serializationError } from './decode-error.js';

type Fn = (v: unknown) => unknown;
type OutFn = (v: unknown) => unknown;

function mismatch(expected: string, v: unknown): never {
  // AWS (Coral) words these after Jackson: STRING_VALUE can not be converted to an Integer
  const token =
    typeof v === 'string'
      ? 'STRING_VALUE'
      : typeof v === 'number'
        ? 'NUMBER_VALUE'
        : typeof v === 'boolean'
          ? v
            ? 'TRUE_VALUE'
            : 'FALSE_VALUE'
          : undefined;
  // AWS does not say where
  if (token) throw serializationError(`${token} can not be converted to ${expected}`);
  if (Array.isArray(v)) throw serializationError('Start of list found where not expected');
  throw serializationError('Start of structure or map found where not expected.');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A blob that is not base64, on its way up: each structure, list and map it passes through adds
 * its member name or index, so the hot path builds no path strings (or closures) for the
 * members that decode fine.
 */
class BadBlob {
  readonly path: string[] = [];
}

function within(e: unknown, segment: string): unknown {
  if (e instanceof BadBlob) e.path.push(segment);
  return e;
}

/** How one wire format reads each scalar (JSON and CBOR differ in blobs and timestamps). */
export type ScalarDecoders = Record<string, Fn>;

const SCALAR_DECODERS: ScalarDecoders = {
  string: (v) => (typeof v === 'string' ? v : mismatch('a String', v)),
  number: (v) => (typeof v === 'number' && Number.isFinite(v) ? v : mismatch('an Integer', v)),
  boolean: (v) => (typeof v === 'boolean' ? v : mismatch('a Boolean', v)),
  blob: (v) => {
    if (typeof v !== 'string') return mismatch('a Blob', v);
    if (!BASE64.test(v) || v.length % 4 === 1) throw new BadBlob();
    return Buffer.from(v, 'base64');
  },
  timestamp: (v) => (typeof v === 'number' ? new Date(v * 1000) : mismatch('a Timestamp', v)),
  document: (v) => v,
};

/** How one wire format writes blobs and timestamps (the only scalars that change on the way out). */
export interface ScalarEncoders {
  blob: OutFn;
  timestamp: OutFn;
}

const SCALAR_ENCODERS: ScalarEncoders = {
  blob: (v) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : v),
  timestamp: (v) => (v instanceof Date ? v.getTime() / 1000 : v),
};

interface Compiled {
  decoders: Map<string, Fn>;
  encoders: Map<string, OutFn | null>;
}
/** per model and per wire format (its scalar tables) */
const compiled = new WeakMap<ServiceModel, WeakMap<object, Compiled>>();

function cacheOf(model: ServiceModel, format: object): Compiled {
  let m = compiled.get(model);
  if (!m) compiled.set(model, (m = new WeakMap()));
  let c = m.get(format);
  if (!c) m.set(format, (c = { decoders: new Map(), encoders: new Map() }));
  return c;
}

/** The type-checking decoder of a shape for a wire format; compiled once per shape. */
export function decoder(model: ServiceModel, target: string, scalars: ScalarDecoders = SCALAR_DECODERS): Fn {
  if (isScalar(target)) return scalars[target]!;
  const cache = cacheOf(model, scalars).decoders;
  const hit = cache.get(target);
  if (hit) return hit;
  // placeholder first: shapes may be recursive
  let impl: Fn = () => undefined;
  const fn: Fn = (v) => impl(v);
  cache.set(target, fn);
  const shape = model.shapes[target];
  if (shape.type === 'structure') {
    const members = Object.entries(shape.members).map(
      ([name, m]) => [name, decoder(model, m.target, scalars)] as const,
    );
    impl = (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return mismatch('a Structure', v);
      const src = v as Record<string, unknown>;
      // modelled members only, checked and converted
      const out: Record<string, unknown> = {};
      let i = 0;
      try {
        for (; i < members.length; i++) {
          const [name, dec] = members[i];
          const raw = src[name];
          // JSON null is "not set" in AWS JSON
          if (raw === undefined || raw === null) continue;
          out[name] = dec(raw);
        }
      } catch (e) {
        throw within(e, `.${members[i][0]}`);
      }
      return out;
    };
  } else if (shape.type === 'list') {
    const item = decoder(model, shape.member, scalars);
    impl = (v) => {
      if (!Array.isArray(v)) return mismatch('a List', v);
      const out = new Array<unknown>(v.length);
      let i = 0;
      try {
        for (; i < v.length; i++) out[i] = item(v[i]);
      } catch (e) {
        throw within(e, `[${i}]`);
      }
      return out;
    };
  } else {
    const value = decoder(model, shape.value, scalars);
    impl = (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return mismatch('a Map', v);
      const src = v as Record<string, unknown>;
      // user keys such as "__proto__" must stay ordinary keys: no prototype to pollute
      const out: Record<string, unknown> = Object.create(null);
      let key = '';
      try {
        for (key of Object.keys(src)) out[key] = value(src[key]);
      } catch (e) {
        throw within(e, `.${key}`);
      }
      return out;
    };
  }
  return fn;
}

/** Parses and type-checks a JSON request body for an operation's input shape. */
export function decodeJsonInput(model: ServiceModel, inputShape: string | null, body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  if (body.length === 0) parsed = {};
  else {
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw serializationError('Start of structure or map found where not expected.');
    }
  }
  if (Array.isArray(parsed)) throw serializationError('Start of list found where not expected');
  if (parsed === null) throw serializationError('NULL_VALUE can not be converted to a Structure');
  if (typeof parsed !== 'object') return mismatch('a Structure', parsed);
  return decodeParsed(model, inputShape, parsed);
}

/** Type-checks an already parsed request body (an object) for an operation's input shape. */
export function decodeParsed(
  model: ServiceModel,
  inputShape: string | null,
  parsed: object,
  scalars: ScalarDecoders = SCALAR_DECODERS,
): Record<string, unknown> {
  if (!inputShape) return {};
  try {
    return decoder(model, inputShape, scalars)(parsed) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof BadBlob) throw serializationError(`Invalid base64 at ${inputShape}${e.path.reverse().join('')}`);
    throw e;
  }
}

/**
 * An output transformer for the shape, or null when nothing in it needs one (no blob or
 * timestamp anywhere below): such output goes to JSON.stringify as it is.
 */
export function encoder(
  model: ServiceModel,
  target: string,
  scalars: ScalarEncoders = SCALAR_ENCODERS,
  seen = new Set<string>(),
): OutFn | null {
  if (target === 'blob') return scalars.blob;
  if (target === 'timestamp') return scalars.timestamp;
  if (isScalar(target)) return null;
  const cache = cacheOf(model, scalars).encoders;
  if (cache.has(target)) return cache.get(target)!;
  if (seen.has(target)) return null; // recursive shapes here carry no blobs
  seen.add(target);
  const shape = model.shapes[target];
  let fn: OutFn | null = null;
  if (shape.type === 'structure') {
    const members = Object.entries(shape.members)
      .map(([name, m]) => [name, encoder(model, m.target, scalars, seen)] as const)
      .filter((x): x is readonly [string, OutFn] => x[1] !== null);
    if (members.length) {
      fn = (v) => {
        const src = v as Record<string, unknown>;
        const out = { ...src };
        for (const [name, enc] of members)
          if (src[name] !== undefined && src[name] !== null) out[name] = enc(src[name]);
        return out;
      };
    }
  } else if (shape.type === 'list') {
    const item = encoder(model, shape.member, scalars, seen);
    if (item) fn = (v) => (v as unknown[]).map(item);
  } else {
    const value = encoder(model, shape.value, scalars, seen);
    if (value) {
      fn = (v) => {
        const src = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const k in src) out[k] = value(src[k]);
        return out;
      };
    }
  }
  cache.set(target, fn);
  return fn;
}

export function encodeJsonOutput(model: ServiceModel, outputShape: string | null, output: unknown): string {
  if (!outputShape || output === undefined || output === null) return '{}';
  const enc = encoder(model, outputShape);
  return JSON.stringify(enc ? enc(output) : output);
}
