/**
 * The JSON documents SNS delivers (Notification, SubscriptionConfirmation,
 * UnsubscribeConfirmation) in AWS's field order and layout, and the text of each protocol's copy.
 */
import type { Attr, Published, PublishRecord } from './messages.js';

export interface Signed {
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
}

/** The message a protocol gets: MessageStructure=json picks its own entry, else `default`. */
export function textFor(m: Published, protocol: string): string {
  return m.perProtocol ? (m.perProtocol[protocol] ?? m.perProtocol.default) : m.body;
}

export const isoTime = (ms: number) => new Date(ms).toISOString();

/** AWS lays the envelope out as `{\n  "Key" : value,\n ...}` with attributes one per line. */
function layout(fields: [string, unknown][]): string {
  const lines = fields.map(([k, v]) => {
    if (k === 'MessageAttributes') {
      const attrs = Object.entries(v as Record<string, Attr>).map(
        ([n, a]) => `    ${JSON.stringify(n)} : ${JSON.stringify({ Type: a.Type, Value: a.Value })}`,
      );
      return `  "MessageAttributes" : {\n${attrs.join(',\n')}\n  }`;
    }
    return `  ${JSON.stringify(k)} : ${JSON.stringify(v)}`;
  });
  return `{\n${lines.join(',\n')}\n}`;
}

/** Where an endpoint unsubscribes without signing: Wharf's admin route, authenticated by the token. */
export const unsubscribeUrl = (base: string, subscriptionArn: string, token: string) =>
  `${base}/_wharf/sns/unsubscribe?SubscriptionArn=${encodeURIComponent(subscriptionArn)}&Token=${token}`;

/** Where an endpoint confirms without signing (the SubscribeURL). */
export const subscribeUrl = (base: string, topicArn: string, token: string) =>
  `${base}/_wharf/sns/confirm?TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`;

/**
 * The Notification envelope in two parts around the one field that differs per subscription
 * (the UnsubscribeURL), so that a message fanned out to many subscribers is laid out once.
 */
export interface EnvelopeParts {
  head: string;
  tail: string;
}

export function notificationParts(
  rec: PublishRecord,
  m: Published,
  protocol: string,
  signed: Signed | undefined,
  replayed = false,
): EnvelopeParts {
  const fields: [string, unknown][] = [
    ['Type', 'Notification'],
    ['MessageId', m.id],
  ];
  if (m.seq !== undefined) fields.push(['SequenceNumber', m.seq]);
  fields.push(['TopicArn', rec.topic]);
  if (m.subject !== undefined) fields.push(['Subject', m.subject]);
  fields.push(['Message', textFor(m, protocol)], ['Timestamp', isoTime(rec.ts)]);
  if (signed)
    fields.push(
      ['SignatureVersion', signed.SignatureVersion],
      ['Signature', signed.Signature],
      ['SigningCertURL', signed.SigningCertURL],
    );
  // a copy a replay delivers (archive.ts) says so
  if (replayed) fields.push(['Replayed', true]);
  const head = layout(fields);
  const tail = m.attrs ? `,\n${layout([['MessageAttributes', m.attrs]]).slice(2, -2)}\n}` : '\n}';
  return { head: `${head.slice(0, -2)},\n  "UnsubscribeURL" : `, tail };
}

/** The Notification envelope one subscription gets. */
export function notification(
  parts: EnvelopeParts,
  base: string,
  subscriptionArn: string,
  unsubscribeToken: string,
): string {
  return parts.head + JSON.stringify(unsubscribeUrl(base, subscriptionArn, unsubscribeToken)) + parts.tail;
}

/** The string AWS signs for a Notification: `Name\nValue\n` for each field, in byte order. */
export function notificationStringToSign(rec: PublishRecord, m: Published, protocol: string): string {
  let s = `Message\n${textFor(m, protocol)}\nMessageId\n${m.id}\n`;
  if (m.subject !== undefined) s += `Subject\n${m.subject}\n`;
  return `${s}Timestamp\n${isoTime(rec.ts)}\nTopicArn\n${rec.topic}\nType\nNotification\n`;
}

/** A SubscriptionConfirmation or UnsubscribeConfirmation to an HTTP/S endpoint. */
export interface Confirmation {
  type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  id: string;
  token: string;
  topic: string;
  message: string;
  subscribeUrl: string;
  ts: number;
}

export function confirmationStringToSign(c: Confirmation): string {
  return (
    `Message\n${c.message}\nMessageId\n${c.id}\nSubscribeURL\n${c.subscribeUrl}\n` +
    `Timestamp\n${isoTime(c.ts)}\nToken\n${c.token}\nTopicArn\n${c.topic}\nType\n${c.type}\n`
  );
}

export function confirmation(c: Confirmation, signed: Signed): string {
  return layout([
    ['Type', c.type],
    ['MessageId', c.id],
    ['Token', c.token],
    ['TopicArn', c.topic],
    ['Message', c.message],
    ['SubscribeURL', c.subscribeUrl],
    ['Timestamp', isoTime(c.ts)],
    ['SignatureVersion', signed.SignatureVersion],
    ['Signature', signed.Signature],
    ['SigningCertURL', signed.SigningCertURL],
  ]);
}
