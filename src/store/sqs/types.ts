/**
 * The store speaks domain verbs. SQLite (embedded) and PostgreSQL (several nodes on one
 * database) implement the same interface and pass the same conformance suite
 * (test/store/sqs-store.conformance.ts). Every SQS rule that depends on stored state (FIFO
 * group locks, deduplication, DLQ moves at receive, retention) is expressed here as a verb
 * the backend runs atomically, never as a backend-only trick.
 */

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Buffer;
  StringListValues?: string[];
  BinaryListValues?: Buffer[];
}
export type MessageAttributes = Record<string, MessageAttributeValue>;

export interface QueueRow {
  id: number;
  account: string;
  region: string;
  name: string;
  fifo: boolean;
  /** Attributes as the user set them (AWS string values); defaults are applied by the service. */
  attributes: Record<string, string>;
  tags: Record<string, string>;
  createdAt: number;
  lastModifiedAt: number;
}

/** What the store needs to know about a queue's configuration to run its verbs. */
export interface QueueRef {
  id: number;
  fifo: boolean;
  arn: string;
  retentionMs: number;
  /** FIFO: 'queue' | 'messageGroup' */
  dedupScope: 'queue' | 'messageGroup';
  redrive?: { deadLetterQueueId: number; maxReceiveCount: number };
}

export interface NewMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  attributes?: MessageAttributes;
  md5OfAttributes?: string;
  systemAttributes?: MessageAttributes;
  md5OfSystemAttributes?: string;
  delayMs: number;
  groupId?: string;
  /** FIFO: the effective deduplication id (explicit, or the body's SHA-256). */
  dedupId?: string;
  senderId: string;
}

export interface SendResult {
  messageId: string;
  /** FIFO only: 20-digit decimal string. */
  sequenceNumber?: string;
  /** true when a FIFO send fell inside the deduplication window of an earlier message */
  duplicate: boolean;
}

export interface StoredMessage {
  seq: number;
  messageId: string;
  body: string;
  md5OfBody: string;
  attributes?: MessageAttributes;
  md5OfAttributes?: string;
  systemAttributes?: MessageAttributes;
  md5OfSystemAttributes?: string;
  sentAt: number;
  /** receive count after this receive */
  receiveCount: number;
  firstReceiveAt: number;
  /** the time of this receive; part of the receipt handle */
  receivedAt: number;
  groupId?: string;
  dedupId?: string;
  sequenceNumber?: string;
  deadLetterSourceArn?: string;
  senderId: string;
}

export interface ReceiveOptions {
  max: number;
  visibilityMs: number;
  now: number;
  /** FIFO ReceiveRequestAttemptId: a retry inside 5 minutes returns the same messages. */
  attemptId?: string;
}

/** A receipt handle, decoded and verified by the service. */
export interface ReceiptRef {
  seq: number;
  receiveCount: number;
}
/**
 * deleted; stale = the handle is from an earlier receive (AWS answers success, deletes nothing);
 * gone = no such message (success too); expired = FIFO handle past its visibility timeout.
 */
export type DeleteOutcome = 'deleted' | 'stale' | 'gone' | 'expired';
/** A standard-queue message whose timeout passed takes the new timeout (AWS does the same). */
export type VisibilityOutcome = 'ok' | 'stale' | 'gone' | 'expired';

export interface MessageCounts {
  visible: number;
  notVisible: number;
  delayed: number;
}

export interface MoveTaskRow {
  taskHandle: string;
  sourceQueueId: number;
  sourceArn: string;
  destinationArn?: string;
  maxPerSecond?: number;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';
  startedAt: number;
  moved: number;
  toMove: number;
  failureReason?: string;
}

export interface PeekedMessage {
  messageId: string;
  body: string;
  attributes?: MessageAttributes;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  groupId?: string;
  dedupId?: string;
  sequenceNumber?: string;
  state: 'visible' | 'inflight' | 'delayed';
}

/**
 * The SQS module of a store: plugged into its backend's kernel (store/kernel.ts), which owns the
 * connection, secrets, leases, wake-ups, reset and close.
 */
export interface SqsStore {
  // ── queues ────────────────────────────────────────────────────────────────
  /** Creates the queue, or returns the existing one with created=false. */
  createQueue(q: Omit<QueueRow, 'id'>): Promise<{ queue: QueueRow; created: boolean }>;
  getQueue(account: string, region: string, name: string): Promise<QueueRow | undefined>;
  getQueueById(id: number): Promise<QueueRow | undefined>;
  /** Queues of one account and region whose name starts with prefix, ordered by name. */
  listQueues(account: string, region: string, prefix?: string): Promise<QueueRow[]>;
  /** Every queue (background work). */
  allQueues(): Promise<QueueRow[]>;
  setQueueAttributes(id: number, attributes: Record<string, string>, now: number): Promise<QueueRow>;
  setQueueTags(id: number, tags: Record<string, string>): Promise<QueueRow>;
  /** Deletes the queue and (possibly in the background) its messages; remembers it for 60 s. */
  deleteQueue(id: number, now: number): Promise<void>;
  /** ms since the queue with this name was deleted, if within `withinMs`. */
  deletedRecently(account: string, region: string, name: string, now: number, withinMs: number): Promise<boolean>;

  // ── messages ──────────────────────────────────────────────────────────────
  send(queue: QueueRef, messages: NewMessage[], now: number): Promise<SendResult[]>;
  receive(queue: QueueRef, opts: ReceiveOptions): Promise<StoredMessage[]>;
  deleteMessages(queue: QueueRef, refs: ReceiptRef[], now: number): Promise<DeleteOutcome[]>;
  changeVisibility(
    queue: QueueRef,
    entries: { ref: ReceiptRef; visibilityMs: number }[],
    now: number,
  ): Promise<VisibilityOutcome[]>;
  /** Deletes every message sent before now. false when a purge ran within `minIntervalMs`. */
  purge(queue: QueueRef, now: number, minIntervalMs: number): Promise<boolean>;
  counts(queue: QueueRef, now: number): Promise<MessageCounts>;
  /**
   * Messages in flight, for the in-flight limit: exact on SQLite; on PostgreSQL a count at most
   * a second old (the limit is approximate on AWS too).
   */
  inflight(queue: QueueRef, now: number): Promise<number>;
  /** The earliest time after now at which a message of the queue becomes visible. */
  nextVisibleAt(queue: QueueRef, now: number): Promise<number | undefined>;
  /** Non-destructive look at up to `limit` messages, oldest first. */
  peek(queue: QueueRef, now: number, limit: number): Promise<PeekedMessage[]>;

  // ── redrive (message move tasks) ─────────────────────────────────────────
  createMoveTask(task: MoveTaskRow): Promise<void>;
  /** Tasks of one source queue, most recent first. */
  listMoveTasks(sourceQueueId: number): Promise<MoveTaskRow[]>;
  /** Tasks that are RUNNING or CANCELLING, on any queue. */
  activeMoveTasks(): Promise<MoveTaskRow[]>;
  getMoveTask(taskHandle: string): Promise<MoveTaskRow | undefined>;
  updateMoveTask(taskHandle: string, patch: Partial<MoveTaskRow>): Promise<void>;
  /**
   * Moves up to `max` visible messages from the source queue to the destination chosen for
   * each message (by `destinationFor`, from the message's DLQ source), atomically.
   * Returns how many moved and how many could not be placed.
   */
  moveMessages(
    source: QueueRef,
    destinationFor: (deadLetterSourceArn: string | undefined) => QueueRef | undefined,
    max: number,
    now: number,
  ): Promise<{ moved: number; failed: number }>;

  // ── maintenance ──────────────────────────────────────────────────────────
  /** Drops expired messages, deduplication entries and receive attempts; returns rows removed. */
  sweep(queues: QueueRef[], now: number): Promise<number>;

  /** Called when messages may have become visible on a queue (send, visibility change, …). */
  onAvailable(listener: (queueId: number) => void): void;
  /** Called when another node created, deleted or changed a queue (cached references go stale). */
  onQueuesChanged?(listener: () => void): void;
}
