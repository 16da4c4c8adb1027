/**
 * STS end to end, the first service on the registry: GetCallerIdentity, GetSessionToken,
 * AssumeRole and GetAccessKeyInfo through @aws-sdk/client-sts, boto3 and the AWS CLI; the
 * temporary credentials acting on SQS in their own account, in anonymous and in strict mode;
 * expired and tampered tokens; Coral validation wording.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sts from '@aws-sdk/client-sts';
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, startWharf, type Wharf } from '../../src/index.js';
import { runTool } from '../helpers/proc.js';
import { sdkFailure } from '../helpers/sdk.js';

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}
const TEST: Creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const ROLE = 'arn:aws:iam::111111111111:role/ops/deployer';

const stsClient = (endpoint: string, credentials: Creds) =>
  new sts.STSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
const sqsClient = (endpoint: string, credentials: Creds) =>
  new SQSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

const temporary = (c: sts.Credentials | undefined): Creds => ({
  accessKeyId: c!.AccessKeyId!,
  secretAccessKey: c!.SecretAccessKey!,
  sessionToken: c!.SessionToken!,
});

/** an external client, one attempt: its exit code and output (stderr when it failed) */
async function run(file: string, args: string[], env: Record<string, string> = {}) {
  const r = await runTool(file, args, { AWS_MAX_ATTEMPTS: '1', ...env });
  return { code: r.code, out: r.code === 0 ? r.stdout : r.stderr };
}

describe('STS, anonymous mode', () => {
  let wharf: Wharf;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock(Date.UTC(2026, 5, 1));
    wharf = await startWharf({ clock });
  });
  afterAll(() => wharf?.stop());

  it('reports the caller: the default account, or the account a 12-digit key id names', async () => {
    const c = stsClient(wharf.endpoint, TEST);
    const me = await c.send(new sts.GetCallerIdentityCommand({}));
    expect(me).toMatchObject({
      Account: '000000000000',
      Arn: 'arn:aws:iam::000000000000:root',
      UserId: '000000000000',
    });
    const other = stsClient(wharf.endpoint, { accessKeyId: '222222222222', secretAccessKey: 'x' });
    expect((await other.send(new sts.GetCallerIdentityCommand({}))).Account).toBe('222222222222');
    c.destroy();
    other.destroy();
  });

  it('assumes a role in another account: the credentials act there', async () => {
    const c = stsClient(wharf.endpoint, TEST);
    const r = await c.send(new sts.AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'ci-run' }));
    expect(r.AssumedRoleUser!.Arn).toBe('arn:aws:sts::111111111111:assumed-role/deployer/ci-run');
    expect(r.AssumedRoleUser!.AssumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:ci-run$/);
    expect(r.Credentials!.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    // one hour by default, on the injected clock
    expect(r.Credentials!.Expiration!.getTime()).toBe(clock.now() + 3_600_000);
    const creds = temporary(r.Credentials);
    const asRole = stsClient(wharf.endpoint, creds);
    expect(await asRole.send(new sts.GetCallerIdentityCommand({}))).toMatchObject({
      Account: '111111111111',
      Arn: 'arn:aws:sts::111111111111:assumed-role/deployer/ci-run',
      UserId: r.AssumedRoleUser!.AssumedRoleId,
    });
    const q = sqsClient(wharf.endpoint, creds);
    const { QueueUrl } = await q.send(new CreateQueueCommand({ QueueName: 'assumed' }));
    expect(QueueUrl).toBe(`${wharf.endpoint}/111111111111/assumed`);
    const info = await c.send(new sts.GetAccessKeyInfoCommand({ AccessKeyId: creds.accessKeyId }));
    expect(info.Account).toBe('111111111111');
    // a long-term key that is not an account id: the default account, as anonymous mode uses it
    const plain = await c.send(new sts.GetAccessKeyInfoCommand({ AccessKeyId: 'AKIAIOSFODNN7EXAMPLE' }));
    expect(plain.Account).toBe('000000000000');
    for (const x of [c, asRole, q]) x.destroy();
  });

  it('issues session tokens, but not to a session', async () => {
    const c = stsClient(wharf.endpoint, { accessKeyId: '444444444444', secretAccessKey: 'x' });
    const r = await c.send(new sts.GetSessionTokenCommand({ DurationSeconds: 900 }));
    expect(r.Credentials!.Expiration!.getTime()).toBe(clock.now() + 900_000);
    const s = stsClient(wharf.endpoint, temporary(r.Credentials));
    expect((await s.send(new sts.GetCallerIdentityCommand({}))).Account).toBe('444444444444');
    const err = await sdkFailure(s.send(new sts.GetSessionTokenCommand({})));
    expect(err).toEqual({
      name: 'AccessDenied',
      message: 'Cannot call GetSessionToken with session credentials',
      status: 403,
    });
    c.destroy();
    s.destroy();
  });

  it('validates in the Coral wording', async () => {
    const c = stsClient(wharf.endpoint, TEST);
    expect(await sdkFailure(c.send(new sts.AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'a' })))).toEqual({
      name: 'ValidationError',
      message:
        "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
      status: 400,
    });
    const two = await sdkFailure(
      c.send(new sts.AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'bad name', DurationSeconds: 60 })),
    );
    expect(two.message).toBe(
      "2 validation errors detected: Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; " +
        "Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    );
    const long = await sdkFailure(c.send(new sts.GetSessionTokenCommand({ DurationSeconds: 129601 })));
    expect(long.message).toContain('Member must have value less than or equal to 129600');
    // a required member missing on the wire (the SDK would not send it): raw Query
    const r = await fetch(wharf.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=AssumeRole&Version=2011-06-15&RoleSessionName=abc',
    });
    expect(r.status).toBe(400);
    const xml = await r.text();
    expect(xml).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
    expect(xml).toContain(
      "<Code>ValidationError</Code><Message>1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null</Message>",
    );
    // an action STS does not have, signed for sts
    const bad = await sdkFailure(
      c.send(new sts.AssumeRoleWithSAMLCommand({ RoleArn: ROLE, PrincipalArn: ROLE, SAMLAssertion: 'x'.repeat(4) })),
    );
    expect(bad.message).toBe('Could not find operation AssumeRoleWithSAML for version 2011-06-15');
    c.destroy();
  });

  it('serves boto3 and the AWS CLI', async () => {
    const script = `
import json, sys, boto3
c = boto3.client('sts', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')
r = c.assume_role(RoleArn='${ROLE}', RoleSessionName='boto3')
t = boto3.client('sts', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=r['Credentials']['AccessKeyId'],
                 aws_secret_access_key=r['Credentials']['SecretAccessKey'], aws_session_token=r['Credentials']['SessionToken'])
me = t.get_caller_identity()
print(json.dumps({'arn': me['Arn'], 'account': me['Account'], 'info': c.get_access_key_info(AccessKeyId=r['Credentials']['AccessKeyId'])['Account']}))
`;
    const py = await run('/usr/bin/python3', ['-c', script, wharf.endpoint]);
    expect(py.code, py.out).toBe(0);
    expect(JSON.parse(py.out)).toEqual({
      arn: 'arn:aws:sts::111111111111:assumed-role/deployer/boto3',
      account: '111111111111',
      info: '111111111111',
    });
    const cli = await run(
      '/usr/bin/aws',
      ['--endpoint-url', wharf.endpoint, '--output', 'json', 'sts', 'get-caller-identity'],
      {
        AWS_ACCESS_KEY_ID: '555555555555',
        AWS_SECRET_ACCESS_KEY: 'x',
        AWS_DEFAULT_REGION: 'us-east-1',
      },
    );
    expect(cli.code, cli.out).toBe(0);
    expect(JSON.parse(cli.out)).toEqual({
      UserId: '555555555555',
      Account: '555555555555',
      Arn: 'arn:aws:iam::555555555555:root',
    });
  });
});

describe('STS, strict mode', () => {
  const ALICE = { accessKeyId: 'AKIDALICE0000001', secretAccessKey: 'alice-secret', accountId: '123456789012' };
  let wharf: Wharf;
  let clock: ManualClock;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-sts-'));
    writeFileSync(join(dir, 'credentials.json'), JSON.stringify([ALICE]));
    // the SDK signs with the real time; a wide skew lets the test move the clock past an expiry
    clock = new ManualClock(Date.now());
    wharf = await startWharf({ clock, credentials: join(dir, 'credentials.json'), clockSkewSeconds: 86_400 });
  });
  afterAll(async () => {
    await wharf?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies requests signed with temporary credentials, and refuses tampered and expired ones', async () => {
    const alice = stsClient(wharf.endpoint, ALICE);
    expect((await alice.send(new sts.GetCallerIdentityCommand({}))).Account).toBe('123456789012');
    const r = await alice.send(new sts.AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'strict' }));
    const creds = temporary(r.Credentials);
    const q = sqsClient(wharf.endpoint, creds);
    const { QueueUrl } = await q.send(new CreateQueueCommand({ QueueName: 'strict-role' }));
    expect(QueueUrl).toBe(`${wharf.endpoint}/111111111111/strict-role`);

    const wrongSecret = sqsClient(wharf.endpoint, { ...creds, secretAccessKey: 'not-it' });
    expect((await sdkFailure(wrongSecret.send(new ListQueuesCommand({})))).name).toBe('SignatureDoesNotMatch');
    const tampered = creds.sessionToken!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const forged = sqsClient(wharf.endpoint, { ...creds, sessionToken: tampered });
    expect((await sdkFailure(forged.send(new ListQueuesCommand({})))).name).toBe('InvalidClientTokenId');
    const noToken = sqsClient(wharf.endpoint, {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
    });
    expect((await sdkFailure(noToken.send(new ListQueuesCommand({})))).name).toBe('InvalidClientTokenId');

    clock.advance(3_600_000);
    const expired = await sdkFailure(q.send(new ListQueuesCommand({})));
    expect(expired).toMatchObject({ name: 'ExpiredToken', status: 403 });
    for (const x of [alice, q, wrongSecret, forged, noToken]) x.destroy();
  });
});
