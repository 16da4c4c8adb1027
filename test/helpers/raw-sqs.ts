/**
 * A raw AWS JSON 1.0 SQS client for the crash and cluster tests: no retries, no SDK between the
 * test and the wire, so what the test counts as acknowledged is exactly what the server answered.
 */
import http from 'node:http';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** An error response: HTTP status and the error's shape name (`__type` without namespace). */
export class AwsError extends Error {
  readonly type: string;
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    let type = '';
    try {
      type = String((JSON.parse(body) as Json).__type ?? '').replace(/^.*#/, '');
    } catch {
      /* not JSON */
    }
    super(`HTTP ${status} ${type}: ${body.slice(0, 300)}`);
    this.type = type;
  }
}

export class Sqs {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  constructor(
    readonly endpoint: string,
    readonly name = endpoint,
  ) {}

  /** Resolves with the parsed reply once the whole 200 response has arrived. */
  call(op: string, payload: Json, timeoutMs = 30_000): Promise<Json> {
    const body = JSON.stringify(payload);
    return new Promise<Json>((res, rej) => {
      const req = http.request(
        this.endpoint,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `AmazonSQS.${op}`,
            'content-length': Buffer.byteLength(body),
          },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('error', rej);
          r.on('aborted', () => rej(new Error(`${op}: response aborted`)));
          r.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (r.statusCode !== 200) return rej(new AwsError(r.statusCode ?? 0, text));
            try {
              res(JSON.parse(text) as Json);
            } catch {
              rej(new Error(`unparsable reply to ${op}: ${text.slice(0, 200)}`));
            }
          });
        },
      );
      req.on('error', rej);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${op} timed out after ${timeoutMs} ms`)));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
