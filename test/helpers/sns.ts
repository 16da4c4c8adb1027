/** SNS tests: an SNS and an SQS client on one Wharf, queue ARNs, and receiving what a topic delivered. */
import * as sns from '@aws-sdk/client-sns';
import * as sqs from '@aws-sdk/client-sqs';
import type { Wharf } from '../../src/index.js';
import { runTool, type Run } from './proc.js';

export interface SnsKit {
  sns: sns.SNSClient;
  sqs: sqs.SQSClient;
  /** creates a queue; its URL and ARN */
  queue(name: string, attributes?: Record<string, string>): Promise<{ url: string; arn: string }>;
  /** receives (and deletes) until `count` messages came or `waitSeconds` passed without one */
  drain(url: string, count: number, waitSeconds?: number): Promise<sqs.Message[]>;
  destroy(): void;
}

/** An SNS client on a Wharf (one attempt, any credentials). */
export function snsClient(endpoint: string, region = 'us-east-1', accessKeyId = 'test'): sns.SNSClient {
  return new sns.SNSClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey: 'test' }, maxAttempts: 1 });
}

export function snsKit(wharf: Wharf, region = 'us-east-1', accessKeyId = 'test'): SnsKit {
  const cfg = {
    endpoint: wharf.endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey: 'test' },
    maxAttempts: 1,
  };
  const n = new sns.SNSClient(cfg);
  const q = new sqs.SQSClient(cfg);
  return {
    sns: n,
    sqs: q,
    async queue(name, attributes) {
      const { QueueUrl } = await q.send(new sqs.CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      const a = await q.send(new sqs.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      return { url: QueueUrl!, arn: a.Attributes!.QueueArn! };
    },
    async drain(url, count, waitSeconds = 2) {
      const out: sqs.Message[] = [];
      while (out.length < count) {
        const r = await q.send(
          new sqs.ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: waitSeconds,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (!r.Messages?.length) break;
        out.push(...r.Messages);
        await q.send(
          new sqs.DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
      return out;
    },
    destroy() {
      n.destroy();
      q.destroy();
    },
  };
}

/** What boto3 and the AWS CLI get in their environment: any credentials, one attempt. */
const TOOL_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_MAX_ATTEMPTS: '1',
};

/** Runs a boto3 script (Debian's python3) with the tools' environment. */
export function boto3(script: string): Promise<Run> {
  return runTool('/usr/bin/python3', ['-c', script], TOOL_ENV);
}

/**
 * Runs `aws sns <args> --output json` (Debian's AWS CLI) against Wharf: the parsed answer, or
 * undefined when it printed nothing. Throws when the CLI failed or wrote anything to stderr.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function awsSns(endpoint: string, ...args: string[]): Promise<any> {
  const r = await runTool('/usr/bin/aws', ['--endpoint-url', endpoint, 'sns', ...args, '--output', 'json'], TOOL_ENV);
  if (r.code !== 0 || r.stderr !== '') throw new Error(`aws sns ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout ? JSON.parse(r.stdout) : undefined;
}
