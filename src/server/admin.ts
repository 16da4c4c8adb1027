/**
 * Admin API under /_wharf/ (health, readiness, reset, queue listing and peeking for the
 * console) and the LocalStack-compatible non-destructive peek at /_aws/sqs/messages.
 */
import type { AnyRequest, AnyResponse } from './front-door.js';
import type { SqsService } from '../services/sqs/service.js';
import { loadModel } from '../protocol/model.js';
import { encodeJsonOutput } from '../protocol/json.js';
import { encodeQueryResponse } from '../protocol/xml.js';
import { parseQueueUrl } from '../services/sqs/naming.js';
import { md5Hex, md5OfAttributes } from '../services/sqs/messages.js';
import type { PeekedMessage, QueueRow } from '../store/types.js';
import { randomUUID } from 'node:crypto';

export interface AdminOptions {
  sqs: SqsService;
  /** empties the store and tells every service */
  reset: () => Promise<void>;
  defaultRegion: string;
  defaultAccount: string;
  ready: () => boolean;
  info: () => Record<string, unknown>;
}

const MODEL = loadModel('sqs');

/** decodeURIComponent that answers undefined for a malformed escape (`%zz`) instead of throwing. */
function decodeName(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export function createAdmin(o: AdminOptions) {
  function json(res: AnyResponse, status: number, body: unknown) {
    const text = JSON.stringify(body);
    (res as import('node:http').ServerResponse).writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  }

  async function queueFrom(params: URLSearchParams, path: string, baseUrl: string): Promise<QueueRow | undefined> {
    // /_aws/sqs/messages/<region>/<account>/<name>, or ?QueueUrl=...
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 6) {
      const name = decodeName(parts[5]);
      return name === undefined ? undefined : o.sqs.store.getQueue(parts[4], parts[3], name);
    }
    const url = params.get('QueueUrl') ?? (parts.length === 5 ? `${baseUrl}/${parts[3]}/${parts[4]}` : undefined);
    const addr = url ? parseQueueUrl(url) : undefined;
    return addr && o.sqs.store.getQueue(addr.account, addr.region ?? o.defaultRegion, addr.name);
  }

  async function peek(q: QueueRow, limit: number): Promise<PeekedMessage[]> {
    return o.sqs.store.peek(await o.sqs.ref(q), o.sqs.clock.now(), limit);
  }

  async function handle(req: AnyRequest, res: AnyResponse, baseUrl: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (path === '/_wharf/health') return json(res, 200, { status: 'ok', ...o.info() });
    if (path === '/_wharf/ready') return json(res, o.ready() ? 200 : 503, { ready: o.ready() });
    if (path === '/_wharf/reset' && method === 'POST') {
      await o.reset();
      return json(res, 200, { reset: true });
    }
    if (path === '/_wharf/queues') {
      const account = url.searchParams.get('account') ?? o.defaultAccount;
      const region = url.searchParams.get('region') ?? o.defaultRegion;
      const out = [];
      for (const q of await o.sqs.store.listQueues(account, region)) {
        const c = await o.sqs.store.counts(await o.sqs.ref(q), o.sqs.clock.now());
        out.push({ name: q.name, url: o.sqs.url({ baseUrl } as never, q), arn: o.sqs.arn(q), fifo: q.fifo, ...c });
      }
      return json(res, 200, { queues: out });
    }
    const m = /^\/_wharf\/queues\/(\d{12})\/([^/]+)\/messages$/.exec(path);
    if (m) {
      const name = decodeName(m[2]);
      const q = name && (await o.sqs.store.getQueue(m[1], url.searchParams.get('region') ?? o.defaultRegion, name));
      if (!q) return json(res, 404, { error: 'QueueDoesNotExist' });
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 1000);
      return json(res, 200, { messages: await peek(q, limit) });
    }
    if (path.startsWith('/_aws/sqs/messages')) return localstackPeek(req, res, url, path, baseUrl);
    return json(res, 404, { error: 'not found' });
  }

  /** LocalStack's peek: ReceiveMessage-shaped, visible messages only unless ShowInvisible/ShowDelayed. */
  async function localstackPeek(req: AnyRequest, res: AnyResponse, url: URL, path: string, baseUrl: string) {
    const q = await queueFrom(url.searchParams, path, baseUrl);
    const requestId = randomUUID();
    const wantsJson = String(req.headers.accept ?? '').includes('json');
    if (!q) {
      return json(res, 400, {
        __type: 'com.amazonaws.sqs#QueueDoesNotExist',
        message: 'The specified queue does not exist.',
      });
    }
    const showInvisible = url.searchParams.get('ShowInvisible') === 'true';
    const showDelayed = url.searchParams.get('ShowDelayed') === 'true';
    const list = (await peek(q, 10_000)).filter(
      (p) =>
        p.state === 'visible' || (showInvisible && p.state === 'inflight') || (showDelayed && p.state === 'delayed'),
    );
    const output = {
      Messages: list.map((p) => {
        const attrs: Record<string, string> = {
          SentTimestamp: String(p.sentAt),
          ApproximateReceiveCount: String(p.receiveCount),
        };
        if (p.groupId) attrs.MessageGroupId = p.groupId;
        if (p.dedupId) attrs.MessageDeduplicationId = p.dedupId;
        if (p.sequenceNumber) attrs.SequenceNumber = p.sequenceNumber;
        const m: Record<string, unknown> = {
          MessageId: p.messageId,
          ReceiptHandle: 'SQS/BACKDOOR/ACCESS',
          MD5OfBody: md5Hex(p.body),
          Body: p.body,
          Attributes: attrs,
        };
        if (p.attributes) {
          m.MessageAttributes = p.attributes;
          m.MD5OfMessageAttributes = md5OfAttributes(p.attributes);
        }
        return m;
      }),
    };
    const op = MODEL.operations.ReceiveMessage;
    const body = wantsJson
      ? encodeJsonOutput(MODEL, op.output, output)
      : encodeQueryResponse(MODEL, 'ReceiveMessage', op.output, output, requestId);
    (res as import('node:http').ServerResponse).writeHead(200, {
      'content-type': wantsJson ? 'application/json' : 'text/xml',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': requestId,
    });
    res.end(body);
  }

  return (req: AnyRequest, res: AnyResponse, _body: Buffer, baseUrl: string) => {
    handle(req, res, baseUrl).catch((e: Error) => {
      if (!res.headersSent) json(res, 500, { error: e.message });
    });
  };
}
