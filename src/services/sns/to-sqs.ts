/** Copies into an SQS queue through the SQS service's own SendMessageBatch, in-process. */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../kernel/context.js';
import { ServiceError } from '../../kernel/errors.js';
import { parseArn } from '../shared/arn.js';
import type { Attr } from './messages.js';
import type { SnsService } from './service.js';

/** a delivery attempt's result: done, or why not and whether retrying could help */
export type Outcome = { ok: true } | { ok: false; client: boolean; error: string };

export interface QueueCopy {
  body: string;
  /** carried as SQS message attributes (raw delivery) */
  attrs?: Record<string, Attr>;
  /** FIFO queues: the group, and the id a retry repeats so the queue keeps one copy */
  group?: string;
  dedup: string;
}

const NEVER = new AbortController().signal;

function sqsAttributes(attrs: Record<string, Attr>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [n, a] of Object.entries(attrs)) {
    out[n] = a.Type.startsWith('Binary')
      ? { DataType: a.Type, BinaryValue: Buffer.from(a.Value, 'base64') }
      : { DataType: a.Type, StringValue: a.Value };
  }
  return out;
}

/** Sends the copies to the queue an ARN names, ten a call; one outcome per copy, in order. */
export async function sendToQueue(
  svc: SnsService,
  queueArn: string,
  base: string,
  copies: QueueCopy[],
  onBug: (e: Error) => void,
): Promise<Outcome[]> {
  const q = parseArn(queueArn);
  if (!q || q.service !== 'sqs') return copies.map(() => ({ ok: false, client: true, error: 'InvalidEndpoint' }));
  const fifo = q.resource.endsWith('.fifo');
  const ctx: RequestContext = {
    requestId: randomUUID(),
    account: q.account,
    region: q.region,
    baseUrl: base,
    signal: NEVER,
  };
  const QueueUrl = `${base}/queue/${q.region}/${q.account}/${encodeURIComponent(q.resource)}`;
  const out: Outcome[] = [];
  for (let i = 0; i < copies.length; i += 10) {
    const chunk = copies.slice(i, i + 10);
    const Entries = chunk.map((c, j) => {
      const e: Record<string, unknown> = { Id: String(j), MessageBody: c.body };
      if (c.attrs) e.MessageAttributes = sqsAttributes(c.attrs);
      if (fifo) {
        e.MessageGroupId = c.group ?? 'default';
        e.MessageDeduplicationId = c.dedup;
      }
      return e;
    });
    try {
      const r = (await svc.deps.call('sqs', 'SendMessageBatch', ctx, { QueueUrl, Entries })) as {
        Failed?: { Id: string; SenderFault: boolean; Code: string }[];
      };
      const failed = new Map((r.Failed ?? []).map((f) => [f.Id, f]));
      for (let j = 0; j < chunk.length; j++) {
        const f = failed.get(String(j));
        out.push(f ? { ok: false, client: f.SenderFault, error: f.Code } : { ok: true });
      }
    } catch (e) {
      // the queue is gone or refuses the copy: a client-side error, not retried (AWS); anything else is retried
      const client = e instanceof ServiceError && e.fault === 'client';
      if (!(e instanceof ServiceError)) onBug(e as Error);
      const error = e instanceof ServiceError ? e.code : 'InternalError';
      for (let j = 0; j < chunk.length; j++) out.push({ ok: false, client, error });
    }
  }
  return out;
}
