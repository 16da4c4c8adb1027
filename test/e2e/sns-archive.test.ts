/**
 * SNS FIFO message archiving and replay, on the injected clock, with @aws-sdk/client-sns: an
 * ArchivePolicy keeps a FIFO topic's messages (BeginningArchiveTime), a ReplayPolicy redelivers
 * them to one subscription from a timestamp (to an end), through its filter policy, marked as
 * replayed with their MessageId and Timestamp, ReplayStatus reporting progress; AWS's checks on
 * both policies. Both stores.
 */
import * as sns from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/clock.js';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';
import { sdkFailure } from '../helpers/sdk.js';
import { snsKit, type SnsKit } from '../helpers/sns.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

describe('SNS FIFO archive and replay', () => {
  let clock: ManualClock;
  let wharf: Wharf;
  let kit: SnsKit;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    wharf = await withWharf({ clock });
    kit = snsKit(wharf);
  });
  afterEach(async () => {
    kit?.destroy();
    await wharf?.stop();
  });

  const attrs = async (TopicArn: string) =>
    (await kit.sns.send(new sns.GetTopicAttributesCommand({ TopicArn }))).Attributes!;
  const subAttrs = async (SubscriptionArn: string) =>
    (await kit.sns.send(new sns.GetSubscriptionAttributesCommand({ SubscriptionArn }))).Attributes!;
  const failure = async (p: Promise<unknown>) => (await sdkFailure(p)).message;

  it('checks ArchivePolicy and reports BeginningArchiveTime', async () => {
    const { TopicArn: std } = await kit.sns.send(new sns.CreateTopicCommand({ Name: 'plain' }));
    expect(
      await failure(
        kit.sns.send(
          new sns.SetTopicAttributesCommand({
            TopicArn: std,
            AttributeName: 'ArchivePolicy',
            AttributeValue: '{"MessageRetentionPeriod":"30"}',
          }),
        ),
      ),
    ).toBe('Invalid parameter: ArchivePolicy Reason: Message archiving is only supported on FIFO topics');
    const { TopicArn } = await kit.sns.send(
      new sns.CreateTopicCommand({ Name: 'kept.fifo', Attributes: { FifoTopic: 'true' } }),
    );
    const set = (v: string) =>
      kit.sns.send(new sns.SetTopicAttributesCommand({ TopicArn, AttributeName: 'ArchivePolicy', AttributeValue: v }));
    for (const bad of [
      '{"MessageRetentionPeriod":"0"}',
      '{"MessageRetentionPeriod":366}',
      '{"MessageRetentionPeriod":"1.5"}',
    ])
      expect(await failure(set(bad))).toBe(
        'Invalid parameter: ArchivePolicy Reason: MessageRetentionPeriod must be an integer from 1 to 365 days',
      );
    expect(await failure(set('{"Days":3}'))).toBe('Invalid parameter: ArchivePolicy Reason: Unknown field Days');
    expect(await failure(set('{'))).toBe('Invalid parameter: ArchivePolicy Reason: failed to parse JSON.');
    expect((await attrs(TopicArn!)).BeginningArchiveTime).toBeUndefined();
    clock.advance(1000);
    await set('{"MessageRetentionPeriod":"1"}');
    expect(await attrs(TopicArn!)).toMatchObject({
      ArchivePolicy: '{"MessageRetentionPeriod":"1"}',
      BeginningArchiveTime: iso(T0 + 1000),
    });
    // a day later the archive begins a day ago
    clock.advance(2 * 86_400_000);
    expect((await attrs(TopicArn!)).BeginningArchiveTime).toBe(iso(clock.now() - 86_400_000));
    // {} turns archiving off
    await set('{}');
    expect((await attrs(TopicArn!)).BeginningArchiveTime).toBeUndefined();
  });

  it('replays archived messages to one subscription, filtered, marked and in order, then reports Completed', async () => {
    const { TopicArn } = await kit.sns.send(
      new sns.CreateTopicCommand({
        Name: 'events.fifo',
        Attributes: {
          FifoTopic: 'true',
          ContentBasedDeduplication: 'true',
          ArchivePolicy: '{"MessageRetentionPeriod":"7"}',
        },
      }),
    );
    const a = await kit.queue('a.fifo', { FifoQueue: 'true' });
    const { SubscriptionArn: subA } = await kit.sns.send(
      new sns.SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: a.arn,
        Attributes: { RawMessageDelivery: 'true' },
        ReturnSubscriptionArn: true,
      }),
    );
    const ids: string[] = [];
    for (const [i, kind] of ['a', 'b', 'a'].entries()) {
      clock.advance(1000);
      const r = await kit.sns.send(
        new sns.PublishCommand({
          TopicArn,
          Message: `m${i}`,
          MessageGroupId: 'g',
          MessageAttributes: { kind: { DataType: 'String', StringValue: kind } },
        }),
      );
      ids.push(r.MessageId!);
    }
    expect((await kit.drain(a.url, 3)).map((m) => m.Body)).toEqual(['m0', 'm1', 'm2']);
    clock.advance(60_000);

    // a new subscriber replays from the beginning, through its filter policy
    const b = await kit.queue('b.fifo', { FifoQueue: 'true' });
    const { SubscriptionArn: subB } = await kit.sns.send(
      new sns.SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: b.arn,
        Attributes: {
          FilterPolicy: JSON.stringify({ kind: ['a'] }),
          ReplayPolicy: JSON.stringify({ PointType: 'Timestamp', StartingPoint: iso(T0) }),
        },
        ReturnSubscriptionArn: true,
      }),
    );
    const replayed = (await kit.drain(b.url, 2)).map((m) => JSON.parse(m.Body!) as Record<string, unknown>);
    expect(replayed.map((e) => [e.Message, e.MessageId, e.Timestamp, e.Replayed])).toEqual([
      ['m0', ids[0], iso(T0 + 1000), true],
      ['m2', ids[2], iso(T0 + 3000), true],
    ]);
    await expect.poll(async () => (await subAttrs(subB!)).ReplayStatus).toBe('Completed');
    expect((await subAttrs(subB!)).ReplayPolicy).toBe(
      JSON.stringify({ PointType: 'Timestamp', StartingPoint: iso(T0) }),
    );

    // the first subscriber replays one second's worth: the second message, once more
    await kit.sns.send(
      new sns.SetSubscriptionAttributesCommand({
        SubscriptionArn: subA,
        AttributeName: 'ReplayPolicy',
        AttributeValue: JSON.stringify({
          PointType: 'Timestamp',
          StartingPoint: iso(T0 + 2000),
          EndingPoint: iso(T0 + 2500),
        }),
      }),
    );
    expect((await kit.drain(a.url, 1)).map((m) => m.Body)).toEqual(['m1']);
    await expect.poll(async () => (await subAttrs(subA!)).ReplayStatus).toBe('Completed');
    // with an EndingPoint, a completed replay leaves the subscription without new messages
    await kit.sns.send(
      new sns.PublishCommand({
        TopicArn,
        Message: 'after',
        MessageGroupId: 'g',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'a' } },
      }),
    );
    expect((await kit.drain(b.url, 1)).map((m) => (JSON.parse(m.Body!) as { Message: string }).Message)).toEqual([
      'after',
    ]);
    expect((await kit.drain(a.url, 1, 0)).length).toBe(0);
  });

  it('refuses a ReplayPolicy AWS would refuse', async () => {
    const { TopicArn } = await kit.sns.send(
      new sns.CreateTopicCommand({ Name: 'unarchived.fifo', Attributes: { FifoTopic: 'true' } }),
    );
    const q = await kit.queue('r.fifo', { FifoQueue: 'true' });
    const { SubscriptionArn } = await kit.sns.send(
      new sns.SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: q.arn, ReturnSubscriptionArn: true }),
    );
    const set = (policy: unknown) =>
      failure(
        kit.sns.send(
          new sns.SetSubscriptionAttributesCommand({
            SubscriptionArn,
            AttributeName: 'ReplayPolicy',
            AttributeValue: JSON.stringify(policy),
          }),
        ),
      );
    const start = { PointType: 'Timestamp', StartingPoint: iso(T0) };
    expect(await set(start)).toBe('Invalid parameter: ReplayPolicy Reason: the topic has no ArchivePolicy');
    clock.advance(5000);
    await kit.sns.send(
      new sns.SetTopicAttributesCommand({
        TopicArn,
        AttributeName: 'ArchivePolicy',
        AttributeValue: '{"MessageRetentionPeriod":"3"}',
      }),
    );
    expect(await set(start)).toBe(
      `Invalid parameter: ReplayPolicy Reason: StartingPoint must not be before the topic's BeginningArchiveTime ${iso(T0 + 5000)}`,
    );
    expect(await set({ ...start, PointType: 'SequenceNumber' })).toBe(
      'Invalid parameter: ReplayPolicy Reason: PointType must be Timestamp',
    );
    expect(await set({ PointType: 'Timestamp', StartingPoint: 'yesterday' })).toBe(
      'Invalid parameter: ReplayPolicy Reason: StartingPoint must be a timestamp (ISO 8601)',
    );
    expect(await set({ PointType: 'Timestamp', StartingPoint: iso(T0 + 60_000) })).toBe(
      'Invalid parameter: ReplayPolicy Reason: StartingPoint must not be in the future',
    );
    expect(await set({ PointType: 'Timestamp', StartingPoint: iso(T0 + 5000), EndingPoint: iso(T0 + 5000) })).toBe(
      'Invalid parameter: ReplayPolicy Reason: EndingPoint must be after StartingPoint',
    );
    const { TopicArn: std } = await kit.sns.send(new sns.CreateTopicCommand({ Name: 'std' }));
    const sq = await kit.queue('std');
    expect(
      await failure(
        kit.sns.send(
          new sns.SubscribeCommand({
            TopicArn: std,
            Protocol: 'sqs',
            Endpoint: sq.arn,
            Attributes: { ReplayPolicy: JSON.stringify(start) },
          }),
        ),
      ),
    ).toBe('Invalid parameter: Attributes Reason: ReplayPolicy: only FIFO topics replay');
  });
});
