/**
 * Backend-neutral encoding of the per-message extras (message attributes, system attributes,
 * their MD5s, the DLQ source) into one JSON text column. Messages without extras store NULL.
 */
import type { MessageAttributes, MessageAttributeValue } from './types.js';

interface EncodedValue {
  t: string;
  s?: string;
  b?: string;
  sl?: string[];
  bl?: string[];
}
interface Extras {
  a?: Record<string, EncodedValue>;
  am?: string;
  y?: Record<string, EncodedValue>;
  ym?: string;
  d?: string;
}

// Attribute names are user input: a name like "__proto__" must stay an ordinary key.
function encodeMap(m: MessageAttributes): Record<string, EncodedValue> {
  const out: Record<string, EncodedValue> = Object.create(null);
  for (const [k, v] of Object.entries(m)) {
    const e: EncodedValue = { t: v.DataType };
    if (v.StringValue !== undefined) e.s = v.StringValue;
    if (v.BinaryValue !== undefined) e.b = Buffer.from(v.BinaryValue).toString('base64');
    if (v.StringListValues?.length) e.sl = v.StringListValues;
    if (v.BinaryListValues?.length) e.bl = v.BinaryListValues.map((b) => Buffer.from(b).toString('base64'));
    out[k] = e;
  }
  return out;
}

function decodeMap(m: Record<string, EncodedValue>): MessageAttributes {
  const out: MessageAttributes = Object.create(null);
  for (const [k, e] of Object.entries(m)) {
    const v: MessageAttributeValue = { DataType: e.t };
    if (e.s !== undefined) v.StringValue = e.s;
    if (e.b !== undefined) v.BinaryValue = Buffer.from(e.b, 'base64');
    if (e.sl) v.StringListValues = e.sl;
    if (e.bl) v.BinaryListValues = e.bl.map((b) => Buffer.from(b, 'base64'));
    out[k] = v;
  }
  return out;
}

export interface MessageExtras {
  attributes?: MessageAttributes;
  md5OfAttributes?: string;
  systemAttributes?: MessageAttributes;
  md5OfSystemAttributes?: string;
  deadLetterSourceArn?: string;
}

export function encodeExtras(m: MessageExtras): string | null {
  if (!m.attributes && !m.systemAttributes && !m.deadLetterSourceArn) return null;
  const x: Extras = {};
  if (m.attributes) {
    x.a = encodeMap(m.attributes);
    x.am = m.md5OfAttributes;
  }
  if (m.systemAttributes) {
    x.y = encodeMap(m.systemAttributes);
    x.ym = m.md5OfSystemAttributes;
  }
  if (m.deadLetterSourceArn) x.d = m.deadLetterSourceArn;
  return JSON.stringify(x);
}

export function decodeExtras(s: string | null | undefined): MessageExtras {
  if (!s) return {};
  // JSON.parse makes "__proto__" an own property, so the maps read back intact
  const x = JSON.parse(s) as Extras;
  const out: MessageExtras = {};
  if (x.a) {
    out.attributes = decodeMap(x.a);
    if (x.am) out.md5OfAttributes = x.am;
  }
  if (x.y) {
    out.systemAttributes = decodeMap(x.y);
    if (x.ym) out.md5OfSystemAttributes = x.ym;
  }
  if (x.d) out.deadLetterSourceArn = x.d;
  return out;
}

/** FIFO sequence numbers: the store sequence as a 20-digit decimal string. */
export function sequenceNumber(seq: number): string {
  return String(seq).padStart(20, '0');
}
