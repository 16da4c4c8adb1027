/**
 * SNS to HTTP endpoints on loopback, on the injected clock: the confirmation request (signed,
 * confirmed through its SubscribeURL), notifications with AWS's headers and the same message id
 * on every retry, retries exactly on the DeliveryPolicy's schedule, the default policy (3 retries
 * 20 s apart), 4xx counted as delivered, the DLQ after retries run out, and a hanging endpoint
 * that holds back no other subscriber. Both stores.
 */
import { createVerify, X509Certificate } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as sns from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/clock.js';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';
import { snsKit, type SnsKit } from '../helpers/sns.js';

interface Hit {
  at: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, string>;
}

/** An endpoint that answers each request with what `reply` says (a status, or 'hang'). */
class Endpoint {
  readonly hits: Hit[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private readonly server: http.Server;
  private readonly hanging = new Set<http.ServerResponse>();
  reply: (hit: Hit) => number | 'hang' = () => 200;

  constructor(private readonly clock: ManualClock) {
    this.server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        const hit = {
          at: this.clock.now(),
          path: req.url ?? '',
          headers: req.headers,
          body: JSON.parse(b) as Record<string, string>,
        };
        this.hits.push(hit);
        for (const w of this.waiters.filter((x) => this.hits.length >= x.n)) w.resolve();
        const r = this.reply(hit);
        if (r === 'hang') return void this.hanging.add(res);
        res.writeHead(r);
        res.end();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** resolves once `n` requests have arrived */
  until(n: number): Promise<void> {
    if (this.hits.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('SNS delivery to HTTP endpoints', () => {
  let clock: ManualClock;
  let wharf: Wharf;
  let kit: SnsKit;
  let client: sns.SNSClient;
  const endpoints: Endpoint[] = [];

  // a Wharf per test: each test counts the delivery jobs it left
  beforeEach(async () => {
    clock = new ManualClock();
    wharf = await withWharf({ clock });
    wharf.services.sns.fanout.deliveries.jitter = 0;
    kit = snsKit(wharf);
    client = kit.sns;
  });
  afterEach(async () => {
    kit?.destroy();
    await wharf?.stop();
    for (const e of endpoints.splice(0)) await e.close();
  });

  /** delivery jobs not finished (ready, waiting for a retry, or under way) */
  async function pending(): Promise<number> {
    const c = await wharf.stores.jobs.counts('sns.deliver', clock.now());
    return c.ready + c.delayed + c.leased;
  }

  async function endpoint(): Promise<[Endpoint, string]> {
    const e = new Endpoint(clock);
    endpoints.push(e);
    return [e, await e.listen()];
  }

  /** A confirmed HTTP subscription: the endpoint gets the confirmation and visits its SubscribeURL. */
  async function confirmed(TopicArn: string, e: Endpoint, url: string, Attributes?: Record<string, string>) {
    const before = e.hits.length;
    const { SubscriptionArn } = await client.send(
      new sns.SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: url, Attributes, ReturnSubscriptionArn: true }),
    );
    await e.until(before + 1);
    const c = e.hits[before].body;
    expect(c.Type).toBe('SubscriptionConfirmation');
    expect((await fetch(c.SubscribeURL)).status).toBe(200);
    return SubscriptionArn!;
  }

  it('sends a signed confirmation request, then notifications with AWS headers', async () => {
    const [e, url] = await endpoint();
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'hooks' }));
    const SubscriptionArn = await confirmed(TopicArn!, e, `${url}/hook`);
    const c = e.hits[0];
    expect(c.headers).toMatchObject({
      'x-amz-sns-message-type': 'SubscriptionConfirmation',
      'x-amz-sns-topic-arn': TopicArn,
      'user-agent': 'Amazon Simple Notification Service Agent',
    });
    const cert = new X509Certificate(await (await fetch(c.body.SigningCertURL)).text());
    const toSign = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type']
      .map((k) => `${k}\n${c.body[k]}\n`)
      .join('');
    expect(createVerify('RSA-SHA1').update(toSign).verify(cert.publicKey, c.body.Signature, 'base64')).toBe(true);
    const p = await client.send(new sns.PublishCommand({ TopicArn, Message: 'ping', Subject: 'S' }));
    await e.until(2);
    const n = e.hits[1];
    expect(n.path).toBe('/hook');
    expect(n.headers).toMatchObject({
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': p.MessageId,
      'x-amz-sns-topic-arn': TopicArn,
      'x-amz-sns-subscription-arn': SubscriptionArn,
      'content-type': 'text/plain; charset=UTF-8',
    });
    expect(n.body).toMatchObject({ Type: 'Notification', MessageId: p.MessageId, Message: 'ping', Subject: 'S' });
  });

  it('restores an unsubscribed subscription through the SubscribeURL of its UnsubscribeConfirmation, for 48 hours', async () => {
    const [e, url] = await endpoint();
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'restore' }));
    const FilterPolicy = JSON.stringify({ kind: ['greeting'] });
    const arn = await confirmed(TopicArn!, e, url, { FilterPolicy });
    await client.send(new sns.UnsubscribeCommand({ SubscriptionArn: arn }));
    await e.until(2);
    const bye = e.hits[1].body;
    expect(bye).toMatchObject({ Type: 'UnsubscribeConfirmation', TopicArn });
    expect(bye.Message).toBe(
      `You have chosen to deactivate subscription ${arn}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`,
    );
    const listed = async () =>
      (await client.send(new sns.ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions!.map(
        (x) => x.SubscriptionArn,
      );
    expect(await listed()).toEqual([]);
    // the restore brings back the same subscription, attributes and all
    const back = await fetch(bye.SubscribeURL);
    expect(back.status).toBe(200);
    expect(await back.text()).toContain(`<SubscriptionArn>${arn}</SubscriptionArn>`);
    expect(await listed()).toEqual([arn]);
    const attrs = (await client.send(new sns.GetSubscriptionAttributesCommand({ SubscriptionArn: arn }))).Attributes!;
    expect(attrs).toMatchObject({ FilterPolicy, PendingConfirmation: 'false' });
    const MessageAttributes = { kind: { DataType: 'String', StringValue: 'greeting' } };
    await client.send(new sns.PublishCommand({ TopicArn, Message: 'welcome back', MessageAttributes }));
    await e.until(3);
    expect(e.hits[2].body).toMatchObject({ Type: 'Notification', Message: 'welcome back' });
    // a second visit finds the subscription itself: it stays, once
    expect((await fetch(bye.SubscribeURL)).status).toBe(200);
    expect(await listed()).toEqual([arn]);
    // unsubscribed again, and 48 hours go by: the token no longer restores it
    await client.send(new sns.UnsubscribeCommand({ SubscriptionArn: arn }));
    await e.until(4);
    clock.advance(48 * 3600_000 + 1);
    const late = await client
      .send(new sns.ConfirmSubscriptionCommand({ TopicArn, Token: e.hits[3].body.Token }))
      .catch((x: Error) => x);
    expect((late as Error).message).toBe('Invalid parameter: Token');
    expect(await listed()).toEqual([]);
  });

  it('retries on the default policy: 3 more attempts, 20 s apart, with the same message id', async () => {
    const [e, url] = await endpoint();
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'default-policy' }));
    await confirmed(TopicArn!, e, url);
    e.reply = (h) => (h.body.Type === 'Notification' ? 500 : 200);
    const t0 = clock.now();
    const p = await client.send(new sns.PublishCommand({ TopicArn, Message: 'again' }));
    await e.until(2);
    for (let n = 3; n <= 5; n++) {
      // the retry is due 20 s after the last attempt
      const last = e.hits[n - 2].at;
      await expect.poll(() => wharf.stores.jobs.nextDueAt('sns.deliver', clock.now())).toBe(last + 20_000);
      clock.advance(20_000);
      await e.until(n);
    }
    const notes = e.hits.filter((h) => h.body.Type === 'Notification');
    expect(notes.map((h) => h.at - t0)).toEqual([0, 20_000, 40_000, 60_000]);
    expect(new Set(notes.map((h) => h.headers['x-amz-sns-message-id']))).toEqual(new Set([p.MessageId]));
    // exhausted: nothing more, ever
    await expect.poll(() => pending()).toBe(0);
    clock.advance(3_600_000);
    expect(await pending()).toBe(0);
    expect(e.hits.length).toBe(5);
  });

  it("follows a subscription's DeliveryPolicy phase by phase, then dead-letters the copy", async () => {
    const [e, url] = await endpoint();
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'custom-policy' }));
    const dlq = await kit.queue('http-dlq');
    const policy = {
      healthyRetryPolicy: {
        numRetries: 5,
        numNoDelayRetries: 1,
        numMinDelayRetries: 1,
        numMaxDelayRetries: 1,
        minDelayTarget: 2,
        maxDelayTarget: 10,
        backoffFunction: 'linear',
      },
    };
    await confirmed(TopicArn!, e, url, {
      DeliveryPolicy: JSON.stringify(policy),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn }),
    });
    e.reply = (h) => (h.body.Type === 'Notification' ? 503 : 200);
    const t0 = clock.now();
    const p = await client.send(new sns.PublishCommand({ TopicArn, Message: 'doomed' }));
    // immediate, pre-backoff 2 s, backoff 6 then 10 s, post-backoff 10 s
    const gaps = [0, 0, 2_000, 6_000, 10_000, 10_000];
    for (let i = 0; i < gaps.length; i++) {
      if (gaps[i]) clock.advance(gaps[i]);
      await e.until(2 + i);
    }
    const at = e.hits.filter((h) => h.body.Type === 'Notification').map((h) => h.at - t0);
    expect(at).toEqual([0, 0, 2_000, 8_000, 18_000, 28_000]);
    const [dead] = await kit.drain(dlq.url, 1);
    expect(JSON.parse(dead.Body!)).toMatchObject({ Type: 'Notification', MessageId: p.MessageId, Message: 'doomed' });
  });

  it("spaces deliveries by the throttlePolicy's maxReceivesPerSecond", async () => {
    const [e, url] = await endpoint();
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'throttled' }));
    await confirmed(TopicArn!, e, url, {
      DeliveryPolicy: JSON.stringify({ throttlePolicy: { maxReceivesPerSecond: 2 } }),
    });
    const t0 = clock.now();
    await client.send(
      new sns.PublishBatchCommand({
        TopicArn,
        PublishBatchRequestEntries: [0, 1, 2, 3].map((i) => ({ Id: `m${i}`, Message: `n${i}` })),
      }),
    );
    await e.until(2);
    for (let n = 3; n <= 5; n++) {
      await expect.poll(() => wharf.stores.jobs.nextDueAt('sns.deliver', clock.now())).toBe(t0 + (n - 2) * 500);
      clock.advance(500);
      await e.until(n);
    }
    expect(e.hits.slice(1).map((h) => h.at - t0)).toEqual([0, 500, 1000, 1500]);
  });

  it('counts a 4xx answer as delivered', async () => {
    const [e, url] = await endpoint();
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'four-oh-four' }));
    await confirmed(TopicArn!, e, url);
    e.reply = (h) => (h.body.Type === 'Notification' ? 404 : 200);
    await client.send(new sns.PublishCommand({ TopicArn, Message: 'gone' }));
    await e.until(2);
    // once answered, the job is gone: no retry is waiting
    await expect.poll(() => pending()).toBe(0);
    clock.advance(60_000);
    expect(e.hits.length).toBe(2);
  });

  it('lets no hanging endpoint delay another subscriber', async () => {
    const [slow, slowUrl] = await endpoint();
    const [fast, fastUrl] = await endpoint();
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'one-slow' }));
    await confirmed(TopicArn!, slow, slowUrl);
    await confirmed(TopicArn!, fast, fastUrl);
    slow.reply = (h) => (h.body.Type === 'Notification' ? 'hang' : 200);
    for (let i = 0; i < 3; i++) await client.send(new sns.PublishCommand({ TopicArn, Message: `n${i}` }));
    await fast.until(4);
    await slow.until(4);
    expect(
      fast.hits
        .slice(1)
        .map((h) => h.body.Message)
        .sort(),
    ).toEqual(['n0', 'n1', 'n2']);
  });
});
