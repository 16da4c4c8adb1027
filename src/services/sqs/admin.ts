/**
 * SQS's developer API under the admin routes: queues with their counters, a non-destructive look
 * at messages, and LocalStack's ReceiveMessage-shaped peek. Typed results; the server encodes them
 * (JSON, or the ReceiveMessage output in the client's protocol) and puts them behind the same
 * authentication as everything else.
 */
import type { AdminRoute } from '../definition.js';
import type { PeekedMessage, QueueRow } from '../../store/sqs/types.js';
import { md5Hex, md5OfAttributes } from './messages.js';
import { parseQueueUrl } from './naming.js';
import type { SqsService } from './service.js';

/** decodeURIComponent that answers undefined for a malformed escape (`%zz`) instead of throwing. */
function decodeName(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

async function peek(svc: SqsService, q: QueueRow, limit: number): Promise<PeekedMessage[]> {
  return svc.store.peek(await svc.ref(q), svc.clock.now(), limit);
}

/** The queues of one account and region, with their counters. */
const listQueues: AdminRoute<SqsService> = {
  method: 'GET',
  pattern: /^\/_wharf\/queues$/,
  async handle(svc, req) {
    const account = req.query.get('account') ?? req.defaultAccount;
    const region = req.query.get('region') ?? req.defaultRegion;
    const queues = [];
    for (const q of await svc.store.listQueues(account, region)) {
      const c = await svc.store.counts(await svc.ref(q), svc.clock.now());
      queues.push({ name: q.name, url: `${req.baseUrl}/${q.account}/${q.name}`, arn: svc.arn(q), fifo: q.fifo, ...c });
    }
    return { status: 200, json: { queues } };
  },
};

/** Up to `limit` messages of one queue, in every state, without changing any. */
const peekMessages: AdminRoute<SqsService> = {
  method: 'GET',
  pattern: /^\/_wharf\/queues\/(\d{12})\/([^/]+)\/messages$/,
  async handle(svc, req, m) {
    const name = decodeName(m[2]);
    const q = name && (await svc.store.getQueue(m[1], req.query.get('region') ?? req.defaultRegion, name));
    if (!q) return { status: 404, json: { error: 'QueueDoesNotExist' } };
    const limit = Math.min(Number(req.query.get('limit') ?? 100) || 100, 1000);
    return { status: 200, json: { messages: await peek(svc, q, limit) } };
  },
};

/** LocalStack's peek: ReceiveMessage-shaped, visible messages only unless ShowInvisible/ShowDelayed. */
const localstackPeek: AdminRoute<SqsService> = {
  // /_aws/sqs/messages, /_aws/sqs/messages/<account>/<name>, /_aws/sqs/messages/<region>/<account>/<name>
  pattern: /^\/_aws\/sqs\/messages(?:\/([^/]+)\/([^/]+)(?:\/([^/]+))?)?$/,
  async handle(svc, req, m) {
    let q: QueueRow | undefined;
    if (m[3] !== undefined) {
      const name = decodeName(m[3]);
      q = name === undefined ? undefined : await svc.store.getQueue(m[2], m[1], name);
    } else {
      const url = req.query.get('QueueUrl') ?? (m[1] !== undefined ? `${req.baseUrl}/${m[1]}/${m[2]}` : undefined);
      const addr = url ? parseQueueUrl(url) : undefined;
      q = addr && (await svc.store.getQueue(addr.account, addr.region ?? req.defaultRegion, addr.name));
    }
    if (!q) {
      return {
        status: 400,
        json: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' },
      };
    }
    const showInvisible = req.query.get('ShowInvisible') === 'true';
    const showDelayed = req.query.get('ShowDelayed') === 'true';
    const list = (await peek(svc, q, 10_000)).filter(
      (p) =>
        p.state === 'visible' || (showInvisible && p.state === 'inflight') || (showDelayed && p.state === 'delayed'),
    );
    const output = {
      Messages: list.map((p) => {
        const attrs: Record<string, string> = {
          SentTimestamp: String(p.sentAt),
          ApproximateReceiveCount: String(p.receiveCount),
        };
        if (p.groupId) attrs.MessageGroupId = p.groupId;
        if (p.dedupId) attrs.MessageDeduplicationId = p.dedupId;
        if (p.sequenceNumber) attrs.SequenceNumber = p.sequenceNumber;
        const msg: Record<string, unknown> = {
          MessageId: p.messageId,
          ReceiptHandle: 'SQS/BACKDOOR/ACCESS',
          MD5OfBody: md5Hex(p.body),
          Body: p.body,
          Attributes: attrs,
        };
        if (p.attributes) {
          msg.MessageAttributes = p.attributes;
          msg.MD5OfMessageAttributes = md5OfAttributes(p.attributes);
        }
        return msg;
      }),
    };
    // XML unless the client asks for JSON, as LocalStack answers
    return { status: 200, operation: 'ReceiveMessage', output, json: req.accept.includes('json') };
  },
};

export const sqsAdminRoutes = [listQueues, peekMessages, localstackPeek];
