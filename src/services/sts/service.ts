/** STS state: the signer of session tokens (a secret of the store) and how access keys map to accounts. */
import type { Clock } from '../../kernel/clock.js';
import { SessionIssuer, type Session } from './sessions.js';

export class StsService {
  private constructor(
    private readonly issuer: SessionIssuer,
    private readonly clock: Clock,
    /** the account of a long-term access key id (the credentials file, a 12-digit id, the default) */
    readonly accountOf: (accessKeyId: string) => string,
  ) {}

  static async create(o: { secret: Buffer; clock: Clock; accountOf: (accessKeyId: string) => string }) {
    return new StsService(new SessionIssuer(o.secret), o.clock, o.accountOf);
  }

  issue(account: string, arn: string, userId: string, seconds: number) {
    const expiresAt = this.clock.now() + seconds * 1000;
    const { session, secretAccessKey, sessionToken } = this.issuer.issue({ account, arn, userId, expiresAt });
    return {
      session,
      credentials: {
        AccessKeyId: session.accessKeyId,
        SecretAccessKey: secretAccessKey,
        SessionToken: sessionToken,
        Expiration: new Date(expiresAt),
      },
    };
  }

  /** The session behind a request's access key id and X-Amz-Security-Token, if this installation issued it. */
  session(accessKeyId: string, token: string): (Session & { secretAccessKey: string }) | undefined {
    const s = this.issuer.verify(accessKeyId, token);
    return s && { ...s, secretAccessKey: this.issuer.secretKeyOf(accessKeyId) };
  }
}
