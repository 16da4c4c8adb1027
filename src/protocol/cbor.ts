/**
 * Kinesis's CBOR protocol (`application/x-amz-cbor-1.1`, the Java SDKs' default; reference:
 * aws-protocols.md §2.6): the same members as AWS JSON 1.1 in one CBOR map, with blobs as byte
 * strings and timestamps as tag 1 with epoch **milliseconds** (what the Java SDKs write and
 * read, unlike RFC 8949's seconds). The codec is @smithy/core's; the model-driven type checks
 * are JSON's (protocol/json.ts) with CBOR's scalars.
 */
import { cbor, tag } from '@smithy/core/cbor';
import type { ServiceModel } from './model.js';
import { decodeParsed, encoder, type ScalarDecoders, type ScalarEncoders } from './json.js';
import { serializationError } from './decode-error.js';

type Tagged = { tag: number; value: unknown };
const isTag = (v: unknown): v is Tagged => typeof v === 'object' && v !== null && 'tag' in v && 'value' in v;

function mismatch(expected: string): never {
  throw serializationError(`Unexpected value where ${expected} was expected`);
}

const DECODERS: ScalarDecoders = {
  string: (v) => (typeof v === 'string' ? v : mismatch('a String')),
  number: (v) =>
    typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'bigint' ? Number(v) : mismatch('a Number'),
  boolean: (v) => (typeof v === 'boolean' ? v : mismatch('a Boolean')),
  blob: (v) =>
    v instanceof Uint8Array
      ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      : // some writers send text for data: take its UTF-8 bytes
        typeof v === 'string'
        ? Buffer.from(v, 'utf8')
        : mismatch('a Blob'),
  timestamp: (v) => {
    const ms = isTag(v) && v.tag === 1 ? v.value : v;
    return typeof ms === 'number' ? new Date(ms) : mismatch('a Timestamp');
  },
  document: (v) => v,
};

const ENCODERS: ScalarEncoders = {
  blob: (v) => v,
  timestamp: (v) => (v instanceof Date ? tag({ tag: 1, value: v.getTime() }) : v),
};

/** Parses and type-checks a CBOR request body for an operation's input shape. */
export function decodeCborInput(model: ServiceModel, inputShape: string | null, body: Buffer): Record<string, unknown> {
  let parsed: unknown = {};
  if (body.length) {
    try {
      parsed = cbor.deserialize(body);
    } catch {
      throw serializationError('The request body is not valid CBOR.');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || parsed instanceof Uint8Array)
    throw serializationError('Start of structure or map found where not expected.');
  return decodeParsed(model, inputShape, parsed, DECODERS);
}

/** Absent members are left out (CBOR has an `undefined`; clients expect the member missing). */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array || v instanceof Date || isTag(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = prune(x);
  return out;
}

export function encodeCborOutput(model: ServiceModel, outputShape: string | null, output: unknown): Buffer {
  if (!outputShape || output === undefined || output === null) return Buffer.from(cbor.serialize({}));
  const enc = encoder(model, outputShape, ENCODERS);
  return Buffer.from(cbor.serialize(prune(enc ? enc(output) : output)));
}

/** An error body: `{__type, message}`, as the JSON protocols send it. */
export function encodeCborError(type: string, message: string): Buffer {
  return Buffer.from(cbor.serialize({ __type: type, message }));
}
