/**
 * What Publish and PublishBatch accept, checked as AWS checks it, and the form a published message
 * takes in the durable publish record (store/jobs `sns.publish`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type * as T from './generated/types.js';
import { SnsErrors } from './errors.js';

/** AWS: a message and its attributes together, 256 KiB */
export const MAX_MESSAGE_BYTES = 262_144;
const ATTR_NAME = /^(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/;
const ATTR_TYPE = /^(String|Number|Binary)(\..+)?$/;
const SUBJECT = /^[\x20-\x7e]{1,100}$/;

/** A message attribute as stored and delivered: SNS's Type/Value, binary as base64 */
export interface Attr {
  Type: string;
  Value: string;
}

export interface Published {
  /** MessageId */
  id: string;
  /** Message as published (for MessageStructure=json, the whole JSON text) */
  body: string;
  subject?: string;
  /** MessageStructure=json: the message to send each protocol, `default` for the rest */
  perProtocol?: Record<string, string>;
  attrs?: Record<string, Attr>;
  group?: string;
  dedup?: string;
  seq?: string;
  /** indexes into the record's subscription ids; absent: every one of them */
  to?: number[];
}

/** One Publish or PublishBatch: the durable record its deliveries are derived from. */
export interface PublishRecord {
  topic: string;
  fifo: boolean;
  /** the topic's SignatureVersion at publish time */
  sv?: string;
  /** scheme://host the publisher used: the base of the URLs the envelope carries */
  base: string;
  /** epoch ms of the publish */
  ts: number;
  /** the ids (the ARN's last part) of the subscriptions that matched any message */
  subs: string[];
  msgs: Published[];
}

export type PublishEntry = Omit<T.PublishBatchRequestEntry, 'Id'>;

function checkAttributes(attrs: Record<string, T.MessageAttributeValue>): [Record<string, Attr>, number] {
  const out: Record<string, Attr> = {};
  let bytes = 0;
  for (const [name, a] of Object.entries(attrs)) {
    if (!ATTR_NAME.test(name)) {
      if (name.length > 256) throw SnsErrors.value('Length of message attribute name must be less than 256 bytes.');
      if (name.startsWith('.'))
        throw SnsErrors.value("Invalid message attribute name starting with character '.' was found.");
      if (name.endsWith('.'))
        throw SnsErrors.value("Invalid message attribute name ending with character '.' was found.");
      if (name.includes('..')) throw SnsErrors.value("Message attribute name can not have successive '.' character.");
      const bad = [...name].find((c) => !/[A-Za-z0-9_.-]/.test(c)) ?? '';
      throw SnsErrors.value(
        `Invalid non-alphanumeric character '#x${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase()}' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.`,
      );
    }
    const type = a?.DataType ?? '';
    if (!ATTR_TYPE.test(type))
      throw SnsErrors.value(
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    const binary = type.startsWith('Binary');
    const field = binary ? 'Binary' : 'String';
    const value = binary ? a.BinaryValue : a.StringValue;
    if (value === undefined)
      throw SnsErrors.value(`The message attribute '${name}' with type '${type}' must use field '${field}'.`);
    if (value.length === 0)
      throw SnsErrors.value(
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${type}'.`,
      );
    if (type.startsWith('Number') && !Number.isFinite(Number(value)))
      throw SnsErrors.value(`Could not cast message attribute '${name}' value to number.`);
    if (type.startsWith('String.Array')) checkStringArray(name, String(value));
    const v = binary ? Buffer.from(value as Buffer).toString('base64') : String(value);
    out[name] = { Type: type, Value: v };
    bytes +=
      Buffer.byteLength(name) + Buffer.byteLength(type) + (binary ? (value as Buffer).length : Buffer.byteLength(v));
  }
  return [out, bytes];
}

function checkStringArray(name: string, value: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const ok =
    Array.isArray(parsed) && parsed.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
  if (!ok)
    throw SnsErrors.invalid(
      `Message attribute '${name}' value is not a valid JSON array of strings, numbers, booleans or nulls.`,
    );
}

function perProtocol(message: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw SnsErrors.invalid('Message Structure - JSON message body failed to parse');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw SnsErrors.invalid('Message Structure - JSON message body failed to parse');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
  if (out.default === undefined) throw SnsErrors.invalid('Message Structure - No default entry in JSON message body');
  return out;
}

export interface TopicFacts {
  fifo: boolean;
  contentBasedDedup: boolean;
}

/** Checks one message of a Publish or PublishBatch; returns it as the record keeps it and its size. */
export function checkMessage(e: PublishEntry, topic: TopicFacts): [Published, number] {
  if (e.Message === undefined || e.Message === null)
    throw SnsErrors.invalid('Message Reason: no value for required parameter');
  if (e.Message === '') throw SnsErrors.invalid('Empty message');
  const m: Published = { id: randomUUID(), body: e.Message };
  if (e.Subject !== undefined) {
    if (!SUBJECT.test(e.Subject)) throw SnsErrors.invalid('Subject');
    m.subject = e.Subject;
  }
  if (e.MessageStructure !== undefined) {
    if (e.MessageStructure !== 'json') throw SnsErrors.invalid('MessageStructure');
    m.perProtocol = perProtocol(e.Message);
  }
  let bytes = Buffer.byteLength(e.Message);
  if (e.MessageAttributes && Object.keys(e.MessageAttributes).length > 0) {
    const [attrs, n] = checkAttributes(e.MessageAttributes);
    m.attrs = attrs;
    bytes += n;
  }
  if (topic.fifo) {
    if (!e.MessageGroupId) throw SnsErrors.invalid('The MessageGroupId parameter is required for FIFO topics');
    m.group = e.MessageGroupId;
    if (e.MessageDeduplicationId) m.dedup = e.MessageDeduplicationId;
    else if (topic.contentBasedDedup) m.dedup = createHash('sha256').update(e.Message).digest('hex');
    else
      throw SnsErrors.invalid(
        'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
  } else {
    if (e.MessageDeduplicationId !== undefined)
      throw SnsErrors.invalid(
        'MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
      );
    if (e.MessageGroupId !== undefined) m.group = e.MessageGroupId;
  }
  for (const [v, what] of [
    [e.MessageGroupId, 'MessageGroupId'],
    [e.MessageDeduplicationId, 'MessageDeduplicationId'],
  ] as const) {
    if (v !== undefined && !/^[\x21-\x7e]{1,128}$/.test(v))
      throw SnsErrors.invalid(
        `${what} Reason: ${what} can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
      );
  }
  return [m, bytes];
}
