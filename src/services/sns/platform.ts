/**
 * Platform applications and endpoints (mobile push): kept as resources, published to through
 * the outbox (Wharf sends nothing to APNs or FCM). An application is `sns.platform-app` named
 * `<platform>/<name>`; an endpoint `sns.platform-endpoint` named `<platform>/<name>/<id>`.
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../kernel/context.js';
import type { Resource, ResourceKey } from '../../store/resources.js';
import { parseArn } from '../shared/arn.js';
import type * as T from './generated/types.js';
import { modelErrors } from './generated/errors.js';
import { SnsErrors } from './errors.js';
import { textFor } from './envelope.js';
import { checkMessage } from './messages.js';
import type { SnsService } from './service.js';
import { required } from './topics.js';
import { toOutbox } from './outbox.js';
import { listPage } from './paging.js';

const APP = 'sns.platform-app';
const ENDPOINT = 'sns.platform-endpoint';
const PLATFORMS = new Set([
  'ADM',
  'APNS',
  'APNS_SANDBOX',
  'APNS_VOIP',
  'APNS_VOIP_SANDBOX',
  'BAIDU',
  'GCM',
  'MPNS',
  'WNS',
]);
const NAME = /^[A-Za-z0-9_.-]{1,256}$/;
/** what AWS keeps to itself: never reported back */
const SECRET = new Set(['PlatformCredential', 'PlatformPrincipal']);

interface AppDoc {
  attributes: Record<string, string>;
}
interface EndpointDoc {
  attributes: Record<string, string>;
}

const arnOf = (r: Resource<unknown>, kind: 'app' | 'endpoint') =>
  `arn:aws:sns:${r.region}:${r.account}:${kind}/${r.name}`;

function keyOf(arn: unknown, member: string, kind: 'app' | 'endpoint'): ResourceKey {
  const s = String(required(arn, member));
  const a = parseArn(s);
  if (!a) throw SnsErrors.invalid(`${member} Reason: An ARN must have at least 6 elements, not ${s.split(':').length}`);
  const parts = a.resource.split('/');
  if (a.service !== 'sns' || parts[0] !== kind || parts.length !== (kind === 'app' ? 3 : 4))
    throw SnsErrors.invalid(member);
  return {
    kind: kind === 'app' ? APP : ENDPOINT,
    account: a.account,
    region: a.region,
    name: parts.slice(1).join('/'),
  };
}

async function findApp(svc: SnsService, arn: unknown): Promise<Resource<AppDoc>> {
  const app = await svc.resources.get<AppDoc>(keyOf(arn, 'PlatformApplicationArn', 'app'));
  if (!app) throw SnsErrors.NotFound('PlatformApplication does not exist');
  return app;
}

async function findEndpoint(svc: SnsService, arn: unknown): Promise<Resource<EndpointDoc>> {
  const e = await svc.resources.get<EndpointDoc>(keyOf(arn, 'EndpointArn', 'endpoint'));
  if (!e) throw SnsErrors.NotFound('Endpoint does not exist');
  return e;
}

function checkAppAttributes(platform: string, attrs: Record<string, string>, creating: boolean): void {
  const has = (k: string) => attrs[k] !== undefined;
  if (!creating) return;
  if (platform === 'GCM' || platform === 'BAIDU' || platform === 'MPNS' || platform === 'WNS' || platform === 'ADM') {
    if (!has('PlatformCredential')) throw SnsErrors.invalid('Attributes Reason: PlatformCredential attribute required');
  } else if (has('PlatformPrincipal') !== has('PlatformCredential')) {
    throw SnsErrors.invalid(
      has('PlatformPrincipal')
        ? 'Attributes Reason: PlatformPrincipal attribute provided without PlatformCredential'
        : 'Attributes Reason: PlatformCredential attribute provided without PlatformPrincipal',
    );
  }
}

const shown = (attrs: Record<string, string>) =>
  Object.fromEntries(Object.entries({ Enabled: 'true', ...attrs }).filter(([k]) => !SECRET.has(k)));

export async function createPlatformApplication(
  svc: SnsService,
  ctx: RequestContext,
  input: T.CreatePlatformApplicationInput,
): Promise<T.CreatePlatformApplicationResponse> {
  const name = String(required(input.Name, 'Name'));
  const platform = String(required(input.Platform, 'Platform'));
  if (!NAME.test(name)) throw SnsErrors.invalid('Name');
  if (!PLATFORMS.has(platform)) throw SnsErrors.invalid('Platform');
  const attributes = { ...(input.Attributes ?? {}) };
  checkAppAttributes(platform, attributes, true);
  const key = { kind: APP, account: ctx.account, region: ctx.region, name: `${platform}/${name}` };
  const existing = await svc.resources.get<AppDoc>(key);
  const app = existing ?? (await svc.resources.put<AppDoc>(key, { attributes }, { now: svc.clock.now() }));
  return { PlatformApplicationArn: arnOf(app, 'app') };
}

export async function deletePlatformApplication(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.DeletePlatformApplicationInput,
): Promise<void> {
  const key = keyOf(input.PlatformApplicationArn, 'PlatformApplicationArn', 'app');
  await svc.resources.delete(key, { now: svc.clock.now() });
  const endpoints = await svc.resources.list(ENDPOINT, key.account, key.region, { prefix: `${key.name}/` });
  for (const e of endpoints) await svc.resources.delete(e, { now: svc.clock.now() });
}

const LISTED = /^[A-Za-z0-9_./-]+$/;

export async function listPlatformApplications(
  svc: SnsService,
  ctx: RequestContext,
  input: T.ListPlatformApplicationsInput,
): Promise<T.ListPlatformApplicationsResponse> {
  const { rows, next } = await listPage<AppDoc>(svc, APP, ctx.account, ctx.region, {
    ...(input.NextToken !== undefined ? { token: input.NextToken } : {}),
    valid: (n) => LISTED.test(n),
  });
  const out: T.ListPlatformApplicationsResponse = {
    PlatformApplications: rows.map((a) => ({
      PlatformApplicationArn: arnOf(a, 'app'),
      Attributes: shown(a.doc.attributes),
    })),
  };
  if (next) out.NextToken = next;
  return out;
}

export async function getPlatformApplicationAttributes(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.GetPlatformApplicationAttributesInput,
): Promise<T.GetPlatformApplicationAttributesResponse> {
  return { Attributes: shown((await findApp(svc, input.PlatformApplicationArn)).doc.attributes) };
}

export async function setPlatformApplicationAttributes(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.SetPlatformApplicationAttributesInput,
): Promise<void> {
  const app = await findApp(svc, input.PlatformApplicationArn);
  const attributes = { ...app.doc.attributes, ...(input.Attributes ?? {}) };
  await svc.resources.put<AppDoc>(app, { attributes }, { now: svc.clock.now(), ifVersion: app.version });
}

function checkEndpointAttributes(attrs: Record<string, string>): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'CustomUserData' && Buffer.byteLength(v) > 2048)
      throw SnsErrors.invalid(
        'Attributes Reason: Invalid value for attribute: CustomUserData: must be at most 2048 bytes long in UTF-8 encoding',
      );
    if (k === 'Enabled' && v !== 'true' && v !== 'false')
      throw SnsErrors.invalid('Attributes Reason: Invalid value for attribute: Enabled');
    if (k !== 'CustomUserData' && k !== 'Enabled' && k !== 'Token')
      throw SnsErrors.invalid(`Attributes Reason: Invalid attribute name: ${k}`);
  }
}

export async function createPlatformEndpoint(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.CreatePlatformEndpointInput,
): Promise<T.CreateEndpointResponse> {
  const app = await findApp(svc, input.PlatformApplicationArn);
  const token = String(required(input.Token, 'Token'));
  const given = { ...(input.Attributes ?? {}) };
  checkEndpointAttributes(given);
  const attributes: Record<string, string> = { Enabled: 'true', Token: token, ...given };
  if (input.CustomUserData !== undefined && attributes.CustomUserData === undefined)
    attributes.CustomUserData = input.CustomUserData;
  const mine = await svc.resources.list<EndpointDoc>(ENDPOINT, app.account, app.region, { prefix: `${app.name}/` });
  const same = mine.find((e) => e.doc.attributes.Token === token);
  if (same) {
    const a = same.doc.attributes;
    const equal = Object.keys({ ...a, ...attributes }).every((k) => a[k] === attributes[k]);
    if (!equal)
      throw SnsErrors.invalid(
        `Token Reason: Endpoint ${arnOf(same, 'endpoint')} already exists with the same Token, but different attributes.`,
      );
    return { EndpointArn: arnOf(same, 'endpoint') };
  }
  const key = { kind: ENDPOINT, account: app.account, region: app.region, name: `${app.name}/${randomUUID()}` };
  const e = await svc.resources.put<EndpointDoc>(key, { attributes }, { now: svc.clock.now(), ifVersion: 0 });
  return { EndpointArn: arnOf(e, 'endpoint') };
}

export async function deleteEndpoint(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.DeleteEndpointInput,
): Promise<void> {
  // deleting an endpoint that does not exist is not an error
  await svc.resources.delete(keyOf(input.EndpointArn, 'EndpointArn', 'endpoint'), { now: svc.clock.now() });
}

export async function listEndpointsByPlatformApplication(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.ListEndpointsByPlatformApplicationInput,
): Promise<T.ListEndpointsByPlatformApplicationResponse> {
  const app = await findApp(svc, input.PlatformApplicationArn);
  const { rows, next } = await listPage<EndpointDoc>(svc, ENDPOINT, app.account, app.region, {
    prefix: `${app.name}/`,
    ...(input.NextToken !== undefined ? { token: input.NextToken } : {}),
    valid: (n) => LISTED.test(n),
  });
  const out: T.ListEndpointsByPlatformApplicationResponse = {
    Endpoints: rows.map((e) => ({ EndpointArn: arnOf(e, 'endpoint'), Attributes: e.doc.attributes })),
  };
  if (next) out.NextToken = next;
  return out;
}

export async function getEndpointAttributes(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.GetEndpointAttributesInput,
): Promise<T.GetEndpointAttributesResponse> {
  return { Attributes: (await findEndpoint(svc, input.EndpointArn)).doc.attributes };
}

export async function setEndpointAttributes(
  svc: SnsService,
  _ctx: RequestContext,
  input: T.SetEndpointAttributesInput,
): Promise<void> {
  const e = await findEndpoint(svc, input.EndpointArn);
  const given = { ...(input.Attributes ?? {}) };
  checkEndpointAttributes(given);
  await svc.resources.put<EndpointDoc>(
    e,
    { attributes: { ...e.doc.attributes, ...given } },
    { now: svc.clock.now(), ifVersion: e.version },
  );
}

/** Publish with a TargetArn naming an endpoint: into the outbox for its platform. */
export async function publishToEndpoint(svc: SnsService, input: T.PublishInput): Promise<T.PublishResponse> {
  const key = keyOf(input.TargetArn, 'TargetArn', 'endpoint');
  const e = await svc.resources.get<EndpointDoc>(key);
  if (!e) throw SnsErrors.invalid('TargetArn Reason: No endpoint found for the target arn specified');
  if (e.doc.attributes.Enabled === 'false') throw modelErrors.EndpointDisabledException('Endpoint is disabled');
  const [m] = checkMessage({ ...input }, { fifo: false, contentBasedDedup: false });
  const platform = key.name.split('/')[0];
  await toOutbox(svc, e.account, e.region, 'application', {
    EndpointArn: arnOf(e, 'endpoint'),
    MessageId: m.id,
    Message: textFor(m, platform),
    ...(m.attrs ? { MessageAttributes: m.attrs } : {}),
  });
  return { MessageId: m.id };
}

/** Whether a Publish TargetArn names a platform endpoint rather than a topic. */
export const isEndpointArn = (arn: string | undefined) => !!arn && /^arn:[^:]+:sns:[^:]*:[^:]*:endpoint\//.test(arn);
