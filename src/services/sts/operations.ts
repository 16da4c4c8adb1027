/**
 * STS: who am I, and temporary credentials (GetSessionToken, AssumeRole) that work on every Wharf service.
 * The model's constraints (lengths, patterns, duration ranges) are checked before these run.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../../kernel/context.js';
import { StsErrors } from './errors.js';
import { accountOfTemporaryKey } from './sessions.js';
import type { StsService } from './service.js';
import type * as T from './generated/types.js';

/** The caller as GetCallerIdentity reports it: the session's principal, or the account's root. */
function caller(ctx: RequestContext): { arn: string; userId: string } {
  return ctx.principal ?? { arn: `arn:aws:iam::${ctx.account}:root`, userId: ctx.account };
}

export async function getCallerIdentity(_svc: StsService, ctx: RequestContext): Promise<T.GetCallerIdentityResponse> {
  const who = caller(ctx);
  return { UserId: who.userId, Account: ctx.account, Arn: who.arn };
}

export async function getSessionToken(
  svc: StsService,
  ctx: RequestContext,
  input: T.GetSessionTokenRequest,
): Promise<T.GetSessionTokenResponse> {
  if (ctx.principal) throw StsErrors.AccessDenied('Cannot call GetSessionToken with session credentials');
  const who = caller(ctx);
  const seconds = input.DurationSeconds ?? 43200;
  return { Credentials: svc.issue(ctx.account, who.arn, who.userId, seconds).credentials };
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;

export async function assumeRole(
  svc: StsService,
  _ctx: RequestContext,
  input: T.AssumeRoleRequest,
): Promise<T.AssumeRoleResponse> {
  const roleArn = input.RoleArn;
  const m = ROLE_ARN.exec(roleArn);
  if (!m)
    throw StsErrors.invalid([{ path: 'roleArn', value: roleArn, constraint: 'Member must be a valid IAM role ARN' }]);
  const [, account, roleName] = m;
  const session = input.RoleSessionName;
  // a stable role id per role, as IAM has one (AROA + 17 characters)
  const roleId = `AROA${createHash('sha256').update(roleArn).digest('hex').slice(0, 17).toUpperCase()}`;
  const arn = `arn:aws:sts::${account}:assumed-role/${roleName}/${session}`;
  const seconds = input.DurationSeconds ?? 3600;
  const issued = svc.issue(account, arn, `${roleId}:${session}`, seconds);
  return {
    Credentials: issued.credentials,
    AssumedRoleUser: { AssumedRoleId: `${roleId}:${session}`, Arn: arn },
    PackedPolicySize: 0,
    ...(input.SourceIdentity !== undefined ? { SourceIdentity: input.SourceIdentity } : {}),
  };
}

export async function getAccessKeyInfo(
  svc: StsService,
  _ctx: RequestContext,
  input: T.GetAccessKeyInfoRequest,
): Promise<T.GetAccessKeyInfoResponse> {
  const key = input.AccessKeyId;
  return { Account: accountOfTemporaryKey(key) ?? svc.accountOf(key) };
}
