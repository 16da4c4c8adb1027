/**
 * The generic input validator: checks a decoded input against the constraints botocore gives its
 * shapes (required, min/max length or value, pattern, enum) and reports what failed the way the
 * AWS Coral front end does (Kinesis, EventBridge, Firehose, Lambda, STS):
 *   - members in declaration order; per member: not null, pattern, min, max, enum;
 *   - paths in lowerCamelCase: `streamModeDetails.streamMode`, list elements `records.1.member.data`,
 *     map values `tags.<key>.member`;
 *   - the constraints of a list's scalar elements (or a map's keys and values) as one violation at the
 *     list: `Member must satisfy constraint: [Member must have length less than or equal to 128, …]`;
 *   - values as Java prints them: blobs `java.nio.HeapByteBuffer[pos=0 lim=N cap=N]`, lists `[a, b]`,
 *     maps `{k=v}`, structures `com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@1a2b3c4d`;
 *   - at most ten (kernel/coral.ts).
 * Services whose AWS front end answers differently (SQS, SNS) do not use it.
 */
import { createHash } from 'node:crypto';
import { constraint, MAX_VIOLATIONS, memberPath, type Violation } from '../kernel/coral.js';
import type { MemberModel, Rules, ServiceModel, ShapeModel } from './model.js';

const patterns = new Map<string, RegExp | null>();
/** botocore patterns are Java regular expressions that must match the whole value. */
function compiled(pattern: string): RegExp | null {
  let re = patterns.get(pattern);
  if (re === undefined) {
    re = null;
    for (const flags of ['u', '']) {
      try {
        re = new RegExp(`^(?:${pattern})$`, flags);
        break;
      } catch {
        /* next: some Java escapes are not valid in a JavaScript unicode regex */
      }
    }
    patterns.set(pattern, re); // a pattern JavaScript cannot read is not enforced
  }
  return re;
}

type Kind = 'string' | 'number' | 'blob' | 'list' | 'map' | 'other';

function lengthOf(kind: Kind, value: unknown): number | undefined {
  if (kind === 'string' && typeof value === 'string') return value.length;
  if (kind === 'blob' && Buffer.isBuffer(value)) return value.length;
  if (kind === 'list' && Array.isArray(value)) return value.length;
  if (kind === 'map' && value && typeof value === 'object') return Object.keys(value).length;
  return undefined;
}

/** The constraints a value breaks, in Coral's order. */
function broken(kind: Kind, value: unknown, rules: Rules): string[] {
  const out: string[] = [];
  if (kind === 'string' && typeof value === 'string' && rules.pattern !== undefined) {
    const re = compiled(rules.pattern);
    if (re && !re.test(value)) out.push(constraint.pattern(rules.pattern));
  }
  if (kind === 'number' && typeof value === 'number') {
    if (rules.min !== undefined && value < rules.min) out.push(constraint.min(rules.min));
    if (rules.max !== undefined && value > rules.max) out.push(constraint.max(rules.max));
  } else {
    const n = lengthOf(kind, value);
    if (n !== undefined && rules.min !== undefined && n < rules.min) out.push(constraint.minLength(rules.min));
    if (n !== undefined && rules.max !== undefined && n > rules.max) out.push(constraint.maxLength(rules.max));
  }
  if (kind === 'string' && typeof value === 'string' && rules.enum && !rules.enum.includes(value))
    out.push(constraint.enum(rules.enum));
  return out;
}

/** Every constraint of an element, as Coral lists them inside `Member must satisfy constraint: [...]`. */
function allOf(kind: Kind, rules: Rules): string {
  const parts: string[] = [];
  if (kind === 'number') {
    if (rules.max !== undefined) parts.push(constraint.max(rules.max));
    if (rules.min !== undefined) parts.push(constraint.min(rules.min));
  } else {
    if (rules.max !== undefined) parts.push(constraint.maxLength(rules.max));
    if (rules.min !== undefined) parts.push(constraint.minLength(rules.min));
  }
  if (rules.pattern !== undefined) parts.push(constraint.pattern(rules.pattern));
  if (rules.enum) parts.push(constraint.enum(rules.enum));
  return `[${parts.join(', ')}]`;
}

export function validateInput(
  model: ServiceModel,
  shapeName: string | null,
  input: Record<string, unknown>,
): Violation[] {
  const out: Violation[] = [];
  if (!shapeName) return out;
  const full = () => out.length >= MAX_VIOLATIONS;
  const shapeOf = (target: string): ShapeModel | undefined => model.shapes[target];
  const kindOf = (target: string): Kind => {
    if (target === 'string' || target === 'number' || target === 'blob') return target;
    const s = shapeOf(target);
    return s?.type === 'list' ? 'list' : s?.type === 'map' ? 'map' : 'other';
  };
  // `com.amazonaws.kinesis.v20131202`: the Java package Coral's toString() names
  const javaPackage = `${model.service.namespace}.v${model.service.version.replace(/-/g, '')}`;
  const show = (target: string, value: unknown): string => {
    if (Buffer.isBuffer(value)) return `java.nio.HeapByteBuffer[pos=0 lim=${value.length} cap=${value.length}]`;
    const s = shapeOf(target);
    if (s?.type === 'list' && Array.isArray(value)) return `[${value.map((v) => show(s.member, v)).join(', ')}]`;
    if (s?.type === 'map' && value && typeof value === 'object')
      return `{${Object.entries(value)
        .map(([k, v]) => `${k}=${show(s.value, v)}`)
        .join(', ')}}`;
    if (s?.type === 'structure') {
      const hash = createHash('sha1').update(JSON.stringify(value)).digest('hex').slice(0, 8);
      return `${javaPackage}.${target}@${hash}`;
    }
    return String(value);
  };
  const push = (path: string, target: string, value: unknown, c: string) => {
    if (!full()) out.push({ path, value: show(target, value), constraint: c });
  };

  function member(path: string, m: MemberModel, value: unknown): void {
    if (value === undefined || value === null) {
      if (m.required && !full()) out.push({ path, value: null, constraint: constraint.notNull });
      return;
    }
    const kind = kindOf(m.target);
    const s = shapeOf(m.target);
    const rules = m.rules ?? (s && s.type !== 'structure' ? s.rules : undefined);
    if (rules) for (const c of broken(kind, value, rules)) push(path, m.target, value, c);
    inside(path, m.target, value);
  }

  function inside(path: string, target: string, value: unknown): void {
    const s = shapeOf(target);
    if (!s || full()) return;
    if (s.type === 'structure') {
      if (s.union || typeof value !== 'object' || value === null) return;
      const v = value as Record<string, unknown>;
      for (const [name, m] of Object.entries(s.members)) member(`${path}.${memberPath(name)}`, m, v[name]);
    } else if (s.type === 'list' && Array.isArray(value)) {
      const elementKind = kindOf(s.member);
      if (s.memberRules && value.some((v) => broken(elementKind, v, s.memberRules!).length))
        push(path, target, value, `Member must satisfy constraint: ${allOf(elementKind, s.memberRules)}`);
      value.forEach((v, i) => {
        if (v !== null && v !== undefined) inside(`${path}.${i + 1}.member`, s.member, v);
      });
    } else if (s.type === 'map' && value && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>);
      if (s.keyRules && entries.some(([k]) => broken('string', k, s.keyRules!).length))
        push(path, target, value, `Map keys must satisfy constraint: ${allOf('string', s.keyRules)}`);
      const valueKind = kindOf(s.value);
      if (s.valueRules && entries.some(([, v]) => broken(valueKind, v, s.valueRules!).length))
        push(path, target, value, `Map value must satisfy constraint: ${allOf(valueKind, s.valueRules)}`);
      for (const [k, v] of entries) if (v !== null && v !== undefined) inside(`${path}.${k}.member`, s.value, v);
    }
  }

  const top = model.shapes[shapeName];
  if (top?.type === 'structure')
    for (const [name, m] of Object.entries(top.members)) member(memberPath(name), m, input[name]);
  return out;
}
