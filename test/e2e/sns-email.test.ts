/**
 * SNS email through an SMTP relay (--smtp), against a local sink (npm's smtp-server): the
 * confirmation email with its SubscribeURL, notifications as text (email) and as the signed JSON
 * envelope (email-json), and a recipient the relay refuses for good, which is not retried.
 */
import * as sns from '@aws-sdk/client-sns';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';
import { snsClient } from '../helpers/sns.js';

interface Received {
  to: string[];
  raw: string;
}

/** the decoded text of a received mail: headers unfolded, quoted-printable soft breaks joined */
const bodyOf = (raw: string) =>
  raw
    .slice(raw.indexOf('\r\n\r\n') + 4)
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
const header = (raw: string, name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(raw)?.[1];

describe('SNS email through SMTP', () => {
  let wharf: Wharf;
  let client: sns.SNSClient;
  let smtp: SMTPServer;
  const mails: Received[] = [];
  const waiters: (() => void)[] = [];
  const until = async (n: number) => {
    while (mails.length < n) await new Promise<void>((r) => waiters.push(r));
  };

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(addr, _s, cb) {
        if (addr.address.startsWith('refused@'))
          return cb(Object.assign(new Error('no such user'), { responseCode: 550 }));
        cb();
      },
      onData(stream, session, cb) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString()));
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
          for (const w of waiters.splice(0)) w();
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const port = (smtp.server.address() as AddressInfo).port;
    wharf = await withWharf({ smtp: `smtp://127.0.0.1:${port}`, smtpFrom: 'sns@wharf.test' });
    client = snsClient(wharf.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await wharf?.stop();
    await new Promise<void>((r) => smtp?.close(() => r()));
  });

  it('mails the confirmation, then notifications as text and as JSON', async () => {
    const { TopicArn } = await client.send(
      new sns.CreateTopicCommand({ Name: 'mail', Attributes: { DisplayName: 'Wharf alerts' } }),
    );
    await client.send(new sns.SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'ops@example.com' }));
    await until(1);
    const confirm = mails[0];
    expect(confirm.to).toEqual(['ops@example.com']);
    expect(header(confirm.raw, 'Subject')).toBe('AWS Notification - Subscription Confirmation');
    const url = /(http:\/\/\S+\/_wharf\/sns\/confirm\?\S+)/.exec(bodyOf(confirm.raw))![1];
    expect((await fetch(url)).status).toBe(200);

    await client.send(new sns.SubscribeCommand({ TopicArn, Protocol: 'email-json', Endpoint: 'robot@example.com' }));
    await until(2);
    const jsonConfirm = JSON.parse(bodyOf(mails[1].raw)) as { Type: string; SubscribeURL: string };
    expect(jsonConfirm.Type).toBe('SubscriptionConfirmation');
    expect((await fetch(jsonConfirm.SubscribeURL)).status).toBe(200);

    const p = await client.send(new sns.PublishCommand({ TopicArn, Message: 'disk full', Subject: 'Alarm' }));
    await until(4);
    const text = mails.find((m) => m.to[0] === 'ops@example.com' && header(m.raw, 'Subject') === 'Alarm')!;
    expect(header(text.raw, 'From')).toMatch(/^"?Wharf alerts"? <sns@wharf.test>$/);
    expect(bodyOf(text.raw)).toMatch(/^disk full\r?\n/);
    expect(bodyOf(text.raw)).toContain('/_wharf/sns/unsubscribe?SubscriptionArn=');
    const json = mails.find((m) => m.to[0] === 'robot@example.com' && header(m.raw, 'Subject') === 'Alarm')!;
    expect(JSON.parse(bodyOf(json.raw))).toMatchObject({
      Type: 'Notification',
      MessageId: p.MessageId,
      Message: 'disk full',
    });
  });

  it('does not retry a recipient the relay refuses for good', async () => {
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'refused' }));
    await client.send(new sns.SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'refused@example.com' }));
    await expect
      .poll(async () => {
        const c = await wharf.stores.jobs.counts('sns.deliver', wharf.services.sns.clock.now());
        return c.ready + c.delayed + c.leased;
      })
      .toBe(0);
    expect(mails.some((m) => m.to.includes('refused@example.com'))).toBe(false);
  });
});
