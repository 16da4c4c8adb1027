/**
 * Queue lifecycle and configuration, end to end with the real SDK clients over both protocols:
 * CreateQueue/DeleteQueue/GetQueueUrl/ListQueues, queue attributes, redrive policies, SSE,
 * tags, permissions, dead-letter source queues and PurgeQueue.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOLS, sqsClient } from '../helpers/sqs.js';
import {
  ACCOUNT,
  arnOf,
  arnOfUrl,
  attrs,
  awsError,
  counts,
  createQueue,
  fifoFields,
  nameOf,
  uniqueName,
  useWharf,
} from '../helpers/sqs-e2e.js';

describe.each(PROTOCOLS)('SQS queues over %s', (proto) => {
  const env = useWharf(proto);
  const json = proto === 'json';

  describe('CreateQueue', () => {
    it('is idempotent for the same name and matching attributes, and names the first differing one', async () => {
      const { sqs, wharf } = env;
      const QueueName = uniqueName('idem');
      const Attributes = { DelaySeconds: '1', ReceiveMessageWaitTimeSeconds: '1' };
      const { QueueUrl } = await sqs.call('CreateQueue', { QueueName, Attributes });
      expect(QueueUrl).toBe(`${wharf.endpoint}/${ACCOUNT}/${QueueName}`);
      // same attributes, no attributes, a matching subset, a value equal to the default
      expect((await sqs.call('CreateQueue', { QueueName, Attributes })).QueueUrl).toBe(QueueUrl);
      expect((await sqs.call('CreateQueue', { QueueName })).QueueUrl).toBe(QueueUrl);
      expect((await sqs.call('CreateQueue', { QueueName, Attributes: { DelaySeconds: '1' } })).QueueUrl).toBe(QueueUrl);
      expect((await sqs.call('CreateQueue', { QueueName, Attributes: { VisibilityTimeout: '30' } })).QueueUrl).toBe(
        QueueUrl,
      );

      const err = await awsError(
        sqs.call('CreateQueue', { QueueName, Attributes: { DelaySeconds: '2' } }),
        'QueueNameExists',
        proto,
      );
      expect(err.message).toBe(
        'A queue already exists with the same name and a different value for attribute DelaySeconds',
      );
      expect(err.$metadata?.httpStatusCode).toBe(400);
      if (json) expect(err.Code).toBe('QueueAlreadyExists');

      const err2 = await awsError(
        sqs.call('CreateQueue', {
          QueueName,
          Attributes: { DelaySeconds: '1', ReceiveMessageWaitTimeSeconds: '1', MaximumMessageSize: '2048' },
        }),
        'QueueNameExists',
        proto,
      );
      expect(err2.message).toMatch(/different value for attribute MaximumMessageSize$/);
    });

    it('compares against the current values after SetQueueAttributes', async () => {
      const { sqs } = env;
      const QueueName = uniqueName('idem-set');
      const { QueueUrl } = await sqs.call('CreateQueue', { QueueName, Attributes: { DelaySeconds: '1' } });
      await sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { DelaySeconds: '2' } });
      expect((await sqs.call('CreateQueue', { QueueName, Attributes: { DelaySeconds: '2' } })).QueueUrl).toBe(QueueUrl);
      await awsError(
        sqs.call('CreateQueue', { QueueName, Attributes: { DelaySeconds: '1' } }),
        'QueueNameExists',
        proto,
      );
    });

    it('is idempotent for FIFO queues and names ContentBasedDeduplication when it differs', async () => {
      const { sqs } = env;
      const QueueName = uniqueName('idem', true);
      const { QueueUrl } = await sqs.call('CreateQueue', { QueueName, Attributes: { FifoQueue: 'true' } });
      expect(QueueUrl.endsWith(`/${QueueName}`)).toBe(true);
      expect((await sqs.call('CreateQueue', { QueueName, Attributes: { FifoQueue: 'true' } })).QueueUrl).toBe(QueueUrl);
      const err = await awsError(
        sqs.call('CreateQueue', { QueueName, Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }),
        'QueueNameExists',
        proto,
      );
      expect(err.message).toBe(
        'A queue already exists with the same name and a different value for attribute ContentBasedDeduplication',
      );
    });

    it('validates queue names', async () => {
      const { sqs } = env;
      const rule = 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length';
      const ok80 = `n${'x'.repeat(79)}`;
      expect((await sqs.call('CreateQueue', { QueueName: ok80 })).QueueUrl).toMatch(new RegExp(`/${ok80}$`));
      for (const QueueName of [`${ok80}y`, 'bad name', 'bad!', 'std.fifo']) {
        const err = await awsError(sqs.call('CreateQueue', { QueueName }), 'InvalidParameterValue', proto);
        expect(err.message).toBe(rule);
        if (json) expect(err.Code).toBe('InvalidParameterValue');
      }
      // FIFO: the .fifo suffix counts towards the 80 characters, and is required
      const fifo80 = `f${'x'.repeat(74)}.fifo`;
      expect(
        (await sqs.call('CreateQueue', { QueueName: fifo80, Attributes: { FifoQueue: 'true' } })).QueueUrl,
      ).toMatch(/\.fifo$/);
      const fifoRule =
        'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length';
      for (const QueueName of [`fx${'x'.repeat(74)}.fifo`, 'no-suffix']) {
        const err = await awsError(
          sqs.call('CreateQueue', { QueueName, Attributes: { FifoQueue: 'true' } }),
          'InvalidParameterValue',
          proto,
        );
        expect(err.message).toBe(fifoRule);
      }
      const empty = await awsError(sqs.call('CreateQueue', { QueueName: '' }), 'InvalidParameterValue', proto);
      expect(empty.message).toBe('Value  for parameter QueueName is invalid. Reason: Must specify a queue name.');
    });

    it('refuses the FifoQueue attribute on a standard queue', async () => {
      const { sqs } = env;
      for (const FifoQueue of ['false', 'true']) {
        const err = await awsError(
          sqs.call('CreateQueue', { QueueName: uniqueName('std'), Attributes: { FifoQueue } }),
          FifoQueue === 'false' ? 'InvalidAttributeName' : 'InvalidParameterValue',
          proto,
        );
        if (FifoQueue === 'false') expect(err.message).toBe('Unknown Attribute FifoQueue.');
      }
    });

    it('refuses a name deleted less than 60 seconds ago (QueueDeletedRecently)', async () => {
      const { sqs, clock } = env;
      const QueueName = uniqueName('recent');
      const { QueueUrl } = await sqs.call('CreateQueue', { QueueName });
      await sqs.call('DeleteQueue', { QueueUrl });
      await awsError(sqs.call('GetQueueUrl', { QueueName }), 'QueueDoesNotExist', proto);
      await awsError(sqs.call('GetQueueAttributes', { QueueUrl, AttributeNames: ['All'] }), 'QueueDoesNotExist', proto);
      await awsError(sqs.call('DeleteQueue', { QueueUrl }), 'QueueDoesNotExist', proto);
      const err = await awsError(sqs.call('CreateQueue', { QueueName }), 'QueueDeletedRecently', proto);
      expect(err.message).toBe(
        'You must wait 60 seconds after deleting a queue before you can create another with the same name.',
      );
      expect(err.$metadata?.httpStatusCode).toBe(400);
      if (json) expect(err.Code).toBe('AWS.SimpleQueueService.QueueDeletedRecently');
      clock.advance(59_999);
      await awsError(sqs.call('CreateQueue', { QueueName }), 'QueueDeletedRecently', proto);
      clock.advance(1);
      const again = await sqs.call('CreateQueue', { QueueName });
      expect(again.QueueUrl).toBe(QueueUrl);
      // the new queue starts empty
      expect(await counts(sqs, QueueUrl)).toEqual([0, 0, 0]);
    });
  });

  describe('GetQueueUrl', () => {
    it('finds queues of another account with QueueOwnerAWSAccountId', async () => {
      const { sqs, wharf } = env;
      const owner = '111111111111';
      const theirs = sqsClient(wharf.endpoint, proto, owner);
      try {
        const QueueName = uniqueName('owned');
        const { QueueUrl } = await theirs.call('CreateQueue', { QueueName });
        expect(QueueUrl).toBe(`${wharf.endpoint}/${owner}/${QueueName}`);
        await awsError(sqs.call('GetQueueUrl', { QueueName }), 'QueueDoesNotExist', proto);
        const found = await sqs.call('GetQueueUrl', { QueueName, QueueOwnerAWSAccountId: owner });
        expect(found.QueueUrl).toBe(QueueUrl);
        await awsError(
          sqs.call('GetQueueUrl', { QueueName, QueueOwnerAWSAccountId: '222222222222' }),
          'QueueDoesNotExist',
          proto,
        );
        // the owner's own ListQueues sees it, the default account's does not
        expect((await theirs.call('ListQueues', { QueueNamePrefix: QueueName })).QueueUrls).toEqual([QueueUrl]);
        expect((await sqs.call('ListQueues', { QueueNamePrefix: QueueName })).QueueUrls).toBeUndefined();
      } finally {
        theirs.destroy();
      }
    });

    it("takes a bare queue name as QueueUrl and acts on the caller's queue", async () => {
      const { wharf } = env;
      const owner = '111111111111';
      const theirs = sqsClient(wharf.endpoint, proto, owner);
      try {
        const QueueName = uniqueName('bare');
        const mine = (await env.sqs.call('CreateQueue', { QueueName })).QueueUrl as string;
        const other = (await theirs.call('CreateQueue', { QueueName })).QueueUrl as string;
        await env.sqs.call('SendMessage', { QueueUrl: QueueName, MessageBody: 'by name' });
        expect(await counts(env.sqs, mine)).toEqual([1, 0, 0]);
        expect(await counts(theirs, other)).toEqual([0, 0, 0]);
        const a = await env.sqs.call('GetQueueAttributes', { QueueUrl: QueueName, AttributeNames: ['QueueArn'] });
        expect(a.Attributes).toEqual({ QueueArn: arnOf(QueueName) });
        await awsError(env.sqs.call('PurgeQueue', { QueueUrl: 'no-such-queue' }), 'QueueDoesNotExist', proto);
      } finally {
        theirs.destroy();
      }
    });

    it('reports an unknown queue in the protocol wording', async () => {
      const err = await awsError(env.sqs.call('GetQueueUrl', { QueueName: 'nope-nope' }), 'QueueDoesNotExist', proto);
      expect(err.message).toBe(
        json ? 'The specified queue does not exist.' : 'The specified queue does not exist for this wsdl version.',
      );
      if (json) expect(err.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
    });
  });

  describe('ListQueues', () => {
    it('filters by prefix (case-sensitive) and pages with MaxResults and NextToken', async () => {
      const { sqs } = env;
      const p = `${uniqueName('lq')}-`;
      const urls: string[] = [];
      for (const n of ['c', 'a', 'b', 'd'])
        urls.push((await sqs.call('CreateQueue', { QueueName: `${p}${n}` })).QueueUrl);
      await sqs.call('CreateQueue', { QueueName: `${p.toUpperCase()}z` });
      const sorted = [...urls].sort();

      const all = await sqs.call('ListQueues', { QueueNamePrefix: p });
      expect(all.QueueUrls).toEqual(sorted);
      expect(all.NextToken).toBeUndefined();

      const first = await sqs.call('ListQueues', { QueueNamePrefix: p, MaxResults: 3 });
      expect(first.QueueUrls).toEqual(sorted.slice(0, 3));
      expect(typeof first.NextToken).toBe('string');
      const second = await sqs.call('ListQueues', { QueueNamePrefix: p, MaxResults: 3, NextToken: first.NextToken });
      expect(second.QueueUrls).toEqual(sorted.slice(3));
      expect(second.NextToken).toBeUndefined();

      // exactly MaxResults left: no token
      const exact = await sqs.call('ListQueues', { QueueNamePrefix: p, MaxResults: 4 });
      expect(exact.QueueUrls).toHaveLength(4);
      expect(exact.NextToken).toBeUndefined();

      const none = await sqs.call('ListQueues', { QueueNamePrefix: `${p}zzz` });
      expect(none.QueueUrls).toBeUndefined();
    });

    it('validates MaxResults and NextToken', async () => {
      const { sqs } = env;
      for (const MaxResults of [0, 1001]) {
        const err = await awsError(sqs.call('ListQueues', { MaxResults }), 'InvalidParameterValue', proto);
        expect(err.message).toBe(
          `Value ${MaxResults} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.`,
        );
      }
      const bad = await awsError(
        sqs.call('ListQueues', { MaxResults: 1, NextToken: 'garbage!' }),
        'InvalidParameterValue',
        proto,
      );
      expect(bad.message).toBe('Invalid NextToken value.');
    });
  });

  describe('GetQueueAttributes / SetQueueAttributes', () => {
    it('returns exactly the 12 standard defaults for All', async () => {
      const { sqs, clock } = env;
      const QueueName = uniqueName('defaults');
      const { QueueUrl } = await sqs.call('CreateQueue', { QueueName });
      const created = String(Math.floor(clock.now() / 1000));
      expect(await attrs(sqs, QueueUrl)).toEqual({
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
        CreatedTimestamp: created,
        LastModifiedTimestamp: created,
        QueueArn: arnOf(QueueName),
        DelaySeconds: '0',
        MaximumMessageSize: '1048576',
        MessageRetentionPeriod: '345600',
        ReceiveMessageWaitTimeSeconds: '0',
        VisibilityTimeout: '30',
        SqsManagedSseEnabled: 'true',
      });
    });

    it('returns exactly the 16 FIFO defaults for All', async () => {
      const { sqs, clock } = env;
      const QueueName = uniqueName('defaults', true);
      const { QueueUrl } = await sqs.call('CreateQueue', { QueueName, Attributes: { FifoQueue: 'true' } });
      const created = String(Math.floor(clock.now() / 1000));
      const a = await attrs(sqs, QueueUrl);
      expect(Object.keys(a)).toHaveLength(16);
      expect(a).toEqual({
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
        CreatedTimestamp: created,
        LastModifiedTimestamp: created,
        QueueArn: arnOf(QueueName),
        DelaySeconds: '0',
        MaximumMessageSize: '1048576',
        MessageRetentionPeriod: '345600',
        ReceiveMessageWaitTimeSeconds: '0',
        VisibilityTimeout: '30',
        SqsManagedSseEnabled: 'true',
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        DeduplicationScope: 'queue',
        FifoThroughputLimit: 'perQueue',
      });
    });

    it('returns only the names asked for, nothing without names, and refuses unknown names', async () => {
      const { sqs } = env;
      const QueueUrl = await createQueue(sqs, 'names', false);
      expect(await attrs(sqs, QueueUrl, 'VisibilityTimeout', 'QueueArn')).toEqual({
        VisibilityTimeout: '30',
        QueueArn: arnOfUrl(QueueUrl),
      });
      expect((await sqs.call('GetQueueAttributes', { QueueUrl })).Attributes).toBeUndefined();
      // FIFO-only names on a standard queue: nothing to report
      expect(
        (await sqs.call('GetQueueAttributes', { QueueUrl, AttributeNames: ['FifoQueue'] })).Attributes,
      ).toBeUndefined();
      const err = await awsError(
        sqs.call('GetQueueAttributes', { QueueUrl, AttributeNames: ['Foobar'] }),
        'InvalidAttributeName',
        proto,
      );
      expect(err.message).toBe('Unknown Attribute Foobar.');
      if (json) expect(err.Code).toBe('InvalidAttributeName');
    });

    it('sets and reads back every settable attribute and bumps LastModifiedTimestamp', async () => {
      const { sqs, clock } = env;
      const dlq = await createQueue(sqs, 'set-dlq', false);
      const QueueUrl = await createQueue(sqs, 'set-all', false);
      const before = await attrs(sqs, QueueUrl, 'CreatedTimestamp', 'LastModifiedTimestamp');
      clock.advance(5000);
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sqs:SendMessage', Resource: arnOfUrl(QueueUrl) }],
      });
      const redrive = { deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: 4 };
      const allow = JSON.stringify({ redrivePermission: 'allowAll' });
      const values: Record<string, string> = {
        DelaySeconds: '7',
        MaximumMessageSize: '2048',
        MessageRetentionPeriod: '600',
        ReceiveMessageWaitTimeSeconds: '3',
        VisibilityTimeout: '45',
        Policy: policy,
        RedrivePolicy: JSON.stringify(redrive),
        RedriveAllowPolicy: allow,
        KmsMasterKeyId: 'alias/aws/sqs',
        KmsDataKeyReusePeriodSeconds: '600',
        SqsManagedSseEnabled: 'false',
      };
      await sqs.call('SetQueueAttributes', { QueueUrl, Attributes: values });
      const a = await attrs(sqs, QueueUrl);
      const { RedrivePolicy: _sentPolicy, ...rest } = values;
      expect(a).toMatchObject(rest);
      expect(JSON.parse(a.RedrivePolicy)).toEqual(redrive);
      expect(Object.keys(a)).toHaveLength(17);
      expect(a.CreatedTimestamp).toBe(before.CreatedTimestamp);
      expect(Number(a.LastModifiedTimestamp)).toBe(Number(before.LastModifiedTimestamp) + 5);

      // an empty value removes Policy, RedrivePolicy, RedriveAllowPolicy and KmsMasterKeyId
      await sqs.call('SetQueueAttributes', {
        QueueUrl,
        Attributes: { Policy: '', RedrivePolicy: '', RedriveAllowPolicy: '', KmsMasterKeyId: '' },
      });
      const after = await attrs(sqs, QueueUrl, 'Policy', 'RedrivePolicy', 'RedriveAllowPolicy', 'KmsMasterKeyId');
      expect(after).toEqual({});
    });

    it('sets the FIFO attributes', async () => {
      const { sqs } = env;
      const QueueUrl = await createQueue(sqs, 'set-fifo', true);
      await sqs.call('SetQueueAttributes', {
        QueueUrl,
        Attributes: {
          ContentBasedDeduplication: 'false',
          DeduplicationScope: 'messageGroup',
          FifoThroughputLimit: 'perMessageGroupId',
        },
      });
      expect(
        await attrs(
          sqs,
          QueueUrl,
          'ContentBasedDeduplication',
          'DeduplicationScope',
          'FifoThroughputLimit',
          'FifoQueue',
        ),
      ).toEqual({
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
      });
      for (const [name, value] of [
        ['ContentBasedDeduplication', 'yes'],
        ['DeduplicationScope', 'group'],
        ['FifoThroughputLimit', 'perGroup'],
      ]) {
        const err = await awsError(
          sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { [name]: value } }),
          'InvalidAttributeValue',
          proto,
        );
        expect(err.message).toBe(`Invalid value for the parameter ${name}.`);
      }
      const err = await awsError(
        sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { FifoQueue: 'false' } }),
        'InvalidAttributeValue',
        proto,
      );
      expect(err.message).toBe(
        'Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.',
      );
    });

    it('refuses FIFO and read-only attributes on a standard queue', async () => {
      const { sqs } = env;
      const QueueUrl = await createQueue(sqs, 'std-only', false);
      const cases: [string, string, string][] = [
        ['FifoQueue', 'true', 'Unknown Attribute FifoQueue.'],
        ['ContentBasedDeduplication', 'true', 'Unknown Attribute ContentBasedDeduplication.'],
        [
          'DeduplicationScope',
          'messageGroup',
          'You can specify the DeduplicationScope only when FifoQueue is set to true.',
        ],
        [
          'FifoThroughputLimit',
          'perQueue',
          'You can specify the FifoThroughputLimit only when FifoQueue is set to true.',
        ],
        ['QueueArn', 'arn:aws:sqs:us-east-1:000000000000:x', 'Unknown Attribute QueueArn.'],
        ['ApproximateNumberOfMessages', '5', 'Unknown Attribute ApproximateNumberOfMessages.'],
        ['Foobar', '1', 'Unknown Attribute Foobar.'],
      ];
      for (const [name, value, message] of cases) {
        const err = await awsError(
          sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { [name]: value } }),
          'InvalidAttributeName',
          proto,
        );
        expect(err.message).toBe(message);
      }
      // CreateQueue refuses them the same way
      const err = await awsError(
        sqs.call('CreateQueue', { QueueName: uniqueName('std-only'), Attributes: { DeduplicationScope: 'queue' } }),
        'InvalidAttributeName',
        proto,
      );
      expect(err.message).toBe('You can specify the DeduplicationScope only when FifoQueue is set to true.');
    });

    it('requires at least one attribute on SetQueueAttributes', async () => {
      const { sqs } = env;
      const QueueUrl = await createQueue(sqs, 'set-empty', false);
      const err = await awsError(
        sqs.call('SetQueueAttributes', { QueueUrl, Attributes: {} }),
        'MissingParameter',
        proto,
      );
      expect(err.message).toMatch(/^The request must contain the parameter Attribute/);
    });

    it('enforces the ranges of every integer attribute on create and set', async () => {
      const { sqs } = env;
      const QueueUrl = await createQueue(sqs, 'ranges', false);
      const ranges: [string, number, number][] = [
        ['DelaySeconds', 0, 900],
        ['MaximumMessageSize', 1024, 1_048_576],
        ['MessageRetentionPeriod', 60, 1_209_600],
        ['ReceiveMessageWaitTimeSeconds', 0, 20],
        ['VisibilityTimeout', 0, 43_200],
        ['KmsDataKeyReusePeriodSeconds', 60, 86_400],
      ];
      for (const [name, min, max] of ranges) {
        for (const ok of [min, max]) {
          await sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { [name]: String(ok) } });
          expect((await attrs(sqs, QueueUrl, name))[name]).toBe(String(ok));
        }
        for (const bad of [String(min - 1), String(max + 1), 'abc', '1.5', '']) {
          const err = await awsError(
            sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { [name]: bad } }),
            'InvalidAttributeValue',
            proto,
          );
          expect(err.message).toBe(`Invalid value for the parameter ${name}.`);
          if (json) expect(err.Code).toBe('InvalidAttributeValue');
        }
        const err = await awsError(
          sqs.call('CreateQueue', { QueueName: uniqueName('ranges'), Attributes: { [name]: String(max + 1) } }),
          'InvalidAttributeValue',
          proto,
        );
        expect(err.message).toBe(`Invalid value for the parameter ${name}.`);
      }
      const sse = await awsError(
        sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { SqsManagedSseEnabled: 'maybe' } }),
        'InvalidAttributeValue',
        proto,
      );
      expect(sse.message).toBe('Invalid value for the parameter SqsManagedSseEnabled.');
      const policy = await awsError(
        sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { Policy: '{not json' } }),
        'InvalidAttributeValue',
        proto,
      );
      expect(policy.message).toBe('Invalid value for the parameter Policy.');
    });
  });

  describe('RedrivePolicy and RedriveAllowPolicy', () => {
    const policyError = (policy: string, reason: string) =>
      `Value ${policy} for parameter RedrivePolicy is invalid. Reason: ${reason}`;

    it('accepts a valid policy (maxReceiveCount as a number or a string) and returns it as JSON', async () => {
      const { sqs } = env;
      const dlq = await createQueue(sqs, 'rp-dlq', false);
      const src = await createQueue(sqs, 'rp-src', false, {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: '3' }),
      });
      const rp = JSON.parse((await attrs(sqs, src, 'RedrivePolicy')).RedrivePolicy);
      expect(rp).toEqual({ deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: 3 });
      // CreateQueue again with the same policy is idempotent
      const again = await sqs.call('CreateQueue', {
        QueueName: nameOf(src),
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: 3 }) },
      });
      expect(again.QueueUrl).toBe(src);
      const diff = await awsError(
        sqs.call('CreateQueue', {
          QueueName: nameOf(src),
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: 4 }) },
        }),
        'QueueNameExists',
        proto,
      );
      expect(diff.message).toMatch(/attribute RedrivePolicy$/);
    });

    it('reports each invalid policy in AWS wording', async () => {
      const { sqs } = env;
      const dlq = await createQueue(sqs, 'rp-dlq', false);
      const fifoDlq = await createQueue(sqs, 'rp-dlq', true);
      const QueueUrl = await createQueue(sqs, 'rp-bad', false);
      const dlqArn = arnOfUrl(dlq);
      const set = (RedrivePolicy: string) =>
        sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { RedrivePolicy } });

      const notJson = await awsError(set('not json'), 'InvalidAttributeValue', proto);
      expect(notJson.message).toBe(
        'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.',
      );

      const cases: [string, string][] = [
        [
          '{"deadLetterTargetArn": "dummy", "maxReceiveCount": 42}',
          policyError(
            '{"deadLetterTargetArn": "dummy", "maxReceiveCount": 42}',
            'Invalid value for deadLetterTargetArn.',
          ),
        ],
        [
          JSON.stringify({ deadLetterTargetArn: dlqArn }),
          policyError(
            `{"deadLetterTargetArn": "${dlqArn}"}`,
            'Redrive policy does not contain mandatory attribute: maxReceiveCount.',
          ),
        ],
        [
          JSON.stringify({ maxReceiveCount: 5 }),
          policyError(
            '{"maxReceiveCount": 5}',
            'Redrive policy does not contain mandatory attribute: deadLetterTargetArn.',
          ),
        ],
        [
          JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1001 }),
          policyError(
            `{"deadLetterTargetArn": "${dlqArn}", "maxReceiveCount": 1001}`,
            'Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive.',
          ),
        ],
        [
          JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 0 }),
          policyError(
            `{"deadLetterTargetArn": "${dlqArn}", "maxReceiveCount": 0}`,
            'Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive.',
          ),
        ],
        [
          JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1, extra: true }),
          policyError(
            `{"deadLetterTargetArn": "${dlqArn}", "maxReceiveCount": 1, "extra": true}`,
            'Only following attributes are supported: [maxReceiveCount, deadLetterTargetArn].',
          ),
        ],
        [
          JSON.stringify({ deadLetterTargetArn: 'arn:aws:sns:us-east-1:000000000000:topic', maxReceiveCount: 1 }),
          policyError(
            '{"deadLetterTargetArn": "arn:aws:sns:us-east-1:000000000000:topic", "maxReceiveCount": 1}',
            'Only SQS queues are valid resources for deadLetterTargetArn.',
          ),
        ],
        [
          JSON.stringify({ deadLetterTargetArn: arnOf('missing-dlq'), maxReceiveCount: 1 }),
          policyError(
            `{"deadLetterTargetArn": "${arnOf('missing-dlq')}", "maxReceiveCount": 1}`,
            'Dead letter target does not exist.',
          ),
        ],
        [
          JSON.stringify({ deadLetterTargetArn: arnOfUrl(fifoDlq), maxReceiveCount: 1 }),
          policyError(
            `{"deadLetterTargetArn": "${arnOfUrl(fifoDlq)}", "maxReceiveCount": 1}`,
            'Dead-letter queue must be same type of queue as the source..',
          ),
        ],
      ];
      for (const [policy, message] of cases) {
        const err = await awsError(set(policy), 'InvalidParameterValue', proto);
        expect(err.message).toBe(message);
        if (json) expect(err.Code).toBe('InvalidParameterValue');
      }
      // nothing was stored
      expect(await attrs(sqs, QueueUrl, 'RedrivePolicy')).toEqual({});
    });

    it('validates RedriveAllowPolicy and enforces it on the source queue', async () => {
      const { sqs } = env;
      const dlq = await createQueue(sqs, 'rap-dlq', false);
      const src = await createQueue(sqs, 'rap-src', false);
      const other = await createQueue(sqs, 'rap-other', false);
      const setAllow = (v: unknown) =>
        sqs.call('SetQueueAttributes', { QueueUrl: dlq, Attributes: { RedriveAllowPolicy: JSON.stringify(v) } });
      const setRedrive = (QueueUrl: string) =>
        sqs.call('SetQueueAttributes', {
          QueueUrl,
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: 2 }) },
        });

      const unsupported = await awsError(
        sqs.call('SetQueueAttributes', { QueueUrl: dlq, Attributes: { RedriveAllowPolicy: 'nope' } }),
        'InvalidAttributeValue',
        proto,
      );
      expect(unsupported.message).toBe(
        'Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can\u2019t create the redrive allow policy, as it\u2019s in an unsupported format.',
      );
      await awsError(setAllow({ redrivePermission: 'everyone' }), 'InvalidAttributeValue', proto);
      const reasons: [unknown, string][] = [
        [
          { redrivePermission: 'byQueue' },
          'When you specify the byQueue permission type, you must also specify one or more sourceQueueArns values.',
        ],
        [
          { redrivePermission: 'byQueue', sourceQueueArns: Array.from({ length: 11 }, (_, i) => arnOf(`q${i}`)) },
          'The maximum number of source queue ARNs you can specify is 10.',
        ],
        [
          { redrivePermission: 'allowAll', sourceQueueArns: [arnOfUrl(src)] },
          'To specify one or more source queue ARNs, you must set redrivePermission to byQueue.',
        ],
      ];
      for (const [policy, reason] of reasons) {
        const err = await awsError(setAllow(policy), 'InvalidParameterValue', proto);
        expect(err.message).toBe(
          `Value ${JSON.stringify(policy)} for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy. ${reason}`,
        );
      }

      await setAllow({ redrivePermission: 'byQueue', sourceQueueArns: [arnOfUrl(src)] });
      expect(JSON.parse((await attrs(sqs, dlq, 'RedriveAllowPolicy')).RedriveAllowPolicy)).toEqual({
        redrivePermission: 'byQueue',
        sourceQueueArns: [arnOfUrl(src)],
      });
      await setRedrive(src);
      await awsError(setRedrive(other), 'InvalidParameterValue', proto);
      await setAllow({ redrivePermission: 'denyAll' });
      await awsError(setRedrive(other), 'InvalidParameterValue', proto);
      await setAllow({ redrivePermission: 'allowAll' });
      await setRedrive(other);
    });
  });

  describe('server-side encryption', () => {
    const exclusive =
      'You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.';

    it('refuses KMS SSE and SQS SSE together', async () => {
      const { sqs } = env;
      const Attributes = { SqsManagedSseEnabled: 'true', KmsMasterKeyId: 'alias/aws/sqs' };
      const create = await awsError(
        sqs.call('CreateQueue', { QueueName: uniqueName('sse'), Attributes }),
        'InvalidAttributeName',
        proto,
      );
      expect(create.message).toBe(exclusive);
      const QueueUrl = await createQueue(sqs, 'sse', false);
      const set = await awsError(
        sqs.call('SetQueueAttributes', { QueueUrl, Attributes }),
        'InvalidAttributeName',
        proto,
      );
      expect(set.message).toBe(exclusive);
    });

    it('switches between KMS SSE and SQS SSE', async () => {
      const { sqs } = env;
      const QueueUrl = await createQueue(sqs, 'sse-kms', false, { KmsMasterKeyId: 'alias/aws/sqs' });
      const names = ['SqsManagedSseEnabled', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds'];
      expect(await attrs(sqs, QueueUrl, ...names)).toEqual({
        SqsManagedSseEnabled: 'false',
        KmsMasterKeyId: 'alias/aws/sqs',
        KmsDataKeyReusePeriodSeconds: '300',
      });
      expect(Object.keys(await attrs(sqs, QueueUrl))).toHaveLength(14);
      await sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { SqsManagedSseEnabled: 'true' } });
      expect(await attrs(sqs, QueueUrl, ...names)).toEqual({ SqsManagedSseEnabled: 'true' });
      await sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { SqsManagedSseEnabled: 'false' } });
      expect(await attrs(sqs, QueueUrl, ...names)).toEqual({ SqsManagedSseEnabled: 'false' });
      await sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { KmsMasterKeyId: 'alias/mine' } });
      expect(await attrs(sqs, QueueUrl, ...names)).toEqual({
        SqsManagedSseEnabled: 'false',
        KmsMasterKeyId: 'alias/mine',
        KmsDataKeyReusePeriodSeconds: '300',
      });
    });
  });

  describe('tags', () => {
    it('tags, untags and lists, including tags given to CreateQueue and empty values', async () => {
      const { sqs } = env;
      const { QueueUrl } = await sqs.call('CreateQueue', { QueueName: uniqueName('tags'), tags: { team: 'core' } });
      expect((await sqs.call('ListQueueTags', { QueueUrl })).Tags).toEqual({ team: 'core' });
      await sqs.call('TagQueue', { QueueUrl, Tags: { env: 'test', Empty: '', 'k:/=+-@._ 1': 'v' } });
      expect((await sqs.call('ListQueueTags', { QueueUrl })).Tags).toEqual({
        team: 'core',
        env: 'test',
        Empty: '',
        'k:/=+-@._ 1': 'v',
      });
      // keys are case-sensitive; a tag is overwritten by its key
      await sqs.call('TagQueue', { QueueUrl, Tags: { ENV: 'x', env: 'prod' } });
      expect((await sqs.call('ListQueueTags', { QueueUrl })).Tags).toMatchObject({ env: 'prod', ENV: 'x' });
      // unknown keys are ignored
      await sqs.call('UntagQueue', { QueueUrl, TagKeys: ['env', 'ENV', 'nope'] });
      expect((await sqs.call('ListQueueTags', { QueueUrl })).Tags).toEqual({
        team: 'core',
        Empty: '',
        'k:/=+-@._ 1': 'v',
      });
      await sqs.call('UntagQueue', { QueueUrl, TagKeys: ['team', 'Empty', 'k:/=+-@._ 1'] });
      expect((await sqs.call('ListQueueTags', { QueueUrl })).Tags).toBeUndefined();
    });

    it('enforces the tag limits', async () => {
      const { sqs } = env;
      const QueueName = uniqueName('tag-limits');
      const { QueueUrl } = await sqs.call('CreateQueue', { QueueName });
      const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`]));
      await sqs.call('TagQueue', { QueueUrl, Tags: fifty });
      expect(Object.keys((await sqs.call('ListQueueTags', { QueueUrl })).Tags)).toHaveLength(50);
      const many = await awsError(
        sqs.call('TagQueue', { QueueUrl, Tags: { k50: 'x' } }),
        'InvalidParameterValue',
        proto,
      );
      expect(many.message).toBe(`Too many tags added for queue ${QueueName}.`);
      // overwriting an existing key stays within the limit
      await sqs.call('TagQueue', { QueueUrl, Tags: { k0: 'new' } });

      const cases: [Record<string, string>, string][] = [
        [{ ['k'.repeat(129)]: 'v' }, 'Tag keys must be between 1 and 128 characters in length.'],
        [
          { 'bad!key': 'v' },
          'Tag keys may only contain unicode letters, digits, whitespace, or one of these symbols: _ . : / = + - @',
        ],
        [{ ok: 'v'.repeat(257) }, 'Tag values must be between 0 and 256 characters in length.'],
      ];
      const q2 = await createQueue(sqs, 'tag-limits', false);
      for (const [Tags, message] of cases) {
        const err = await awsError(sqs.call('TagQueue', { QueueUrl: q2, Tags }), 'InvalidParameterValue', proto);
        expect(err.message).toBe(message);
      }
      // at the limits
      await sqs.call('TagQueue', { QueueUrl: q2, Tags: { ['k'.repeat(128)]: 'v'.repeat(256) } });
      await awsError(
        sqs.call('CreateQueue', { QueueName: uniqueName('tag-limits'), tags: { 'bad!key': 'v' } }),
        'InvalidParameterValue',
        proto,
      );
      // AWS's wording (as boto3 sees it on the JSON protocol)
      const noTags = await awsError(sqs.call('TagQueue', { QueueUrl: q2, Tags: {} }), 'MissingParameter', proto);
      // (an empty map is not sent over Query: the pipeline names the Query parameter)
      expect(noTags.message).toBe(`The request must contain the parameter ${json ? 'Tags' : 'Tag'}.`);
      const noKeys = await awsError(
        sqs.call('UntagQueue', { QueueUrl: q2, TagKeys: [] }),
        'InvalidParameterValue',
        proto,
      );
      expect(noKeys.message).toBe('Tag keys must be between 1 and 128 characters in length.');
    });
  });

  describe('AddPermission / RemovePermission', () => {
    it('writes statements in the SQS policy document format and removes them by label', async () => {
      const { sqs } = env;
      const QueueUrl = await createQueue(sqs, 'perm', false);
      const arn = arnOfUrl(QueueUrl);
      await sqs.call('AddPermission', {
        QueueUrl,
        Label: 'one',
        AWSAccountIds: ['111111111111'],
        Actions: ['ReceiveMessage'],
      });
      const first = JSON.parse((await attrs(sqs, QueueUrl, 'Policy')).Policy);
      expect(first).toEqual({
        Version: '2008-10-17',
        Id: `${arn}/SQSDefaultPolicy`,
        Statement: [
          {
            Sid: 'one',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111111111111:root' },
            Action: 'SQS:ReceiveMessage',
            Resource: arn,
          },
        ],
      });
      await sqs.call('AddPermission', {
        QueueUrl,
        Label: 'two',
        AWSAccountIds: ['111111111111', '222222222222'],
        Actions: ['SendMessage', 'DeleteMessage', '*'],
      });
      const second = JSON.parse((await attrs(sqs, QueueUrl, 'Policy')).Policy);
      expect(second.Statement).toHaveLength(2);
      expect(second.Statement[1]).toEqual({
        Sid: 'two',
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam::111111111111:root', 'arn:aws:iam::222222222222:root'] },
        Action: ['SQS:SendMessage', 'SQS:DeleteMessage', 'SQS:*'],
        Resource: arn,
      });

      const dup = await awsError(
        sqs.call('AddPermission', {
          QueueUrl,
          Label: 'one',
          AWSAccountIds: ['111111111111'],
          Actions: ['SendMessage'],
        }),
        'InvalidParameterValue',
        proto,
      );
      expect(dup.message).toBe('Value one for parameter Label is invalid. Reason: Already exists.');

      await sqs.call('RemovePermission', { QueueUrl, Label: 'one' });
      const third = JSON.parse((await attrs(sqs, QueueUrl, 'Policy')).Policy);
      expect(third.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['two']);
      const missing = await awsError(
        sqs.call('RemovePermission', { QueueUrl, Label: 'one' }),
        'InvalidParameterValue',
        proto,
      );
      expect(missing.message).toBe("Value one for parameter Label is invalid. Reason: can't find label.");
      // removing the last statement removes the Policy attribute
      await sqs.call('RemovePermission', { QueueUrl, Label: 'two' });
      expect(await attrs(sqs, QueueUrl, 'Policy')).toEqual({});
    });

    it('adds statements to a policy the user set', async () => {
      const { sqs } = env;
      const QueueUrl = await createQueue(sqs, 'perm-user', false);
      const user = {
        Version: '2012-10-17',
        Statement: [{ Sid: 'mine', Effect: 'Deny', Principal: '*', Action: 'sqs:*', Resource: arnOfUrl(QueueUrl) }],
      };
      await sqs.call('SetQueueAttributes', { QueueUrl, Attributes: { Policy: JSON.stringify(user) } });
      await sqs.call('AddPermission', {
        QueueUrl,
        Label: 'added',
        AWSAccountIds: ['111111111111'],
        Actions: ['SendMessage'],
      });
      const p = JSON.parse((await attrs(sqs, QueueUrl, 'Policy')).Policy);
      expect(p.Version).toBe('2012-10-17');
      expect(p.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['mine', 'added']);
    });

    it('validates actions, accounts and limits', async () => {
      const { sqs } = env;
      const QueueUrl = await createQueue(sqs, 'perm-bad', false);
      const add = (Actions: string[], AWSAccountIds = ['111111111111'], Label = uniqueName('L')) =>
        sqs.call('AddPermission', { QueueUrl, Label, AWSAccountIds, Actions });
      const invalid = await awsError(add(['SendMessageBatch']), 'InvalidParameterValue', proto);
      expect(invalid.message).toBe(
        'Value SQS:SendMessageBatch for parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid actions.',
      );
      for (const action of ['CreateQueue', 'DeleteQueue', 'SetQueueAttributes', 'TagQueue', 'AddPermission']) {
        const err = await awsError(add([action]), 'InvalidParameterValue', proto);
        expect(err.message).toBe(
          `Value SQS:${action} for parameter ActionName is invalid. Reason: Only the queue owner is allowed to invoke this action.`,
        );
      }
      const eight = [
        'SendMessage',
        'ReceiveMessage',
        'DeleteMessage',
        'ChangeMessageVisibility',
        'GetQueueAttributes',
        'GetQueueUrl',
        'PurgeQueue',
        'ListQueueTags',
      ];
      const over = await awsError(add(eight), 'OverLimit', proto);
      expect(over.message).toBe('8 Actions were found, maximum allowed is 7.');
      // no actions: checked before the accounts; no accounts: an unverifiable principal
      const noActions = await awsError(add([], []), 'MissingParameter', proto);
      expect(noActions.message).toBe('The request must contain the parameter Actions.');
      const noAccounts = await awsError(add(['SendMessage'], []), 'InvalidParameterValue', proto);
      expect(noAccounts.message).toBe('Value [] for parameter PrincipalId is invalid. Reason: Unable to verify.');
      expect(over.$metadata?.httpStatusCode).toBe(403);
      await add(eight.slice(0, 7));
      await awsError(add(['SendMessage'], ['12345']), 'InvalidParameterValue', proto);
      const label = await awsError(
        add(['SendMessage'], ['111111111111'], 'bad label!'),
        'InvalidParameterValue',
        proto,
      );
      expect(label.message).toMatch(/^Value bad label! for parameter Label is invalid\./);
      // 20 statements at most
      for (let i = 2; i <= 20; i++) await add(['SendMessage']);
      const full = await awsError(add(['SendMessage']), 'OverLimit', proto);
      expect(full.message).toBe('21 Statements were found, maximum allowed is 20.');
    });
  });

  describe('ListDeadLetterSourceQueues', () => {
    it('lists the queues whose RedrivePolicy targets the queue, with paging', async () => {
      const { sqs } = env;
      const dlq = await createQueue(sqs, 'lds-dlq', false);
      const RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arnOfUrl(dlq), maxReceiveCount: 3 });
      const sources: string[] = [];
      for (let i = 0; i < 3; i++) sources.push(await createQueue(sqs, 'lds-src', false, { RedrivePolicy }));
      await createQueue(sqs, 'lds-unrelated', false);
      sources.sort();
      const all = await sqs.call('ListDeadLetterSourceQueues', { QueueUrl: dlq });
      expect(all.queueUrls).toEqual(sources);
      expect(all.NextToken).toBeUndefined();
      const p1 = await sqs.call('ListDeadLetterSourceQueues', { QueueUrl: dlq, MaxResults: 2 });
      expect(p1.queueUrls).toEqual(sources.slice(0, 2));
      const p2 = await sqs.call('ListDeadLetterSourceQueues', {
        QueueUrl: dlq,
        MaxResults: 2,
        NextToken: p1.NextToken,
      });
      expect(p2.queueUrls).toEqual(sources.slice(2));
      expect(p2.NextToken).toBeUndefined();
      // removing a policy removes the source
      await sqs.call('SetQueueAttributes', { QueueUrl: sources[0], Attributes: { RedrivePolicy: '' } });
      expect((await sqs.call('ListDeadLetterSourceQueues', { QueueUrl: dlq })).queueUrls).toEqual(sources.slice(1));
      // a queue nobody uses as a DLQ
      expect((await sqs.call('ListDeadLetterSourceQueues', { QueueUrl: sources[0] })).queueUrls ?? []).toEqual([]);
      await awsError(
        sqs.call('ListDeadLetterSourceQueues', { QueueUrl: `${env.wharf.endpoint}/${ACCOUNT}/nope` }),
        'QueueDoesNotExist',
        proto,
      );
    });
  });

  describe.each([false, true])('PurgeQueue (fifo=%s)', (fifo) => {
    it('deletes every message, allows one purge a minute and keeps messages sent after it', async () => {
      const { sqs, clock } = env;
      const QueueUrl = await createQueue(sqs, 'purge', fifo);
      for (let i = 0; i < 3; i++) {
        await sqs.call('SendMessage', {
          QueueUrl,
          MessageBody: `m${i}`,
          ...fifoFields(fifo, { MessageGroupId: `g${i}` }),
        });
      }
      // one of them in flight, and (standard) one delayed
      await sqs.call('ReceiveMessage', { QueueUrl });
      if (!fifo) await sqs.call('SendMessage', { QueueUrl, MessageBody: 'delayed', DelaySeconds: 60 });
      expect(await counts(sqs, QueueUrl)).toEqual([2, 1, fifo ? 0 : 1]);
      await sqs.call('PurgeQueue', { QueueUrl });
      expect(await counts(sqs, QueueUrl)).toEqual([0, 0, 0]);
      expect((await sqs.call('ReceiveMessage', { QueueUrl })).Messages).toBeUndefined();

      clock.advance(1);
      await sqs.call('SendMessage', { QueueUrl, MessageBody: 'after', ...fifoFields(fifo) });
      const err = await awsError(sqs.call('PurgeQueue', { QueueUrl }), 'PurgeQueueInProgress', proto);
      expect(err.message).toBe(`Only one PurgeQueue operation on ${nameOf(QueueUrl)} is allowed every 60 seconds.`);
      expect(err.$metadata?.httpStatusCode).toBe(403);
      if (json) expect(err.Code).toBe('AWS.SimpleQueueService.PurgeQueueInProgress');
      const got = await sqs.call('ReceiveMessage', { QueueUrl });
      expect(got.Messages?.map((m: { Body: string }) => m.Body)).toEqual(['after']);

      clock.advance(59_998);
      await awsError(sqs.call('PurgeQueue', { QueueUrl }), 'PurgeQueueInProgress', proto);
      clock.advance(1);
      await sqs.call('PurgeQueue', { QueueUrl });
      expect(await counts(sqs, QueueUrl)).toEqual([0, 0, 0]);
    });
  });
});
