/**
 * The plain interpreter of patterns: a pattern against an event's fields, one condition at a
 * time. It is the reference the compiled matcher (compile.ts) is checked against.
 */
import { inCidr } from './cidr.js';
import type { Condition, Matcher, Pattern, Scalar } from './parse.js';

/** An event as the matchers see it: each leaf path (dot-joined keys) and its values, arrays flattened. */
export type Fields = Map<string, Scalar[]>;

/** The fields of a JSON document; an empty array leaves its path absent. */
export function fieldsOf(doc: unknown, into: Fields = new Map(), prefix = ''): Fields {
  if (Array.isArray(doc)) {
    for (const v of doc) fieldsOf(v, into, prefix);
  } else if (typeof doc === 'object' && doc !== null) {
    for (const [k, v] of Object.entries(doc)) fieldsOf(v, into, prefix ? `${prefix}.${k}` : k);
  } else if (prefix) {
    const path = prefix;
    const list = into.get(path);
    if (list) list.push(doc as Scalar);
    else into.set(path, [doc as Scalar]);
  }
  return into;
}

/** Whether one matcher (not `exists`) holds for one value. */
export function matchValue(m: Matcher, v: Scalar): boolean {
  switch (m.op) {
    case 'exact':
      return v === m.value;
    case 'prefix':
      return (
        typeof v === 'string' && (m.ic ? v.toLowerCase().startsWith(m.value.toLowerCase()) : v.startsWith(m.value))
      );
    case 'suffix':
      return typeof v === 'string' && (m.ic ? v.toLowerCase().endsWith(m.value.toLowerCase()) : v.endsWith(m.value));
    case 'eqic':
      return typeof v === 'string' && v.toLowerCase() === m.value.toLowerCase();
    case 'wildcard':
      return typeof v === 'string' && m.re.test(v);
    case 'but':
      return !m.not.some((n) => matchValue(n, v));
    case 'numeric':
      return typeof v === 'number' && (m.loOpen ? v > m.lo : v >= m.lo) && (m.hiOpen ? v < m.hi : v <= m.hi);
    case 'cidr':
      return typeof v === 'string' && inCidr(m.net, v);
    case 'exists':
      return false;
  }
}

export function matchCondition(c: Condition, fields: Fields): boolean {
  const values = fields.get(c.path);
  for (const m of c.matchers) {
    if (m.op === 'exists') {
      if (m.value === (values !== undefined)) return true;
    } else if (values) {
      for (const v of values) if (matchValue(m, v)) return true;
    }
  }
  return false;
}

export function matches(p: Pattern, fields: Fields): boolean {
  return p.any.some((conj) => conj.every((c) => matchCondition(c, fields)));
}
