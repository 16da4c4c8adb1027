import { describe, expect, it } from 'vitest';
import { accountOfTemporaryKey, SessionIssuer, temporaryKeyId } from '../../src/services/sts/sessions.js';

describe('STS session tokens', () => {
  const issuer = new SessionIssuer(Buffer.alloc(32, 7));
  const base = {
    account: '111111111111',
    arn: 'arn:aws:sts::111111111111:assumed-role/r/s',
    userId: 'AROAX:s',
    expiresAt: 1,
  };

  it('verify only the exact token issued for that key id', () => {
    const { session, sessionToken } = issuer.issue(base);
    expect(issuer.verify(session.accessKeyId, sessionToken)).toEqual(session);
    expect(issuer.verify(temporaryKeyId('111111111111'), sessionToken)).toBeUndefined();
    // every other last digit of the signature, including those that decode to the same bytes
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const accepted = [...B64].filter((c) => issuer.verify(session.accessKeyId, sessionToken.slice(0, -1) + c));
    expect(accepted).toEqual([sessionToken.slice(-1)]);
    // a changed payload, a foreign secret
    const [head, payload, sig] = sessionToken.split('.');
    const other = Buffer.from(JSON.stringify({ ...session, account: '222222222222' })).toString('base64url');
    expect(issuer.verify(session.accessKeyId, `${head}.${other}.${sig}`)).toBeUndefined();
    expect(
      new SessionIssuer(Buffer.alloc(32, 8)).verify(session.accessKeyId, `${head}.${payload}.${sig}`),
    ).toBeUndefined();
    expect(issuer.verify(session.accessKeyId, 'garbage')).toBeUndefined();
  });

  it('derive the secret key from the key id', () => {
    const { session, secretAccessKey } = issuer.issue(base);
    expect(issuer.secretKeyOf(session.accessKeyId)).toBe(secretAccessKey);
    expect(secretAccessKey).toHaveLength(40);
  });

  it('carry the account in the key id', () => {
    for (const account of ['000000000000', '123456789012', '999999999999']) {
      const id = temporaryKeyId(account);
      expect(id).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(accountOfTemporaryKey(id)).toBe(account);
    }
    expect(accountOfTemporaryKey('AKIAIOSFODNN7EXAMPLE')).toBeUndefined();
  });
});
