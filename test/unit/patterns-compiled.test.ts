/**
 * The compiled matcher against the interpreter: on generated patterns (every operator, nesting,
 * `$or`) and generated events (scalars, arrays, nested objects, arrays of objects), the set of
 * patterns the compiled matcher reports is exactly the set the interpreter accepts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompiledPatterns } from '../../src/services/shared/patterns/compile.js';
import { fieldsOf, matches } from '../../src/services/shared/patterns/match.js';
import { parsePattern, type Pattern } from '../../src/services/shared/patterns/parse.js';

const KEYS = ['a', 'b', 'c'];
const STRINGS = ['', 'x', 'xy', 'Xy', 'yx', 'xyz', '10.0.0.1', '10.1.2.3', '2001:db8::1', '192.168.0.1'];
const NUMBERS = [-1, 0, 1, 2.5, 100];
const scalar = fc.oneof(fc.constantFrom(...STRINGS), fc.constantFrom(...NUMBERS), fc.boolean(), fc.constant(null));
const str = fc.constantFrom(...STRINGS);

const matcher = fc.oneof(
  scalar,
  str.map((s) => ({ prefix: s })),
  str.map((s) => ({ suffix: s })),
  str.map((s) => ({ 'equals-ignore-case': s })),
  str.map((s) => ({ prefix: { 'equals-ignore-case': s } })),
  str.map((s) => ({ suffix: { 'equals-ignore-case': s } })),
  fc.constantFrom('x*', '*y', '*', 'x*z', '10.*').map((s) => ({ wildcard: s })),
  fc.array(scalar, { minLength: 1, maxLength: 3 }).map((v) => ({ 'anything-but': v })),
  scalar.map((v) => ({ 'anything-but': v })),
  str.map((s) => ({ 'anything-but': { prefix: s } })),
  str.map((s) => ({ 'anything-but': { suffix: s } })),
  fc.array(str, { minLength: 1, maxLength: 2 }).map((v) => ({ 'anything-but': { 'equals-ignore-case': v } })),
  fc.constantFrom('x*', '*y').map((s) => ({ 'anything-but': { wildcard: s } })),
  fc
    .tuple(fc.constantFrom('<', '<=', '=', '>', '>='), fc.constantFrom(...NUMBERS))
    .map(([op, n]) => ({ numeric: [op, n] })),
  fc
    .tuple(fc.constantFrom(-1, 0, 1), fc.constantFrom(2, 2.5, 100))
    .map(([lo, hi]) => ({ numeric: ['>', lo, '<=', hi] })),
  fc.boolean().map((b) => ({ exists: b })),
  fc.constantFrom('10.0.0.0/8', '10.0.0.0/24', '2001:db8::/32', '192.168.0.0/16').map((c) => ({ cidr: c })),
);

const leaf = fc.array(matcher, { minLength: 1, maxLength: 3 });
const patternObj: fc.Arbitrary<Record<string, unknown>> = fc.letrec((tie) => ({
  node: fc.dictionary(fc.constantFrom(...KEYS), fc.oneof({ depthSize: 'small' }, leaf, leaf, tie('inner')), {
    minKeys: 1,
    maxKeys: 3,
  }),
  inner: fc.dictionary(fc.constantFrom(...KEYS), leaf, { minKeys: 1, maxKeys: 2 }),
})).node;
const pattern = fc.oneof(
  patternObj,
  fc.tuple(patternObj, patternObj, patternObj).map(([a, b, rest]) => ({ ...rest, $or: [a, b] })),
);

const eventValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(scalar, { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('v'), { maxKeys: 3 }),
    fc.array(fc.dictionary(fc.constantFrom(...KEYS), scalar, { maxKeys: 2 }), { maxLength: 2 }),
  ),
})).v;
const event = fc.dictionary(fc.constantFrom(...KEYS), eventValue, { maxKeys: 3 });

function tryParse(p: unknown): Pattern | undefined {
  try {
    return parsePattern(p, 'eventbridge');
  } catch {
    return undefined;
  }
}

describe('compiled patterns', () => {
  it('match exactly what the interpreter matches', () => {
    fc.assert(
      fc.property(
        fc.array(pattern, { minLength: 1, maxLength: 12 }),
        fc.array(event, { minLength: 1, maxLength: 8 }),
        (raw, events) => {
          const parsed = raw.map(tryParse).filter((p): p is Pattern => p !== undefined);
          const compiled = new CompiledPatterns(parsed.map((pattern, id) => ({ id, pattern })));
          for (const e of events) {
            const fields = fieldsOf(e);
            const want = parsed.flatMap((p, i) => (matches(p, fields) ? [i] : []));
            expect(compiled.matchDoc(e).sort((x, y) => x - y)).toEqual(want);
            expect(compiled.matchFields(fields).sort((x, y) => x - y)).toEqual(want);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('matches an empty pattern to every event and survives many events (epochs)', () => {
    const c = new CompiledPatterns([
      { id: 'all', pattern: parsePattern({}, 'eventbridge') },
      { id: 'a', pattern: parsePattern({ a: ['x'] }, 'eventbridge') },
      { id: 'no-b', pattern: parsePattern({ b: [{ exists: false }] }, 'eventbridge') },
    ]);
    for (let i = 0; i < 10_000; i++) {
      expect(c.matchDoc({ a: i % 2 ? 'x' : 'y', ...(i % 3 ? {} : { b: 1 }) }).sort()).toEqual(
        ['all', ...(i % 2 ? ['a'] : []), ...(i % 3 ? ['no-b'] : [])].sort(),
      );
    }
  });
});
