/**
 * The pattern engine's interpreter: every operator, in both SNS scopes and EventBridge's dialect,
 * the validation errors in AWS's wording, and the bugs peers shipped (`$or` matching everything,
 * booleans compared as strings, `{"prefix": ""}`, anything-but against a missing or null field).
 */
import { describe, expect, it } from 'vitest';
import { fieldsOf, matches } from '../../src/services/shared/patterns/match.js';
import { parsePattern, type Dialect } from '../../src/services/shared/patterns/parse.js';
import { attributeFields } from '../../src/services/sns/filter.js';

const body = (pattern: unknown, event: unknown, dialect: Dialect = 'eventbridge') =>
  matches(parsePattern(pattern, dialect), fieldsOf(event));
const error = (pattern: unknown, dialect: Dialect = 'sns-attributes') => {
  try {
    parsePattern(pattern, dialect);
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};

describe('patterns: matching', () => {
  it('matches exact values type-sensitively', () => {
    expect(body({ a: [true] }, { a: true })).toBe(true);
    expect(body({ a: [true] }, { a: 'true' })).toBe(false);
    expect(body({ a: ['true'] }, { a: true })).toBe(false);
    expect(body({ a: [5] }, { a: 5.0 })).toBe(true);
    expect(body({ a: [5] }, { a: '5' })).toBe(false);
    expect(body({ a: [null] }, { a: null })).toBe(true);
    expect(body({ a: [null] }, {})).toBe(false);
    expect(body({ a: [''] }, { a: '' })).toBe(true);
    expect(body({ a: [''] }, { a: 'x' })).toBe(false);
  });

  it('matches nested keys and any element of an array', () => {
    expect(body({ d: { s: ['on'] } }, { d: { s: 'on' } })).toBe(true);
    expect(body({ d: { s: ['on'] } }, { d: [{ s: 'off' }, { s: 'on' }] })).toBe(true);
    expect(body({ tags: ['b'] }, { tags: ['a', 'b'] })).toBe(true);
    expect(body({ tags: ['c'] }, { tags: ['a', 'b'] })).toBe(false);
    expect(body({ d: { s: ['on'] } }, { d: 'on' })).toBe(false);
  });

  it('prefix, suffix and equals-ignore-case, with their ignore-case forms', () => {
    expect(body({ a: [{ prefix: 'ab' }] }, { a: 'abc' })).toBe(true);
    expect(body({ a: [{ prefix: 'ab' }] }, { a: 'xabc' })).toBe(false);
    expect(body({ a: [{ prefix: '' }] }, { a: 'anything' })).toBe(true);
    expect(body({ a: [{ prefix: '' }] }, { a: 5 })).toBe(false);
    expect(body({ a: [{ prefix: '' }] }, {})).toBe(false);
    expect(body({ a: [{ suffix: '.png' }] }, { a: 'x.png' })).toBe(true);
    expect(body({ a: [{ prefix: { 'equals-ignore-case': 'AB' } }] }, { a: 'abc' })).toBe(true);
    expect(body({ a: [{ suffix: { 'equals-ignore-case': '.PNG' } }] }, { a: 'x.png' })).toBe(true);
    expect(body({ a: [{ 'equals-ignore-case': 'HeLLo' }] }, { a: 'hello' })).toBe(true);
    expect(body({ a: [{ 'equals-ignore-case': 'HeLLo' }] }, { a: 'hello!' })).toBe(false);
  });

  it('wildcards (EventBridge), with escapes', () => {
    expect(body({ a: [{ wildcard: 'dir/*.png' }] }, { a: 'dir/x.png' })).toBe(true);
    expect(body({ a: [{ wildcard: 'dir/*.png' }] }, { a: 'dir/x.jpg' })).toBe(false);
    expect(body({ a: [{ wildcard: 'a\\*b' }] }, { a: 'a*b' })).toBe(true);
    expect(body({ a: [{ wildcard: 'a\\*b' }] }, { a: 'axxb' })).toBe(false);
    expect(body({ a: [{ wildcard: 'a.c' }] }, { a: 'abc' })).toBe(false);
  });

  it('anything-but: values, lists, prefix and suffix; never a missing field; null is a value', () => {
    expect(body({ a: [{ 'anything-but': 'x' }] }, { a: 'y' })).toBe(true);
    expect(body({ a: [{ 'anything-but': 'x' }] }, { a: 'x' })).toBe(false);
    expect(body({ a: [{ 'anything-but': 'x' }] }, {})).toBe(false);
    expect(body({ a: [{ 'anything-but': 'x' }] }, { a: null })).toBe(true);
    expect(body({ a: [{ 'anything-but': [1, 2] }] }, { a: 3 })).toBe(true);
    expect(body({ a: [{ 'anything-but': [1, 2] }] }, { a: 2 })).toBe(false);
    expect(body({ a: [{ 'anything-but': { prefix: 'in' } }] }, { a: 'out' })).toBe(true);
    expect(body({ a: [{ 'anything-but': { prefix: 'in' } }] }, { a: 'inside' })).toBe(false);
    expect(body({ a: [{ 'anything-but': { suffix: '.tmp' } }] }, { a: 'x.tmp' })).toBe(false);
    expect(body({ a: [{ 'anything-but': { 'equals-ignore-case': ['A', 'B'] } }] }, { a: 'b' })).toBe(false);
    expect(body({ a: [{ 'anything-but': { wildcard: '*.tmp' } }] }, { a: 'x.txt' })).toBe(true);
  });

  it('numeric ranges and equality, on numbers only', () => {
    const p = { n: [{ numeric: ['>', 0, '<=', 5] }] };
    expect([0, 0.5, 5, 5.01, '3'].map((n) => body(p, { n }))).toEqual([false, true, true, false, false]);
    expect(body({ n: [{ numeric: ['=', 3] }] }, { n: 3 })).toBe(true);
    expect(body({ n: [{ numeric: ['>=', -1] }] }, { n: -1 })).toBe(true);
    expect(body({ n: [{ numeric: ['<', 10] }] }, { n: 10 })).toBe(false);
  });

  it('exists: presence of a leaf, whatever its value', () => {
    expect(body({ a: [{ exists: true }] }, { a: null })).toBe(true);
    expect(body({ a: [{ exists: true }] }, {})).toBe(false);
    expect(body({ a: [{ exists: false }] }, {})).toBe(true);
    expect(body({ a: [{ exists: false }] }, { a: 'x' })).toBe(false);
    expect(body({ a: [{ exists: false }] }, { a: [] })).toBe(true);
  });

  it('cidr for IPv4 and IPv6', () => {
    const v4 = { ip: [{ cidr: '10.0.0.0/24' }] };
    expect(['10.0.0.7', '10.0.1.7', 'not an ip'].map((ip) => body(v4, { ip }))).toEqual([true, false, false]);
    // the mask's edges: no bits, all bits, and the top bit (addresses past 2^31)
    const nets = (cidr: string, ips: string[]) => ips.map((ip) => body({ ip: [{ cidr }] }, { ip }));
    expect(nets('0.0.0.0/0', ['1.2.3.4', '255.255.255.255', '::1'])).toEqual([true, true, false]);
    expect(nets('10.1.2.3/32', ['10.1.2.3', '10.1.2.4'])).toEqual([true, false]);
    expect(nets('128.0.0.0/1', ['200.1.1.1', '127.255.255.255', '255.255.255.255'])).toEqual([true, false, true]);
    expect(nets('255.255.255.254/31', ['255.255.255.255', '255.255.255.253'])).toEqual([true, false]);
    const v6 = { ip: [{ cidr: '2001:db8::/32' }] };
    expect(['2001:db8::1', '2001:db9::1', '10.0.0.7'].map((ip) => body(v6, { ip }))).toEqual([true, false, false]);
  });

  it('$or takes any branch, and only those', () => {
    const p = { $or: [{ a: ['x'] }, { b: [{ numeric: ['>', 1] }] }], c: ['always'] };
    expect(body(p, { a: 'x', c: 'always' })).toBe(true);
    expect(body(p, { b: 2, c: 'always' })).toBe(true);
    expect(body(p, { a: 'y', b: 0, c: 'always' })).toBe(false);
    expect(body(p, { a: 'x' })).toBe(false);
    expect(body({}, { anything: 1 })).toBe(true);
  });

  it('reads SNS attributes by type: Number as a number, String.Array as its elements, Binary not at all', () => {
    const f = attributeFields({
      s: { Type: 'String', Value: '5' },
      n: { Type: 'Number', Value: '5' },
      arr: { Type: 'String.Array', Value: '["a", 1, true]' },
      b: { Type: 'Binary', Value: 'AAE=' },
    });
    const m = (p: unknown) => matches(parsePattern(p, 'sns-attributes'), f);
    expect(m({ s: ['5'] })).toBe(true);
    expect(m({ s: [5] })).toBe(false);
    expect(m({ n: [5] })).toBe(true);
    expect(m({ n: [{ numeric: ['>', 4] }] })).toBe(true);
    expect(m({ s: [{ numeric: ['>', 4] }] })).toBe(false);
    expect(m({ arr: ['a'] })).toBe(true);
    expect(m({ arr: [1] })).toBe(true);
    expect(m({ arr: [true] })).toBe(true);
    expect(m({ b: [{ exists: true }] })).toBe(false);
  });
});

describe('patterns: validation, in AWS wording', () => {
  it('refuses what SNS refuses', () => {
    expect(error({ a: ['1'], b: ['1'], c: ['1'], d: ['1'], e: ['1'], f: ['1'] })).toBe(
      'Filter policy can not have more than 5 keys',
    );
    expect(error({ a: Array.from({ length: 151 }, (_, i) => i) })).toBe('Filter policy is too complex');
    expect(error({ a: Array.from({ length: 30 }, (_, i) => i), b: Array.from({ length: 6 }, (_, i) => i) })).toBe(
      'Filter policy is too complex',
    );
    expect(error({ a: [] })).toBe('Empty arrays are not allowed');
    expect(error({ a: 'x' })).toBe('"a" must be an object or an array');
    expect(error({ a: { b: ['c'] } })).toBe(
      'Filter policy scope MessageAttributes does not support nested filter policy',
    );
    expect(error({ a: { b: ['c'] } }, 'sns-body')).toBe('accepted');
    expect(error({ a: [{ prefix: 'x', suffix: 'y' }] })).toBe('Only one key allowed in match expression');
    expect(error({ a: [{ prefix: 5 }] })).toBe('prefix match pattern must be a string');
    expect(error({ a: [{ wildcard: 'x*' }] })).toBe('Unrecognized match type wildcard');
    expect(error({ a: [{ 'anything-but': { wildcard: 'x' } }] })).toBe('Unsupported anything-but pattern: wildcard');
    expect(error({ a: [{ exists: 'yes' }] })).toBe('exists match pattern must be either true or false.');
    expect(error({ a: [{ bogus: 1 }] })).toBe('Unrecognized match type bogus');
    expect(error({ a: [[1]] })).toBe('Match value must be String, number, true, false, or null');
  });

  it('checks numeric and cidr expressions', () => {
    expect(error({ n: [{ numeric: [] }] })).toBe('Invalid member in numeric match: ]');
    expect(error({ n: [{ numeric: ['!', 1] }] })).toBe('Unrecognized numeric range operator: !');
    expect(error({ n: [{ numeric: ['>', 'x'] }] })).toBe('Value of > must be numeric');
    expect(error({ n: [{ numeric: ['=', 'x'] }] })).toBe('Value of equals must be numeric');
    expect(error({ n: [{ numeric: ['<', 1, '>', 0] }] })).toBe('Too many elements in numeric expression');
    expect(error({ n: [{ numeric: ['>', 1, '>', 2] }] })).toBe('Bad numeric range operator: >');
    expect(error({ n: [{ numeric: ['>', 5, '<', 1] }] })).toBe('Bottom must be less than top');
    expect(error({ n: [{ numeric: ['>', 1, '<', 5, 6] }] })).toBe('Too many terms in numeric range expression');
    expect(error({ ip: [{ cidr: '10.0.0.0' }] })).toBe("Malformed CIDR, one '/' required");
    expect(error({ ip: [{ cidr: '10.0.0.0/x' }] })).toBe('Malformed CIDR, mask bits must be an integer');
    expect(error({ ip: [{ cidr: '10.0.0.300/8' }] })).toBe('Nonstandard IP address: 10.0.0.300');
  });

  it('lets EventBridge use wildcards and nested patterns, but not consecutive stars', () => {
    expect(error({ d: { a: [{ wildcard: 'x*' }] } }, 'eventbridge')).toBe('accepted');
    expect(error({ a: [{ wildcard: 'x**' }] }, 'eventbridge')).toMatch(/^Consecutive wildcard characters/);
  });
});
