/**
 * The admin API: the platform's own routes under /_wharf/ (health, readiness, reset) and every
 * service's developer routes (its adminRoutes), encoded here. The pipeline authenticates
 * everything but health and readiness before it gets here.
 */
import { randomUUID } from 'node:crypto';
import type { AnyRequest, AnyResponse } from './front-door.js';
import { encodeJsonOutput } from '../protocol/json.js';
import { encodeQueryResponse } from '../protocol/xml.js';
import type { AdminResult } from '../services/definition.js';
import type { Mounted } from './router.js';

export interface AdminOptions {
  services: Mounted[];
  /** empties the store and tells every service */
  reset: () => Promise<void>;
  defaultRegion: string;
  defaultAccount: string;
  ready: () => boolean;
  info: () => Record<string, unknown>;
}

export function createAdmin(o: AdminOptions) {
  const routes = o.services.flatMap((m) => (m.def.adminRoutes ?? []).map((route) => ({ m, route })));

  function write(res: AnyResponse, status: number, contentType: string, body: string, requestId = randomUUID()) {
    (res as import('node:http').ServerResponse).writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': requestId,
    });
    res.end(body);
  }
  const json = (res: AnyResponse, status: number, body: unknown) =>
    write(res, status, 'application/json', JSON.stringify(body));

  function encode(res: AnyResponse, m: Mounted, r: AdminResult) {
    if ('text' in r) return write(res, r.status, r.contentType, r.text);
    if (!('operation' in r)) return json(res, r.status, r.json);
    const op = m.model.operations[r.operation];
    const requestId = randomUUID();
    if (r.json) return write(res, r.status, 'application/json', encodeJsonOutput(m.model, op.output, r.output));
    const xml = encodeQueryResponse(m.model, r.operation, op.output, r.output, requestId);
    write(res, r.status, 'text/xml', xml, requestId);
  }

  async function handle(req: AnyRequest, res: AnyResponse, baseUrl: string, account?: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (path === '/_wharf/health') return json(res, 200, { status: 'ok', ...o.info() });
    if (path === '/_wharf/ready') return json(res, o.ready() ? 200 : 503, { ready: o.ready() });
    if (path === '/_wharf/reset' && method === 'POST') {
      await o.reset();
      return json(res, 200, { reset: true });
    }
    for (const { m, route } of routes) {
      if (route.method && route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      const request = {
        query: url.searchParams,
        baseUrl,
        accept: String(req.headers.accept ?? ''),
        defaultAccount: account ?? o.defaultAccount,
        defaultRegion: o.defaultRegion,
      };
      return encode(res, m, await route.handle(m.svc, request, match));
    }
    return json(res, 404, { error: 'not found' });
  }

  return (req: AnyRequest, res: AnyResponse, _body: Buffer, baseUrl: string, account: string | undefined) => {
    handle(req, res, baseUrl, account).catch((e: Error) => {
      if (!res.headersSent) json(res, 500, { error: e.message });
    });
  };
}
