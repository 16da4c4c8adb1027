/**
 * The SQS module's records in the embedded log, one per operation. A message's SEND record
 * holds its body and, first, its state at the time of writing; later state changes are small
 * STATE records. A DLQ move, a redrive and compaction write a new SEND record for the same seq,
 * which replaces the earlier one.
 */
import type { Reader, Writer } from '../../log/codec.js';
import type { MsgState } from './table.js';

export const T = {
  SEND: 1,
  /** visibility, receive count, first receive of several messages (receive, visibility change) */
  STATE: 2,
  DELETE: 3,
  /** every message of a queue up to a seq is gone (purge, queue deleted) */
  DROP: 4,
  DEDUP: 5,
  DEDUP_CLEAR: 6,
  ATTEMPT: 7,
  ATTEMPT_CLEAR: 8,
  /** everything is gone (admin reset) */
  RESET: 9,
} as const;

/** The fields of a SEND record after the state. */
export interface Body {
  messageId: string;
  md5: string;
  senderId: string;
  dedupId: string | null;
  attrs: string | null;
  body: string;
}

/** Byte length of the fixed state at the front of a SEND payload (seq and five numbers). */
export const SEND_STATE_BYTES = 48;

export function writeSend(w: Writer, seq: number, m: MsgState, b: Body): void {
  w.f64(seq);
  w.f64(m.queueId);
  w.f64(m.visibleAt);
  w.f64(m.receiveCount);
  w.f64(m.sentAt);
  w.f64(m.firstReceiveAt);
  w.optStr(m.group);
  w.str(b.messageId);
  w.str(b.md5);
  w.str(b.senderId);
  w.optStr(b.dedupId);
  w.optStr(b.attrs);
  w.str(b.body);
}

/** The state at the front of a SEND payload (replay reads only this). */
export function readSendState(r: Reader): { seq: number; m: MsgState } {
  const seq = r.f64();
  return {
    seq,
    m: {
      queueId: r.f64(),
      visibleAt: r.f64(),
      receiveCount: r.f64(),
      sentAt: r.f64(),
      firstReceiveAt: r.f64(),
      group: r.optStr(),
    },
  };
}

/** The body fields of a SEND payload. */
export function readSendBody(r: Reader): Body {
  readSendState(r);
  return {
    messageId: r.str(),
    md5: r.str(),
    senderId: r.str(),
    dedupId: r.optStr(),
    attrs: r.optStr(),
    body: r.str(),
  };
}

/** Overwrites the state at the front of a SEND payload (compaction rewrites a record as it is now). */
export function patchSendState(buf: Buffer, at: number, m: MsgState): void {
  buf.writeDoubleLE(m.queueId, at + 8);
  buf.writeDoubleLE(m.visibleAt, at + 16);
  buf.writeDoubleLE(m.receiveCount, at + 24);
  buf.writeDoubleLE(m.sentAt, at + 32);
  buf.writeDoubleLE(m.firstReceiveAt, at + 40);
}
