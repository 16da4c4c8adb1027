/**
 * SNS to an HTTPS endpoint whose certificate a local CA issued: with --trust-ca naming that CA,
 * the confirmation request arrives; without it, the TLS handshake fails and the request waits for
 * its retry, undelivered. The CA and the endpoint's certificate are made here (@peculiar/x509).
 */
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sns from '@aws-sdk/client-sns';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { ManualClock } from '../../src/kernel/clock.js';
import { withWharf } from '../helpers/sqs.js';
import { snsClient } from '../helpers/sns.js';

const ALG = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

const pem = async (key: webcrypto.CryptoKey) => {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as never));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
};

describe('SNS to HTTPS endpoints with their own CA', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-https-'));
  let server: https.Server;
  let url: string;
  const hits: Record<string, string>[] = [];

  beforeAll(async () => {
    x509.cryptoProvider.set(webcrypto as never);
    const now = Date.now();
    const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=Wharf test CA',
      keys: caKeys,
      notBefore: new Date(now - 86_400_000),
      notAfter: new Date(now + 86_400_000),
      signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      subject: 'CN=127.0.0.1',
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore: new Date(now - 86_400_000),
      notAfter: new Date(now + 86_400_000),
      signingAlgorithm: ALG,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
    });
    writeFileSync(join(dir, 'ca.pem'), ca.toString('pem'));
    server = https.createServer({ key: await pem(keys.privateKey), cert: cert.toString('pem') }, (req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        hits.push(JSON.parse(b) as Record<string, string>);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function subscribeWith(wharf: Wharf, name: string) {
    const client = snsClient(wharf.endpoint);
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: name }));
    await client.send(new sns.SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: url }));
    client.destroy();
    return TopicArn!;
  }

  it('delivers once Wharf trusts the CA (--trust-ca)', async () => {
    const wharf = await withWharf({ trustCa: join(dir, 'ca.pem') });
    try {
      const TopicArn = await subscribeWith(wharf, 'trusted');
      await expect.poll(() => hits.find((h) => h.TopicArn === TopicArn)?.Type).toBe('SubscriptionConfirmation');
    } finally {
      await wharf.stop();
    }
  });

  it('does not deliver to a certificate it cannot verify, and keeps the request for its retry', async () => {
    const clock = new ManualClock();
    const wharf = await withWharf({ clock });
    try {
      const TopicArn = await subscribeWith(wharf, 'untrusted');
      // the attempt failed: the job waits for its retry 20 s later (default policy)
      await expect.poll(async () => (await wharf.stores.jobs.counts('sns.deliver', clock.now())).delayed).toBe(1);
      const [job] = await wharf.stores.jobs.inspect('sns.deliver', clock.now(), { limit: 1 });
      expect(job.lastError).toMatch(/certificate|self.signed|issuer/i);
      expect(hits.some((h) => h.TopicArn === TopicArn)).toBe(false);
    } finally {
      await wharf.stop();
    }
  });
});
