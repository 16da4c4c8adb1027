/**
 * SNS filter policies on the shared pattern engine: on a message's attributes (the default scope)
 * or on its body (FilterPolicyScope=MessageBody, which must then be a JSON object).
 */
import { matches, fieldsOf, type Fields } from '../shared/patterns/match.js';
import { parsePattern, PatternError, type Pattern, type Scalar } from '../shared/patterns/parse.js';
import type { Attr, Published } from './messages.js';

export type Scope = 'MessageAttributes' | 'MessageBody';
export type Filter = (m: Published) => boolean;

const dialect = (scope: string | undefined) => (scope === 'MessageBody' ? 'sns-body' : 'sns-attributes');

/** Checks a filter policy (parsed JSON) for a scope; `fail` words the error. */
export function checkFilterPolicy(policy: unknown, scope: string | undefined, fail: (why: string) => Error): Pattern {
  try {
    return parsePattern(policy, dialect(scope));
  } catch (e) {
    if (e instanceof PatternError) throw fail(e.message);
    throw e;
  }
}

/** What attribute filtering sees: String as a string, Number as a number, String.Array's elements; Binary not at all. */
export function attributeFields(attrs: Record<string, Attr> | undefined): Fields {
  const f: Fields = new Map();
  for (const [name, a] of Object.entries(attrs ?? {})) {
    if (a.Type.startsWith('Number')) f.set(name, [Number(a.Value)]);
    else if (a.Type.startsWith('String.Array')) {
      try {
        const v = JSON.parse(a.Value) as unknown;
        const values = (Array.isArray(v) ? v : [v]).filter((x) => typeof x !== 'object' || x === null);
        if (values.length) f.set(name, values as Scalar[]);
      } catch {
        // checked at publish: cannot happen
      }
    } else if (a.Type.startsWith('String')) f.set(name, [a.Value]);
  }
  return f;
}

function bodyFields(body: string): Fields | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  return fieldsOf(doc);
}

/** The filter a stored FilterPolicy makes (it was checked when set). */
export function compileFilter(policy: string, scope: string | undefined): Filter {
  const pattern = parsePattern(JSON.parse(policy), dialect(scope));
  if (scope === 'MessageBody') {
    return (m) => {
      const f = bodyFields(m.body);
      return !!f && matches(pattern, f);
    };
  }
  return (m) => matches(pattern, attributeFields(m.attrs));
}
