/**
 * What a service brings to the platform: one folder under services/ exports one of these, and
 * services/registry.ts lists it. The pipeline, the router, startWharf(), reset and shutdown
 * iterate the registry and name no service.
 */
import type { Logger } from 'pino';
import type { Clock } from '../kernel/clock.js';
import type { RequestContext } from '../kernel/context.js';
import type { ServiceError } from '../kernel/errors.js';
import type { Stores } from '../store/types.js';
import type { WireProtocol } from '../kernel/wire.js';
import type { Scheduler } from '../kernel/scheduler.js';

export type Handler<S> = (svc: S, ctx: RequestContext, input: Record<string, unknown>) => Promise<unknown>;

/**
 * Handlers typed by a service's generated Operations map (services/<svc>/generated/types.ts): each
 * gets its operation's input type and must return its output type. The pipeline has decoded the
 * input against the same model (and, for Coral services, validated it) before a handler runs.
 */
export type TypedHandlers<S, Ops extends OperationTypes<Ops>> = {
  [K in keyof Ops]?: (svc: S, ctx: RequestContext, input: Ops[K]['input']) => Promise<Ops[K]['output']>;
};
/** A generated Operations interface: each operation's input and output type. */
export type OperationTypes<Ops> = { [K in keyof Ops]: { input: unknown; output: unknown } };

/** The operations table of a definition, from handlers typed by the generated Operations map. */
export function typedOperations<S, Ops extends OperationTypes<Ops>>(
  handlers: TypedHandlers<S, Ops>,
): Record<string, Handler<S>> {
  // the input is the model's shape for that operation: the decoder produced it from the model
  return handlers as unknown as Record<string, Handler<S>>;
}

/** What every service gets when the server starts it. */
export interface ServiceDeps {
  /** the store kernel (secrets, leases, resources) and the service modules plugged into it */
  stores: Stores;
  clock: Clock;
  logger: Logger;
  /** identifies this node for leases on shared background work */
  nodeId: string;
  /** background sweep interval; 0 disables it (tests drive the work themselves) */
  maintenanceIntervalMs: number;
  /** AWS's quotas, as configured (config options with AWS's defaults) */
  quotas: { sqsInflightLimit: number; snsFilterPoliciesPerTopic: number; kinesisShardLimit: number };
  /** Kinesis behaviour switches: throughput limits, how long status transitions take */
  kinesis: { throttling: boolean; statusDelayMs: number };
  /** extra CA certificates (PEM text) for outgoing HTTPS, besides the system's */
  trustCa?: string;
  /** the SMTP relay for email deliveries, and the sender address */
  smtp?: { url: string; from: string };
  /** background jobs go here (lease-guarded where a cluster must run them once) */
  scheduler: Scheduler;
  /** the account of a long-term access key id (credentials file, a 12-digit id, else the default account) */
  accountOf(accessKeyId: string): string;
  /**
   * Calls another service's operation in-process, as a client would (its handler, its rules, its
   * errors), for deliveries: SNS into SQS, EventBridge into its targets. Never another service's
   * tables. Rejects with the operation's ServiceError.
   */
  call(service: string, operation: string, ctx: RequestContext, input: Record<string, unknown>): Promise<unknown>;
}

/** Temporary credentials a service issued (STS): the pipeline verifies signatures made with them. */
export interface IssuedSession {
  account: string;
  secretAccessKey: string;
  /** epoch ms */
  expiresAt: number;
  arn: string;
  userId: string;
}

/** The errors the platform raises on a service's behalf, in that service's own wording. */
export interface PlatformErrors {
  internalFailure(): ServiceError;
  serviceUnavailable(): ServiceError;
  /** a Query `Action=` this service does not have */
  invalidAction(action: string): ServiceError;
  /**
   * A required top-level member is absent; undefined lets the handler report it its own way.
   * Not asked of services validated the Coral way (their required members fail validation).
   */
  missingParameter?(member: string, wireName: string): ServiceError | undefined;
  /** the input broke the model's constraints (services validated the Coral way): the whole message */
  validation?(message: string): ServiceError;
}

/** A Query request posted to a resource path (SQS queue URLs): may fill in the parameter the path names. */
export interface QueryPathHook {
  (rawPath: string, action: string, params: Map<string, string>, baseUrl: string): void;
}

/** A request to a service's admin route (under /_wharf/ or /_aws/), already authenticated. */
export interface AdminRequest {
  query: URLSearchParams;
  baseUrl: string;
  /** the Accept header, '' when absent */
  accept: string;
  /** the caller's account (from the signature), else --default-account */
  defaultAccount: string;
  defaultRegion: string;
}

/** What an admin route answers: a JSON document, or an operation's output in the service's protocol. */
export type AdminResult =
  | { status: number; json: unknown }
  | { status: number; text: string; contentType: string }
  | { status: number; operation: string; output: unknown; /** JSON, else the Query protocol's XML */ json: boolean };

export interface AdminRoute<S> {
  /** any method when absent */
  method?: 'GET' | 'POST';
  /** matched against the path without a trailing slash; groups go to handle() */
  pattern: RegExp;
  /**
   * Served without SigV4 even with --credentials: URLs Wharf hands to endpoints that fetch them
   * unsigned (SNS's SubscribeURL, UnsubscribeURL, SigningCertURL), authenticated by their token.
   */
  unsigned?: boolean;
  handle(svc: S, req: AdminRequest, match: RegExpExecArray): Promise<AdminResult>;
}

export interface ServiceDefinition<S = unknown> {
  /** the generated model's file name (src/protocol/generated/<model>.json) */
  model: string;
  /** SigV4 signing name: the credential scope's service */
  signingName: string;
  protocols: readonly WireProtocol[];
  /** JSON protocols: the X-Amz-Target prefix */
  targetPrefix?: string;
  operations: Record<string, Handler<S>>;
  errors: PlatformErrors;
  /**
   * 'coral': the pipeline checks every input against the model's constraints before the handler
   * runs and answers `errors.validation()` with AWS's Coral wording (protocol/validate.ts).
   * Absent: only required top-level members are checked (`errors.missingParameter`), the rest is
   * the handlers' (SQS and SNS word their own errors).
   */
  validation?: 'coral';
  queryPath?: QueryPathHook;
  start(deps: ServiceDeps): Promise<S>;
  /** ends waits (long polls) and timers; the store is closed after every service stopped */
  stop(svc: S): void | Promise<void>;
  /** developer routes under /_wharf/ and /_aws/ (behind the same authentication) */
  adminRoutes?: AdminRoute<S>[];
  /** a request signed with temporary credentials: the session behind its access key id and token */
  session?(svc: S, accessKeyId: string, sessionToken: string): IssuedSession | undefined;
  /** after the store was reset (POST /_wharf/reset): drop caches */
  afterReset?(svc: S): void;
}

/** Keeps the instance type of a definition while checking it against the interface. */
export function defineService<S>(d: ServiceDefinition<S>): ServiceDefinition<S> {
  return d;
}
