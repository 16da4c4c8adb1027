/**
 * The SQS rules that depend on stored state, written once for both backends (the SQLite
 * engine and PostgreSQL apply them the same way; the conformance suite checks that they do).
 */

/** FIFO deduplication: a MessageDeduplicationId is remembered for 5 minutes (AWS). */
export const DEDUP_WINDOW_MS = 5 * 60 * 1000;

/** FIFO ReceiveRequestAttemptId: a retried receive gets the same messages for 5 minutes (AWS). */
export const ATTEMPT_WINDOW_MS = 5 * 60 * 1000;

/**
 * Fair queues: a tenant (message group of a standard queue) is noisy when it has at least 30
 * messages in flight and more than 10% of the queue's in-flight messages, as AWS documents.
 */
export const NOISY_MIN_INFLIGHT = 30;
export const NOISY_SHARE = 0.1;
export function isNoisy(tenantInflight: number, queueInflight: number): boolean {
  return tenantInflight >= NOISY_MIN_INFLIGHT && tenantInflight > NOISY_SHARE * queueInflight;
}

/** Retention: a message sent at sentAt is gone once retentionMs have passed. */
export function expired(sentAt: number, retentionMs: number, now: number): boolean {
  return sentAt + retentionMs <= now;
}

/**
 * Redrive: the receive that would exceed maxReceiveCount moves the message to the dead-letter
 * queue instead of delivering it. receiveCount is the count including this receive.
 */
export function exceedsMaxReceives(receiveCount: number, redrive: { maxReceiveCount: number } | undefined): boolean {
  return !!redrive && receiveCount - 1 >= redrive.maxReceiveCount;
}
