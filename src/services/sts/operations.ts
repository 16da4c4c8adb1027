/** STS: who am I, and temporary credentials (GetSessionToken, AssumeRole) that work on every Wharf service. */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../../kernel/context.js';
import { constraint, type Violation } from '../shared/coral.js';
import { StsErrors } from './errors.js';
import { accountOfTemporaryKey } from './sessions.js';
import type { StsService } from './service.js';

type Input = Record<string, unknown>;

/** Checks one member against its model constraints; collects violations in AWS's order (member order). */
function check(
  out: Violation[],
  path: string,
  value: unknown,
  c: { min?: number; max?: number; pattern?: RegExp; patternText?: string; range?: [number, number] },
): void {
  if (value === undefined || value === null) return;
  if (c.range) {
    const n = value as number;
    if (n < c.range[0]) out.push({ path, value, constraint: constraint.min(c.range[0]) });
    else if (n > c.range[1]) out.push({ path, value, constraint: constraint.max(c.range[1]) });
    return;
  }
  const s = String(value);
  if (c.min !== undefined && s.length < c.min) out.push({ path, value, constraint: constraint.minLength(c.min) });
  if (c.max !== undefined && s.length > c.max) out.push({ path, value, constraint: constraint.maxLength(c.max) });
  if (c.pattern && !c.pattern.test(s)) out.push({ path, value, constraint: constraint.pattern(c.patternText!) });
}

function fail(violations: Violation[]): void {
  if (violations.length) throw StsErrors.ValidationError(violations);
}

/** The caller as GetCallerIdentity reports it: the session's principal, or the account's root. */
function caller(ctx: RequestContext): { arn: string; userId: string } {
  return ctx.principal ?? { arn: `arn:aws:iam::${ctx.account}:root`, userId: ctx.account };
}

export async function getCallerIdentity(_svc: StsService, ctx: RequestContext) {
  const who = caller(ctx);
  return { UserId: who.userId, Account: ctx.account, Arn: who.arn };
}

export async function getSessionToken(svc: StsService, ctx: RequestContext, input: Input) {
  const v: Violation[] = [];
  check(v, 'durationSeconds', input.DurationSeconds, { range: [900, 129600] });
  fail(v);
  if (ctx.principal) throw StsErrors.AccessDenied('Cannot call GetSessionToken with session credentials');
  const who = caller(ctx);
  const seconds = (input.DurationSeconds as number | undefined) ?? 43200;
  return { Credentials: svc.issue(ctx.account, who.arn, who.userId, seconds).credentials };
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;

export async function assumeRole(svc: StsService, _ctx: RequestContext, input: Input) {
  const v: Violation[] = [];
  check(v, 'roleArn', input.RoleArn, { min: 20, max: 2048 });
  check(v, 'roleSessionName', input.RoleSessionName, {
    min: 2,
    max: 64,
    pattern: /^[\w+=,.@-]*$/,
    patternText: '[\\w+=,.@-]*',
  });
  check(v, 'durationSeconds', input.DurationSeconds, { range: [900, 43200] });
  check(v, 'externalId', input.ExternalId, {
    min: 2,
    max: 1224,
    pattern: /^[\w+=,.@:/-]*$/,
    patternText: '[\\w+=,.@:\\/-]*',
  });
  fail(v);
  const roleArn = input.RoleArn as string;
  const m = ROLE_ARN.exec(roleArn);
  if (!m)
    throw StsErrors.ValidationError([
      { path: 'roleArn', value: roleArn, constraint: 'Member must be a valid IAM role ARN' },
    ]);
  const [, account, roleName] = m;
  const session = input.RoleSessionName as string;
  // a stable role id per role, as IAM has one (AROA + 17 characters)
  const roleId = `AROA${createHash('sha256').update(roleArn).digest('hex').slice(0, 17).toUpperCase()}`;
  const arn = `arn:aws:sts::${account}:assumed-role/${roleName}/${session}`;
  const seconds = (input.DurationSeconds as number | undefined) ?? 3600;
  const issued = svc.issue(account, arn, `${roleId}:${session}`, seconds);
  return {
    Credentials: issued.credentials,
    AssumedRoleUser: { AssumedRoleId: `${roleId}:${session}`, Arn: arn },
    PackedPolicySize: 0,
    ...(input.SourceIdentity !== undefined ? { SourceIdentity: input.SourceIdentity } : {}),
  };
}

export async function getAccessKeyInfo(svc: StsService, _ctx: RequestContext, input: Input) {
  const v: Violation[] = [];
  check(v, 'accessKeyId', input.AccessKeyId, { min: 16, max: 128, pattern: /^\w*$/, patternText: '[\\w]*' });
  fail(v);
  const key = input.AccessKeyId as string;
  return { Account: accountOfTemporaryKey(key) ?? svc.accountOf(key) };
}
