/**
 * Keeping the SQS log small and its restart fast: compaction and snapshots.
 *
 * - Compaction: a sealed segment in which less than half the bytes are still live (bodies of
 *   messages not yet deleted) has its live messages written again at the log's end, as they are
 *   now; then nothing live is left in it.
 * - Snapshot: the whole in-memory state (every message's state and body position, deduplication
 *   entries, receive attempts) written at a log position. A restart reads it and replays only the
 *   records after it, and segments before it that hold nothing live are deleted. Snapshots are
 *   taken once the log has grown by a segment and by several times the snapshot's own size since
 *   the last one (so their cost stays a fraction of the writes), and at a clean stop.
 * - In memory there is no snapshot: dead segments are simply dropped.
 */
import { Writer, type Reader } from '../../log/codec.js';
import { segmentOf } from '../../log/segment-log.js';
import { readSnapshot, writeSnapshot } from '../../log/snapshot.js';
import type { LogMessages } from './messages.js';
import { patchSendState, T } from './records.js';

const NAME = 'sqs';
/** a sealed segment with less than this share of live bytes is compacted */
const SPARSE = 0.5;
/** at most this many bytes are rewritten per upkeep pass */
const REWRITE_PER_PASS = 64 * 1024 * 1024;
/** estimated snapshot bytes per message, for deciding when one pays */
const SNAP_BYTES_PER_MSG = 72;

export class LogUpkeep {
  /** the log position of the last snapshot (0: none) */
  private snapAt = 0;
  private running = false;

  constructor(
    private readonly owner: LogMessages,
    private readonly dir: string | undefined,
    private readonly sync: boolean,
  ) {}

  /** Loads the snapshot into the owner's maps; returns the position to replay from. */
  load(): number {
    if (!this.dir) return 0;
    const snap = readSnapshot(this.dir, NAME);
    if (!snap) return 0;
    this.decode(snap.r);
    this.snapAt = snap.pos;
    return snap.pos;
  }

  private decode(r: Reader): void {
    const o = this.owner;
    o.nextSeq = r.f64();
    for (let n = r.u32(); n > 0; n--) {
      const seq = r.f64();
      const m = {
        queueId: r.f64(),
        visibleAt: r.f64(),
        receiveCount: r.f64(),
        sentAt: r.f64(),
        firstReceiveAt: r.f64(),
        group: r.optStr(),
        pos: r.f64(),
        size: r.f64(),
      };
      o.msgs.set(seq, m);
      o.log.retain(m.pos, m.size);
    }
    for (let n = r.u32(); n > 0; n--) o.dedup.set(r.str(), { messageId: r.str(), seq: r.f64(), expiresAt: r.f64() });
    for (let n = r.u32(); n > 0; n--) {
      const key = r.str();
      const expiresAt = r.f64();
      const list: number[] = [];
      for (let k = r.u32(); k > 0; k--) list.push(r.f64());
      o.attempts.set(key, { expiresAt, list });
    }
  }

  private encode(): Buffer {
    const o = this.owner;
    const w = new Writer(Math.max(1024, o.msgs.size * SNAP_BYTES_PER_MSG));
    w.f64(o.nextSeq);
    w.u32(o.msgs.size);
    for (const [seq, m] of o.msgs) {
      w.f64(seq);
      w.f64(m.queueId);
      w.f64(m.visibleAt);
      w.f64(m.receiveCount);
      w.f64(m.sentAt);
      w.f64(m.firstReceiveAt);
      w.optStr(m.group);
      w.f64(m.pos);
      w.f64(m.size);
    }
    w.u32(o.dedup.size);
    for (const [k, d] of o.dedup) {
      w.str(k);
      w.str(d.messageId);
      w.f64(d.seq);
      w.f64(d.expiresAt);
    }
    w.u32(o.attempts.size);
    for (const [k, a] of o.attempts) {
      w.str(k);
      w.f64(a.expiresAt);
      w.u32(a.list.length);
      for (const v of a.list) w.f64(v);
    }
    return w.view();
  }

  /** One pass: compact sparse segments, snapshot when it pays, drop dead segments. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.compact();
      const log = this.owner.log;
      if (!this.dir) {
        log.collect(log.end());
        return;
      }
      const grown = log.end() - this.snapAt;
      const sameSegment = segmentOf(log.end()) === segmentOf(this.snapAt);
      if (!sameSegment && grown >= Math.max(log.segmentBytes, 4 * this.owner.msgs.size * SNAP_BYTES_PER_MSG)) {
        await this.snapshot();
      }
    } finally {
      this.running = false;
    }
  }

  /** Writes the state as of now; then segments before it that hold nothing live are deleted. */
  async snapshot(): Promise<void> {
    if (!this.dir) return;
    const log = this.owner.log;
    const pos = log.end();
    if (pos === this.snapAt) return;
    const payload = this.encode();
    // the snapshot may name only records that are on disk
    await log.durable();
    writeSnapshot(this.dir, NAME, pos, payload, this.sync);
    this.snapAt = pos;
    log.collect(pos);
  }

  /** Rewrites the live messages of sparse sealed segments at the end of the log. */
  private compact(): void {
    const o = this.owner;
    const log = o.log;
    const sparse = new Set<number>();
    let budget = 0;
    for (const s of log.segments()) {
      if (s.current || s.size === 0 || s.live === 0 || s.live >= SPARSE * s.size) continue;
      if (budget + s.live > REWRITE_PER_PASS && sparse.size > 0) break;
      sparse.add(s.id);
      budget += s.live;
    }
    if (sparse.size === 0) return;
    for (const m of o.msgs.values()) {
      if (!sparse.has(segmentOf(m.pos))) continue;
      const payload = log.read(m.pos, m.size);
      const pos = log.append(T.SEND, (w) => {
        w.ensure(payload.length);
        payload.copy(w.buf, w.n);
        patchSendState(w.buf, w.n, m);
        w.n += payload.length;
      });
      log.release(m.pos, m.size);
      m.pos = pos;
      m.size = log.lastSize;
      log.retain(m.pos, m.size);
    }
  }
}
