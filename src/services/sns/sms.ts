/**
 * SMS settings, opted-out numbers and the SMS sandbox, per account and region. Wharf sends no SMS:
 * messages (the sandbox's one-time passwords too) go to the outbox. A number opts out when its
 * owner answers STOP, which no API does: `POST /_wharf/sns/sms/opt-out?PhoneNumber=` stands in.
 */
import { randomInt } from 'node:crypto';
import type { RequestContext } from '../../kernel/context.js';
import { VersionConflict } from '../../store/resources.js';
import type * as T from './generated/types.js';
import { modelErrors } from './generated/errors.js';
import { SnsErrors } from './errors.js';
import type { SnsService } from './service.js';
import { required } from './topics.js';
import { E164 as ANY_E164, toOutbox } from './outbox.js';
import { textFor } from './envelope.js';
import { checkMessage } from './messages.js';
import { listPage, PAGE } from './paging.js';

const SMS = 'sns.sms';
const SANDBOX = 'sns.sms-sandbox';
const E164 = /^\+[1-9]\d{1,14}$/;
const ATTRIBUTES = new Set([
  'DefaultSenderID',
  'DefaultSMSType',
  'MonthlySpendLimit',
  'DeliveryStatusIAMRole',
  'DeliveryStatusSuccessSamplingRate',
  'UsageReportS3Bucket',
]);

interface Settings {
  attributes: Record<string, string>;
  optedOut: string[];
}
interface SandboxDoc {
  status: 'Pending' | 'Verified';
  otp: string;
  language: string;
}

const settingsKey = (account: string, region: string) => ({ kind: SMS, account, region, name: 'settings' });

/** Reads, changes and writes the account's SMS settings (retrying a concurrent write). */
async function update(svc: SnsService, ctx: RequestContext, change: (s: Settings) => void): Promise<void> {
  for (;;) {
    const had = await svc.resources.get<Settings>(settingsKey(ctx.account, ctx.region));
    const s: Settings = had ? structuredClone(had.doc) : { attributes: {}, optedOut: [] };
    change(s);
    try {
      await svc.resources.put(settingsKey(ctx.account, ctx.region), s, {
        now: svc.clock.now(),
        ifVersion: had?.version ?? 0,
      });
      return;
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
    }
  }
}

async function settings(svc: SnsService, account: string, region: string): Promise<Settings> {
  return (await svc.resources.get<Settings>(settingsKey(account, region)))?.doc ?? { attributes: {}, optedOut: [] };
}

export async function setSMSAttributes(svc: SnsService, ctx: RequestContext, input: T.SetSMSAttributesInput) {
  const given = input.attributes ?? {};
  for (const [k, v] of Object.entries(given)) {
    if (!ATTRIBUTES.has(k)) throw SnsErrors.invalid(`${k}`);
    if (k === 'DefaultSMSType' && v !== 'Promotional' && v !== 'Transactional')
      throw SnsErrors.invalid('DefaultSMSType');
    if (k === 'MonthlySpendLimit' && !/^\d+$/.test(v)) throw SnsErrors.invalid('MonthlySpendLimit');
    if (k === 'DeliveryStatusSuccessSamplingRate' && !(/^\d+$/.test(v) && Number(v) <= 100))
      throw SnsErrors.invalid('DeliveryStatusSuccessSamplingRate');
  }
  await update(svc, ctx, (s) => Object.assign(s.attributes, given));
  return {};
}

export async function getSMSAttributes(
  svc: SnsService,
  ctx: RequestContext,
  input: T.GetSMSAttributesInput,
): Promise<T.GetSMSAttributesResponse> {
  const { attributes } = await settings(svc, ctx.account, ctx.region);
  const names = input.attributes?.length ? input.attributes : Object.keys(attributes);
  return {
    attributes: Object.fromEntries(names.filter((n) => attributes[n] !== undefined).map((n) => [n, attributes[n]])),
  };
}

export async function checkIfPhoneNumberIsOptedOut(
  svc: SnsService,
  ctx: RequestContext,
  input: T.CheckIfPhoneNumberIsOptedOutInput,
): Promise<T.CheckIfPhoneNumberIsOptedOutResponse> {
  const phone = String(required(input.phoneNumber, 'phoneNumber'));
  if (!E164.test(phone)) throw SnsErrors.invalid('PhoneNumber');
  return { isOptedOut: (await settings(svc, ctx.account, ctx.region)).optedOut.includes(phone) };
}

export async function listPhoneNumbersOptedOut(
  svc: SnsService,
  ctx: RequestContext,
  input: T.ListPhoneNumbersOptedOutInput,
): Promise<T.ListPhoneNumbersOptedOutResponse> {
  const all = [...(await settings(svc, ctx.account, ctx.region)).optedOut].sort();
  const from = input.nextToken === undefined ? 0 : Number(Buffer.from(input.nextToken, 'base64url').toString());
  if (!Number.isInteger(from) || from < 0) throw SnsErrors.invalid('NextToken');
  const out: T.ListPhoneNumbersOptedOutResponse = { phoneNumbers: all.slice(from, from + PAGE) };
  if (from + PAGE < all.length) out.nextToken = Buffer.from(String(from + PAGE)).toString('base64url');
  return out;
}

export async function optInPhoneNumber(svc: SnsService, ctx: RequestContext, input: T.OptInPhoneNumberInput) {
  const phone = String(required(input.phoneNumber, 'phoneNumber'));
  if (!E164.test(phone)) throw SnsErrors.invalid('PhoneNumber');
  await update(svc, ctx, (s) => (s.optedOut = s.optedOut.filter((n) => n !== phone)));
  return {};
}

/** What an answer of STOP does: the number is opted out (the admin route's stand-in). */
export async function optOut(svc: SnsService, ctx: RequestContext, phone: string): Promise<void> {
  if (!E164.test(phone)) throw SnsErrors.invalid('PhoneNumber');
  await update(svc, ctx, (s) => {
    if (!s.optedOut.includes(phone)) s.optedOut.push(phone);
  });
}

const sandboxKey = (ctx: RequestContext, phone: string) => ({
  kind: SANDBOX,
  account: ctx.account,
  region: ctx.region,
  name: phone,
});

export async function createSMSSandboxPhoneNumber(
  svc: SnsService,
  ctx: RequestContext,
  input: T.CreateSMSSandboxPhoneNumberInput,
) {
  const phone = String(required(input.PhoneNumber, 'PhoneNumber'));
  if (!E164.test(phone)) throw SnsErrors.invalid('PhoneNumber');
  const otp = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const doc: SandboxDoc = { status: 'Pending', otp, language: input.LanguageCode ?? 'en-US' };
  await svc.resources.put(sandboxKey(ctx, phone), doc, { now: svc.clock.now() });
  // the one-time password goes where every SMS goes
  await toOutbox(svc, ctx.account, ctx.region, 'sms', {
    PhoneNumber: phone,
    Message: `Your one-time password to verify this phone number for Amazon SNS is ${otp}`,
  });
  return {};
}

export async function verifySMSSandboxPhoneNumber(
  svc: SnsService,
  ctx: RequestContext,
  input: T.VerifySMSSandboxPhoneNumberInput,
) {
  const phone = String(required(input.PhoneNumber, 'PhoneNumber'));
  const had = await svc.resources.get<SandboxDoc>(sandboxKey(ctx, phone));
  if (!had) throw modelErrors.ResourceNotFoundException('Resource does not exist');
  if (had.doc.status !== 'Verified') {
    if (input.OneTimePassword !== had.doc.otp) throw modelErrors.VerificationException('Invalid one-time password', {});
    await svc.resources.put(had, { ...had.doc, status: 'Verified' }, { now: svc.clock.now(), ifVersion: had.version });
  }
  return {};
}

export async function deleteSMSSandboxPhoneNumber(
  svc: SnsService,
  ctx: RequestContext,
  input: T.DeleteSMSSandboxPhoneNumberInput,
) {
  const phone = String(required(input.PhoneNumber, 'PhoneNumber'));
  if (!(await svc.resources.delete(sandboxKey(ctx, phone), { now: svc.clock.now() })))
    throw modelErrors.ResourceNotFoundException('Resource does not exist');
  return {};
}

export async function listSMSSandboxPhoneNumbers(
  svc: SnsService,
  ctx: RequestContext,
  input: T.ListSMSSandboxPhoneNumbersInput,
): Promise<T.ListSMSSandboxPhoneNumbersResult> {
  const max = input.MaxResults ?? PAGE;
  if (!Number.isInteger(max) || max < 1 || max > PAGE) throw SnsErrors.invalid('MaxResults');
  const { rows, next } = await listPage<SandboxDoc>(svc, SANDBOX, ctx.account, ctx.region, {
    ...(input.NextToken !== undefined ? { token: input.NextToken } : {}),
    valid: (n) => E164.test(n),
    size: max,
  });
  const out: T.ListSMSSandboxPhoneNumbersResult = {
    PhoneNumbers: rows.map((r) => ({ PhoneNumber: r.name, Status: r.doc.status })),
  };
  if (next) out.NextToken = next;
  return out;
}

export async function getSMSSandboxAccountStatus(): Promise<T.GetSMSSandboxAccountStatusResult> {
  // Wharf sends to any number (into the outbox): no account is held in the sandbox
  return { IsInSandbox: false };
}

export async function listOriginationNumbers(
  _svc: SnsService,
  _ctx: RequestContext,
  input: T.ListOriginationNumbersRequest,
): Promise<T.ListOriginationNumbersResult> {
  if (input.MaxResults !== undefined && !(input.MaxResults >= 1 && input.MaxResults <= 30))
    throw modelErrors.ValidationException('MaxResults must be between 1 and 30');
  // Wharf owns no origination numbers
  return { PhoneNumbers: [] };
}

/** Publish to a phone number: checked, then kept in the SMS outbox. */
export async function publishToPhone(
  svc: SnsService,
  ctx: RequestContext,
  input: T.PublishInput,
): Promise<T.PublishResponse> {
  const phone = input.PhoneNumber ?? '';
  if (!ANY_E164.test(phone)) throw SnsErrors.invalid(`PhoneNumber Reason: ${phone} is not valid to publish to`);
  const [m] = checkMessage({ ...input }, { fifo: false, contentBasedDedup: false });
  await toOutbox(svc, ctx.account, ctx.region, 'sms', {
    PhoneNumber: phone,
    MessageId: m.id,
    Message: textFor(m, 'sms'),
    ...(m.attrs ? { MessageAttributes: m.attrs } : {}),
  });
  return { MessageId: m.id };
}
