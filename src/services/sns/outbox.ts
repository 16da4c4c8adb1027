/**
 * The outbox: what SNS keeps instead of sending (SMS, mobile push, email without --smtp, and
 * lambda and firehose deliveries until those services land), readable at GET /_wharf/sns/outbox.
 * Entries are resources (`sns.outbox`) named `<protocol>/<time>-<id>`, so a listing is in order.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceStore } from '../../store/resources.js';
import type { Clock } from '../../kernel/clock.js';
import { isoTime } from './envelope.js';

export const OUTBOX = 'sns.outbox';

/** E.164 phone numbers, as SNS takes them (the + may be left out) */
export const E164 = /^\+?[1-9]\d{1,14}$/;

export async function toOutbox(
  svc: { resources: ResourceStore; clock: Clock },
  account: string,
  region: string,
  protocol: string,
  doc: Record<string, unknown>,
): Promise<void> {
  const now = svc.clock.now();
  const name = `${protocol}/${String(now).padStart(15, '0')}-${randomUUID()}`;
  await svc.resources.put({ kind: OUTBOX, account, region, name }, { ...doc, Timestamp: isoTime(now) }, { now });
}
