/**
 * Message validation and the MD5 digests SDKs verify (body, message attributes, system
 * attributes). The attribute digest follows the algorithm every AWS SDK implements; see
 * test/unit/sqs-md5.test.ts for the published vectors.
 */
import { hash } from 'node:crypto';
import type { MessageAttributes, MessageAttributeValue } from '../../store/sqs/types.js';
import { invalidParam, SqsErrors } from './errors.js';
import { LIMITS } from './attributes.js';
import { invalidCharacter } from './chars.js';

export { invalidCharacter };

export function md5Hex(data: string | Buffer): string {
  return hash('md5', data);
}

function lengthPrefixed(parts: Buffer[], b: Buffer): void {
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(b.length, 0);
  parts.push(len, b);
}

/** MD5 over attributes sorted by name: name, DataType, transport type, value (each length-prefixed). */
export function md5OfAttributes(attrs: MessageAttributes): string {
  const names = Object.keys(attrs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts: Buffer[] = [];
  for (const name of names) {
    const v = attrs[name];
    lengthPrefixed(parts, Buffer.from(name, 'utf8'));
    lengthPrefixed(parts, Buffer.from(v.DataType, 'utf8'));
    if (v.StringValue !== undefined) {
      parts.push(Buffer.from([1]));
      lengthPrefixed(parts, Buffer.from(v.StringValue, 'utf8'));
    } else if (v.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      lengthPrefixed(parts, Buffer.from(v.BinaryValue));
    } else if (v.StringListValues) {
      parts.push(Buffer.from([3]));
      for (const s of v.StringListValues) lengthPrefixed(parts, Buffer.from(s, 'utf8'));
    } else if (v.BinaryListValues) {
      parts.push(Buffer.from([4]));
      for (const b of v.BinaryListValues) lengthPrefixed(parts, Buffer.from(b));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

export function assertValidBody(body: string): void {
  const bad = invalidCharacter(body);
  if (bad) {
    throw SqsErrors.InvalidMessageContents(
      `Invalid binary character '${bad}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].`,
    );
  }
}

const ATTR_NAME = /^[A-Za-z0-9_.-]+$/;
const DATA_TYPE = /^(String|Number|Binary)(\..+)?$/;

function attrError(message: string) {
  return SqsErrors.InvalidParameterValue(message);
}

/** Validates user message attributes; returns their size in bytes (names, types, values). */
export function validateMessageAttributes(attrs: MessageAttributes | undefined): number {
  if (!attrs) return 0;
  const names = Object.keys(attrs);
  if (names.length > LIMITS.maxAttributesPerMessage) {
    throw attrError(`Number of message attributes [${names.length}] exceeds the allowed maximum [10].`);
  }
  let size = 0;
  for (const name of names) {
    const v = attrs[name] as MessageAttributeValue | undefined;
    if (!name) throw attrError('The request must contain non-empty message (user) attribute names.');
    if (Buffer.byteLength(name) > 256) throw attrError('Message (user) attribute name must be shorter than 256 bytes.');
    if (/^(aws\.|amazon\.)/i.test(name)) {
      throw attrError(
        "You can't use message attribute names beginning with 'AWS.' or 'Amazon'. These strings are reserved for internal use.",
      );
    }
    if (!ATTR_NAME.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
      throw attrError(
        `Invalid non-alphanumeric character was found in the message attribute name ${name}. Can only include alphanumeric characters, hyphens, underscores, or dots.`,
      );
    }
    if (!v || typeof v !== 'object') {
      throw attrError(`The message (user) attribute '${name}' must contain a non-empty message attribute value.`);
    }
    const type = v.DataType;
    if (!type) throw attrError(`The message (user) attribute '${name}' must contain a non-empty attribute type.`);
    if (Buffer.byteLength(type) > 256) throw attrError('Message (user) attribute type must be shorter than 256 bytes.');
    if (!DATA_TYPE.test(type) || invalidCharacter(type)) {
      throw attrError(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    if (v.StringListValues?.length || v.BinaryListValues?.length) {
      throw attrError('Message attribute list values in SendMessage operation are not supported.');
    }
    const base = type.split('.', 1)[0];
    size += Buffer.byteLength(name) + Buffer.byteLength(type);
    if (base === 'Binary') {
      if (!v.BinaryValue || v.BinaryValue.length === 0) {
        throw attrError(`Message (user) attribute '${name}' must contain a non-empty value of type 'Binary'.`);
      }
      if (v.StringValue !== undefined) throw attrError(`Message (user) attribute '${name}' must have only one value.`);
      size += v.BinaryValue.length;
    } else {
      if (v.StringValue === undefined || v.StringValue === '') {
        throw attrError(`Message (user) attribute '${name}' must contain a non-empty value of type '${base}'.`);
      }
      if (v.BinaryValue !== undefined) throw attrError(`Message (user) attribute '${name}' must have only one value.`);
      if (base === 'Number' && !isSqsNumber(v.StringValue)) {
        throw attrError(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      }
      const bad = invalidCharacter(v.StringValue);
      if (bad) {
        throw SqsErrors.InvalidMessageContents(
          `Invalid binary character '${bad}' was found in the message attribute '${name}'.`,
        );
      }
      size += Buffer.byteLength(v.StringValue);
    }
  }
  return size;
}

// Numbers: up to 38 digits of precision, between 10^-128 and 10^+126.
function isSqsNumber(s: string): boolean {
  const t = s.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return false;
  const digits = t
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '');
  if (digits.replace(/0+$/, '').length > 38) return false;
  const n = Math.abs(Number(t));
  return n === 0 || (n >= 1e-128 && n <= 1e126);
}

const SYSTEM_ATTRIBUTES = new Set(['AWSTraceHeader']);

export function validateSystemAttributes(attrs: MessageAttributes | undefined): void {
  if (!attrs) return;
  for (const [name, v] of Object.entries(attrs)) {
    if (!SYSTEM_ATTRIBUTES.has(name)) throw attrError(`Message system attribute name '${name}' is invalid.`);
    if (v?.DataType !== 'String' || !v.StringValue || invalidCharacter(v.StringValue)) {
      throw invalidParam(
        'MessageSystemAttribute',
        name,
        `Message system attribute '${name}' must contain a non-empty value of type 'String'.`,
      );
    }
  }
}

/** Returns only the attributes a receive asked for: `All`, `.*`, exact names or `prefix.*`. */
export function filterAttributes(
  attrs: MessageAttributes | undefined,
  names: string[] | undefined,
): MessageAttributes | undefined {
  if (!attrs || !names || names.length === 0) return undefined;
  if (names.includes('All') || names.includes('.*')) return attrs;
  const out: MessageAttributes = Object.create(null);
  let any = false;
  for (const [k, v] of Object.entries(attrs)) {
    for (const n of names) {
      if (n === k || (n.endsWith('.*') && k.startsWith(n.slice(0, -2)))) {
        out[k] = v;
        any = true;
        break;
      }
    }
  }
  return any ? out : undefined;
}
