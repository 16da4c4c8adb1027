/**
 * SNS topics end to end through @aws-sdk/client-sns (AWS Query): CreateTopic (standard and FIFO,
 * idempotent, AWS's errors), GetTopicAttributes with AWS's defaults, ListTopics paging,
 * DeleteTopic; on the embedded store and, with WHARF_TEST_STORE=postgres, on PostgreSQL.
 */
import * as sns from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';
import { awsSns, boto3, snsClient } from '../helpers/sns.js';
import { sdkFailure } from '../helpers/sdk.js';

describe('SNS topics', () => {
  let wharf: Wharf;
  let client: sns.SNSClient;
  beforeAll(async () => {
    wharf = await withWharf();
    client = snsClient(wharf.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await wharf?.stop();
  });

  it('creates a topic, idempotently, and reports AWS default attributes', async () => {
    const a = await client.send(new sns.CreateTopicCommand({ Name: 'orders', Attributes: { DisplayName: 'Orders' } }));
    expect(a.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:orders');
    const again = await client.send(
      new sns.CreateTopicCommand({ Name: 'orders', Attributes: { DisplayName: 'Orders' } }),
    );
    expect(again.TopicArn).toBe(a.TopicArn);
    const { Attributes } = await client.send(new sns.GetTopicAttributesCommand({ TopicArn: a.TopicArn }));
    expect(Attributes).toMatchObject({
      TopicArn: a.TopicArn,
      Owner: '000000000000',
      DisplayName: 'Orders',
      SubscriptionsConfirmed: '0',
      SubscriptionsPending: '0',
      SubscriptionsDeleted: '0',
    });
    expect(JSON.parse(Attributes!.EffectiveDeliveryPolicy!).http.defaultHealthyRetryPolicy).toMatchObject({
      numRetries: 3,
      minDelayTarget: 20,
      maxDelayTarget: 20,
      backoffFunction: 'linear',
    });
    const policy = JSON.parse(Attributes!.Policy!);
    expect(policy.Statement[0].Resource).toBe(a.TopicArn);
    expect(policy.Statement[0].Condition.StringEquals['AWS:SourceOwner']).toBe('000000000000');
    expect(Attributes!.FifoTopic).toBeUndefined();
  });

  it('refuses the same name with other attributes or tags', async () => {
    await client.send(new sns.CreateTopicCommand({ Name: 'same', Tags: [{ Key: 'team', Value: 'a' }] }));
    expect(
      await sdkFailure(client.send(new sns.CreateTopicCommand({ Name: 'same', Attributes: { DisplayName: 'x' } }))),
    ).toEqual({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
      status: 400,
    });
    expect(
      await sdkFailure(client.send(new sns.CreateTopicCommand({ Name: 'same', Tags: [{ Key: 'team', Value: 'b' }] }))),
    ).toMatchObject({ message: 'Invalid parameter: Tags Reason: Topic already exists with different tags' });
  });

  it('creates FIFO topics only with the .fifo suffix, and standard ones only without', async () => {
    const f = await client.send(
      new sns.CreateTopicCommand({
        Name: 'ledger.fifo',
        Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'true' },
      }),
    );
    const { Attributes } = await client.send(new sns.GetTopicAttributesCommand({ TopicArn: f.TopicArn }));
    expect(Attributes).toMatchObject({ FifoTopic: 'true', ContentBasedDeduplication: 'true' });
    expect(
      await sdkFailure(client.send(new sns.CreateTopicCommand({ Name: 'ledger', Attributes: { FifoTopic: 'true' } }))),
    ).toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/^Invalid parameter: Fifo Topic names must end with \.fifo/),
    });
    for (const Name of ['has.fifo', 'bad name', 'x'.repeat(257)]) {
      expect(await sdkFailure(client.send(new sns.CreateTopicCommand({ Name })))).toEqual({
        name: 'InvalidParameterException',
        message: 'Invalid parameter: Topic Name',
        status: 400,
      });
    }
    expect(
      await sdkFailure(client.send(new sns.CreateTopicCommand({ Name: 'a', Attributes: { Colour: 'blue' } }))),
    ).toMatchObject({ message: 'Invalid parameter: AttributeName' });
  });

  it('answers NotFound for a topic that does not exist, and InvalidParameter for a bad ARN', async () => {
    expect(
      await sdkFailure(
        client.send(new sns.GetTopicAttributesCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:nope' })),
      ),
    ).toEqual({ name: 'NotFoundException', message: 'Topic does not exist', status: 404 });
    expect(await sdkFailure(client.send(new sns.GetTopicAttributesCommand({ TopicArn: 'nope' })))).toEqual({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: TopicArn',
      status: 400,
    });
  });

  it('words a missing parameter and an unknown action as SNS does, in its XML', async () => {
    const post = (body: string) =>
      fetch(wharf.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    const r = await post('Action=GetTopicAttributes&Version=2010-03-31');
    expect(r.status).toBe(400);
    const xml = await r.text();
    expect(xml).toContain('<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">');
    expect(xml).toContain('<Code>InvalidParameter</Code>');
    expect(xml).toContain('<Message>Invalid parameter: TopicArn Reason: no value for required parameter</Message>');
    const u = await post('Action=NoSuchAction&Version=2010-03-31');
    expect(await u.text()).toContain('<Code>InvalidAction</Code>');
  });

  it('lists topics 100 a page and deletes them (deleting twice is fine)', async () => {
    const names = Array.from({ length: 130 }, (_, i) => `page-${String(i).padStart(3, '0')}`);
    for (const Name of names) await client.send(new sns.CreateTopicCommand({ Name }));
    const seen: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const r = await client.send(new sns.ListTopicsCommand({ NextToken }));
      pages++;
      expect(r.Topics!.length).toBeLessThanOrEqual(100);
      seen.push(...r.Topics!.map((t) => t.TopicArn!));
      NextToken = r.NextToken;
    } while (NextToken);
    expect(pages).toBe(2);
    for (const n of names) expect(seen).toContain(`arn:aws:sns:us-east-1:000000000000:${n}`);
    const arn = 'arn:aws:sns:us-east-1:000000000000:page-000';
    await client.send(new sns.DeleteTopicCommand({ TopicArn: arn }));
    await client.send(new sns.DeleteTopicCommand({ TopicArn: arn }));
    expect(await sdkFailure(client.send(new sns.GetTopicAttributesCommand({ TopicArn: arn })))).toMatchObject({
      name: 'NotFoundException',
    });
  });

  it('sets topic attributes, but not FifoTopic or unknown ones', async () => {
    const { TopicArn } = await client.send(new sns.CreateTopicCommand({ Name: 'settable' }));
    await client.send(
      new sns.SetTopicAttributesCommand({ TopicArn, AttributeName: 'DisplayName', AttributeValue: 'Shown' }),
    );
    const policy = JSON.stringify({ http: { defaultHealthyRetryPolicy: { numRetries: 5 } } });
    await client.send(
      new sns.SetTopicAttributesCommand({ TopicArn, AttributeName: 'DeliveryPolicy', AttributeValue: policy }),
    );
    const { Attributes } = await client.send(new sns.GetTopicAttributesCommand({ TopicArn }));
    expect(Attributes).toMatchObject({ DisplayName: 'Shown', DeliveryPolicy: policy, EffectiveDeliveryPolicy: policy });
    for (const AttributeName of ['FifoTopic', 'Colour']) {
      expect(
        await sdkFailure(
          client.send(new sns.SetTopicAttributesCommand({ TopicArn, AttributeName, AttributeValue: 'x' })),
        ),
      ).toEqual({ name: 'InvalidParameterException', message: 'Invalid parameter: AttributeName', status: 400 });
    }
    expect(
      await sdkFailure(
        client.send(
          new sns.SetTopicAttributesCommand({
            TopicArn: 'arn:aws:sns:us-east-1:000000000000:absent',
            AttributeName: 'DisplayName',
            AttributeValue: 'x',
          }),
        ),
      ),
    ).toMatchObject({ name: 'NotFoundException', message: 'Topic does not exist' });
  });

  it('tags and untags a topic, up to 50 tags', async () => {
    const { TopicArn } = await client.send(
      new sns.CreateTopicCommand({ Name: 'tagged', Tags: [{ Key: 'team', Value: 'a' }] }),
    );
    await client.send(
      new sns.TagResourceCommand({
        ResourceArn: TopicArn,
        Tags: [
          { Key: 'env', Value: 'dev' },
          { Key: 'team', Value: 'b' },
        ],
      }),
    );
    const list = async () =>
      (await client.send(new sns.ListTagsForResourceCommand({ ResourceArn: TopicArn }))).Tags!.sort((x, y) =>
        x.Key!.localeCompare(y.Key!),
      );
    expect(await list()).toEqual([
      { Key: 'env', Value: 'dev' },
      { Key: 'team', Value: 'b' },
    ]);
    await client.send(new sns.UntagResourceCommand({ ResourceArn: TopicArn, TagKeys: ['env', 'never-set'] }));
    expect(await list()).toEqual([{ Key: 'team', Value: 'b' }]);
    const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(await sdkFailure(client.send(new sns.TagResourceCommand({ ResourceArn: TopicArn, Tags: many })))).toEqual({
      name: 'TagLimitExceededException',
      message: 'Could not complete request: tag quota of per resource exceeded',
      status: 400,
    });
    expect(await list()).toEqual([{ Key: 'team', Value: 'b' }]);
    expect(
      await sdkFailure(
        client.send(new sns.ListTagsForResourceCommand({ ResourceArn: 'arn:aws:sns:us-east-1:000000000000:absent' })),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException', message: 'Resource does not exist', status: 404 });
  });

  it('keeps topics per region and account', async () => {
    const other = new sns.SNSClient({
      endpoint: wharf.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: '111111111111', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const r = await other.send(new sns.CreateTopicCommand({ Name: 'orders' }));
    expect(r.TopicArn).toBe('arn:aws:sns:eu-west-1:111111111111:orders');
    const list = await other.send(new sns.ListTopicsCommand({}));
    expect(list.Topics!.map((t) => t.TopicArn)).toEqual([r.TopicArn]);
    other.destroy();
  });

  it('speaks to boto3 and the AWS CLI', async () => {
    const py = await boto3(
      `import boto3,json
c=boto3.client('sns',endpoint_url='${wharf.endpoint}')
a=c.create_topic(Name='from-boto3')['TopicArn']
print(json.dumps([a,c.get_topic_attributes(TopicArn=a)['Attributes']['TopicArn']]))
try:
  c.get_topic_attributes(TopicArn=a+'x')
except c.exceptions.NotFoundException as e:
  print(e.response['Error']['Code'])`,
    );
    expect(py.code).toBe(0);
    const [arn, echoed] = JSON.parse(py.stdout.split('\n')[0]);
    expect(arn).toBe('arn:aws:sns:us-east-1:000000000000:from-boto3');
    expect(echoed).toBe(arn);
    expect(py.stdout.split('\n')[1]).toBe('NotFound');
    const listed = await awsSns(wharf.endpoint, 'list-topics');
    expect(listed.Topics.map((t: { TopicArn: string }) => t.TopicArn)).toContain(arn);
  });
});
