/**
 * Keeping a module's log small and its restart fast: compaction and snapshots, for any module
 * that keeps its state in memory and its records in a SegmentLog (SQS messages, internal job
 * queues; Kinesis shards next).
 *
 * - Compaction: once the sealed segments hold more dead bytes than live ones (and more than a
 *   segment), those in which less than half the bytes are still live have their live records
 *   written again at the log's end, as they are now (the module knows how); then nothing live
 *   is left in them.
 * - Snapshot: the module's whole in-memory state written at a log position. A restart reads it
 *   and replays only the records after it, and segments before it that hold nothing live are
 *   deleted. Snapshots are taken once the log has grown by a segment and by several times the
 *   snapshot's own size since the last one (so their cost stays a fraction of the writes), and
 *   at a clean stop.
 * - In memory there is no snapshot: dead segments are simply dropped.
 */
import { Writer, type Reader } from './codec.js';
import { segmentOf, type SegmentLog } from './segment-log.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';

/** What a module gives the upkeep. */
export interface LogModule {
  readonly log: SegmentLog;
  /** about how many bytes its snapshot takes */
  snapshotBytes(): number;
  /** writes its whole state */
  snapshot(w: Writer): void;
  /** reads that state back (at start, before the log after it is replayed) */
  restore(r: Reader): void;
  /** writes the live records held in these segments again at the log's end, as they are now */
  relocate(segments: Set<number>): void;
}

/** a sealed segment with less than this share of live bytes is compacted */
const SPARSE = 0.5;
/** at most this many live bytes are rewritten per pass */
const REWRITE_PER_PASS = 64 * 1024 * 1024;

export class Upkeep {
  /** the log position of the last snapshot (0: none) */
  private snapAt = 0;
  private running = false;

  constructor(
    private readonly module: LogModule,
    /** where the snapshot file goes; undefined in memory */
    private readonly dir: string | undefined,
    private readonly name: string,
    private readonly sync: boolean,
  ) {}

  /** Restores the snapshot into the module; returns the position to replay from. */
  load(): number {
    if (!this.dir) return 0;
    const snap = readSnapshot(this.dir, this.name);
    if (!snap) return 0;
    this.module.restore(snap.r);
    this.snapAt = snap.pos;
    return snap.pos;
  }

  /** One pass: compact sparse segments, snapshot when it pays, drop dead segments. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.compact();
      const log = this.module.log;
      if (!this.dir) {
        log.collect(log.end());
        return;
      }
      const grown = log.end() - this.snapAt;
      const sameSegment = segmentOf(log.end()) === segmentOf(this.snapAt);
      if (!sameSegment && grown >= Math.max(log.segmentBytes, 4 * this.module.snapshotBytes())) await this.snapshot();
    } finally {
      this.running = false;
    }
  }

  /** Writes the state as of now; then segments before it that hold nothing live are deleted. */
  async snapshot(): Promise<void> {
    if (!this.dir) return;
    const log = this.module.log;
    const pos = log.end();
    if (pos === this.snapAt) return;
    const w = new Writer(Math.max(1024, this.module.snapshotBytes()));
    this.module.snapshot(w);
    // the snapshot may name only records that are on disk
    await log.durable();
    writeSnapshot(this.dir, this.name, pos, w.view(), this.sync);
    this.snapAt = pos;
    log.collect(pos);
  }

  /**
   * Only once the dead bytes of sealed segments outweigh both the live ones and a segment: a
   * backlog being drained from its front leaves each segment half dead for a moment, and
   * rewriting what is about to be received and deleted would copy every message twice. The
   * sparsest segments go first.
   */
  private compact(): void {
    const log = this.module.log;
    const sealed = log.segments().filter((s) => !s.current && s.size > 0);
    let size = 0;
    let live = 0;
    for (const s of sealed) {
      size += s.size;
      live += s.live;
    }
    if (size - live < Math.max(live, log.segmentBytes)) return;
    const sparse = new Set<number>();
    let budget = 0;
    for (const s of sealed.sort((a, b) => a.live / a.size - b.live / b.size)) {
      if (s.live === 0 || s.live >= SPARSE * s.size) continue;
      if (budget + s.live > REWRITE_PER_PASS && sparse.size > 0) break;
      sparse.add(s.id);
      budget += s.live;
    }
    if (sparse.size > 0) this.module.relocate(sparse);
  }
}
