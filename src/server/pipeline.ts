/**
 * The request path, one direction: request id → body size limit → detect service and
 * operation → SigV4 → decode → validate required members → handler → encode the result or
 * the error in the client's protocol.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AnyRequest, AnyResponse } from './front-door.js';
import type { ServiceModel } from '../protocol/model.js';
import { decodeJsonInput, encodeJsonOutput } from '../protocol/json.js';
import { decodeCborInput, encodeCborOutput } from '../protocol/cbor.js';
import { decodeQueryInput, parseQueryParams } from '../protocol/query.js';
import { validateInput } from '../protocol/validate.js';
import { validationMessage } from '../kernel/coral.js';
import { encodeQueryResponse } from '../protocol/xml.js';
import { CONTENT_TYPES, renderError } from '../protocol/errors.js';
import {
  parseAuth,
  SigV4Error,
  sigv4ErrorShape,
  verifySignature,
  type Credential,
  type SignedRequestView,
} from '../protocol/sigv4.js';
import type { WireProtocol } from '../kernel/wire.js';
import { ServiceError } from '../kernel/errors.js';
import type { RequestContext } from '../kernel/context.js';
import type { Clock } from '../kernel/clock.js';
import type { IssuedSession, PlatformErrors } from '../services/definition.js';
import { StoreUnavailableError } from '../store/types.js';
import { NEUTRAL, type Mounted, type Router } from './router.js';

export interface PipelineOptions {
  router: Router;
  /** the services that issue temporary credentials (STS) */
  sessions: Mounted[];
  clock: Clock;
  logger: Logger;
  /** strict SigV4 when set */
  credentials?: Map<string, Credential>;
  clockSkewMs: number;
  maxBodyBytes: number;
  defaultAccount: string;
  defaultRegion: string;
  tls: boolean;
  /** requests under /_wharf/ and /_aws/ (after authentication, except health and readiness), with the caller's account */
  admin: (req: AnyRequest, res: AnyResponse, body: Buffer, baseUrl: string, account: string | undefined) => void;
  /** admin routes whose own token authenticates them (the SNS confirmation, unsubscribe and certificate URLs) */
  unsignedAdmin?: RegExp[];
}

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\//;
const UNSIGNED_ADMIN = new Set(['/_wharf/health', '/_wharf/ready', '/_wharf/health/', '/_wharf/ready/']);

interface Call {
  requestId: string;
  wire: WireProtocol;
  operation: string;
  /** the service, once routed (errors are rendered in its dialect) */
  to?: Mounted;
}

interface Caller {
  account: string;
  region: string;
  accessKeyId: string | undefined;
  principal?: { arn: string; userId: string };
}

/** What a handler knows about its request; the abort signal is made on first use. */
class Context implements RequestContext {
  readonly requestId: string;
  readonly account: string;
  readonly region: string;
  readonly baseUrl: string;
  readonly accessKeyId?: string;
  readonly principal?: { arn: string; userId: string };
  private ac: AbortController | undefined;
  private readonly res: AnyResponse;
  constructor(requestId: string, who: Caller, baseUrl: string, res: AnyResponse) {
    this.requestId = requestId;
    this.account = who.account;
    this.region = who.region;
    this.baseUrl = baseUrl;
    if (who.accessKeyId) this.accessKeyId = who.accessKeyId;
    if (who.principal) this.principal = who.principal;
    this.res = res;
  }
  /** Aborts when the client goes away (a long poll about to wait asks for it). */
  get signal(): AbortSignal {
    if (!this.ac) {
      const c = (this.ac = new AbortController());
      const res = this.res;
      res.once('close', () => {
        if (!res.writableEnded) c.abort();
      });
    }
    return this.ac.signal;
  }
}

/** Anonymous mode: a 12-digit access key id selects that account, any other the default one. */
export function anonymousAccount(accessKeyId: string, defaultAccount: string): string {
  return /^\d{12}$/.test(accessKeyId) ? accessKeyId : defaultAccount;
}

function sigv4Family(call: Call) {
  if (call.wire === 'query') return 'query';
  if (call.wire === 'rest-json') return 'rest-json';
  return call.to?.dialect.awsQueryCompatible ? 'sqs-json' : 'json';
}

/**
 * An X-Amz-Target request's protocol: CBOR when its Content-Type says so and its service speaks
 * it (Kinesis), else the JSON version its service speaks, else what its Content-Type says.
 */
function jsonWire(to: Mounted | undefined, contentType: string | undefined): WireProtocol {
  if (contentType?.startsWith('application/x-amz-cbor') && to?.def.protocols.includes('cbor')) return 'cbor';
  return to?.json ?? (contentType?.includes('1.1') ? 'json1.1' : 'json1.0');
}

export function createPipeline(o: PipelineOptions) {
  function send(
    res: AnyResponse,
    status: number,
    contentType: string,
    text: string | Buffer,
    requestId: string,
    extra?: Record<string, string>,
  ) {
    // encoded once: the length and the bytes written come from the same Buffer
    const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    const headers: Record<string, string | number> = {
      'content-type': contentType,
      'content-length': body.length,
      'x-amzn-requestid': requestId,
    };
    if (extra) Object.assign(headers, extra);
    (res as import('node:http').ServerResponse).writeHead(status, headers);
    res.end(body);
  }

  function sendError(res: AnyResponse, call: Call, err: ServiceError) {
    const r = renderError(call.wire, call.to?.dialect ?? NEUTRAL, err, call.requestId);
    send(res, r.status, r.contentType, r.body, call.requestId, r.headers);
  }

  function toServiceError(e: unknown, call: Call): ServiceError {
    if (e instanceof ServiceError) return e;
    const errors: PlatformErrors | undefined = call.to?.def.errors;
    // the database is down: a retryable 503; the pool reconnects by itself
    if (e instanceof StoreUnavailableError) {
      o.logger.warn({ requestId: call.requestId, operation: call.operation, err: e.message }, 'store unavailable');
      return errors?.serviceUnavailable() ?? unavailable();
    }
    if (e instanceof SigV4Error) {
      const shape = sigv4ErrorShape(e.code, sigv4Family(call));
      return new ServiceError(shape.type, e.message, {
        code: shape.code,
        status: shape.status,
        namespace: 'com.amazon.coral.service',
      });
    }
    o.logger.error({ err: e, requestId: call.requestId, operation: call.operation }, 'unhandled error in handler');
    return errors?.internalFailure() ?? internal();
  }

  /** The session behind temporary credentials, from whichever service issued it. */
  function session(accessKeyId: string, token: string): IssuedSession | undefined {
    for (const m of o.sessions) {
      const s = m.def.session!(m.svc, accessKeyId, token);
      if (s) return s;
    }
    return undefined;
  }

  function sessionToken(req: AnyRequest, rawQuery: string): string | undefined {
    const h = req.headers['x-amz-security-token'];
    if (typeof h === 'string') return h;
    if (!rawQuery.includes('X-Amz-Security-Token=')) return undefined;
    return new URLSearchParams(rawQuery).get('X-Amz-Security-Token') ?? undefined;
  }

  /** The caller; synchronous on the hot path (anonymous mode, long-term credentials). */
  function authenticate(req: AnyRequest, rawPath: string, rawQuery: string, body: Buffer): Caller | Promise<Caller> {
    if (!o.credentials && req.headers['x-amz-security-token'] === undefined) {
      // the hot path in anonymous mode: only the credential scope matters
      const m = CREDENTIAL.exec(String(req.headers.authorization ?? ''));
      if (m) return anonymous(m[1], m[2]);
    }
    return verify(req, rawPath, rawQuery, body);
  }

  async function verify(req: AnyRequest, rawPath: string, rawQuery: string, body: Buffer): Promise<Caller> {
    const view: SignedRequestView = { method: req.method ?? 'POST', rawPath, rawQuery, headers: req.headers, body };
    const auth = parseAuth(view);
    const token = auth && sessionToken(req, rawQuery);
    const s = auth && token !== undefined ? session(auth.accessKeyId, token) : undefined;
    const principal = s && { arn: s.arn, userId: s.userId };
    if (o.credentials) {
      if (!auth) throw new SigV4Error('MissingAuthenticationToken');
      const lookup = (k: string): Credential | undefined =>
        o.credentials!.get(k) ??
        (s ? { accessKeyId: k, secretAccessKey: s.secretAccessKey, accountId: s.account } : undefined);
      const cred = await verifySignature(view, auth, lookup, o.clock.now(), o.clockSkewMs);
      if (s && s.expiresAt <= o.clock.now()) throw new SigV4Error('ExpiredToken');
      return {
        account: cred.accountId,
        region: auth.region,
        accessKeyId: auth.accessKeyId,
        ...(principal ? { principal } : {}),
      };
    }
    // Anonymous mode: any credentials; temporary ones act in their session's account, a
    // 12-digit access key id selects the account.
    if (!auth) return { account: o.defaultAccount, region: o.defaultRegion, accessKeyId: undefined };
    const who = anonymous(auth.accessKeyId, auth.region);
    return s ? { ...who, account: s.account, principal: principal! } : who;
  }

  function anonymous(accessKeyId: string, region: string): Caller {
    return { account: anonymousAccount(accessKeyId, o.defaultAccount), region: region || o.defaultRegion, accessKeyId };
  }

  /** Routes, authenticates and runs one service request; a promise only where something waits. */
  function dispatch(
    req: AnyRequest,
    res: AnyResponse,
    body: Buffer,
    call: Call,
    url: string,
    baseUrl: string,
  ): void | Promise<void> {
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const target = req.headers['x-amz-target'];
    let params: Map<string, string> | undefined;
    let to: Mounted;
    if (typeof target === 'string') {
      const r = o.router.json(target);
      to = call.to = r.to;
      call.operation = r.operation;
    } else {
      params = parseQueryParams(body.length ? body.toString('utf8') : '', rawQuery);
      const action = params.get('Action');
      if (!action) {
        throw new ServiceError('UnknownOperationException', '', { status: 404, code: 'UnknownOperationException' });
      }
      call.operation = action;
      const auth = req.headers.authorization;
      const r = o.router.query(action, o.router.scope(typeof auth === 'string' ? auth : undefined, params));
      to = call.to = r.to; // set now: the error below is rendered in this service's dialect
      if (r.error) throw r.error;
      to.def.queryPath?.(rawPath, action, params, baseUrl);
    }
    const who = authenticate(req, rawPath, rawQuery, body);
    if (who instanceof Promise) return who.then((w) => run(res, body, call, to, params, baseUrl, w));
    return run(res, body, call, to, params, baseUrl, who);
  }

  function run(
    res: AnyResponse,
    body: Buffer,
    call: Call,
    to: Mounted,
    params: Map<string, string> | undefined,
    baseUrl: string,
    who: Caller,
  ): void | Promise<void> {
    const model = to.model;
    const op = model.operations[call.operation];
    const input = params
      ? decodeQueryInput(model, op.input, params)
      : call.wire === 'cbor'
        ? decodeCborInput(model, op.input, body)
        : decodeJsonInput(model, op.input, body);
    if (to.def.validation === 'coral') {
      const violations = validateInput(model, op.input, input);
      if (violations.length && to.def.errors.validation) throw to.def.errors.validation(validationMessage(violations));
    } else checkRequired(model, to.def.errors, op.input, input);
    const ctx = new Context(call.requestId, who, baseUrl, res);
    const output = to.def.operations[call.operation](to.svc, ctx, input);
    if (output instanceof Promise) return output.then((out: unknown) => respond(res, call, op.output, model, out));
    respond(res, call, op.output, model, output);
  }

  function respond(res: AnyResponse, call: Call, outputShape: string | null, model: ServiceModel, output: unknown) {
    if (call.wire === 'query') {
      const xml = encodeQueryResponse(model, call.operation, outputShape, output, call.requestId);
      send(res, 200, CONTENT_TYPES.query, xml, call.requestId);
    } else if (call.wire === 'cbor') {
      send(res, 200, CONTENT_TYPES.cbor, encodeCborOutput(model, outputShape, output), call.requestId);
    } else {
      send(res, 200, CONTENT_TYPES[call.wire], encodeJsonOutput(model, outputShape, output), call.requestId);
    }
  }

  /** Admin routes sit behind the same authentication as the services; health and readiness stay open. */
  async function admin(req: AnyRequest, res: AnyResponse, body: Buffer, call: Call, url: string, baseUrl: string) {
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    let account: string | undefined;
    if (!UNSIGNED_ADMIN.has(rawPath) && !o.unsignedAdmin?.some((re) => re.test(rawPath))) {
      call.wire = 'json1.0';
      // strict mode verifies the signature; either way the caller's account is the default one
      account = (await authenticate(req, rawPath, q < 0 ? '' : url.slice(q + 1), body)).account;
    }
    o.admin(req, res, body, baseUrl, account);
  }

  // per-request log lines cost a listener per request: only when asked for
  const debug = o.logger.isLevelEnabled('debug');
  return function handle(req: AnyRequest, res: AnyResponse): void {
    const requestId = randomUUID();
    const url = req.url ?? '/';
    const host = (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? 'localhost';
    const baseUrl = `${o.tls ? 'https' : 'http'}://${host}`;
    const target = req.headers['x-amz-target'];
    const to = typeof target === 'string' ? o.router.byTarget(target) : o.router.defaultQuery;
    const call: Call = {
      requestId,
      wire: typeof target === 'string' ? jsonWire(to, req.headers['content-type']) : 'query',
      operation: '',
      ...(to ? { to } : {}),
    };
    if (debug) {
      const t0 = performance.now();
      res.once('finish', () =>
        o.logger.debug(
          {
            requestId,
            service: call.to?.name,
            operation: call.operation || undefined,
            status: res.statusCode,
            ms: Math.round((performance.now() - t0) * 10) / 10,
          },
          'request',
        ),
      );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      if (tooBig) return;
      size += c.length;
      if (size > o.maxBodyBytes) {
        tooBig = true;
        chunks.length = 0;
        const err = new ServiceError('RequestEntityTooLarge', `Request body is larger than ${o.maxBodyBytes} bytes.`, {
          status: 413,
          namespace: 'com.amazon.coral.service',
        });
        res.setHeader('connection', 'close');
        sendError(res, call, err);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (tooBig) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const fail = (e: unknown): void => {
        if (res.headersSent) return;
        sendError(res, call, toServiceError(e, call));
      };
      try {
        const work =
          url.startsWith('/_wharf/') || url.startsWith('/_aws/')
            ? admin(req, res, body, call, url, baseUrl)
            : dispatch(req, res, body, call, url, baseUrl);
        if (work) work.catch(fail);
      } catch (e) {
        fail(e);
      }
    });
  };
}

/** Top-level members the model marks required → the service's own missing-parameter error. */
function checkRequired(
  model: ServiceModel,
  errors: PlatformErrors,
  shapeName: string | null,
  input: Record<string, unknown>,
): void {
  if (!shapeName) return;
  const shape = model.shapes[shapeName];
  if (shape.type !== 'structure') return;
  for (const [name, m] of Object.entries(shape.members)) {
    if (m.required && (input[name] === undefined || input[name] === null)) {
      const err = errors.missingParameter?.(name, m.xmlName ?? name);
      if (err) throw err;
    }
  }
}

const internal = () =>
  new ServiceError('InternalFailure', 'The request processing has failed because of an unknown error.', {
    status: 500,
    namespace: 'com.amazon.coral.service',
  });
const unavailable = () =>
  new ServiceError('ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', {
    status: 503,
    namespace: 'com.amazon.coral.service',
  });
