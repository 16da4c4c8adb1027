/**
 * SNS subscriptions end to end through @aws-sdk/client-sns: Subscribe for every protocol (what
 * confirms at once and what waits), idempotency, AWS's errors for endpoints and attributes,
 * ListSubscriptions(ByTopic) paging, Get/SetSubscriptionAttributes, Unsubscribe, and what
 * DeleteTopic takes with it; then boto3 and the AWS CLI. Both stores.
 */
import * as sns from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';
import { sdkFailure } from '../helpers/sdk.js';
import { awsSns, boto3, snsKit, type SnsKit } from '../helpers/sns.js';

const Q = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

describe('SNS subscriptions', () => {
  let wharf: Wharf;
  let kit: SnsKit;
  let client: sns.SNSClient;
  const topic = async (Name: string, Attributes?: Record<string, string>) =>
    (await client.send(new sns.CreateTopicCommand({ Name, Attributes }))).TopicArn!;

  beforeAll(async () => {
    wharf = await withWharf();
    kit = snsKit(wharf);
    client = kit.sns;
  });
  afterAll(async () => {
    kit?.destroy();
    await wharf?.stop();
  });

  it('confirms sqs, lambda and firehose subscriptions at once; http, https and email wait for the endpoint', async () => {
    const TopicArn = await topic('protocols');
    const sqsSub = await client.send(new sns.SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Q('a') }));
    expect(sqsSub.SubscriptionArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:protocols:[0-9a-f-]{36}$/);
    const lambda = await client.send(
      new sns.SubscribeCommand({
        TopicArn,
        Protocol: 'lambda',
        Endpoint: 'arn:aws:lambda:us-east-1:000000000000:function:f',
      }),
    );
    expect(lambda.SubscriptionArn).toMatch(/:protocols:/);
    const http = await client.send(
      new sns.SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: 'http://127.0.0.1:9/never' }),
    );
    expect(http.SubscriptionArn).toBe('pending confirmation');
    const email = await client.send(
      new sns.SubscribeCommand({
        TopicArn,
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        ReturnSubscriptionArn: true,
      }),
    );
    expect(email.SubscriptionArn).toMatch(/:protocols:[0-9a-f-]{36}$/);
    const attrs = await client.send(
      new sns.GetSubscriptionAttributesCommand({ SubscriptionArn: email.SubscriptionArn }),
    );
    expect(attrs.Attributes).toMatchObject({ PendingConfirmation: 'true', ConfirmationWasAuthenticated: 'false' });
    const list = await client.send(new sns.ListSubscriptionsByTopicCommand({ TopicArn }));
    expect(list.Subscriptions!.map((s) => s.SubscriptionArn).sort()).toEqual(
      [sqsSub.SubscriptionArn, lambda.SubscriptionArn, 'PendingConfirmation', 'PendingConfirmation'].sort(),
    );
    const t = await client.send(new sns.GetTopicAttributesCommand({ TopicArn }));
    expect(t.Attributes).toMatchObject({ SubscriptionsConfirmed: '2', SubscriptionsPending: '2' });
    // the confirmation email waits in the outbox with its SubscribeURL, which confirms it unsigned
    const outbox = (await (await fetch(`${wharf.endpoint}/_wharf/sns/outbox?protocol=email`)).json()) as {
      messages: { Endpoint: string; SubscribeURL: string }[];
    };
    const mail = outbox.messages.find((m) => m.Endpoint === 'ops@example.com')!;
    const r = await fetch(mail.SubscribeURL);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain(`<SubscriptionArn>${email.SubscriptionArn}</SubscriptionArn>`);
    const after = await client.send(
      new sns.GetSubscriptionAttributesCommand({ SubscriptionArn: email.SubscriptionArn }),
    );
    expect(after.Attributes).toMatchObject({ PendingConfirmation: 'false' });
  });

  it('subscribes idempotently, and refuses the same endpoint with other attributes', async () => {
    const TopicArn = await topic('idem');
    const a = await client.send(
      new sns.SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: Q('idem'),
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    const b = await client.send(
      new sns.SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: Q('idem'),
        Attributes: { RawMessageDelivery: 'TRUE' },
      }),
    );
    expect(b.SubscriptionArn).toBe(a.SubscriptionArn);
    expect(
      await sdkFailure(
        client.send(
          new sns.SubscribeCommand({
            TopicArn,
            Protocol: 'sqs',
            Endpoint: Q('idem'),
            Attributes: { FilterPolicy: '{"a":["b"]}' },
          }),
        ),
      ),
    ).toEqual({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: Attributes Reason: Subscription already exists with different attributes',
      status: 400,
    });
  });

  it('answers AWS errors for bad protocols, endpoints and attributes', async () => {
    const TopicArn = await topic('errors');
    const fifo = await topic('errors.fifo', { FifoTopic: 'true' });
    const fails = async (input: sns.SubscribeCommandInput) => sdkFailure(client.send(new sns.SubscribeCommand(input)));
    expect(await fails({ TopicArn, Protocol: 'ftp', Endpoint: 'x' })).toEqual({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: Amazon SNS does not support this protocol string: ftp',
      status: 400,
    });
    expect((await fails({ TopicArn, Protocol: 'sqs', Endpoint: 'my-queue' })).message).toBe(
      'Invalid parameter: SQS endpoint ARN',
    );
    expect((await fails({ TopicArn, Protocol: 'http', Endpoint: 'https://x.example/' })).message).toBe(
      'Invalid parameter: Endpoint must match the specified protocol',
    );
    expect((await fails({ TopicArn, Protocol: 'sms', Endpoint: 'call me' })).message).toBe(
      'Invalid SMS endpoint: call me',
    );
    expect((await fails({ TopicArn, Protocol: 'sqs', Endpoint: Q('q.fifo') })).message).toBe(
      'Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics',
    );
    expect((await fails({ TopicArn: fifo, Protocol: 'http', Endpoint: 'http://x.example/' })).message).toMatch(
      /^Invalid parameter: Invalid parameter: Endpoint Reason: FIFO topics do not support http/,
    );
    const attr = async (Attributes: Record<string, string>, Protocol = 'sqs', Endpoint = Q('e')) =>
      (await fails({ TopicArn, Protocol, Endpoint, Attributes })).message;
    expect(await attr({ Colour: 'x' })).toBe('Invalid parameter: Attributes Reason: AttributeName');
    expect(await attr({ RawMessageDelivery: 'yes' })).toBe(
      'Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [yes]. Must be true or false.',
    );
    expect(
      await attr({ RawMessageDelivery: 'true' }, 'lambda', 'arn:aws:lambda:us-east-1:000000000000:function:f'),
    ).toBe('Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery.');
    expect(await attr({ FilterPolicy: '{nope' })).toBe(
      'Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON.',
    );
    expect(await attr({ FilterPolicy: '{"a":{"b":["c"]}}' })).toBe(
      'Invalid parameter: Attributes Reason: FilterPolicy: Filter policy scope MessageAttributes does not support nested filter policy',
    );
    expect(await attr({ FilterPolicyScope: 'Body' })).toBe(
      'Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [Body]. Please use either MessageBody or MessageAttributes',
    );
    expect(await attr({ RedrivePolicy: '{"deadLetterTargetArn":"nope"}' })).toBe(
      'Invalid parameter: Attributes Reason: RedrivePolicy: deadLetterTargetArn is an invalid arn',
    );
    expect(
      (await fails({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:absent', Protocol: 'sqs', Endpoint: Q('a') })).name,
    ).toBe('NotFoundException');
  });

  it('gets and sets subscription attributes with AWS defaults and wording', async () => {
    const TopicArn = await topic('attrs');
    const { SubscriptionArn } = await client.send(
      new sns.SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Q('attrs') }),
    );
    const get = async () =>
      (await client.send(new sns.GetSubscriptionAttributesCommand({ SubscriptionArn }))).Attributes!;
    expect(await get()).toEqual({
      Owner: '000000000000',
      RawMessageDelivery: 'false',
      TopicArn,
      Endpoint: Q('attrs'),
      Protocol: 'sqs',
      PendingConfirmation: 'false',
      ConfirmationWasAuthenticated: 'true',
      SubscriptionArn,
      SubscriptionPrincipal: 'arn:aws:iam::000000000000:root',
    });
    const set = (AttributeName: string, AttributeValue: string) =>
      client.send(new sns.SetSubscriptionAttributesCommand({ SubscriptionArn, AttributeName, AttributeValue }));
    await set('RawMessageDelivery', 'True');
    await set('FilterPolicy', '{"kind":["order"]}');
    expect(await get()).toMatchObject({
      RawMessageDelivery: 'true',
      FilterPolicy: '{"kind":["order"]}',
      FilterPolicyScope: 'MessageAttributes',
    });
    // a nested policy needs the body scope
    expect((await sdkFailure(set('FilterPolicy', '{"a":{"b":["c"]}}'))).message).toBe(
      'Invalid parameter: FilterPolicy: Filter policy scope MessageAttributes does not support nested filter policy',
    );
    await set('FilterPolicyScope', 'MessageBody');
    await set('FilterPolicy', '{"a":{"b":["c"]}}');
    expect(await get()).toMatchObject({ FilterPolicyScope: 'MessageBody', FilterPolicy: '{"a":{"b":["c"]}}' });
    expect((await sdkFailure(set('Colour', 'x'))).message).toBe('Invalid parameter: AttributeName');
    expect((await sdkFailure(set('DeliveryPolicy', '{"healthyRetryPolicy":{"numRetries":101}}'))).message).toBe(
      'Invalid parameter: DeliveryPolicy: numRetries must be an integer from 0 to 100',
    );
    expect(
      await sdkFailure(
        client.send(
          new sns.GetSubscriptionAttributesCommand({
            SubscriptionArn: `${TopicArn}:00000000-0000-0000-0000-000000000000`,
          }),
        ),
      ),
    ).toEqual({ name: 'NotFoundException', message: 'Subscription does not exist', status: 404 });
  });

  it('reports an HTTP subscription its effective delivery policy', async () => {
    const TopicArn = await topic('effective');
    await client.send(
      new sns.SetTopicAttributesCommand({
        TopicArn,
        AttributeName: 'DeliveryPolicy',
        AttributeValue: JSON.stringify({
          http: { defaultHealthyRetryPolicy: { numRetries: 7, minDelayTarget: 5, maxDelayTarget: 30 } },
        }),
      }),
    );
    const { SubscriptionArn } = await client.send(
      new sns.SubscribeCommand({
        TopicArn,
        Protocol: 'http',
        Endpoint: 'http://127.0.0.1:9/x',
        ReturnSubscriptionArn: true,
      }),
    );
    const a = (await client.send(new sns.GetSubscriptionAttributesCommand({ SubscriptionArn }))).Attributes!;
    expect(JSON.parse(a.EffectiveDeliveryPolicy!).healthyRetryPolicy).toMatchObject({
      numRetries: 7,
      minDelayTarget: 5,
      maxDelayTarget: 30,
      backoffFunction: 'linear',
    });
  });

  it('unsubscribes (twice is fine) and words malformed ARNs as AWS does', async () => {
    const TopicArn = await topic('unsub');
    const { SubscriptionArn } = await client.send(
      new sns.SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Q('unsub') }),
    );
    await client.send(new sns.UnsubscribeCommand({ SubscriptionArn }));
    await client.send(new sns.UnsubscribeCommand({ SubscriptionArn }));
    expect((await client.send(new sns.ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions).toEqual([]);
    expect(await sdkFailure(client.send(new sns.UnsubscribeCommand({ SubscriptionArn: 'a:b:c' })))).toEqual({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 3',
      status: 400,
    });
    expect((await sdkFailure(client.send(new sns.UnsubscribeCommand({ SubscriptionArn: TopicArn })))).message).toBe(
      'Invalid parameter: SubscriptionId',
    );
  });

  it('lists subscriptions 100 a page, and DeleteTopic takes its subscriptions with it', async () => {
    const TopicArn = await topic('many');
    for (let i = 0; i < 120; i++)
      await client.send(new sns.SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Q(`many-${i}`) }));
    const seen: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const r = await client.send(new sns.ListSubscriptionsByTopicCommand({ TopicArn, NextToken }));
      seen.push(...r.Subscriptions!.map((s) => s.Endpoint!));
      NextToken = r.NextToken;
      pages++;
    } while (NextToken);
    expect(pages).toBe(2);
    expect(new Set(seen).size).toBe(120);
    const all = await client.send(new sns.ListSubscriptionsCommand({}));
    expect(all.Subscriptions!.length).toBe(100);
    expect(all.NextToken).toBeDefined();
    await client.send(new sns.DeleteTopicCommand({ TopicArn }));
    let left = 0;
    NextToken = undefined;
    do {
      const r: sns.ListSubscriptionsCommandOutput = await client.send(new sns.ListSubscriptionsCommand({ NextToken }));
      left += r.Subscriptions!.filter((s) => s.TopicArn === TopicArn).length;
      NextToken = r.NextToken;
    } while (NextToken);
    expect(left).toBe(0);
    expect((await sdkFailure(client.send(new sns.ListSubscriptionsCommand({ NextToken: 'zz' })))).message).toBe(
      'Invalid parameter: NextToken',
    );
  });

  it('confirms with ConfirmSubscription and refuses a wrong token', async () => {
    const TopicArn = await topic('confirm');
    await client.send(new sns.SubscribeCommand({ TopicArn, Protocol: 'email-json', Endpoint: 'a@example.com' }));
    const outbox = (await (await fetch(`${wharf.endpoint}/_wharf/sns/outbox?protocol=email-json`)).json()) as {
      messages: { TopicArn: string; Token: string }[];
    };
    const { Token } = outbox.messages.find((m) => m.TopicArn === TopicArn)!;
    const r = await client.send(new sns.ConfirmSubscriptionCommand({ TopicArn, Token }));
    expect(r.SubscriptionArn).toMatch(/:confirm:[0-9a-f-]{36}$/);
    expect(
      (await sdkFailure(client.send(new sns.ConfirmSubscriptionCommand({ TopicArn, Token: 'nope' })))).message,
    ).toBe('Invalid parameter: Token');
  });

  it('speaks to boto3 and the AWS CLI', async () => {
    const py = await boto3(
      `import boto3,json
c=boto3.client('sns',endpoint_url='${wharf.endpoint}')
t=c.create_topic(Name='boto-subs')['TopicArn']
s=c.subscribe(TopicArn=t,Protocol='sqs',Endpoint='${Q('boto')}',Attributes={'RawMessageDelivery':'true'},ReturnSubscriptionArn=True)['SubscriptionArn']
c.set_subscription_attributes(SubscriptionArn=s,AttributeName='FilterPolicy',AttributeValue='{"x":["y"]}')
a=c.get_subscription_attributes(SubscriptionArn=s)['Attributes']
l=c.list_subscriptions_by_topic(TopicArn=t)['Subscriptions']
m=c.list_subscriptions()['Subscriptions']
c.unsubscribe(SubscriptionArn=s)
print(json.dumps([s,a['RawMessageDelivery'],a['FilterPolicy'],len(l),s in [x['SubscriptionArn'] for x in m],len(c.list_subscriptions_by_topic(TopicArn=t)['Subscriptions'])]))`,
    );
    expect(py.stderr).toBe('');
    const [arn, raw, policy, n, listed, left] = JSON.parse(py.stdout);
    expect(arn).toMatch(/:boto-subs:/);
    expect([raw, policy, n, listed, left]).toEqual(['true', '{"x":["y"]}', 1, true, 0]);
    const cli = (...args: string[]) => awsSns(wharf.endpoint, ...args);
    const t = (await cli('create-topic', '--name', 'cli-subs')).TopicArn;
    const sub = (await cli('subscribe', '--topic-arn', t, '--protocol', 'sqs', '--notification-endpoint', Q('cli')))
      .SubscriptionArn;
    await cli(
      'set-subscription-attributes',
      '--subscription-arn',
      sub,
      '--attribute-name',
      'RawMessageDelivery',
      '--attribute-value',
      'true',
    );
    expect((await cli('get-subscription-attributes', '--subscription-arn', sub)).Attributes.RawMessageDelivery).toBe(
      'true',
    );
    expect((await cli('list-subscriptions-by-topic', '--topic-arn', t)).Subscriptions).toHaveLength(1);
    expect(
      (await cli('list-subscriptions')).Subscriptions.map((s: { SubscriptionArn: string }) => s.SubscriptionArn),
    ).toContain(sub);
    await cli('unsubscribe', '--subscription-arn', sub);
    expect((await cli('list-subscriptions-by-topic', '--topic-arn', t)).Subscriptions).toHaveLength(0);
  });
});
