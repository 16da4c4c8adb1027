/**
 * Temporary credentials without a table: the session token carries who the session is and when
 * it expires, HMAC-signed with a secret of the store, and the secret access key is derived from
 * the access key id with the same secret. Any node of a cluster can verify a session another
 * node issued, and a restart keeps every session valid until it expires.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  accessKeyId: string;
  account: string;
  /** the principal the session acts as (GetCallerIdentity's Arn) */
  arn: string;
  userId: string;
  /** epoch ms */
  expiresAt: number;
}

const PREFIX = 'WharfSTSv1.';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * ASIA + 16 base32 digits of 10 bytes: the account (40 bits) and 40 random bits, so that
 * GetAccessKeyInfo finds the account of a temporary key without its token, as AWS does.
 */
export function temporaryKeyId(account: string): string {
  const bytes = Buffer.concat([Buffer.alloc(5), randomBytes(5)]);
  let n = BigInt(account);
  for (let i = 4; i >= 0; i--, n >>= 8n) bytes[i] = Number(n & 0xffn);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 15; i >= 0; i--) out += BASE32[Number((bits >> BigInt(i * 5)) & 31n)];
  return `ASIA${out}`;
}

/** The account a temporary key id was issued in, or undefined for a key id of another form. */
export function accountOfTemporaryKey(accessKeyId: string): string | undefined {
  if (!/^ASIA[A-Z2-7]{16}$/.test(accessKeyId)) return undefined;
  let bits = 0n;
  for (const c of accessKeyId.slice(4)) bits = (bits << 5n) | BigInt(BASE32.indexOf(c));
  const account = bits >> 40n;
  return account < 10n ** 12n ? account.toString().padStart(12, '0') : undefined;
}

export class SessionIssuer {
  constructor(private readonly secret: Buffer) {}

  private mac(text: string): Buffer {
    return createHmac('sha256', this.secret).update(text).digest();
  }

  /** The secret access key of a temporary access key id. */
  secretKeyOf(accessKeyId: string): string {
    return this.mac(`secret-key:${accessKeyId}`).toString('base64').slice(0, 40);
  }

  issue(s: Omit<Session, 'accessKeyId'>): { session: Session; secretAccessKey: string; sessionToken: string } {
    const session: Session = { accessKeyId: temporaryKeyId(s.account), ...s };
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    const sessionToken = `${PREFIX}${payload}.${this.mac(payload).toString('base64url')}`;
    return { session, secretAccessKey: this.secretKeyOf(session.accessKeyId), sessionToken };
  }

  /** The session a token describes, if this installation signed it for that access key id (expired or not). */
  verify(accessKeyId: string, token: string): Session | undefined {
    if (!token.startsWith(PREFIX)) return undefined;
    const [payload, sig, extra] = token.slice(PREFIX.length).split('.');
    if (!payload || !sig || extra !== undefined) return undefined;
    // compared as text: base64url's last digit has unused bits, so decoding would accept
    // several spellings of one signature
    const want = Buffer.from(this.mac(payload).toString('base64url'));
    const got = Buffer.from(sig);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    let s: Session;
    try {
      s = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Session;
    } catch {
      return undefined;
    }
    return s.accessKeyId === accessKeyId ? s : undefined;
  }
}
