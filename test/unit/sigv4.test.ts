import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ListQueuesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { SendMessageCommand as QuerySendMessage, SQSClient as SQSQueryClient } from 'sqs-query-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadCredentialsFile,
  parseAuth,
  SigV4Error,
  sigv4ErrorShape,
  verifySignature,
  type Credential,
  type SigV4ErrorCode,
  type SignedRequestView,
} from '../../src/protocol/sigv4.js';

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const CRED: Credential = { accessKeyId: AKID, secretAccessKey: SECRET, accountId: '123456789012' };
const lookup = (id: string) => (id === AKID ? CRED : undefined);
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const AMZ_T0 = '20260115T120000Z';
const SKEW = 15 * 60_000;
const MIN = 60_000;

/** RFC 3986 encoding, as the SDKs put query values on the wire. */
const enc = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const buildQuery = (q: Record<string, string>) =>
  Object.entries(q)
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .join('&');

interface SignOpts {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  rawQuery?: string;
  headers?: Record<string, string>;
  body?: string;
  date?: number;
  secret?: string;
  sessionToken?: string;
  applyChecksum?: boolean;
}
const signer = (o: SignOpts) =>
  new SignatureV4({
    credentials: { accessKeyId: AKID, secretAccessKey: o.secret ?? SECRET, sessionToken: o.sessionToken },
    region: 'us-east-1',
    service: 'sqs',
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: o.applyChecksum,
  });

/** Signs like a JS v3 client (header form) and returns the request as the server would see it. */
async function clientSign(o: SignOpts = {}): Promise<SignedRequestView> {
  const method = o.method ?? 'POST';
  const query = o.query ?? {};
  const headers = o.headers ?? { host: 'localhost:4566', 'content-type': 'application/x-amz-json-1.0' };
  const body = o.body ?? '{"QueueNamePrefix":"a"}';
  const signed = await signer(o).sign(
    { method, protocol: 'http:', hostname: 'localhost', path: o.path ?? '/', query, headers, body },
    { signingDate: new Date(o.date ?? T0) },
  );
  return {
    method,
    rawPath: o.path ?? '/',
    rawQuery: o.rawQuery ?? buildQuery(query),
    headers: { ...signed.headers },
    body: Buffer.from(body),
  };
}

/** Presigns a GET like a presigned-URL client (query form). */
async function clientPresign(o: SignOpts & { expiresIn?: number } = {}): Promise<SignedRequestView> {
  const query = o.query ?? { Action: 'ListQueues', Version: '2012-11-05' };
  const out = await signer(o).presign(
    { method: 'GET', protocol: 'http:', hostname: 'localhost', path: '/', query, headers: { host: 'localhost:4566' } },
    { signingDate: new Date(o.date ?? T0), expiresIn: o.expiresIn ?? 300 },
  );
  return {
    method: 'GET',
    rawPath: '/',
    rawQuery: buildQuery(out.query as Record<string, string>),
    headers: { host: 'localhost:4566' },
    body: Buffer.alloc(0),
  };
}

async function verify(req: SignedRequestView, now = T0, look = lookup): Promise<Credential> {
  const auth = parseAuth(req);
  if (!auth) throw new Error('no auth parsed');
  return verifySignature(req, auth, look, now, SKEW);
}

/** The SigV4Error a call produces (sync or async); fails the test when there is none. */
async function errorOf(fn: () => unknown): Promise<SigV4Error> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SigV4Error);
    return err as SigV4Error;
  }
  throw new Error('expected a SigV4Error, got success');
}
const codeOf = async (fn: () => unknown): Promise<SigV4ErrorCode> => (await errorOf(fn)).code;

const withHeaders = (req: SignedRequestView, h: Record<string, string | undefined>): SignedRequestView => ({
  ...req,
  headers: { ...req.headers, ...h },
});

// A throwaway server that records what real SDK clients put on the wire.
interface Captured {
  req: SignedRequestView;
  at: number;
}
const captured: Captured[] = [];
let server: http.Server;
let endpoint = '';
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const [rawPath, rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s);
      captured.push({ req: { method: req.method!, rawPath, rawQuery, headers: req.headers, body }, at: Date.now() });
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'r' });
      res.end('{"__type":"com.amazonaws.sqs#InvalidAddress","message":"capture only"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const sdkConfig = () => ({
  region: 'us-east-1',
  endpoint,
  maxAttempts: 1,
  credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
});
async function capture(send: () => Promise<unknown>): Promise<Captured> {
  captured.length = 0;
  await send().catch(() => undefined); // the fake reply is an error; only the request matters
  expect(captured).toHaveLength(1);
  return captured[0];
}

describe('requests from the real @aws-sdk/client-sqs', () => {
  it('accepts a JSON-protocol request and rejects it once the body is tampered with', async () => {
    const client = new SQSClient(sdkConfig());
    const { req, at } = await capture(() =>
      client.send(new SendMessageCommand({ QueueUrl: `${endpoint}/123456789012/q`, MessageBody: 'hi + there ü' })),
    );
    expect(req.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    await expect(verify(req, at)).resolves.toEqual(CRED);
    // JS v3 signs x-amz-content-sha256, so the body is checked against that hash.
    const tampered = { ...req, body: Buffer.from(req.body.toString().replace('hi', 'ho')) };
    expect(await codeOf(() => verify(tampered, at))).toBe('SignatureDoesNotMatch');
    const otherTarget = withHeaders(req, { 'x-amz-target': 'AmazonSQS.DeleteQueue' });
    expect(await codeOf(() => verify(otherTarget, at))).toBe('SignatureDoesNotMatch');
    client.destroy();
  });

  it('accepts a Query-protocol (form body) request from the old client', async () => {
    const client = new SQSQueryClient(sdkConfig());
    const { req, at } = await capture(() =>
      client.send(new QuerySendMessage({ QueueUrl: `${endpoint}/123456789012/q`, MessageBody: 'a+b c&d=é' })),
    );
    expect(req.body.toString()).toContain('Action=SendMessage');
    await expect(verify(req, at)).resolves.toEqual(CRED);
    expect(await codeOf(() => verify(req, at, () => ({ ...CRED, secretAccessKey: 'wrong' })))).toBe(
      'SignatureDoesNotMatch',
    );
    client.destroy();
  });

  it('rejects an unknown access key from the SDK', async () => {
    const client = new SQSClient({ ...sdkConfig(), credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } });
    const { req, at } = await capture(() => client.send(new ListQueuesCommand({})));
    expect(await codeOf(() => verify(req, at))).toBe('InvalidClientTokenId');
    client.destroy();
  });
});

describe('header-signed requests', () => {
  it('parses the credential scope', async () => {
    const req = await clientSign();
    expect(parseAuth(req)).toEqual({
      accessKeyId: AKID,
      region: 'us-east-1',
      service: 'sqs',
      date: '20260115',
      presigned: false,
    });
    await expect(verify(req)).resolves.toBe(CRED);
  });

  it('verifies without a parseAuth result from the same call', async () => {
    const req = await clientSign();
    const auth = { accessKeyId: AKID, region: 'us-east-1', service: 'sqs', date: '20260115', presigned: false };
    await expect(verifySignature(req, auth, lookup, T0, SKEW)).resolves.toBe(CRED);
  });

  it('rejects a tampered body when x-amz-content-sha256 is not signed', async () => {
    const req = await clientSign({ applyChecksum: false });
    expect(req.headers['x-amz-content-sha256']).toBeUndefined();
    await expect(verify(req)).resolves.toBe(CRED);
    expect(await codeOf(() => verify({ ...req, body: Buffer.from('{"QueueNamePrefix":"b"}') }))).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('rejects a tampered signed header, path or query', async () => {
    const req = await clientSign({ path: '/123456789012/q', query: { a: '1' } });
    await expect(verify(req)).resolves.toBe(CRED);
    expect(await codeOf(() => verify(withHeaders(req, { 'content-type': 'text/plain' })))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(await codeOf(() => verify({ ...req, rawPath: '/123456789012/r' }))).toBe('SignatureDoesNotMatch');
    expect(await codeOf(() => verify({ ...req, rawQuery: 'a=2' }))).toBe('SignatureDoesNotMatch');
    expect(await codeOf(() => verify({ ...req, method: 'PUT' }))).toBe('SignatureDoesNotMatch');
    // An unsigned header may change freely.
    await expect(verify(withHeaders(req, { 'user-agent': 'other' }))).resolves.toBe(CRED);
  });

  it('rejects a wrong secret and an unknown key', async () => {
    expect(await codeOf(async () => verify(await clientSign({ secret: 'not-the-secret' })))).toBe(
      'SignatureDoesNotMatch',
    );
    const err = await errorOf(async () => verify(await clientSign(), T0, () => undefined));
    expect(err.code).toBe('InvalidClientTokenId');
    expect(err.message).toBe('The security token included in the request is invalid.');
  });

  it('returns undefined when the request carries no auth at all', async () => {
    const req = await clientSign();
    const bare = withHeaders(req, { authorization: undefined });
    expect(parseAuth(bare)).toBeUndefined();
    expect(parseAuth({ ...bare, rawQuery: 'Action=ListQueues&X-Amz-Date=20260115T120000Z' })).toBeUndefined();
    expect(parseAuth(req)).toBeDefined();
  });

  it('rejects a credential scope date that differs from X-Amz-Date', async () => {
    const req = await clientSign();
    const auth = String(req.headers.authorization).replace('/20260115/', '/20260114/');
    const err = await errorOf(() => verify(withHeaders(req, { authorization: auth })));
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.message).toBe(
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260114' != '20260115', from '20260115T120000Z'.",
    );
  });

  it('keeps unusual signed names (user-agent) and accepts comma-only separators', async () => {
    const headers = { host: 'localhost:4566', 'user-agent': 'java/1.8', 'x-custom': 'a   b ' };
    const signed = await signer({}).sign(
      { method: 'POST', protocol: 'http:', hostname: 'localhost', path: '/', query: {}, headers, body: 'x' },
      { signingDate: new Date(T0), signableHeaders: new Set(['user-agent']) },
    );
    const req: SignedRequestView = {
      method: 'POST',
      rawPath: '/',
      rawQuery: '',
      headers: signed.headers,
      body: Buffer.from('x'),
    };
    expect(String(req.headers.authorization)).toContain('user-agent');
    await expect(verify(req)).resolves.toBe(CRED);
    expect(await codeOf(() => verify(withHeaders(req, { 'user-agent': 'java/1.9' })))).toBe('SignatureDoesNotMatch');
    const compact = String(req.headers.authorization).replace(/, /g, ',');
    await expect(verify(withHeaders(req, { authorization: compact }))).resolves.toBe(CRED);
  });
});

describe('malformed Authorization', () => {
  const cases: [string, (a: string) => string, string][] = [
    ['no Signature', (a) => a.replace(/, Signature=\w+/, ''), "Authorization header requires 'Signature' parameter."],
    ['no Credential', (a) => a.replace(/Credential=\S+ /, ''), "Authorization header requires 'Credential' parameter."],
    ['a part without =', (a) => `${a}, garbage`, 'Invalid key=value pair (missing equal-sign) in Authorization header'],
    ['4-part credential', (a) => a.replace('/us-east-1/', '/'), 'Credential must have exactly 5 slash-delimited'],
    [
      'bad terminator',
      (a) => a.replace('aws4_request', 'aws5_request'),
      "valid terminator: 'aws4_request', not 'aws5_request'",
    ],
    ['other algorithm', (a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'), "Unsupported AWS 'algorithm'"],
    [
      'host not signed',
      (a) => a.replace('SignedHeaders=content-type;host;', 'SignedHeaders=content-type;'),
      "'Host' or ':authority' must be a 'SignedHeader'",
    ],
  ];
  it.each(cases)('%s → IncompleteSignature', async (_name, mutate, message) => {
    const req = await clientSign();
    const err = await errorOf(() =>
      parseAuth(withHeaders(req, { authorization: mutate(String(req.headers.authorization)) })),
    );
    expect(err.code).toBe('IncompleteSignature');
    expect(err.message).toContain(message);
  });

  it('requires a well-formed X-Amz-Date', async () => {
    const req = await clientSign();
    const bad = await errorOf(() => parseAuth(withHeaders(req, { 'x-amz-date': '20261315T120000Z' })));
    expect(bad.code).toBe('IncompleteSignature');
    expect(bad.message).toContain("Date must be in ISO-8601 'basic format'. Got '20261315T120000Z'.");
    const none = await errorOf(() => parseAuth(withHeaders(req, { 'x-amz-date': undefined })));
    expect(none.message).toContain("requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  });

  it('rejects header auth and query auth together', async () => {
    const req = await clientSign();
    const both = { ...req, rawQuery: `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${'0'.repeat(64)}` };
    const err = await errorOf(() => parseAuth(both));
    expect(err.code).toBe('AccessDenied');
    expect(err.message).toContain('Only one auth mechanism allowed');
  });
});

describe('clock skew (header form)', () => {
  it('accepts a date inside the window on both sides, boundary included', async () => {
    const req = await clientSign();
    await expect(verify(req, T0 + SKEW)).resolves.toBe(CRED);
    await expect(verify(req, T0 - SKEW)).resolves.toBe(CRED);
    await expect(verify(req, T0 + 14 * MIN)).resolves.toBe(CRED);
  });

  it('reports a stale date the way AWS words it', async () => {
    const err = await errorOf(async () => verify(await clientSign(), T0 + SKEW + 1000));
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.message).toBe(
      `Signature expired: ${AMZ_T0} is now earlier than 20260115T120001Z (20260115T121501Z - 15 min.)`,
    );
  });

  it('reports a future date the way AWS words it', async () => {
    const err = await errorOf(async () => verify(await clientSign(), T0 - SKEW - 1000));
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.message).toBe(
      `Signature not yet current: ${AMZ_T0} is still later than 20260115T115959Z (20260115T114459Z + 15 min.)`,
    );
  });
});

describe('presigned URLs', () => {
  it('accepts a valid presigned GET until it expires', async () => {
    const req = await clientPresign({ expiresIn: 300 });
    expect(parseAuth(req)).toMatchObject({ presigned: true, accessKeyId: AKID, service: 'sqs' });
    await expect(verify(req)).resolves.toBe(CRED);
    // Long after signing is fine for a presigned URL, as long as it has not expired (no skew window).
    const long = await clientPresign({ expiresIn: 604800 });
    await expect(verify(long, T0 + 6 * 24 * 60 * MIN)).resolves.toBe(CRED);
    await expect(verify(req, T0 + 300_000)).resolves.toBe(CRED);
    expect(await codeOf(() => verify(req, T0 + 301_000))).toBe('RequestExpired');
  });

  it('rejects a tampered query parameter or expiry', async () => {
    const req = await clientPresign();
    expect(await codeOf(() => verify({ ...req, rawQuery: req.rawQuery.replace('ListQueues', 'DeleteQueue') }))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(
      await codeOf(() => verify({ ...req, rawQuery: req.rawQuery.replace('X-Amz-Expires=300', 'X-Amz-Expires=900') })),
    ).toBe('SignatureDoesNotMatch');
    expect(await codeOf(() => verify(req, T0, () => ({ ...CRED, secretAccessKey: 'x' })))).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('rejects X-Amz-Expires beyond one week and malformed values', async () => {
    // presign() itself refuses more than 604800, so the value is edited after signing.
    const req = await clientPresign({ expiresIn: 604800 });
    const over = await errorOf(() => parseAuth({ ...req, rawQuery: req.rawQuery.replace('=604800', '=604801') }));
    expect(over.code).toBe('IncompleteSignature');
    expect(over.message).toContain('must be less than 604800 seconds');
    const nan = await errorOf(() => parseAuth({ ...req, rawQuery: req.rawQuery.replace('=604800', '=soon') }));
    expect(nan.message).toBe('X-Amz-Expires should be a number');
  });

  it('lists missing query parameters', async () => {
    const req = await clientPresign();
    const noDate = req.rawQuery.replace(/&?X-Amz-Date=\w+/, '');
    const err = await errorOf(() => parseAuth({ ...req, rawQuery: noDate }));
    expect(err.code).toBe('IncompleteSignature');
    expect(err.message).toBe(
      "AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.",
    );
  });

  it('rejects a presigned URL dated in the future beyond the skew window', async () => {
    const req = await clientPresign({ date: T0 + SKEW + 1000 });
    const err = await errorOf(() => verify(req, T0));
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.message).toMatch(/^Signature not yet current: /);
  });

  it('accepts a session token, which presign() puts in the signed query', async () => {
    const req = await clientPresign({ sessionToken: 'FwoGZXIvYXdzE+/token=' });
    expect(req.rawQuery).toContain('X-Amz-Security-Token=');
    await expect(verify(req)).resolves.toBe(CRED);
    const swapped = req.rawQuery.replace(/X-Amz-Security-Token=[^&]+/, 'X-Amz-Security-Token=other');
    expect(await codeOf(() => verify({ ...req, rawQuery: swapped }))).toBe('SignatureDoesNotMatch');
  });
});

describe('canonicalisation details', () => {
  it("signs ':authority' for HTTP/2 clients and reads 'host' from it when only 'host' was signed", async () => {
    const h2 = await clientSign({
      headers: { ':authority': 'localhost:4566', 'content-type': 'application/x-amz-cbor-1.1' },
    });
    expect(String(h2.headers.authorization)).toContain('SignedHeaders=:authority;');
    const view = withHeaders(h2, { ':method': 'POST', ':path': '/', ':scheme': 'http' });
    await expect(verify(view)).resolves.toBe(CRED);
    expect(await codeOf(() => verify(withHeaders(view, { ':authority': 'evil:1' })))).toBe('SignatureDoesNotMatch');
    // Java-style: 'host' signed, but over h2 the value arrives as ':authority'.
    const java = await clientSign();
    const asH2 = withHeaders(java, { host: undefined, ':authority': 'localhost:4566' });
    await expect(verify(asH2)).resolves.toBe(CRED);
  });

  it("decodes '+' as a literal plus, %20 as space, and other percent-escapes", async () => {
    const query = { a: 'x+y', b: 'hello world', c: 'ü/&=%', 'd e': '1' };
    const rawQuery = 'a=x+y&b=hello%20world&c=%C3%BC%2F%26%3D%25&d%20e=1';
    await expect(verify(await clientSign({ method: 'GET', query, rawQuery }))).resolves.toBe(CRED);
    // Had '+' meant space, the client would have signed 'x y'; that signature must not match 'x+y'.
    const spaced = await clientSign({ method: 'GET', query: { ...query, a: 'x y' }, rawQuery });
    expect(await codeOf(() => verify(spaced))).toBe('SignatureDoesNotMatch');
  });

  it('encodes the raw path again, as the SDKs sign Lambda ARN paths', async () => {
    const p = '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations';
    const req = await clientSign({ path: p, query: { Qualifier: '$LATEST' } });
    await expect(verify(req)).resolves.toBe(CRED);
    expect(await codeOf(() => verify({ ...req, rawPath: decodeURIComponent(p) }))).toBe('SignatureDoesNotMatch');
  });

  it('accepts UNSIGNED-PAYLOAD only when the client signed it', async () => {
    const headers = { host: 'localhost:4566', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    const req = await clientSign({ headers });
    expect(String(req.headers.authorization)).toContain('x-amz-content-sha256');
    await expect(verify({ ...req, body: Buffer.from('any body at all') })).resolves.toBe(CRED);
    // Added after signing, the header is ignored and the body hash still counts.
    const unsigned = withHeaders(await clientSign({ applyChecksum: false }), {
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    });
    await expect(verify(unsigned)).resolves.toBe(CRED);
    expect(await codeOf(() => verify({ ...unsigned, body: Buffer.from('{}') }))).toBe('SignatureDoesNotMatch');
  });

  it('checks a signed hex x-amz-content-sha256 against the body', async () => {
    const sha = createHash('sha256').update('{"QueueNamePrefix":"a"}').digest('hex');
    const req = await clientSign();
    expect(req.headers['x-amz-content-sha256']).toBe(sha);
    await expect(verify(req)).resolves.toBe(CRED);
    expect(await codeOf(() => verify({ ...req, body: Buffer.from('{"QueueNamePrefix":"z"}') }))).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('accepts a signed session token header and refuses an unsigned one', async () => {
    const req = await clientSign({ sessionToken: 'session-token-value' });
    expect(String(req.headers.authorization)).toContain('x-amz-security-token');
    await expect(verify(req)).resolves.toBe(CRED);
    expect(await codeOf(() => verify(withHeaders(req, { 'x-amz-security-token': 'other' })))).toBe(
      'SignatureDoesNotMatch',
    );
    const plain = withHeaders(await clientSign(), { 'x-amz-security-token': 'unsigned' });
    expect(await codeOf(() => parseAuth(plain))).toBe('IncompleteSignature');
  });
});

describe('sigv4ErrorShape', () => {
  const rows: [SigV4ErrorCode, [string, number], [string, number], [string, number], [string, number]][] = [
    [
      'MissingAuthenticationToken',
      ['MissingAuthenticationToken', 403],
      ['MissingAuthenticationToken', 403],
      ['MissingAuthenticationTokenException', 400],
      ['MissingAuthenticationTokenException', 403],
    ],
    [
      'IncompleteSignature',
      ['IncompleteSignature', 400],
      ['IncompleteSignature', 400],
      ['IncompleteSignatureException', 400],
      ['IncompleteSignatureException', 403],
    ],
    [
      'InvalidClientTokenId',
      ['InvalidClientTokenId', 403],
      ['InvalidClientTokenId', 403],
      ['UnrecognizedClientException', 400],
      ['UnrecognizedClientException', 403],
    ],
    [
      'SignatureDoesNotMatch',
      ['SignatureDoesNotMatch', 403],
      ['SignatureDoesNotMatch', 403],
      ['InvalidSignatureException', 400],
      ['InvalidSignatureException', 403],
    ],
    [
      'ExpiredToken',
      ['ExpiredToken', 403],
      ['ExpiredToken', 403],
      ['ExpiredTokenException', 400],
      ['ExpiredTokenException', 403],
    ],
    [
      'RequestExpired',
      ['RequestExpired', 400],
      ['RequestExpired', 400],
      ['RequestExpired', 400],
      ['RequestExpired', 400],
    ],
    [
      'AccessDenied',
      ['AccessDenied', 403],
      ['AccessDenied', 403],
      ['AccessDeniedException', 400],
      ['AccessDeniedException', 403],
    ],
  ];
  it.each(rows)('%s', (code, query, sqsJson, json, restJson) => {
    const shape = (f: 'query' | 'sqs-json' | 'json' | 'rest-json', [name, status]: [string, number]) =>
      expect(sigv4ErrorShape(code, f)).toEqual({ type: name, code: name, status });
    shape('query', query);
    shape('sqs-json', sqsJson);
    shape('json', json);
    shape('rest-json', restJson);
  });
});

describe('loadCredentialsFile', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-sigv4-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const entry = { accessKeyId: 'AKIA1', secretAccessKey: 'very-secret', accountId: '000000000001' };

  it('reads the array form and the {"credentials": [...]} form', () => {
    const a = loadCredentialsFile(file('a.json', JSON.stringify([entry])));
    expect([...a.values()]).toEqual([entry]);
    const second = { ...entry, accessKeyId: 'AKIA2' };
    const b = loadCredentialsFile(file('b.json', `\uFEFF${JSON.stringify({ credentials: [entry, second] })}`));
    expect([...b.keys()]).toEqual(['AKIA1', 'AKIA2']);
  });

  it.each([
    ['bad-json.json', '{"credentials": [', 'not valid JSON'],
    ['not-array.json', '{"keys": []}', 'expected a JSON array'],
    ['account.json', JSON.stringify([{ ...entry, accountId: '123' }]), 'entry 0 (AKIA1): accountId must be'],
    ['secret.json', JSON.stringify([{ ...entry, secretAccessKey: '' }]), 'secretAccessKey must be'],
    ['akid.json', JSON.stringify([{ ...entry, accessKeyId: 'a/b' }]), 'entry 0: accessKeyId must be'],
    ['dup.json', JSON.stringify([entry, entry]), 'entry 1: duplicate accessKeyId AKIA1'],
  ])('rejects %s with a one-line message', (name, content, message) => {
    const p = file(name, content);
    let caught: Error | undefined;
    try {
      loadCredentialsFile(p);
    } catch (err) {
      caught = err as Error;
    }
    expect(caught?.message).toContain(message);
    expect(caught?.message).toContain(p);
    expect(caught?.message).not.toContain('\n');
    expect(caught?.message).not.toContain('very-secret');
  });

  it('names a missing file', () => {
    expect(() => loadCredentialsFile(path.join(dir, 'missing.json'))).toThrow(/Cannot read credentials file .*ENOENT/);
  });
});
