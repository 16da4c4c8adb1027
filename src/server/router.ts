/**
 * Which service and operation a request is for, from what is on the wire, naming no service:
 * - an `X-Amz-Target: <prefix>.<Operation>` header: the service with that target prefix;
 * - otherwise AWS Query (`Action=` in the body or the query string): the service the SigV4
 *   credential scope names (SNS and SQS both have AddPermission on `POST /`), and for unsigned
 *   requests the only service that has the action (the first registered when several have it);
 * - rest-json services by the model's method and path templates (protocol/rest.ts): the first
 *   service whose binding matches (Lambda arrives with issue 9).
 * What no service serves gets a 400 that names what was asked for and lists what is served.
 */
import type { WireProtocol } from '../kernel/wire.js';
import type { ServiceModel } from '../protocol/model.js';
import type { ErrorDialect } from '../protocol/errors.js';
import type { ServiceDefinition } from '../services/definition.js';
import { ServiceError } from '../kernel/errors.js';
import { matchRest, type RestMatch } from '../protocol/rest.js';

export interface Mounted {
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry pairs a definition with its own instance
  def: ServiceDefinition<any>;
  svc: unknown;
  model: ServiceModel;
  dialect: ErrorDialect;
  /** the JSON protocol version its X-Amz-Target requests speak */
  json?: Extract<WireProtocol, 'json1.0' | 'json1.1'>;
}

const CORAL = 'com.amazon.coral.service';
/** Errors raised before a service is known are rendered in this neutral dialect. */
export const NEUTRAL: ErrorDialect = { namespace: CORAL };
const SCOPE = /Credential=[^/,\s]+\/\d{8}\/[^/,\s]*\/([^/,\s]+)\//;

export function createRouter(mounted: Mounted[]) {
  const byPrefix = new Map<string, Mounted>();
  const bySigningName = new Map<string, Mounted>();
  const query: Mounted[] = [];
  const rest: Mounted[] = [];
  for (const m of mounted) {
    if (m.def.protocols.includes('rest-json')) rest.push(m);
    if (m.def.targetPrefix && m.json) byPrefix.set(m.def.targetPrefix, m);
    if (m.def.protocols.includes('query')) {
      query.push(m);
      bySigningName.set(m.def.signingName, m);
    }
  }
  const served = () =>
    mounted.map((m) => (m.def.targetPrefix ? `${m.name} (X-Amz-Target ${m.def.targetPrefix})` : m.name)).join(', ');
  const has = (m: Mounted, op: string) => Object.hasOwn(m.def.operations, op);

  return {
    /** whose dialect a Query request's errors take before its service is known */
    defaultQuery: query[0],

    /** the service an X-Amz-Target header addresses, if Wharf serves it */
    byTarget(target: string): Mounted | undefined {
      const dot = target.indexOf('.');
      return byPrefix.get(dot < 0 ? target : target.slice(0, dot));
    },

    /** `<prefix>.<Operation>` → the service and the operation, or UnknownOperationException */
    json(target: string): { to: Mounted; operation: string } {
      const dot = target.indexOf('.');
      const to = this.byTarget(target);
      const operation = dot < 0 ? '' : target.slice(dot + 1);
      if (!to) {
        throw new ServiceError(
          'UnknownOperationException',
          `Wharf does not serve X-Amz-Target ${target}; it serves ${served()}.`,
          { namespace: CORAL },
        );
      }
      // own properties only: 'toString', 'constructor' or '__proto__' are not operations
      if (!has(to, operation)) throw new ServiceError('UnknownOperationException', '', { namespace: CORAL });
      return { to, operation };
    },

    /**
     * An AWS Query action → its service. `scope` is the signing name from the Authorization
     * header or X-Amz-Credential, when the request is signed. An action the service lacks comes
     * back as that service's error, to be rendered in its dialect.
     */
    query(action: string, scope: string | undefined): { to: Mounted; error?: ServiceError } {
      if (scope !== undefined) {
        const to = bySigningName.get(scope);
        if (!to) {
          throw new ServiceError(
            'InvalidAction',
            `Wharf does not serve ${scope} (asked for Action=${action}); it serves ${served()}.`,
            { namespace: CORAL },
          );
        }
        return has(to, action) ? { to } : { to, error: to.def.errors.invalidAction(action) };
      }
      const to = query.find((m) => has(m, action));
      if (to) return { to };
      // an action of a served service's API that Wharf does not implement: that service says so
      const owner = query.find((m) => Object.hasOwn(m.model.operations, action)) ?? query[0];
      return { to: owner, error: owner.def.errors.invalidAction(action) };
    },

    /** whether any served service speaks rest-json (else no request is routed by its path) */
    servesRest: rest.length > 0,

    /**
     * A rest-json request → the service and operation its method and path bind to, with the URI
     * labels; undefined when no served binding matches.
     */
    rest(method: string, rawPath: string, query: URLSearchParams): (RestMatch & { to: Mounted }) | undefined {
      for (const to of rest) {
        const m = matchRest(to.model, method, rawPath, query);
        if (m && has(to, m.operation)) return { to, ...m };
      }
      return undefined;
    },

    /** the signing name in the credential scope of a signed request (header or presigned form) */
    scope(authorization: string | undefined, params: Map<string, string>): string | undefined {
      const m = SCOPE.exec(authorization ?? '');
      if (m) return m[1];
      const cred = params.get('X-Amz-Credential');
      return cred?.split('/')[3];
    },
  };
}

export type Router = ReturnType<typeof createRouter>;
