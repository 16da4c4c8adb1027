/**
 * SNS's routes under /_wharf/sns/: the URLs Wharf hands to endpoints (SubscribeURL,
 * UnsubscribeURL, SigningCertURL), fetched unsigned and authenticated by their token; and the
 * outbox of what Wharf does not send itself (SMS, mobile push, email without SMTP, and lambda and
 * firehose subscriptions until their services deliver), behind the usual authentication.
 */
import { randomUUID } from 'node:crypto';
import { ServiceError } from '../../kernel/errors.js';
import type { RequestContext } from '../../kernel/context.js';
import type { AdminRequest, AdminResult, AdminRoute } from '../definition.js';
import { OUTBOX } from './outbox.js';
import type { SnsService } from './service.js';
import { optOut } from './sms.js';
import { confirmSubscription, unsubscribe } from './subscriptions.js';

const ctxOf = (req: AdminRequest): RequestContext => ({
  requestId: randomUUID(),
  account: req.defaultAccount,
  region: req.defaultRegion,
  baseUrl: req.baseUrl,
  signal: new AbortController().signal,
});

/** an operation's error as AWS's Query XML, as the endpoint would see it from AWS */
async function asOperation(operation: string, run: () => Promise<unknown>): Promise<AdminResult> {
  try {
    return { status: 200, operation, output: (await run()) ?? {}, json: false };
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    return { status: e.status, json: { Error: { Code: e.code, Message: e.message } } };
  }
}

const confirm: AdminRoute<SnsService> = {
  method: 'GET',
  unsigned: true,
  pattern: /^\/_wharf\/sns\/confirm$/,
  handle: (svc, req) =>
    asOperation('ConfirmSubscription', () =>
      confirmSubscription(svc, ctxOf(req), {
        TopicArn: req.query.get('TopicArn') ?? '',
        Token: req.query.get('Token') ?? '',
      }),
    ),
};

const unsubscribeRoute: AdminRoute<SnsService> = {
  method: 'GET',
  unsigned: true,
  pattern: /^\/_wharf\/sns\/unsubscribe$/,
  async handle(svc, req) {
    const arn = req.query.get('SubscriptionArn') ?? '';
    if (req.query.get('Token') !== svc.fanout.unsubscribeToken(arn))
      return { status: 403, json: { Error: { Code: 'AuthorizationError', Message: 'Invalid unsubscribe token' } } };
    return asOperation('Unsubscribe', () => unsubscribe(svc, ctxOf(req), { SubscriptionArn: arn }));
  },
};

const certificate: AdminRoute<SnsService> = {
  method: 'GET',
  unsigned: true,
  pattern: /^\/_wharf\/sns\/(SimpleNotificationService-[0-9a-f]{32}\.pem)$/,
  async handle(svc, _req, m) {
    const signer = await svc.fanout.signerNow();
    if (m[1] !== signer.certName) return { status: 404, json: { error: 'no such certificate' } };
    return { status: 200, text: signer.certPem, contentType: 'application/x-pem-file' };
  },
};

/** GET /_wharf/sns/outbox[?protocol=sms&account=&region=]: what waits there, oldest first. */
const outbox: AdminRoute<SnsService> = {
  method: 'GET',
  pattern: /^\/_wharf\/sns\/outbox$/,
  async handle(svc, req) {
    const account = req.query.get('account') ?? req.defaultAccount;
    const region = req.query.get('region') ?? req.defaultRegion;
    const protocol = req.query.get('protocol');
    const rows = await svc.resources.list<Record<string, unknown>>(OUTBOX, account, region, {
      ...(protocol ? { prefix: `${protocol}/` } : {}),
      limit: Math.min(Number(req.query.get('limit') ?? 1000) || 1000, 10_000),
    });
    return { status: 200, json: { messages: rows.map((r) => ({ Protocol: r.name.split('/')[0], ...r.doc })) } };
  },
};

/** POST /_wharf/sns/sms/opt-out?PhoneNumber=: what the number's owner answering STOP does. */
const smsOptOut: AdminRoute<SnsService> = {
  method: 'POST',
  pattern: /^\/_wharf\/sns\/sms\/opt-out$/,
  async handle(svc, req) {
    const phone = req.query.get('PhoneNumber') ?? '';
    try {
      await optOut(svc, ctxOf(req), phone);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      return { status: 400, json: { Error: { Code: e.code, Message: e.message } } };
    }
    return { status: 200, json: { optedOut: phone } };
  },
};

export const snsAdminRoutes = [confirm, unsubscribeRoute, certificate, outbox, smsOptOut];
