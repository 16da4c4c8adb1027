/** Which characters SQS accepts in bodies and other text that comes back in XML. */

// XML 1.0 characters: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
// eslint-disable-next-line no-control-regex
const INVALID_CHAR = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function invalidCharacter(s: string): string | undefined {
  const m = INVALID_CHAR.exec(s);
  if (!m) return undefined;
  return `#x${m[0].codePointAt(0)!.toString(16).toUpperCase()}`;
}
