/**
 * The admin API behind authentication: with a credentials file, every route under /_wharf/ and
 * /_aws/ but health and readiness needs a valid SigV4 signature (an unsigned reset used to drop
 * every queue).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWharf, type Wharf } from '../../src/index.js';

const ALICE = { accessKeyId: 'AKIDALICE0000001', secretAccessKey: 'alice-secret', accountId: '123456789012' };

describe('admin API with --credentials', () => {
  let wharf: Wharf;
  let dir: string;
  let queueUrl: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-admin-'));
    writeFileSync(join(dir, 'credentials.json'), JSON.stringify([ALICE]));
    wharf = await startWharf({ credentials: join(dir, 'credentials.json') });
    const sqs = new SQSClient({ endpoint: wharf.endpoint, region: 'us-east-1', credentials: ALICE });
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'kept' }))).QueueUrl!;
    sqs.destroy();
  });
  afterAll(async () => {
    await wharf?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signed(method: string, path: string, secret = ALICE.secretAccessKey): Promise<Response> {
    const u = new URL(wharf.endpoint + path);
    const signer = new SignatureV4({
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: secret },
      region: 'us-east-1',
      service: 'sqs',
      sha256: Hash.bind(null, 'sha256'),
    });
    const query = Object.fromEntries(u.searchParams);
    const req = await signer.sign({
      method,
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query,
      headers: { host: u.host },
    });
    return fetch(u, { method, headers: req.headers as Record<string, string> });
  }

  const unsignedRoutes = () => [
    ['POST', '/_wharf/reset'],
    ['GET', '/_wharf/queues?account=123456789012'],
    ['GET', '/_wharf/queues/123456789012/kept/messages'],
    ['GET', `/_aws/sqs/messages?QueueUrl=${encodeURIComponent(queueUrl)}`],
    ['GET', '/_aws/sqs/messages/us-east-1/123456789012/kept'],
    ['GET', '/_wharf/sns/outbox'],
  ];

  it('refuses every unsigned admin request, and an unsigned reset drops nothing', async () => {
    for (const [method, path] of unsignedRoutes()) {
      const r = await fetch(wharf.endpoint + path, { method });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(((await r.json()) as { __type: string }).__type).toMatch(/MissingAuthenticationToken/);
    }
    expect(await wharf.stores.sqs.getQueue('123456789012', 'us-east-1', 'kept')).toBeDefined();
  });

  it('refuses a wrong signature', async () => {
    const r = await signed('GET', '/_wharf/queues?account=123456789012', 'not-the-secret');
    expect(r.status).toBe(403);
    expect(((await r.json()) as { __type: string }).__type).toMatch(/SignatureDoesNotMatch/);
  });

  it("serves SNS's SubscribeURL, UnsubscribeURL and SigningCertURL unsigned, each checked by its token", async () => {
    const { certName } = await wharf.services.sns.fanout.signerNow();
    const cert = await fetch(`${wharf.endpoint}/_wharf/sns/${certName}`);
    expect(cert.status).toBe(200);
    expect(await cert.text()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect((await fetch(`${wharf.endpoint}/_wharf/sns/SimpleNotificationService-${'0'.repeat(32)}.pem`)).status).toBe(
      404,
    );
    const arn = encodeURIComponent('arn:aws:sns:us-east-1:123456789012:t:00000000-0000-0000-0000-000000000000');
    const unsub = await fetch(`${wharf.endpoint}/_wharf/sns/unsubscribe?SubscriptionArn=${arn}&Token=forged`);
    expect(unsub.status).toBe(403);
    expect(await unsub.text()).toContain('AuthorizationError');
    const topic = encodeURIComponent('arn:aws:sns:us-east-1:123456789012:t');
    const confirm = await fetch(`${wharf.endpoint}/_wharf/sns/confirm?TopicArn=${topic}&Token=forged`);
    expect(confirm.status).toBe(404);
    expect(await confirm.text()).toContain('Topic does not exist');
  });

  it('keeps health and readiness open', async () => {
    expect((await fetch(`${wharf.endpoint}/_wharf/health`)).status).toBe(200);
    expect((await fetch(`${wharf.endpoint}/_wharf/ready`)).status).toBe(200);
  });

  it('serves signed admin requests', async () => {
    const list = await signed('GET', '/_wharf/queues?account=123456789012');
    expect(list.status).toBe(200);
    const body = (await list.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name)).toEqual(['kept']);
    // without ?account=, the signed caller's account
    const mine = (await (await signed('GET', '/_wharf/queues')).json()) as { queues: { name: string }[] };
    expect(mine.queues.map((q) => q.name)).toEqual(['kept']);
    expect((await signed('GET', '/_wharf/queues/123456789012/kept/messages')).status).toBe(200);
    const reset = await signed('POST', '/_wharf/reset');
    expect(reset.status).toBe(200);
    expect(await wharf.stores.sqs.getQueue('123456789012', 'us-east-1', 'kept')).toBeUndefined();
  });
});
