/**
 * SNS filter policies on the shared pattern engine: on a message's attributes (the default scope)
 * or on its body (FilterPolicyScope=MessageBody, which must then be a JSON object).
 */
import { CompiledPatterns } from '../shared/patterns/compile.js';
import type { Fields } from '../shared/patterns/match.js';
import { parsePattern, PatternError, type Pattern, type Scalar } from '../shared/patterns/parse.js';
import type { Attr, Published } from './messages.js';

export type Scope = 'MessageAttributes' | 'MessageBody';

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

/**
 * All of a topic's filter policies as one matcher per scope: which subscribers (by their index)
 * a message goes to costs about the same with 10 or 10,000 of them.
 */
export class TopicFilter {
  private readonly open: number[] = [];
  private readonly attrs: CompiledPatterns<number>;
  private readonly body: CompiledPatterns<number>;
  private readonly anyBody: boolean;

  constructor(subs: { policy?: string; scope?: string }[]) {
    const attrs: { id: number; pattern: Pattern }[] = [];
    const body: { id: number; pattern: Pattern }[] = [];
    subs.forEach((s, i) => {
      if (!s.policy) return void this.open.push(i);
      const pattern = parsePattern(JSON.parse(s.policy), dialect(s.scope));
      (s.scope === 'MessageBody' ? body : attrs).push({ id: i, pattern });
    });
    this.attrs = new CompiledPatterns(attrs);
    this.body = new CompiledPatterns(body);
    this.anyBody = body.length > 0;
  }

  /** The indexes of the subscribers a message goes to. */
  matching(m: Published): number[] {
    const out = [...this.open, ...this.attrs.matchFields(attributeFields(m.attrs))];
    if (this.anyBody) {
      let doc: unknown;
      try {
        doc = JSON.parse(m.body);
      } catch {
        doc = undefined;
      }
      // the body scope needs a JSON object (AWS: anything else matches no body policy)
      if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) out.push(...this.body.matchDoc(doc));
    }
    return out;
  }
}
