/**
 * A client-facing AWS error. `type` is the modelled shape name (JSON `__type`), `code` the
 * legacy Query code (`AWS.SimpleQueueService.NonExistentQueue`), `status` the HTTP status.
 * Services throw these; the protocol layer renders them per wire protocol.
 */
export class ServiceError extends Error {
  readonly type: string;
  readonly code: string;
  readonly status: number;
  readonly fault: 'client' | 'server';
  /** Extra headers or fields a protocol may need (e.g. Retry-After). */
  readonly extra?: Record<string, string>;
  /** AWS words a few errors differently on the Query protocol. */
  readonly queryMessage?: string;
  /** JSON `__type` namespace when the error is not in the service model. */
  readonly namespace?: string;
  constructor(
    type: string,
    message: string,
    opts: {
      code?: string;
      status?: number;
      fault?: 'client' | 'server';
      extra?: Record<string, string>;
      queryMessage?: string;
      namespace?: string;
    } = {},
  ) {
    super(message);
    this.name = 'ServiceError';
    this.type = type;
    this.code = opts.code ?? type;
    this.status = opts.status ?? 400;
    this.fault = opts.fault ?? (this.status >= 500 ? 'server' : 'client');
    if (opts.extra) this.extra = opts.extra;
    if (opts.queryMessage) this.queryMessage = opts.queryMessage;
    if (opts.namespace) this.namespace = opts.namespace;
  }
}

/** An operator-facing error (bad option, busy port); never sent to AWS clients. */
export class AppError extends Error {
  readonly code: string;
  constructor(code: `ERR_${string}`, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
  }
}
