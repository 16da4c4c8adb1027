/**
 * Debian's boto3 1.26 / botocore 1.29 (AWS Query protocol for SQS) against an in-process Wharf: the Python script
 * test/clients/sqs_boto3.py drives every action botocore 1.29 has, asserts each result and prints a JSON summary.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Wharf } from '../../src/index.js';
import { withWharf } from '../helpers/sqs.js';

// Debian's interpreter: the pyenv python3 on PATH has no boto3 (or a different one).
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../clients/sqs_boto3.py', import.meta.url));

/** Every SQS action botocore 1.29 knows (the message move task APIs came later). */
const BOTOCORE_1_29_ACTIONS = [
  'AddPermission',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'CreateQueue',
  'DeleteMessage',
  'DeleteMessageBatch',
  'DeleteQueue',
  'GetQueueAttributes',
  'GetQueueUrl',
  'ListDeadLetterSourceQueues',
  'ListQueueTags',
  'ListQueues',
  'PurgeQueue',
  'ReceiveMessage',
  'RemovePermission',
  'SendMessage',
  'SendMessageBatch',
  'SetQueueAttributes',
  'TagQueue',
  'UntagQueue',
];

/** An environment with no user AWS configuration leaking in (profiles, endpoints, credentials). */
function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr: err && !stderr ? String(err.message) : stderr });
    });
  });
}

interface Summary {
  ok: boolean;
  error?: string;
  trace?: string;
  botocore: string;
  region: string;
  actions: string[];
  checks: number;
  notes: string[];
  standard: { queueUrl: string; queueArn: string };
  fifo: { queueUrl: string; queueArn: string };
}

describe('boto3 1.26 / botocore 1.29 (AWS Query)', () => {
  let wharf: Wharf;
  beforeAll(async () => {
    wharf = await withWharf();
  });
  afterAll(async () => {
    await wharf.stop();
  });

  it('runs every SQS action on a standard and a FIFO queue', async () => {
    // eu-west-1: the region comes from the signature scope, so the ARNs must say eu-west-1
    const r = await run(PYTHON, [SCRIPT, wharf.endpoint, 'eu-west-1'], isolatedEnv());
    const last = r.stdout.trim().split('\n').pop() ?? '';
    let summary: Summary;
    try {
      summary = JSON.parse(last) as Summary;
    } catch {
      throw new Error(`no JSON summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
    expect(summary.ok, `${summary.error}\n${summary.trace}`).toBe(true);
    expect(r.code).toBe(0);
    expect(summary.botocore).toMatch(/^1\.29\./);
    expect(summary.actions).toEqual(BOTOCORE_1_29_ACTIONS);
    expect(summary.checks).toBeGreaterThan(150);
    expect(summary.notes.join(' ')).toContain('StartMessageMoveTask');
    expect(summary.standard).toEqual({
      queueUrl: `${wharf.endpoint}/000000000000/boto-standard`,
      queueArn: 'arn:aws:sqs:eu-west-1:000000000000:boto-standard',
    });
    expect(summary.fifo.queueArn).toBe('arn:aws:sqs:eu-west-1:000000000000:boto-fifo.fifo');
    // the script really talked to this server: it created and then deleted its queues here, in eu-west-1
    expect(await wharf.stores.sqs.listQueues('000000000000', 'eu-west-1')).toEqual([]);
    for (const name of ['boto-standard', 'boto-standard-dlq', 'boto-fifo.fifo', 'boto-fifo-dlq.fifo']) {
      expect(await wharf.stores.sqs.deletedRecently('000000000000', 'eu-west-1', name, Date.now(), 60_000)).toBe(true);
    }
  });
});
