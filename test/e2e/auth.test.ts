/**
 * Authentication end to end: strict SigV4 (a credentials file) with real clients (both JS SDK builds, boto3, the
 * AWS CLI) and hand-signed raw requests (tampered, expired, presigned), anonymous mode (accounts and regions from
 * the signature) and the refusal to listen on a public address without credentials.
 *
 * Both servers use the system clock: the SDKs sign with real time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jsonSdk from '@aws-sdk/client-sqs';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import * as querySdk from 'sqs-query-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWharf, type Wharf } from '../../src/index.js';
import { AppError } from '../../src/kernel/errors.js';
import { expectError, PROTOCOLS, type Proto } from '../helpers/sqs.js';
import { runTool, type Run } from '../helpers/proc.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}
const ALICE = { accessKeyId: 'AKIDALICE0000001', secretAccessKey: 'alice/secret+key', accountId: '123456789012' };
const BOB = { accessKeyId: 'AKIDBOB000000002', secretAccessKey: 'bob-secret', accountId: '210987654321' };

// ── clients and raw requests ─────────────────────────────────────────────────

interface Client {
  call(op: string, input?: Json): Promise<Json>;
  destroy(): void;
}

function sdkClient(proto: Proto, endpoint: string, creds: Creds, region = 'us-east-1'): Client {
  const mod = (proto === 'json' ? jsonSdk : querySdk) as unknown as Record<string, new (x: unknown) => unknown>;
  const client = new mod.SQSClient({ endpoint, region, credentials: creds, maxAttempts: 1 }) as {
    send(c: unknown): Promise<Json>;
    destroy(): void;
  };
  return {
    call: (op, input = {}) => client.send(new mod[`${op}Command`](input)),
    destroy: () => client.destroy(),
  };
}

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function rawRequest(url: string, method: string, headers: Record<string, string>, body = ''): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const signer = (creds: Creds, region = 'us-east-1', applyChecksum = true) =>
  new SignatureV4({ credentials: creds, region, service: 'sqs', sha256: Hash.bind(null, 'sha256'), applyChecksum });

/** A ListQueues request in either protocol, as a client would put it on the wire before signing. */
function listQueuesRequest(endpoint: string, proto: Proto) {
  const u = new URL(endpoint);
  const headers: Record<string, string> =
    proto === 'json'
      ? { host: u.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' }
      : { host: u.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
  const body =
    proto === 'json' ? '{"QueueNamePrefix":"auth-"}' : 'Action=ListQueues&Version=2012-11-05&QueueNamePrefix=auth-';
  return { method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/', headers, body };
}

interface SignOpts {
  creds?: Creds;
  date?: Date;
  /** JSON requests carry a signed x-amz-content-sha256 (as JS v3 sends); Query ones do not (as botocore) */
  tamper?: (h: Record<string, string>, body: string) => { headers: Record<string, string>; body: string };
}

async function signedListQueues(endpoint: string, proto: Proto, o: SignOpts = {}): Promise<Raw> {
  const req = listQueuesRequest(endpoint, proto);
  const signed = await signer(o.creds ?? ALICE, 'us-east-1', proto === 'json').sign(req, {
    signingDate: o.date ?? new Date(),
  });
  let headers = { ...(signed.headers as Record<string, string>) };
  let body = req.body;
  if (o.tamper) ({ headers, body } = o.tamper(headers, body));
  return rawRequest(endpoint + '/', 'POST', headers, body);
}

/** Asserts the AWS error in the protocol's own form (JSON: __type + x-amzn-query-error; Query: <Code>). */
function expectAwsError(r: Raw, proto: Proto, status: number, code: string, message?: string | RegExp) {
  expect(r.status, r.body).toBe(status);
  expect(r.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
  expect(r.headers.date).toBeTruthy();
  if (proto === 'json') {
    const body = JSON.parse(r.body) as Json;
    expect(body.__type).toMatch(new RegExp(`#${code}$`));
    expect(r.headers['x-amzn-query-error']).toBe(`${code};Sender`);
    if (message) expect(body.message).toMatch(message);
  } else {
    expect(r.headers['content-type']).toBe('text/xml');
    expect(r.body).toContain(`<Code>${code}</Code>`);
    expect(r.body).toContain('<Type>Sender</Type>');
    if (message) expect(r.body).toMatch(message);
  }
}

// ── external clients ─────────────────────────────────────────────────────────

/** boto3 (Debian, botocore 1.29): a queue, its ARN, and two presigned GET URLs from generate_presigned_url. */
const BOTO3_SCRIPT = `
import json, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
ep, key, secret, region = sys.argv[1:5]
c = boto3.client('sqs', endpoint_url=ep, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret,
                 config=Config(retries={'total_max_attempts': 1, 'mode': 'standard'}))
out = {}
try:
    out['url'] = c.create_queue(QueueName='auth-boto3')['QueueUrl']
    out['arn'] = c.get_queue_attributes(QueueUrl=out['url'], AttributeNames=['QueueArn'])['Attributes']['QueueArn']
    out['listUrl'] = c.generate_presigned_url('list_queues', Params={'QueueNamePrefix': 'auth-'}, ExpiresIn=300, HttpMethod='GET')
    out['sendUrl'] = c.generate_presigned_url('send_message', Params={'QueueUrl': out['url'], 'MessageBody': 'sent with a presigned URL'}, ExpiresIn=300, HttpMethod='GET')
except ClientError as e:
    out['error'] = e.response['Error']['Code']
    out['status'] = e.response['ResponseMetadata']['HTTPStatusCode']
print(json.dumps(out))
`;

async function boto3(endpoint: string, creds: Creds, region: string): Promise<Json> {
  const r = await runTool(
    '/usr/bin/python3',
    ['-c', BOTO3_SCRIPT, endpoint, creds.accessKeyId, creds.secretAccessKey, region],
    {},
  );
  if (r.code !== 0) throw new Error(`python failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Json;
}

function awsCli(endpoint: string, creds: Creds, region: string, ...args: string[]): Promise<Run> {
  return runTool('/usr/bin/aws', ['--endpoint-url', endpoint, '--output', 'json', 'sqs', ...args], {
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_DEFAULT_REGION: region,
    AWS_MAX_ATTEMPTS: '1',
  });
}

// ── strict mode ──────────────────────────────────────────────────────────────

describe('strict SigV4 (credentials file)', () => {
  let dir: string;
  let wharf: Wharf;
  const clients: Client[] = [];
  const client = (proto: Proto, creds: Creds, region?: string) => {
    const c = sdkClient(proto, wharf.endpoint, creds, region);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-auth-'));
    const file = join(dir, 'credentials.json');
    writeFileSync(file, JSON.stringify([ALICE, BOB]));
    wharf = await startWharf({ credentials: file, maintenanceIntervalMs: 0 });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await wharf?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(PROTOCOLS)('accepts the JS SDK (%s) and puts its queues in the account from the file', async (proto) => {
    const alice = client(proto, ALICE, 'us-west-2');
    const bob = client(proto, BOB, 'us-west-2');
    const { QueueUrl } = await alice.call('CreateQueue', { QueueName: `auth-js-${proto}` });
    expect(QueueUrl).toBe(`${wharf.endpoint}/123456789012/auth-js-${proto}`);
    const attrs = await alice.call('GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] });
    expect(attrs.Attributes.QueueArn).toBe(`arn:aws:sqs:us-west-2:123456789012:auth-js-${proto}`);
    await alice.call('SendMessage', { QueueUrl, MessageBody: 'signed' });
    expect((await alice.call('ReceiveMessage', { QueueUrl })).Messages[0].Body).toBe('signed');
    // Bob's key maps to another account: same name, another queue; Alice's is not his
    const bobs = await bob.call('CreateQueue', { QueueName: `auth-js-${proto}` });
    expect(bobs.QueueUrl).toBe(`${wharf.endpoint}/210987654321/auth-js-${proto}`);
    expect((await bob.call('ListQueues', { QueueNamePrefix: `auth-js-${proto}` })).QueueUrls).toEqual([bobs.QueueUrl]);
  });

  it.each(PROTOCOLS)('rejects a wrong secret and an unknown key id from the JS SDK (%s)', async (proto) => {
    const wrong = client(proto, { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-the-secret' });
    const bad = await expectError(wrong.call('ListQueues'), 'SignatureDoesNotMatch', proto);
    expect(bad.$metadata?.httpStatusCode).toBe(403);
    const unknown = client(proto, { accessKeyId: 'AKIDNOBODY', secretAccessKey: ALICE.secretAccessKey });
    const err = await expectError(unknown.call('ListQueues'), 'InvalidClientTokenId', proto);
    expect(err.$metadata?.httpStatusCode).toBe(403);
  });

  it('accepts boto3 and its presigned URLs; rejects a wrong secret', async () => {
    const [ok, wrong] = await Promise.all([
      boto3(wharf.endpoint, ALICE, 'eu-central-1'),
      boto3(wharf.endpoint, { ...ALICE, secretAccessKey: 'wrong' }, 'eu-central-1'),
    ]);
    expect(ok.error).toBeUndefined();
    expect(ok.url).toBe(`${wharf.endpoint}/123456789012/auth-boto3`);
    expect(ok.arn).toBe('arn:aws:sqs:eu-central-1:123456789012:auth-boto3');
    expect(wrong).toEqual({ error: 'SignatureDoesNotMatch', status: 403 });

    // botocore's generate_presigned_url signs Query actions as GET URLs (X-Amz-Signature in the query string)
    expect(ok.listUrl).toContain('X-Amz-Signature=');
    const listed = await fetch(ok.listUrl);
    const text = await listed.text();
    expect(listed.status, text).toBe(200);
    expect(text).toContain(`<QueueUrl>${ok.url}</QueueUrl>`);
    const sent = await fetch(ok.sendUrl);
    expect(sent.status, await sent.text()).toBe(200);
    const alice = client('json', ALICE, 'eu-central-1');
    const got = await alice.call('ReceiveMessage', { QueueUrl: ok.url });
    expect(got.Messages[0].Body).toBe('sent with a presigned URL');
    // the same URL with one parameter changed no longer matches its signature
    const tampered = await fetch(ok.listUrl.replace('QueueNamePrefix=auth-', 'QueueNamePrefix=auth-x'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('accepts the AWS CLI; rejects it with a wrong secret', async () => {
    const [ok, wrong] = await Promise.all([
      awsCli(wharf.endpoint, ALICE, 'sa-east-1', 'create-queue', '--queue-name', 'auth-cli'),
      awsCli(wharf.endpoint, { ...ALICE, secretAccessKey: 'wrong' }, 'sa-east-1', 'list-queues'),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ QueueUrl: `${wharf.endpoint}/123456789012/auth-cli` });
    expect(await wharf.stores.sqs.getQueue('123456789012', 'sa-east-1', 'auth-cli')).toBeDefined();
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('An error occurred (SignatureDoesNotMatch) when calling the ListQueues operation');
  });

  it.each(PROTOCOLS)('answers a raw request without auth with MissingAuthenticationToken (%s)', async (proto) => {
    const req = listQueuesRequest(wharf.endpoint, proto);
    const r = await rawRequest(wharf.endpoint + '/', 'POST', req.headers, req.body);
    expectAwsError(r, proto, 403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
    // a GET with the action in the query string, no signature
    const get = await fetch(`${wharf.endpoint}/?Action=ListQueues&Version=2012-11-05`);
    expect(get.status).toBe(403);
    expect(await get.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });

  it.each(PROTOCOLS)('accepts a hand-signed request and rejects it once a byte changed (%s)', async (proto) => {
    const ok = await signedListQueues(wharf.endpoint, proto);
    expect(ok.status, ok.body).toBe(200);
    // one byte of the body
    const body = await signedListQueues(wharf.endpoint, proto, {
      tamper: (headers, b) => ({ headers, body: b.replace('auth-', 'auth_') }),
    });
    expectAwsError(body, proto, 403, 'SignatureDoesNotMatch', /The request signature we calculated does not match/);
    // one byte of a signed header (not whitespace: canonical header values are trimmed)
    const header = await signedListQueues(wharf.endpoint, proto, {
      tamper: (headers, b) => {
        const ct = headers['content-type'];
        return { headers: { ...headers, 'content-type': ct.slice(0, -1) + (ct.endsWith('0') ? '1' : '9') }, body: b };
      },
    });
    expectAwsError(header, proto, 403, 'SignatureDoesNotMatch');
    // one character of the signature itself
    const sig = await signedListQueues(wharf.endpoint, proto, {
      tamper: (headers, b) => {
        const auth = headers.authorization;
        const last = auth.at(-1) === '0' ? '1' : '0';
        return { headers: { ...headers, authorization: auth.slice(0, -1) + last }, body: b };
      },
    });
    expectAwsError(sig, proto, 403, 'SignatureDoesNotMatch');
    // another key's secret with Alice's key id
    const other = await signedListQueues(wharf.endpoint, proto, {
      creds: { accessKeyId: ALICE.accessKeyId, secretAccessKey: BOB.secretAccessKey },
    });
    expectAwsError(other, proto, 403, 'SignatureDoesNotMatch');
    const unknown = await signedListQueues(wharf.endpoint, proto, {
      creds: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' },
    });
    expectAwsError(
      unknown,
      proto,
      403,
      'InvalidClientTokenId',
      'The security token included in the request is invalid.',
    );
    // a malformed Authorization header
    const malformed = await signedListQueues(wharf.endpoint, proto, {
      tamper: (headers, b) => ({ headers: { ...headers, authorization: 'AWS4-HMAC-SHA256 Credential=x' }, body: b }),
    });
    expectAwsError(malformed, proto, 400, 'IncompleteSignature');
  });

  it.each(PROTOCOLS)('rejects a request signed 20 minutes ago or 20 minutes ahead (%s)', async (proto) => {
    const past = await signedListQueues(wharf.endpoint, proto, { date: new Date(Date.now() - 20 * 60_000) });
    expectAwsError(past, proto, 403, 'SignatureDoesNotMatch', /Signature expired: \d{8}T\d{6}Z is now earlier than/);
    const future = await signedListQueues(wharf.endpoint, proto, { date: new Date(Date.now() + 20 * 60_000) });
    expectAwsError(future, proto, 403, 'SignatureDoesNotMatch', /Signature not yet current/);
    // within the default 15-minute window
    const recent = await signedListQueues(wharf.endpoint, proto, { date: new Date(Date.now() - 10 * 60_000) });
    expect(recent.status).toBe(200);
  });

  it('accepts a presigned GET URL from @smithy/signature-v4 and rejects an expired one', async () => {
    const u = new URL(wharf.endpoint);
    const presign = (signingDate: Date, expiresIn: number, query: Record<string, string>) =>
      signer(ALICE).presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: u.hostname,
          port: Number(u.port),
          path: '/',
          query,
          headers: { host: u.host },
        },
        { signingDate, expiresIn },
      );
    const toUrl = (req: { query?: Record<string, string | string[] | null> }) =>
      `${wharf.endpoint}/?${new URLSearchParams(req.query as Record<string, string>).toString().replace(/\+/g, '%20')}`;
    const query = { Action: 'CreateQueue', Version: '2012-11-05', QueueName: 'auth-presigned' };

    const fresh = await fetch(toUrl(await presign(new Date(), 300, query)));
    const text = await fresh.text();
    expect(fresh.status, text).toBe(200);
    expect(text).toContain(`<QueueUrl>${wharf.endpoint}/123456789012/auth-presigned</QueueUrl>`);
    // signed two hours ago, valid for one hour: long past the skew window, but only its own expiry counts
    const stillValid = await fetch(toUrl(await presign(new Date(Date.now() - 2 * 3600_000), 3 * 3600, query)));
    expect(stillValid.status).toBe(200);
    await stillValid.arrayBuffer();

    const expired = await fetch(toUrl(await presign(new Date(Date.now() - 2 * 3600_000), 3600, query)));
    expect(expired.status).toBe(400);
    const body = await expired.text();
    expect(body).toContain('<Code>RequestExpired</Code>');
    expect(body).toContain('Request has expired.');
    expect(expired.headers.get('x-amzn-requestid')).toBeTruthy();

    // X-Amz-Expires beyond a week (smithy refuses to sign that, so edit a signed URL)
    const week = new URL(toUrl(await presign(new Date(), 300, query)));
    week.searchParams.set('X-Amz-Expires', '604801');
    const tooLong = await fetch(week);
    expect(tooLong.status).toBe(400);
    const tooLongBody = await tooLong.text();
    expect(tooLongBody).toContain('<Code>IncompleteSignature</Code>');
    expect(tooLongBody).toContain('X-Amz-Expires must be less than a week');

    const changed = new URL(toUrl(await presign(new Date(), 300, query)));
    changed.searchParams.set('QueueName', 'auth-other');
    const tampered = await fetch(changed);
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await wharf.stores.sqs.getQueue('123456789012', 'us-east-1', 'auth-other')).toBeUndefined();
  });
});

// ── anonymous mode ───────────────────────────────────────────────────────────

describe('anonymous mode', () => {
  let wharf: Wharf;
  const clients: Client[] = [];
  const client = (proto: Proto, creds: Creds, region?: string) => {
    const c = sdkClient(proto, wharf.endpoint, creds, region);
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    wharf = await startWharf({ maintenanceIntervalMs: 0 });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await wharf?.stop();
  });

  it.each(PROTOCOLS)('accepts any credentials; a 12-digit key id selects the account (%s)', async (proto) => {
    const name = `anon-${proto}`;
    const anyone = client(proto, { accessKeyId: 'whatever', secretAccessKey: 'anything at all' });
    const acct = client(proto, { accessKeyId: '111111111111', secretAccessKey: 'x' });
    const a = await anyone.call('CreateQueue', { QueueName: name });
    const b = await acct.call('CreateQueue', { QueueName: name });
    expect(a.QueueUrl).toBe(`${wharf.endpoint}/000000000000/${name}`);
    expect(b.QueueUrl).toBe(`${wharf.endpoint}/111111111111/${name}`);
    await acct.call('SendMessage', { QueueUrl: b.QueueUrl, MessageBody: 'for 111111111111' });
    // separate queues: the default account's copy is empty, and each account lists only its own
    expect((await anyone.call('ReceiveMessage', { QueueUrl: a.QueueUrl })).Messages).toBeUndefined();
    expect((await acct.call('ReceiveMessage', { QueueUrl: b.QueueUrl })).Messages[0].Body).toBe('for 111111111111');
    expect((await anyone.call('ListQueues', { QueueNamePrefix: name })).QueueUrls).toEqual([a.QueueUrl]);
    expect((await acct.call('ListQueues', { QueueNamePrefix: name })).QueueUrls).toEqual([b.QueueUrl]);
    const attrs = await acct.call('GetQueueAttributes', { QueueUrl: b.QueueUrl, AttributeNames: ['QueueArn'] });
    expect(attrs.Attributes.QueueArn).toBe(`arn:aws:sqs:us-east-1:111111111111:${name}`);
  });

  it.each(PROTOCOLS)('takes the region from the signature scope (%s)', async (proto) => {
    const name = `regional-${proto}`;
    const eu = client(proto, { accessKeyId: 'test', secretAccessKey: 'test' }, 'eu-west-1');
    const us = client(proto, { accessKeyId: 'test', secretAccessKey: 'test' }, 'us-east-1');
    const { QueueUrl } = await eu.call('CreateQueue', { QueueName: name });
    const attrs = await eu.call('GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] });
    expect(attrs.Attributes.QueueArn).toBe(`arn:aws:sqs:eu-west-1:000000000000:${name}`);
    await expectError(us.call('GetQueueUrl', { QueueName: name }), 'QueueDoesNotExist', proto);
    expect((await eu.call('GetQueueUrl', { QueueName: name })).QueueUrl).toBe(QueueUrl);
  });

  it('serves unsigned requests in the default account and region', async () => {
    const r = await fetch(`${wharf.endpoint}/?Action=CreateQueue&QueueName=unsigned`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain(`<QueueUrl>${wharf.endpoint}/000000000000/unsigned</QueueUrl>`);
    expect(await wharf.stores.sqs.getQueue('000000000000', 'us-east-1', 'unsigned')).toBeDefined();
  });

  it('accepts boto3 and the AWS CLI with made-up credentials', async () => {
    const [boto, cli] = await Promise.all([
      boto3(wharf.endpoint, { accessKeyId: '222222222222', secretAccessKey: 'made-up' }, 'ap-northeast-1'),
      awsCli(
        wharf.endpoint,
        { accessKeyId: 'made-up', secretAccessKey: 'made-up' },
        'ap-northeast-1',
        'create-queue',
        '--queue-name',
        'anon-cli',
      ),
    ]);
    expect(boto.arn).toBe('arn:aws:sqs:ap-northeast-1:222222222222:auth-boto3');
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).QueueUrl).toBe(`${wharf.endpoint}/000000000000/anon-cli`);
    expect(await wharf.stores.sqs.getQueue('000000000000', 'ap-northeast-1', 'anon-cli')).toBeDefined();
  });
});

// ── binding ──────────────────────────────────────────────────────────────────

describe('listening address', () => {
  it('refuses a non-loopback address without credentials', async () => {
    const err = await startWharf({ host: '0.0.0.0', maintenanceIntervalMs: 0 }).then(
      (w) => w.stop().then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'ERR_INSECURE_BIND', message: expect.stringContaining('0.0.0.0') });
  });

  it('listens on a non-loopback address with allowAnonymous or with credentials', async () => {
    const anon = await startWharf({ host: '0.0.0.0', allowAnonymous: true, maintenanceIntervalMs: 0 });
    try {
      expect(anon.host).toBe('0.0.0.0');
      const r = await fetch(`http://127.0.0.1:${anon.port}/_wharf/health`);
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    } finally {
      await anon.stop();
    }
    const dir = mkdtempSync(join(tmpdir(), 'wharf-auth-bind-'));
    try {
      writeFileSync(join(dir, 'c.json'), JSON.stringify([ALICE]));
      const strict = await startWharf({ host: '0.0.0.0', credentials: join(dir, 'c.json'), maintenanceIntervalMs: 0 });
      await strict.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
