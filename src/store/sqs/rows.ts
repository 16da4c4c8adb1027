/**
 * Row shapes and rules both SQL backends share: the columns of a message (SQLite keeps them in
 * two tables, PostgreSQL in one), what a receive hands out, what a peek shows, move tasks, and
 * how a receipt handle is judged against the message it names.
 */
import { decodeExtras, sequenceNumber } from './codec.js';
import type { MoveTaskRow, PeekedMessage, StoredMessage } from './types.js';

/** The columns that change: visibility, receive count. */
export interface StateColumns {
  seq: number;
  queue_id: number;
  visible_at: number;
  receive_count: number;
  sent_at: number;
  first_receive_at: number | null;
  group_id: string | null;
}

/** The columns written once. */
export interface BodyColumns {
  seq: number;
  message_id: string;
  body: string;
  md5: string;
  attrs: string | null;
  sender_id: string;
  dedup_id: string | null;
}

/** Sets a received message's attributes, their MD5s and its DLQ source from the encoded extras. */
export function withExtras(m: StoredMessage, attrs: string | null): void {
  if (!attrs) return;
  const x = decodeExtras(attrs);
  if (x.attributes) {
    m.attributes = x.attributes;
    if (x.md5OfAttributes) m.md5OfAttributes = x.md5OfAttributes;
  }
  if (x.systemAttributes) {
    m.systemAttributes = x.systemAttributes;
    if (x.md5OfSystemAttributes) m.md5OfSystemAttributes = x.md5OfSystemAttributes;
  }
  if (x.deadLetterSourceArn) m.deadLetterSourceArn = x.deadLetterSourceArn;
}

export function toStoredMessage(s: StateColumns, b: BodyColumns, receivedAt: number): StoredMessage {
  const m: StoredMessage = {
    seq: s.seq,
    messageId: b.message_id,
    body: b.body,
    md5OfBody: b.md5,
    sentAt: s.sent_at,
    receiveCount: s.receive_count,
    firstReceiveAt: s.first_receive_at ?? receivedAt,
    receivedAt,
    senderId: b.sender_id,
  };
  withExtras(m, b.attrs);
  if (s.group_id !== null) m.groupId = s.group_id;
  if (b.dedup_id !== null) {
    m.dedupId = b.dedup_id;
    m.sequenceNumber = sequenceNumber(s.seq);
  }
  return m;
}

export function toPeeked(s: StateColumns, b: BodyColumns, now: number): PeekedMessage {
  const x = decodeExtras(b.attrs);
  const p: PeekedMessage = {
    messageId: b.message_id,
    body: b.body,
    sentAt: s.sent_at,
    receiveCount: s.receive_count,
    visibleAt: s.visible_at,
    state: s.visible_at <= now ? 'visible' : s.receive_count > 0 ? 'inflight' : 'delayed',
  };
  if (x.attributes) p.attributes = x.attributes;
  if (s.group_id !== null) p.groupId = s.group_id;
  if (b.dedup_id !== null) {
    p.dedupId = b.dedup_id;
    p.sequenceNumber = sequenceNumber(s.seq);
  }
  return p;
}

/**
 * Why a receipt handle does not act on its message, or undefined when it does: gone (no such
 * message in this queue), stale (received again since: the handle is from an earlier receive),
 * expired (FIFO handles stop working when the visibility timeout passes; standard ones do not).
 */
export function receiptProblem(
  s: StateColumns | undefined,
  queueId: number,
  ref: { receiveCount: number },
  fifo: boolean,
  now: number,
): 'gone' | 'stale' | 'expired' | undefined {
  if (!s) return 'gone';
  return judgeReceipt(s.queue_id, s.receive_count, s.visible_at, queueId, ref, fifo, now);
}

/** receiptProblem over a message's own values, for backends that keep no rows (the log). */
export function judgeReceipt(
  msgQueueId: number,
  receiveCount: number,
  visibleAt: number,
  queueId: number,
  ref: { receiveCount: number },
  fifo: boolean,
  now: number,
): 'gone' | 'stale' | 'expired' | undefined {
  if (msgQueueId !== queueId) return 'gone';
  if (receiveCount !== ref.receiveCount) return 'stale';
  if (fifo && visibleAt <= now) return 'expired';
  return undefined;
}

export interface TaskColumns {
  task_handle: string;
  source_queue_id: number;
  source_arn: string;
  destination_arn: string | null;
  max_per_second: number | null;
  status: MoveTaskRow['status'];
  started_at: number;
  moved: number;
  to_move: number;
  failure_reason: string | null;
}

export function toTask(r: TaskColumns): MoveTaskRow {
  const t: MoveTaskRow = {
    taskHandle: r.task_handle,
    sourceQueueId: r.source_queue_id,
    sourceArn: r.source_arn,
    status: r.status,
    startedAt: r.started_at,
    moved: r.moved,
    toMove: r.to_move,
  };
  if (r.destination_arn !== null) t.destinationArn = r.destination_arn;
  if (r.max_per_second !== null) t.maxPerSecond = r.max_per_second;
  if (r.failure_reason !== null) t.failureReason = r.failure_reason;
  return t;
}

/** A task's values in the column order of an INSERT into move_tasks. */
export function taskValues(t: MoveTaskRow): unknown[] {
  return [
    t.taskHandle,
    t.sourceQueueId,
    t.sourceArn,
    t.destinationArn ?? null,
    t.maxPerSecond ?? null,
    t.status,
    t.startedAt,
    t.moved,
    t.toMove,
    t.failureReason ?? null,
  ];
}

/** Move-task fields a caller may update, and their columns. */
export const TASK_COLUMNS: Partial<Record<keyof MoveTaskRow, string>> = {
  status: 'status',
  moved: 'moved',
  toMove: 'to_move',
  failureReason: 'failure_reason',
};
