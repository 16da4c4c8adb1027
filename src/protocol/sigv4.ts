import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppError } from '../kernel/errors.js';

// The signing library and its dependencies cost ~15 MB of memory: loaded on the first strict
// verification only, so a server in anonymous mode never pays for them.
let signing: Promise<[typeof import('@smithy/signature-v4'), typeof import('@smithy/hash-node')]> | undefined;
const loadSigning = () => (signing ??= Promise.all([import('@smithy/signature-v4'), import('@smithy/hash-node')]));

/**
 * Server-side SigV4 verification (header and presigned query forms) by recomputing the signature with
 * @smithy/signature-v4, the same code the JS SDK signs with. See docs aws-protocols.md §4.
 *
 * Session tokens (X-Amz-Security-Token): there is no STS here, so a token is accepted as long as it is covered by
 * the signature (a signed header, or a query parameter, which the canonical query always covers). It is not
 * validated further; the access key id alone selects the secret, so temporary keys must be listed like any other.
 */

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
}
export interface SignedRequestView {
  method: string;
  /** Path exactly as sent, without '?query'. */
  rawPath: string;
  /** Query string exactly as sent, without '?', '' if none. */
  rawQuery: string;
  /** Lowercased names as Node gives them; HTTP/2 requests include ':authority', ':method', ':path'. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
export interface AuthInfo {
  accessKeyId: string;
  region: string;
  service: string;
  /** Credential-scope date, yyyymmdd. */
  date: string;
  presigned: boolean;
}
export type SigV4ErrorCode =
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'InvalidClientTokenId'
  | 'SignatureDoesNotMatch'
  | 'RequestExpired'
  | 'ExpiredToken'
  | 'AccessDenied';

const DEFAULT_MESSAGES: Record<SigV4ErrorCode, string> = {
  MissingAuthenticationToken: 'Request is missing Authentication Token',
  IncompleteSignature: 'The request signature does not conform to AWS standards.',
  InvalidClientTokenId: 'The security token included in the request is invalid.',
  SignatureDoesNotMatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  RequestExpired: 'Request has expired.',
  ExpiredToken: 'The security token included in the request is expired',
  AccessDenied: 'Access to the resource is denied.',
};

export class SigV4Error extends Error {
  readonly code: SigV4ErrorCode;
  constructor(code: SigV4ErrorCode, message: string = DEFAULT_MESSAGES[code]) {
    super(message);
    this.name = 'SigV4Error';
    this.code = code;
  }
}

type Family = 'query' | 'sqs-json' | 'json' | 'rest-json';
// The table at the end of aws-protocols.md §4: SQS-JSON reports the Query code (the renderer adds x-amzn-query-error);
// Lambda uses the JSON names with 403. RequestExpired and AccessDenied are not in that table: they follow the AWS
// common-errors page (RequestExpired 400) and each family's usual AccessDenied spelling.
// [Query/SQS-JSON code, its status, JSON-family name, JSON status, Lambda status]
const SHAPES: Record<SigV4ErrorCode, [string, number, string, number, number]> = {
  MissingAuthenticationToken: ['MissingAuthenticationToken', 403, 'MissingAuthenticationTokenException', 400, 403],
  IncompleteSignature: ['IncompleteSignature', 400, 'IncompleteSignatureException', 400, 403],
  InvalidClientTokenId: ['InvalidClientTokenId', 403, 'UnrecognizedClientException', 400, 403],
  SignatureDoesNotMatch: ['SignatureDoesNotMatch', 403, 'InvalidSignatureException', 400, 403],
  RequestExpired: ['RequestExpired', 400, 'RequestExpired', 400, 400],
  ExpiredToken: ['ExpiredToken', 403, 'ExpiredTokenException', 400, 403],
  AccessDenied: ['AccessDenied', 403, 'AccessDeniedException', 400, 403],
};

/** How each protocol family reports each SigV4Error (`type` = JSON shape name, `code` = Query/legacy code). */
export function sigv4ErrorShape(code: SigV4ErrorCode, family: Family): { type: string; code: string; status: number } {
  const [queryName, queryStatus, jsonName, jsonStatus, restStatus] = SHAPES[code];
  if (family === 'query' || family === 'sqs-json') return { type: queryName, code: queryName, status: queryStatus };
  return { type: jsonName, code: jsonName, status: family === 'json' ? jsonStatus : restStatus };
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_EXPIRES = 604800;
const QUERY_AUTH_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature'];
const REQUIRED_QUERY_PARAMS = [...QUERY_AUTH_PARAMS, 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'];

type Query = Record<string, string | string[]>;
interface Details extends Omit<AuthInfo, 'date'> {
  scopeDate: string;
  amzDate: string;
  amzDateMs: number;
  signedHeaders: string[];
  signature: string;
  expiresSec: number;
  /** Decoded query without X-Amz-Signature. */
  query: Query;
}
// parseAuth keeps what it parsed so verifySignature need not parse again; AuthInfo stays a plain public shape.
const parsed = new WeakMap<AuthInfo, Details>();

const incomplete = (message: string) => new SigV4Error('IncompleteSignature', message);

function header(req: SignedRequestView, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Decodes the query ourselves: '+' stays a literal plus (the SDKs send spaces as %20). */
function decodeQuery(raw: string): Query {
  const out: Query = Object.create(null) as Query;
  const dec = (x: string) => {
    try {
      return decodeURIComponent(x);
    } catch {
      return x; // malformed %-escape: keep it as sent; it then simply fails to match
    }
  };
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = dec(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : dec(pair.slice(eq + 1));
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

const formatAmzDate = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');

function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  const ms = m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
  // The round trip rejects out-of-range fields such as month 13 that Date.UTC would silently roll over.
  if (!m || formatAmzDate(ms) !== value) {
    throw incomplete(
      `Date must be in ISO-8601 'basic format'. Got '${value}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  return ms;
}

type RawAuth = Pick<Details, 'presigned' | 'amzDate' | 'signature' | 'expiresSec' | 'query'> & {
  credential: string;
  signedHeaderList: string;
};

function parseCommon(req: SignedRequestView, raw: RawAuth): Details {
  const { credential, signedHeaderList, ...rest } = raw;
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId, scopeDate, region, service, terminator] = parts;
  if (terminator !== 'aws4_request') {
    throw incomplete(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`);
  }
  const signedHeaders = signedHeaderList.split(';').map((n) => n.trim().toLowerCase());
  if (!signedHeaders.includes('host') && !signedHeaders.includes(':authority')) {
    throw incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  // A token sent in a header must be covered by the signature (every SDK signs it); an unsigned one could be swapped.
  if (
    !raw.presigned &&
    header(req, 'x-amz-security-token') !== undefined &&
    !signedHeaders.includes('x-amz-security-token')
  ) {
    throw incomplete("'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const contentSha = signedHeaders.includes('x-amz-content-sha256') ? header(req, 'x-amz-content-sha256') : undefined;
  if (contentSha !== undefined && contentSha !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-fA-F]{64}$/.test(contentSha)) {
    // STREAMING-* (aws-chunked) payloads are S3-only; nothing here can verify them.
    throw incomplete(`Unsupported x-amz-content-sha256 value: '${contentSha}'`);
  }
  const amzDateMs = parseAmzDate(raw.amzDate);
  return { ...rest, accessKeyId, scopeDate, region, service, amzDateMs, signedHeaders };
}

function parseHeaderAuth(req: SignedRequestView, authorization: string, query: Query): Details {
  const m = /^(\S*)\s*([\s\S]*)$/.exec(authorization.trim())!;
  if (m[1] !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${m[1]}'`);
  const params = new Map<string, string>();
  // AWS separates components with ', ' but also accepts bare commas or bare spaces.
  for (const part of m[2].split(/[\s,]+/).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      const digest = createHash('sha256').update(authorization).digest('base64');
      throw incomplete(
        `Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '${digest}'.`,
      );
    }
    params.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const problems = ['Credential', 'Signature', 'SignedHeaders']
    .filter((n) => !params.get(n))
    .map((n) => `Authorization header requires '${n}' parameter.`);
  const amzDate = header(req, 'x-amz-date');
  if (amzDate === undefined && header(req, 'date') === undefined) {
    problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (problems.length > 0) throw incomplete(`${problems.join(' ')} Authorization=${authorization}`);
  // The smithy signer always (re)writes x-amz-date, so a Date-only request would need a hand-rolled canonical
  // request; no current SDK sends one.
  if (amzDate === undefined) throw incomplete("SigV4 verification here requires the 'X-Amz-Date' header.");
  const [credential, signedHeaderList, signature] = [
    params.get('Credential')!,
    params.get('SignedHeaders')!,
    params.get('Signature')!,
  ];
  return parseCommon(req, { presigned: false, credential, signedHeaderList, amzDate, signature, expiresSec: 0, query });
}

function parseQueryAuth(req: SignedRequestView, query: Query): Details {
  const get = (name: string): string => {
    const v = query[name];
    if (Array.isArray(v)) throw incomplete(`AWS query-string parameter '${name}' must appear only once.`);
    return v ?? '';
  };
  const missing = REQUIRED_QUERY_PARAMS.filter((n) => !get(n));
  if (missing.length > 0) {
    const names = missing.map((n) => `'${n}'`).join(', ');
    throw incomplete(`AWS query-string parameters must include ${names}. Re-examine the query-string parameters.`);
  }
  const algorithm = get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'`);
  const expires = get('X-Amz-Expires');
  if (!/^\d+$/.test(expires)) {
    throw incomplete(
      /^-\d+$/.test(expires) ? 'X-Amz-Expires must be non-negative' : 'X-Amz-Expires should be a number',
    );
  }
  if (Number(expires) > MAX_EXPIRES) {
    throw incomplete(
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }
  const [credential, signedHeaderList, amzDate, signature] = [
    get('X-Amz-Credential'),
    get('X-Amz-SignedHeaders'),
    get('X-Amz-Date'),
    get('X-Amz-Signature'),
  ];
  const signedQuery: Query = Object.assign(Object.create(null) as Query, query);
  delete signedQuery['X-Amz-Signature']; // the canonical query of a presigned URL excludes only the signature
  const expiresSec = Number(expires);
  return parseCommon(req, {
    presigned: true,
    credential,
    signedHeaderList,
    amzDate,
    signature,
    expiresSec,
    query: signedQuery,
  });
}

function parseDetails(req: SignedRequestView): Details | undefined {
  const query = decodeQuery(req.rawQuery);
  const authorization = header(req, 'authorization');
  const queryAuth = QUERY_AUTH_PARAMS.some((n) => n in query);
  if (authorization !== undefined && queryAuth) {
    throw new SigV4Error(
      'AccessDenied',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    );
  }
  if (authorization !== undefined) return parseHeaderAuth(req, authorization, query);
  if (queryAuth) return parseQueryAuth(req, query);
  return undefined;
}

/** Parses the Authorization header or X-Amz-* query parameters. undefined when the request carries no auth at all. */
export function parseAuth(req: SignedRequestView): AuthInfo | undefined {
  const d = parseDetails(req);
  if (!d) return undefined;
  const { accessKeyId, region, service, scopeDate: date, presigned } = d;
  const info: AuthInfo = { accessKeyId, region, service, date, presigned };
  parsed.set(info, d);
  return info;
}

function checkTime(d: Details, nowMs: number, skewMs: number): void {
  const minutes = Number((skewMs / 60_000).toFixed(3));
  if (d.amzDateMs > nowMs + skewMs) {
    throw new SigV4Error(
      'SignatureDoesNotMatch',
      `Signature not yet current: ${d.amzDate} is still later than ${formatAmzDate(nowMs + skewMs)} (${formatAmzDate(nowMs)} + ${minutes} min.)`,
    );
  }
  if (d.presigned) {
    // A presigned URL is meant to be used long after signing: only its own expiry applies, not the skew window.
    if (nowMs > d.amzDateMs + d.expiresSec * 1000) throw new SigV4Error('RequestExpired');
  } else if (d.amzDateMs < nowMs - skewMs) {
    throw new SigV4Error(
      'SignatureDoesNotMatch',
      `Signature expired: ${d.amzDate} is now earlier than ${formatAmzDate(nowMs - skewMs)} (${formatAmzDate(nowMs)} - ${minutes} min.)`,
    );
  }
}

async function expectedSignature(req: SignedRequestView, d: Details, cred: Credential): Promise<string> {
  const [{ SignatureV4 }, { Hash }] = await loadSigning();
  const headers: Record<string, string> = {};
  for (const name of d.signedHeaders) {
    // A client that signed 'host' over HTTP/2 sent it as ':authority' (JS v3 signs ':authority' itself instead).
    const value = header(req, name) ?? (name === 'host' ? header(req, ':authority') : undefined);
    if (value !== undefined) headers[name] = value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: d.accessKeyId, secretAccessKey: cred.secretAccessKey },
    region: d.region,
    service: d.service,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false, // otherwise it adds an x-amz-content-sha256 the client never signed
    uriEscapePath: true, // the raw path is encoded again (Lambda ARNs: %3A is signed as %253A)
  });
  const request = {
    method: req.method,
    protocol: 'http:',
    hostname: 'localhost', // not part of the canonical request; the signed host header is
    path: req.rawPath || '/',
    query: d.query,
    headers,
    body: req.body,
  };
  const names = new Set(d.signedHeaders);
  const opts = { signingDate: new Date(d.amzDateMs), signingRegion: d.region, signingService: d.service };
  if (d.presigned) {
    // unhoistableHeaders: a signed x-amz-* header arrived as a header; presign() would otherwise move it to the query.
    const out = await signer.presign(request, {
      ...opts,
      expiresIn: d.expiresSec,
      signableHeaders: names,
      unhoistableHeaders: names,
    });
    const sig = out.query?.['X-Amz-Signature'];
    return typeof sig === 'string' ? sig : '';
  }
  // signableHeaders keeps names smithy treats as unsignable (user-agent, expect...) when the client signed them.
  const out = await signer.sign(request, { ...opts, signableHeaders: names });
  return /Signature=([0-9a-f]+)/.exec(out.headers['authorization'] ?? '')?.[1] ?? '';
}

/** Verifies the signature strictly; resolves to the matching credential or throws SigV4Error. */
export async function verifySignature(
  req: SignedRequestView,
  auth: AuthInfo,
  lookup: (accessKeyId: string) => Credential | undefined,
  nowMs: number,
  skewMs: number,
): Promise<Credential> {
  const d = parsed.get(auth) ?? parseDetails(req);
  if (!d) throw new SigV4Error('MissingAuthenticationToken');
  const cred = lookup(d.accessKeyId);
  if (!cred) throw new SigV4Error('InvalidClientTokenId');
  checkTime(d, nowMs, skewMs);
  const day = d.amzDate.slice(0, 8);
  if (d.scopeDate !== day) {
    throw new SigV4Error(
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${d.scopeDate}' != '${day}', from '${d.amzDate}'.`,
    );
  }
  // A signed x-amz-content-sha256 replaces the body hash in the canonical request, so the body itself must be
  // checked against it, or a captured request could carry any body (JS v3 always signs this header).
  const contentSha = d.signedHeaders.includes('x-amz-content-sha256') ? header(req, 'x-amz-content-sha256') : undefined;
  if (contentSha !== undefined && contentSha !== 'UNSIGNED-PAYLOAD') {
    if (createHash('sha256').update(req.body).digest('hex') !== contentSha.toLowerCase()) {
      throw new SigV4Error('SignatureDoesNotMatch');
    }
  }
  const expected = Buffer.from(await expectedSignature(req, d, cred));
  const given = Buffer.from(d.signature);
  // timingSafeEqual throws on unequal lengths; the length of a hex signature is no secret.
  const same = expected.length === given.length && timingSafeEqual(expected, given);
  if (!same) throw new SigV4Error('SignatureDoesNotMatch');
  return cred;
}

/**
 * Loads a credentials file. Format (JSON), either an array or the same array under "credentials":
 *
 *   [{ "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "...", "accountId": "123456789012" }]
 *   { "credentials": [{ "accessKeyId": "...", "secretAccessKey": "...", "accountId": "000000000000" }] }
 *
 * accountId is exactly 12 digits; access key ids are unique and contain no '/', ',' or whitespace (they travel
 * inside the SigV4 Credential field). Errors name the file and the entry, never a secret.
 */
export function loadCredentialsFile(path: string): Map<string, Credential> {
  const fail = (why: string) => new AppError('ERR_CREDENTIALS_FILE', `Invalid credentials file ${path}: ${why}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new AppError('ERR_CREDENTIALS_FILE', `Cannot read credentials file ${path}: ${why}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, '')); // tolerate a BOM from Windows editors
  } catch (err) {
    throw fail(`not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { credentials?: unknown } | null)?.credentials;
  if (!Array.isArray(list)) throw fail('expected a JSON array or an object with a "credentials" array');
  const out = new Map<string, Credential>();
  list.forEach((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const { accessKeyId, secretAccessKey, accountId } = e;
    if (typeof accessKeyId !== 'string' || !/^[^\s/,]+$/.test(accessKeyId)) {
      throw fail(`entry ${i}: accessKeyId must be a non-empty string without '/', ',' or whitespace`);
    }
    if (typeof secretAccessKey !== 'string' || secretAccessKey === '') {
      throw fail(`entry ${i} (${accessKeyId}): secretAccessKey must be a non-empty string`);
    }
    if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) {
      throw fail(`entry ${i} (${accessKeyId}): accountId must be a string of exactly 12 digits`);
    }
    if (out.has(accessKeyId)) throw fail(`entry ${i}: duplicate accessKeyId ${accessKeyId}`);
    out.set(accessKeyId, { accessKeyId, secretAccessKey, accountId });
  });
  return out;
}
