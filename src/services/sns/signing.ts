/**
 * SNS message signatures: one RSA key and its self-signed certificate per store, shared by every
 * node (kept as a resource, created by whichever node needs it first), served at SigningCertURL.
 * SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over AWS's string to sign.
 */
import { createHash, createPrivateKey, createSign, webcrypto, type KeyObject } from 'node:crypto';
import type { ResourceKey, ResourceStore } from '../../store/resources.js';
import { VersionConflict } from '../../store/resources.js';

const KEY: ResourceKey = { kind: 'sns.signing-key', account: '-', region: '-', name: 'current' };

interface KeyDoc {
  keyPem: string;
  certPem: string;
}

export class Signer {
  /** `SimpleNotificationService-<hash>.pem`, as AWS names its certificates */
  readonly certName: string;
  private readonly key: KeyObject;

  private constructor(
    readonly certPem: string,
    keyPem: string,
  ) {
    this.key = createPrivateKey(keyPem);
    this.certName = `SimpleNotificationService-${createHash('md5').update(certPem).digest('hex')}.pem`;
  }

  /** The store's key, made now if it has none (another node may win the race: then its key is the key). */
  static async load(resources: ResourceStore, now: number): Promise<Signer> {
    const have = await resources.get<KeyDoc>(KEY);
    if (have) return new Signer(have.doc.certPem, have.doc.keyPem);
    const made = await makeKey(now);
    try {
      await resources.put<KeyDoc>(KEY, made, { now, ifVersion: 0 });
      return new Signer(made.certPem, made.keyPem);
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
      const won = (await resources.get<KeyDoc>(KEY))!;
      return new Signer(won.doc.certPem, won.doc.keyPem);
    }
  }

  /** base64 signature of the string to sign: version '2' SHA256withRSA, else SHA1withRSA */
  sign(text: string, version: string): string {
    return createSign(version === '2' ? 'RSA-SHA256' : 'RSA-SHA1')
      .update(text)
      .sign(this.key, 'base64');
  }
}

async function makeKey(now: number): Promise<KeyDoc> {
  // Node has no API that writes a certificate; @peculiar/x509 does, on WebCrypto keys
  const x509 = await import('@peculiar/x509');
  const alg = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=sns.amazonaws.com, O=Wharf',
    keys,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 10 * 365 * 86_400_000),
    signingAlgorithm: alg,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
  return { keyPem: keyPem.replace(/\n\n/g, '\n'), certPem: cert.toString('pem') + '\n' };
}
