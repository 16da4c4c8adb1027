/**
 * Event patterns: the one language behind SNS filter policies and EventBridge rules, with a
 * dialect each. A pattern is parsed once, checked against its dialect's rules (wording as AWS
 * words it), and turned into disjunctive normal form: a list of conjunctions of conditions, each
 * condition a field path and the matchers any of which its value must satisfy. `$or` multiplies
 * conjunctions out, which the dialects' complexity limits keep small.
 */
import { parseCidr, type Cidr } from './cidr.js';

export type Scalar = string | number | boolean | null;

export type Matcher =
  /** type-sensitive: 5 is not "5", true is not "true"; numbers compare by value */
  | { op: 'exact'; value: Scalar }
  | { op: 'prefix' | 'suffix'; value: string; ic: boolean }
  | { op: 'eqic'; value: string }
  | { op: 'wildcard'; value: string; re: RegExp }
  /** a value that satisfies none of these */
  | { op: 'but'; not: Matcher[] }
  | { op: 'numeric'; lo: number; loOpen: boolean; hi: number; hiOpen: boolean }
  /** decided by the field's presence, not its values */
  | { op: 'exists'; value: boolean }
  | { op: 'cidr'; net: Cidr };

export interface Condition {
  /** dot-joined keys from the root: `detail.state` */
  path: string;
  /** any of them */
  matchers: Matcher[];
}

/** every condition holds */
export type Conjunction = Condition[];

export interface Pattern {
  /** any conjunction holds; an empty pattern matches everything */
  any: Conjunction[];
}

export type Dialect = 'sns-attributes' | 'sns-body' | 'eventbridge';

/** a pattern the dialect refuses, with AWS's reason */
export class PatternError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** SNS: a policy may name five keys and make 150 combinations */
const SNS_MAX_KEYS = 5;
const SNS_MAX_COMBINATIONS = 150;
/** a bound on $or expansion for dialects without a combination limit */
const MAX_CONJUNCTIONS = 4096;

const SNS_BUT = new Set(['prefix', 'suffix', 'equals-ignore-case']);
const EB_BUT = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

class Parser {
  constructor(private readonly dialect: Dialect) {}

  private fail(why: string): never {
    throw new PatternError(why);
  }

  object(o: Record<string, unknown>, prefix: string, depth: number): Conjunction[] {
    let out: Conjunction[] = [[]];
    for (const [key, value] of Object.entries(o)) {
      let branch: Conjunction[];
      if (key === '$or') {
        if (!Array.isArray(value) || value.length < 2) this.fail('"$or" must be an array of at least two patterns');
        branch = value.flatMap((alt) => {
          if (!isObject(alt)) this.fail('"$or" must be an array of at least two patterns');
          return this.object(alt, prefix, depth);
        });
      } else if (isObject(value)) {
        if (this.dialect === 'sns-attributes')
          this.fail('Filter policy scope MessageAttributes does not support nested filter policy');
        branch = this.object(value, `${prefix}${key}.`, depth + 1);
      } else if (Array.isArray(value)) {
        if (value.length === 0) this.fail('Empty arrays are not allowed');
        branch = [[{ path: prefix + key, matchers: value.map((r) => this.rule(r)) }]];
      } else {
        this.fail(`"${key}" must be an object or an array`);
      }
      const next: Conjunction[] = [];
      for (const a of out) for (const b of branch) next.push([...a, ...b]);
      if (next.length > MAX_CONJUNCTIONS) this.fail('Filter policy is too complex');
      out = next;
    }
    return out;
  }

  rule(r: unknown): Matcher {
    if (r === null || typeof r === 'string' || typeof r === 'boolean') return { op: 'exact', value: r };
    if (typeof r === 'number') {
      if (!Number.isFinite(r)) this.fail('Match value must be String, number, true, false, or null');
      return { op: 'exact', value: r };
    }
    if (!isObject(r)) this.fail('Match value must be String, number, true, false, or null');
    const keys = Object.keys(r);
    if (keys.length !== 1) this.fail('Only one key allowed in match expression');
    const op = keys[0];
    const v = r[op];
    switch (op) {
      case 'prefix':
      case 'suffix':
        if (isObject(v) && Object.keys(v).length === 1 && typeof v['equals-ignore-case'] === 'string')
          return { op, value: v['equals-ignore-case'], ic: true };
        if (typeof v !== 'string') this.fail(`${op} match pattern must be a string`);
        return { op, value: v, ic: false };
      case 'equals-ignore-case':
        if (typeof v !== 'string') this.fail('equals-ignore-case match pattern must be a string');
        return { op: 'eqic', value: v };
      case 'wildcard':
        if (this.dialect !== 'eventbridge') this.fail('Unrecognized match type wildcard');
        if (typeof v !== 'string') this.fail('wildcard match pattern must be a string');
        return wildcard(v, (why) => this.fail(why));
      case 'anything-but':
        return this.anythingBut(v);
      case 'exists':
        if (typeof v !== 'boolean') this.fail('exists match pattern must be either true or false.');
        return { op: 'exists', value: v };
      case 'numeric':
        return this.numeric(v);
      case 'cidr':
        if (typeof v !== 'string') this.fail('prefix match pattern must be a string');
        return { op: 'cidr', net: parseCidr(v, (why) => this.fail(why)) };
      default:
        return this.fail(`Unrecognized match type ${op}`);
    }
  }

  private anythingBut(v: unknown): Matcher {
    if (Array.isArray(v)) {
      if (v.length === 0) this.fail('Empty arrays are not allowed');
      return {
        op: 'but',
        not: v.map((x) => {
          if (x !== null && typeof x === 'object')
            this.fail('Inside anything but list, start|null|boolean is not supported.');
          return this.rule(x);
        }),
      };
    }
    if (isObject(v)) {
      const keys = Object.keys(v);
      const allowed = this.dialect === 'eventbridge' ? EB_BUT : SNS_BUT;
      if (keys.length !== 1 || !allowed.has(keys[0])) this.fail(`Unsupported anything-but pattern: ${keys.join(', ')}`);
      const inner = v[keys[0]];
      if (
        Array.isArray(inner) &&
        (keys[0] === 'equals-ignore-case' || keys[0] === 'wildcard' || keys[0] === 'prefix' || keys[0] === 'suffix')
      ) {
        return { op: 'but', not: inner.map((x) => this.rule({ [keys[0]]: x })) };
      }
      return { op: 'but', not: [this.rule(v)] };
    }
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      return { op: 'but', not: [this.rule(v)] };
    return this.fail('Match value must be String, number, true, false, or null');
  }

  private numeric(v: unknown): Matcher {
    if (!Array.isArray(v) || v.length === 0) this.fail('Invalid member in numeric match: ]');
    const m = { op: 'numeric' as const, lo: -Infinity, loOpen: true, hi: Infinity, hiOpen: true };
    const [op1, n1, op2, n2, ...rest] = v as unknown[];
    const num = (op: unknown, n: unknown): number => {
      if (typeof n !== 'number' || !Number.isFinite(n))
        this.fail(`Value of ${op === '=' ? 'equals' : String(op)} must be numeric`);
      return n;
    };
    if (typeof op1 !== 'string') this.fail(`Invalid member in numeric match: ${JSON.stringify(op1)}`);
    if (!['<', '<=', '=', '>', '>='].includes(op1)) this.fail(`Unrecognized numeric range operator: ${op1}`);
    const a = num(op1, n1);
    if (op1 === '=') Object.assign(m, { lo: a, hi: a, loOpen: false, hiOpen: false });
    else if (op1 === '>' || op1 === '>=') Object.assign(m, { lo: a, loOpen: op1 === '>' });
    else Object.assign(m, { hi: a, hiOpen: op1 === '<' });
    if (v.length <= 2) return m;
    if (op1 !== '>' && op1 !== '>=') this.fail('Too many elements in numeric expression');
    if (typeof op2 !== 'string') this.fail(`Bad value in numeric range: ${JSON.stringify(op2)}`);
    if (op2 !== '<' && op2 !== '<=') this.fail(`Bad numeric range operator: ${op2}`);
    const b = num(op2, n2);
    if (b <= a) this.fail('Bottom must be less than top');
    if (rest.length) this.fail('Too many terms in numeric range expression');
    return Object.assign(m, { hi: b, hiOpen: op2 === '<' });
  }
}

function wildcard(v: string, fail: (why: string) => never): Matcher {
  if (v.includes('**')) fail('Consecutive wildcard characters at pos ' + v.indexOf('**'));
  let re = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === '\\') {
      const n = v[i + 1];
      if (n !== '*' && n !== '\\') fail(`Invalid escape character at pos ${i}`);
      re += `\\${n}`;
      i++;
    } else if (c === '*') re += '.*';
    else re += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return { op: 'wildcard', value: v, re: new RegExp(`^${re}$`, 's') };
}

/** SNS's complexity measure: the product of each key's value count times its depth, $or alternatives summed. */
function snsCombinations(o: Record<string, unknown>, depth: number, combinations: number): number {
  for (const [key, value] of Object.entries(o)) {
    if (isObject(value)) combinations = snsCombinations(value, depth + 1, combinations);
    else if (Array.isArray(value)) {
      if (key === '$or') {
        let sum = 0;
        for (const alt of value) if (isObject(alt)) sum += snsCombinations(alt, depth, combinations);
        combinations = sum;
      } else combinations = combinations * value.length * depth;
    }
  }
  return combinations;
}

/** Parses and checks a pattern (the JSON value, already parsed) in a dialect; throws PatternError. */
export function parsePattern(pattern: unknown, dialect: Dialect): Pattern {
  if (!isObject(pattern)) throw new PatternError('Filter policy must be a JSON object');
  const p = new Parser(dialect);
  if (dialect !== 'eventbridge') {
    if (Object.keys(pattern).length > SNS_MAX_KEYS)
      throw new PatternError('Filter policy can not have more than 5 keys');
    const any = p.object(pattern, '', 1);
    if (snsCombinations(pattern, 1, 1) > SNS_MAX_COMBINATIONS) throw new PatternError('Filter policy is too complex');
    return { any };
  }
  return { any: p.object(pattern, '', 1) };
}
