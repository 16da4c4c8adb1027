/** SNS's list actions: 100 resources a page, by name, the NextToken naming the last one given. */
import type { Resource } from '../../store/resources.js';
import { SnsErrors } from './errors.js';
import type { SnsService } from './service.js';

/** AWS's page size for SNS lists */
export const PAGE = 100;

export interface PageOptions {
  /** names starting with this (a topic's subscriptions, an application's endpoints) */
  prefix?: string;
  /** the client's NextToken */
  token?: string;
  /** what a name this list gives out looks like: a token naming anything else is refused */
  valid: (name: string) => boolean;
  size?: number;
}

/** One page of a kind's resources and the NextToken of the next, or AWS's error for a bad token. */
export async function listPage<D>(
  svc: SnsService,
  kind: string,
  account: string,
  region: string,
  o: PageOptions,
): Promise<{ rows: Resource<D>[]; next?: string }> {
  let after: string | undefined;
  if (o.token !== undefined) {
    after = Buffer.from(o.token, 'base64url').toString('utf8');
    if (!after || !o.valid(after)) throw SnsErrors.invalid('NextToken');
  }
  const size = o.size ?? PAGE;
  const rows = await svc.resources.list<D>(kind, account, region, {
    ...(o.prefix ? { prefix: o.prefix } : {}),
    ...(after ? { after } : {}),
    limit: size + 1,
  });
  const page = rows.slice(0, size);
  return rows.length > size
    ? { rows: page, next: Buffer.from(page[size - 1].name).toString('base64url') }
    : { rows: page };
}
