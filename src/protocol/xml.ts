/**
 * AWS Query responses: `<OpResponse xmlns><OpResult>…</OpResult><ResponseMetadata>…` with
 * element names from the model's xmlName / xmlFlattened traits.
 */
import { isScalar, type ServiceModel } from './model.js';

// XML parsers normalise a bare CR to LF, which would change message bodies and break their MD5
// checks, so CR is written as a character reference.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;', '"': '&quot;' };
export function escapeXml(s: string): string {
  return /[&<>\r"]/.test(s) ? s.replace(/[&<>\r"]/g, (c) => ESCAPES[c]) : s;
}

function scalarText(target: string, v: unknown): string {
  if (target === 'blob') return Buffer.from(v as Uint8Array).toString('base64');
  if (target === 'timestamp') return (v instanceof Date ? v : new Date(Number(v) * 1000)).toISOString();
  return escapeXml(String(v));
}

function encode(
  model: ServiceModel,
  target: string,
  v: unknown,
  name: string,
  flattened: boolean,
  out: string[],
): void {
  if (v === undefined || v === null) return;
  if (isScalar(target)) {
    out.push(`<${name}>${scalarText(target, v)}</${name}>`);
    return;
  }
  const shape = model.shapes[target];
  if (shape.type === 'structure') {
    out.push(`<${name}>`);
    encodeMembers(model, target, v as Record<string, unknown>, out);
    out.push(`</${name}>`);
  } else if (shape.type === 'list') {
    const items = v as unknown[];
    if (flattened) for (const item of items) encode(model, shape.member, item, name, false, out);
    else {
      out.push(`<${name}>`);
      for (const item of items) encode(model, shape.member, item, shape.memberName ?? 'member', false, out);
      out.push(`</${name}>`);
    }
  } else {
    const kName = shape.keyName ?? 'key';
    const vName = shape.valueName ?? 'value';
    const map = v as Record<string, unknown>;
    if (!flattened) out.push(`<${name}>`);
    for (const k of Object.keys(map)) {
      out.push(flattened ? `<${name}>` : '<entry>');
      out.push(`<${kName}>${escapeXml(k)}</${kName}>`);
      encode(model, shape.value, map[k], vName, false, out);
      out.push(flattened ? `</${name}>` : '</entry>');
    }
    if (!flattened) out.push(`</${name}>`);
  }
}

function encodeMembers(model: ServiceModel, target: string, v: Record<string, unknown>, out: string[]): void {
  const shape = model.shapes[target];
  if (shape.type !== 'structure') return;
  for (const name in shape.members) {
    const m = shape.members[name];
    encode(model, m.target, v[name], m.xmlName ?? name, !!m.flattened, out);
  }
}

export function encodeQueryResponse(
  model: ServiceModel,
  operation: string,
  outputShape: string | null,
  output: unknown,
  requestId: string,
): string {
  const ns = model.service.xmlNamespace ?? '';
  const out: string[] = [`<?xml version="1.0"?><${operation}Response xmlns="${ns}">`];
  if (outputShape && output) {
    out.push(`<${operation}Result>`);
    encodeMembers(model, outputShape, output as Record<string, unknown>, out);
    out.push(`</${operation}Result>`);
  }
  out.push(`<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`);
  return out.join('');
}

// Characters XML 1.0 cannot carry at all, not even as references. Error messages echo client input (a receipt
// handle, an action name) and must stay parseable, so these become U+FFFD there.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function encodeQueryError(
  ns: string,
  fault: 'client' | 'server',
  code: string,
  message: string,
  requestId: string,
): string {
  const type = fault === 'server' ? 'Receiver' : 'Sender';
  return (
    `<?xml version="1.0"?><ErrorResponse xmlns="${ns}"><Error><Type>${type}</Type>` +
    `<Code>${escapeXml(code.replace(NOT_XML, '\uFFFD'))}</Code>` +
    `<Message>${escapeXml(message.replace(NOT_XML, '\uFFFD'))}</Message><Detail/></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
