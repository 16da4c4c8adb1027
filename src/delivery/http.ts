/**
 * One HTTP(S) POST for a delivery: a hard timeout, the status or the reason it failed, never a
 * throw. HTTPS trusts the system's CAs, NODE_EXTRA_CA_CERTS (Node reads it itself) and the
 * certificates given to the poster (--trust-ca), so local endpoints with their own CA work.
 */
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

export type PostResult = { status: number; body: string } | { error: string };

export interface Poster {
  post(url: string, headers: Record<string, string>, body: string | Buffer, timeoutMs: number): Promise<PostResult>;
  close(): void;
}

/** the most of a response body kept (endpoints' answers are for logs and Firehose's request id check) */
const MAX_RESPONSE = 64 * 1024;

export function createPoster(extraCa?: string): Poster {
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 64,
    ...(extraCa ? { ca: [...rootCertificates, extraCa] } : {}),
  });
  return {
    post(url, headers, body, timeoutMs) {
      return new Promise<PostResult>((resolve) => {
        let u: URL;
        try {
          u = new URL(url);
        } catch {
          return resolve({ error: 'invalid URL' });
        }
        const secure = u.protocol === 'https:';
        if (!secure && u.protocol !== 'http:') return resolve({ error: `unsupported scheme ${u.protocol}` });
        const payload = typeof body === 'string' ? Buffer.from(body) : body;
        const req = (secure ? https : http).request(
          u,
          {
            method: 'POST',
            agent: secure ? httpsAgent : httpAgent,
            headers: { ...headers, 'content-length': String(payload.length) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              if (size < MAX_RESPONSE) chunks.push(c);
              size += c.length;
            });
            res.on('end', () => {
              clearTimeout(timer);
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
            });
            res.on('error', (e) => {
              clearTimeout(timer);
              resolve({ error: e.message });
            });
          },
        );
        // wall time: an endpoint's slowness is real time, whatever clock the tests inject
        const timer = setTimeout(() => {
          req.destroy(new Error(`no response within ${timeoutMs} ms`));
        }, timeoutMs);
        req.on('error', (e) => {
          clearTimeout(timer);
          resolve({ error: e.message });
        });
        req.end(payload);
      });
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
