/**
 * Debian's AWS CLI v2 (2.9.19, AWS Query protocol for SQS) against an in-process Wharf: the same breadth as the
 * boto3 script, one `aws sqs <command>` per call. Each call costs about half a second of CPU, so independent calls
 * run in parallel.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';

const AWS = '/usr/bin/aws';
const ACCOUNT = '000000000000';
const REGION = 'ap-southeast-2';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function md5(s: string | Buffer): string {
  return createHash('md5').update(s).digest('hex');
}

/** The digest SDKs verify: per attribute in name order, length-prefixed name, type, transport byte and value. */
function md5OfAttributes(attrs: Record<string, { DataType: string; StringValue?: string; BinaryValue?: Buffer }>) {
  const parts: Buffer[] = [];
  const lp = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  for (const name of Object.keys(attrs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    const v = attrs[name];
    lp(Buffer.from(name));
    lp(Buffer.from(v.DataType));
    if (v.StringValue !== undefined) {
      parts.push(Buffer.from([1]));
      lp(Buffer.from(v.StringValue));
    } else {
      parts.push(Buffer.from([2]));
      lp(v.BinaryValue!);
    }
  }
  return md5(Buffer.concat(parts));
}

describe('AWS CLI v2 2.9 (AWS Query)', () => {
  let wharf: Wharf;
  let std: string;
  let fifo: string;
  let dlq: string;

  function run(args: string[]): Promise<Run> {
    const env = {
      PATH: '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      AWS_ACCESS_KEY_ID: 'AKIDAWSCLI',
      AWS_SECRET_ACCESS_KEY: 'cli-secret',
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    };
    const argv = ['--endpoint-url', wharf.endpoint, '--output', 'json', 'sqs', ...args];
    return new Promise((resolve) => {
      execFile(AWS, argv, { env, timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr: err && !stderr ? String(err.message) : stderr });
      });
    });
  }

  /** Runs a command that must succeed; returns its JSON output ({} when it prints nothing). */
  async function aws(...args: string[]): Promise<Json> {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`aws sqs ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as Json) : {};
  }

  /** Runs a command that must fail with an AWS error code; returns stderr. */
  async function awsFails(code: string, ...args: string[]): Promise<string> {
    const r = await run(args);
    expect(r.code, `aws sqs ${args.join(' ')} should fail`).not.toBe(0);
    expect(r.stderr).toContain(`An error occurred (${code}) when calling the`);
    return r.stderr;
  }

  beforeAll(async () => {
    wharf = await withWharf();
  });
  afterAll(async () => {
    await wharf?.stop();
  });

  it('creates queues with attributes and tags, and reads them back', async () => {
    const created = await Promise.all([
      aws(
        'create-queue',
        '--queue-name',
        'cli-std',
        '--attributes',
        'VisibilityTimeout=40,MessageRetentionPeriod=7200,DelaySeconds=0',
        '--tags',
        'team=wharf,env=test',
      ),
      aws(
        'create-queue',
        '--queue-name',
        'cli-fifo.fifo',
        '--attributes',
        JSON.stringify({ FifoQueue: 'true', ContentBasedDeduplication: 'true' }),
        '--tags',
        'team=wharf',
      ),
      aws('create-queue', '--queue-name', 'cli-dlq'),
    ]);
    [std, fifo, dlq] = created.map((c) => c.QueueUrl as string);
    expect(std).toBe(`${wharf.endpoint}/${ACCOUNT}/cli-std`);
    expect(fifo).toBe(`${wharf.endpoint}/${ACCOUNT}/cli-fifo.fifo`);

    const redrive = JSON.stringify({
      deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:cli-dlq`,
      maxReceiveCount: 3,
    });
    const [url, page, attrs] = await Promise.all([
      aws('get-queue-url', '--queue-name', 'cli-std'),
      // the CLI follows NextToken itself: three queues, one per page
      aws('list-queues', '--queue-name-prefix', 'cli-', '--page-size', '1'),
      aws('get-queue-attributes', '--queue-url', std, '--attribute-names', 'All'),
      aws('tag-queue', '--queue-url', std, '--tags', 'owner=me,env=ci'),
      aws('set-queue-attributes', '--queue-url', std, '--attributes', JSON.stringify({ RedrivePolicy: redrive })),
      aws(
        'add-permission',
        '--queue-url',
        std,
        '--label',
        'cli-perm',
        '--aws-account-ids',
        '111111111111',
        '--actions',
        'SendMessage',
        'GetQueueAttributes',
      ),
    ]);
    expect(url).toEqual({ QueueUrl: std });
    expect(page.QueueUrls.sort()).toEqual([dlq, fifo, std].sort());
    expect(attrs.Attributes).toMatchObject({
      QueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:cli-std`,
      VisibilityTimeout: '40',
      MessageRetentionPeriod: '7200',
      DelaySeconds: '0',
      ApproximateNumberOfMessages: '0',
    });

    const [after, tags, sources] = await Promise.all([
      aws('get-queue-attributes', '--queue-url', std, '--attribute-names', 'Policy', 'RedrivePolicy'),
      aws('untag-queue', '--queue-url', std, '--tag-keys', 'team').then(() =>
        aws('list-queue-tags', '--queue-url', std),
      ),
      aws('list-dead-letter-source-queues', '--queue-url', dlq),
    ]);
    const policy = JSON.parse(after.Attributes.Policy);
    expect(policy.Statement).toEqual([
      {
        Sid: 'cli-perm',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111111111111:root' },
        Action: ['SQS:SendMessage', 'SQS:GetQueueAttributes'],
        Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:cli-std`,
      },
    ]);
    expect(JSON.parse(after.Attributes.RedrivePolicy)).toEqual(JSON.parse(redrive));
    // created with team and env; tagged owner and env (overwritten); team removed
    expect(tags.Tags).toEqual({ env: 'ci', owner: 'me' });
    expect(sources.queueUrls).toEqual([std]);

    expect(await aws('remove-permission', '--queue-url', std, '--label', 'cli-perm')).toEqual({});
  });

  it('sends and receives messages with every attribute type', async () => {
    const attributes = {
      s: { DataType: 'String', StringValue: 'héllo <&> wharf' },
      n: { DataType: 'Number', StringValue: '3.14' },
      c: { DataType: 'String.custom', StringValue: 'labelled' },
      b: { DataType: 'Binary', BinaryValue: 'AQID' },
    };
    // CLI v2 takes blobs as base64 (cli_binary_format=base64): the server gets the bytes 1, 2, 3
    const asSent = { ...attributes, b: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) } };
    const body = 'a body with ünïcödé 😀 and a\r\nnew line';
    const [one, batch, [fifoOne, fifoBatch]] = await Promise.all([
      aws(
        'send-message',
        '--queue-url',
        std,
        '--message-body',
        body,
        '--message-attributes',
        JSON.stringify(attributes),
        '--message-system-attributes',
        JSON.stringify({ AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1-abc' } }),
      ),
      aws(
        'send-message-batch',
        '--queue-url',
        std,
        '--entries',
        JSON.stringify([
          { Id: 'b1', MessageBody: 'batch 1', MessageAttributes: { n: attributes.n } },
          { Id: 'b2', MessageBody: 'batch 2', DelaySeconds: 0 },
          { Id: 'b3', MessageBody: 'batch \u0001 3' },
        ]),
      ),
      // in order within group g1: the single send first, then the batch
      aws('send-message', '--queue-url', fifo, '--message-body', 'fifo 1', '--message-group-id', 'g1').then(
        async (first) => [
          first,
          await aws(
            'send-message-batch',
            '--queue-url',
            fifo,
            '--entries',
            JSON.stringify([
              { Id: 'f2', MessageBody: 'fifo 2', MessageGroupId: 'g1' },
              { Id: 'f3', MessageBody: 'fifo 3', MessageGroupId: 'g2', MessageDeduplicationId: 'dedup-3' },
            ]),
          ),
        ],
      ),
    ]);
    expect(one.MD5OfMessageBody).toBe(md5(body));
    expect(one.MD5OfMessageAttributes).toBe(md5OfAttributes(asSent));
    expect(batch.Successful.map((s: Json) => s.Id).sort()).toEqual(['b1', 'b2']);
    expect(batch.Failed).toEqual([
      expect.objectContaining({ Id: 'b3', Code: 'InvalidMessageContents', SenderFault: true }),
    ]);
    expect(fifoOne.SequenceNumber).toMatch(/^\d+$/);
    expect(fifoBatch.Successful).toHaveLength(2);

    const [got, fifoGot] = await Promise.all([
      aws(
        'receive-message',
        '--queue-url',
        std,
        '--max-number-of-messages',
        '10',
        '--attribute-names',
        'All',
        '--message-attribute-names',
        'All',
      ),
      aws('receive-message', '--queue-url', fifo, '--max-number-of-messages', '10', '--attribute-names', 'All'),
    ]);
    expect(got.Messages).toHaveLength(3);
    const m = got.Messages.find((x: Json) => x.MessageId === one.MessageId);
    expect(m.Body).toBe(body);
    expect(m.MD5OfBody).toBe(md5(body));
    expect(m.MD5OfMessageAttributes).toBe(one.MD5OfMessageAttributes);
    expect(m.MessageAttributes).toEqual(attributes);
    expect(m.Attributes).toMatchObject({
      SenderId: 'AKIDAWSCLI',
      ApproximateReceiveCount: '1',
      AWSTraceHeader: 'Root=1-abc',
    });
    expect(Number(m.Attributes.SentTimestamp)).toBeGreaterThan(Date.now() - 600_000);
    // FIFO: group order, sequence numbers, and the content-based deduplication id
    expect(fifoGot.Messages.map((x: Json) => x.Body)).toEqual(['fifo 1', 'fifo 2', 'fifo 3']);
    expect(fifoGot.Messages[0].Attributes).toMatchObject({
      MessageGroupId: 'g1',
      MessageDeduplicationId: createHash('sha256').update('fifo 1').digest('hex'),
      SequenceNumber: fifoOne.SequenceNumber,
    });
    expect(fifoGot.Messages[2].Attributes.MessageDeduplicationId).toBe('dedup-3');

    // change visibility (single and batch), delete (single and batch)
    const [first, ...others] = got.Messages as Json[];
    const [cv, cvb] = await Promise.all([
      aws(
        'change-message-visibility',
        '--queue-url',
        std,
        '--receipt-handle',
        first.ReceiptHandle,
        '--visibility-timeout',
        '0',
      ),
      aws(
        'change-message-visibility-batch',
        '--queue-url',
        std,
        '--entries',
        JSON.stringify([
          ...others.map((x, i) => ({ Id: `v${i}`, ReceiptHandle: x.ReceiptHandle, VisibilityTimeout: 600 })),
          { Id: 'bad', ReceiptHandle: 'garbage', VisibilityTimeout: 5 },
        ]),
      ),
      aws(
        'delete-message-batch',
        '--queue-url',
        fifo,
        '--entries',
        JSON.stringify(fifoGot.Messages.map((x: Json, i: number) => ({ Id: `d${i}`, ReceiptHandle: x.ReceiptHandle }))),
      ).then((r) => expect(r.Successful).toHaveLength(3)),
    ]);
    expect(cv).toEqual({});
    expect(cvb.Successful.map((s: Json) => s.Id).sort()).toEqual(['v0', 'v1']);
    expect(cvb.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' })]);

    const again = await aws('receive-message', '--queue-url', std, '--attribute-names', 'ApproximateReceiveCount');
    expect(again.Messages).toHaveLength(1);
    expect(again.Messages[0].MessageId).toBe(first.MessageId);
    expect(again.Messages[0].Attributes).toEqual({ ApproximateReceiveCount: '2' });
    const [, del] = await Promise.all([
      aws('delete-message', '--queue-url', std, '--receipt-handle', again.Messages[0].ReceiptHandle),
      aws(
        'delete-message-batch',
        '--queue-url',
        std,
        '--entries',
        JSON.stringify([
          ...others.map((x, i) => ({ Id: `d${i}`, ReceiptHandle: x.ReceiptHandle })),
          { Id: 'bad', ReceiptHandle: 'garbage' },
        ]),
      ),
    ]);
    expect(del.Successful.map((s: Json) => s.Id).sort()).toEqual(['d0', 'd1']);
    expect(del.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' })]);
    // nothing left in either queue (the admin API counts without another CLI call)
    const admin = await fetch(`${wharf.endpoint}/_wharf/queues?account=${ACCOUNT}&region=${REGION}`);
    const { queues } = (await admin.json()) as { queues: Json[] };
    for (const name of ['cli-std', 'cli-fifo.fifo']) {
      expect(queues.find((q) => q.name === name)).toMatchObject({ visible: 0, notVisible: 0, delayed: 0 });
    }
  });

  it('purges, deletes queues and reports AWS errors', async () => {
    await aws('send-message', '--queue-url', dlq, '--message-body', 'to be purged');
    await aws('purge-queue', '--queue-url', dlq);
    const [counts, purgeAgain, missingQueue] = await Promise.all([
      aws('get-queue-attributes', '--queue-url', dlq, '--attribute-names', 'ApproximateNumberOfMessages'),
      awsFails('AWS.SimpleQueueService.PurgeQueueInProgress', 'purge-queue', '--queue-url', dlq),
      awsFails('AWS.SimpleQueueService.NonExistentQueue', 'get-queue-url', '--queue-name', 'cli-missing'),
    ]);
    expect(counts.Attributes).toEqual({ ApproximateNumberOfMessages: '0' });
    expect(purgeAgain).toContain('Only one PurgeQueue operation on cli-dlq is allowed every 60 seconds.');
    expect(missingQueue).toContain('The specified queue does not exist');

    await Promise.all([std, fifo, dlq].map((q) => aws('delete-queue', '--queue-url', q)));
    expect(await wharf.stores.sqs.listQueues(ACCOUNT, REGION)).toEqual([]);
    for (const name of ['cli-std', 'cli-fifo.fifo', 'cli-dlq']) {
      expect(await wharf.stores.sqs.deletedRecently(ACCOUNT, REGION, name, Date.now(), 60_000)).toBe(true);
    }
  });
});
