/** What a handler knows about the request; services never see HTTP. */
export interface RequestContext {
  requestId: string;
  account: string;
  region: string;
  /** scheme://host the client used, for URLs that must be reachable by the client (queue URLs) */
  baseUrl: string;
  accessKeyId?: string;
  /** set when the request was signed with temporary credentials (STS): the principal they act as */
  principal?: { arn: string; userId: string };
  /** aborted when the client went away or the server is stopping (ends long polls early) */
  signal: AbortSignal;
}
