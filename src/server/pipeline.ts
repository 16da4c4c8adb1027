/**
 * The request path, one direction: request id → body size limit → detect service and
 * operation → SigV4 → decode → validate required members → handler → encode the result or
 * the error in the client's protocol.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AnyRequest, AnyResponse } from './front-door.js';
import { loadModel, type ServiceModel } from '../protocol/model.js';
import { decodeJsonInput, encodeJsonOutput } from '../protocol/json.js';
import { decodeQueryInput, parseQueryParams } from '../protocol/query.js';
import { encodeQueryError, encodeQueryResponse } from '../protocol/xml.js';
import {
  parseAuth,
  SigV4Error,
  sigv4ErrorShape,
  verifySignature,
  type Credential,
  type SignedRequestView,
} from '../protocol/sigv4.js';
import { ServiceError } from '../services/shared/errors.js';
import type { RequestContext } from '../services/shared/context.js';
import type { Clock } from '../services/shared/clock.js';
import { sqsOperations } from '../services/sqs/operations.js';
import type { SqsService } from '../services/sqs/service.js';
import { SqsErrors } from '../services/sqs/errors.js';
import { StoreUnavailableError } from '../store/types.js';

export interface PipelineOptions {
  sqs: SqsService;
  clock: Clock;
  logger: Logger;
  /** strict SigV4 when set */
  credentials?: Map<string, Credential>;
  clockSkewMs: number;
  maxBodyBytes: number;
  defaultAccount: string;
  defaultRegion: string;
  tls: boolean;
  /** requests under /_wharf/ and /_aws/ */
  admin: (req: AnyRequest, res: AnyResponse, body: Buffer, baseUrl: string) => void;
}

type Protocol = 'json' | 'query';

const SQS_MODEL = loadModel('sqs');
const JSON_CT = 'application/x-amz-json-1.0';
const XML_CT = 'text/xml';
const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\//;
// Query actions that address the service, not a queue: posting them to a queue URL is an error.
const SERVICE_ACTIONS = new Set(['CreateQueue', 'ListQueues', 'GetQueueUrl']);

interface Call {
  requestId: string;
  protocol: Protocol;
  operation: string;
}

export function createPipeline(o: PipelineOptions) {
  const model = SQS_MODEL;

  function send(
    res: AnyResponse,
    status: number,
    contentType: string,
    body: string,
    requestId: string,
    extra?: Record<string, string>,
  ) {
    const headers: Record<string, string | number> = {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': requestId,
      ...extra,
    };
    (res as import('node:http').ServerResponse).writeHead(status, headers);
    res.end(body);
  }

  function sendError(res: AnyResponse, call: Call, err: ServiceError) {
    if (call.protocol === 'json') {
      const body = JSON.stringify({
        __type: `${err.namespace ?? model.service.namespace}#${err.type}`,
        message: err.message,
      });
      send(res, err.status, JSON_CT, body, call.requestId, {
        'x-amzn-query-error': `${err.code};${err.fault === 'server' ? 'Receiver' : 'Sender'}`,
        ...err.extra,
      });
    } else {
      const xml = encodeQueryError(
        model.service.xmlNamespace ?? '',
        err.fault,
        err.code,
        err.queryMessage ?? err.message,
        call.requestId,
      );
      send(res, err.status, XML_CT, xml, call.requestId, err.extra);
    }
  }

  function toServiceError(e: unknown, call: Call): ServiceError {
    if (e instanceof ServiceError) return e;
    // the database is down: a retryable 503; the pool reconnects by itself
    if (e instanceof StoreUnavailableError) {
      o.logger.warn({ requestId: call.requestId, operation: call.operation, err: e.message }, 'store unavailable');
      return SqsErrors.ServiceUnavailable();
    }
    if (e instanceof SigV4Error) {
      const shape = sigv4ErrorShape(e.code, call.protocol === 'json' ? 'sqs-json' : 'query');
      return new ServiceError(shape.type, e.message, {
        code: shape.code,
        status: shape.status,
        namespace: 'com.amazon.coral.service',
      });
    }
    o.logger.error({ err: e, requestId: call.requestId, operation: call.operation }, 'unhandled error in handler');
    return SqsErrors.InternalFailure();
  }

  async function authenticate(req: AnyRequest, rawPath: string, rawQuery: string, body: Buffer) {
    if (!o.credentials) {
      // the hot path in anonymous mode: only the credential scope matters
      const m = CREDENTIAL.exec(String(req.headers.authorization ?? ''));
      if (m) return anonymous(m[1], m[2]);
    }
    const view: SignedRequestView = { method: req.method ?? 'POST', rawPath, rawQuery, headers: req.headers, body };
    const auth = parseAuth(view);
    if (o.credentials) {
      if (!auth) throw new SigV4Error('MissingAuthenticationToken');
      const cred = await verifySignature(view, auth, (k) => o.credentials!.get(k), o.clock.now(), o.clockSkewMs);
      return { account: cred.accountId, region: auth.region, accessKeyId: auth.accessKeyId };
    }
    // Anonymous mode: any credentials; a 12-digit access key id selects the account.
    if (!auth) return { account: o.defaultAccount, region: o.defaultRegion, accessKeyId: undefined };
    return anonymous(auth.accessKeyId, auth.region);
  }

  function anonymous(accessKeyId: string, region: string) {
    const account = /^\d{12}$/.test(accessKeyId) ? accessKeyId : o.defaultAccount;
    return { account, region: region || o.defaultRegion, accessKeyId };
  }

  async function dispatch(req: AnyRequest, res: AnyResponse, body: Buffer, call: Call, url: string, baseUrl: string) {
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const target = req.headers['x-amz-target'];
    let input: Record<string, unknown>;
    let params: Map<string, string> | undefined;
    if (typeof target === 'string') {
      const dot = target.indexOf('.');
      call.operation = target.slice(dot + 1);
      if (target.slice(0, dot) !== model.service.targetPrefix || !Object.hasOwn(sqsOperations, call.operation)) {
        throw new ServiceError('UnknownOperationException', '', { namespace: 'com.amazon.coral.service' });
      }
    } else {
      params = parseQueryParams(body.length ? body.toString('utf8') : '', rawQuery);
      const action = params.get('Action');
      if (!action) {
        throw new ServiceError('UnknownOperationException', '', { status: 404, code: 'UnknownOperationException' });
      }
      call.operation = action;
      // own properties only: 'toString', 'constructor' or '__proto__' are not actions
      if (!Object.hasOwn(sqsOperations, action)) {
        throw SqsErrors.InvalidAction(`The action ${action} is not valid for this endpoint.`);
      }
      // Java v1 and .NET post Query requests to the queue URL itself, without QueueUrl.
      if (!params.has('QueueUrl') && /^\/(queue\/[^/]+\/)?\d{12}\/[^/]+\/?$/.test(rawPath)) {
        if (SERVICE_ACTIONS.has(action)) {
          throw SqsErrors.InvalidAction(`The action ${action} is not valid for this endpoint.`);
        }
        params.set('QueueUrl', baseUrl + rawPath);
      }
    }
    const who = await authenticate(req, rawPath, rawQuery, body);
    const op = model.operations[call.operation];
    if (params) {
      input = decodeQueryInput(model, op.input, params);
    } else {
      input = decodeJsonInput(model, op.input, body);
    }
    checkRequired(model, op.input, input);
    let ac: AbortController | undefined;
    const ctx: RequestContext = {
      requestId: call.requestId,
      account: who.account,
      region: who.region,
      baseUrl,
      // made on first use (a long poll about to wait): aborts when the client goes away
      get signal() {
        if (!ac) {
          const c = (ac = new AbortController());
          res.once('close', () => {
            if (!res.writableEnded) c.abort();
          });
        }
        return ac.signal;
      },
      ...(who.accessKeyId ? { accessKeyId: who.accessKeyId } : {}),
    };
    const output = await sqsOperations[call.operation](o.sqs, ctx, input);
    if (call.protocol === 'json') {
      send(res, 200, JSON_CT, encodeJsonOutput(model, op.output, output), call.requestId);
    } else {
      send(
        res,
        200,
        XML_CT,
        encodeQueryResponse(model, call.operation, op.output, output, call.requestId),
        call.requestId,
      );
    }
  }

  return function handle(req: AnyRequest, res: AnyResponse): void {
    const requestId = randomUUID();
    const url = req.url ?? '/';
    const host = (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? 'localhost';
    const baseUrl = `${o.tls ? 'https' : 'http'}://${host}`;
    const call: Call = {
      requestId,
      protocol: typeof req.headers['x-amz-target'] === 'string' ? 'json' : 'query',
      operation: '',
    };
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
      if (url.startsWith('/_wharf/') || url.startsWith('/_aws/')) {
        o.admin(req, res, body, baseUrl);
        return;
      }
      dispatch(req, res, body, call, url, baseUrl).catch((e: unknown) => {
        if (res.headersSent) return;
        sendError(res, call, toServiceError(e, call));
      });
    });
  };
}

/** Top-level members the model marks required → MissingParameter, in AWS's wording. */
function checkRequired(model: ServiceModel, shapeName: string | null, input: Record<string, unknown>): void {
  if (!shapeName) return;
  const shape = model.shapes[shapeName];
  if (shape.type !== 'structure') return;
  for (const [name, m] of Object.entries(shape.members)) {
    if (m.required && (input[name] === undefined || input[name] === null)) {
      // batch entry lists: AWS reports an empty batch, not a missing parameter
      if (name === 'Entries') continue;
      throw SqsErrors.MissingParameter(`The request must contain the parameter ${m.xmlName ?? name}.`);
    }
  }
}
