/**
 * The embedded append-only log: the hot path of the embedded store (SQS messages now; Kinesis
 * shard records and internal delivery queues next). It knows records, not services: a module
 * appends typed, checksummed records, reads one back by position, replays them at start, and
 * says which records are still live so that dead segments can go.
 *
 * Record: u32 payload length, u32 CRC-32 of the type byte and payload, u8 type, payload.
 * Position: segment id × 2^32 + offset in the segment file (`<id, 16 digits>.wlog`).
 *
 * Group commit: every record appended during one event-loop turn goes into one buffer, written
 * with one write() at the end of the turn (into the OS page cache: microseconds). With
 * durability `fsync`, callers of durable() are answered after an fdatasync that started after
 * their write; it runs on libuv's thread pool, and while it runs the following turns keep
 * writing, so the next sync covers all of them (one sync per disk round trip). With `os`,
 * durable() resolves right after the write: that survives a process crash, not a power cut.
 * Without a directory the log keeps its segments in memory (`:memory:`): the same code, no
 * files.
 *
 * Recovery: a record cut short or failing its checksum at the end of the last segment is a
 * torn tail (the last write of a crash): it is cut off and everything before it is served. A bad
 * record with intact records after it is corruption, not a crash: start-up stops with an error
 * naming the file and offset, and nothing is dropped silently.
 */
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { AppError } from '../../kernel/errors.js';
import { Reader, Writer } from './codec.js';

export type Durability = 'fsync' | 'os';

export const HEADER = 9;
const SEG = 2 ** 32;
const NAME = /^(\d{16})\.wlog$/;
const READ_CHUNK = 8 * 1024 * 1024;
/**
 * With durability `fsync`, segment files are extended with zeros this far ahead of the writes:
 * an fdatasync of a file whose size does not change flushes data only, not the file's metadata
 * (about a third less time and CPU per sync here). The zeros are no records: replay stops at them.
 */
const PREALLOC = 4 * 1024 * 1024;
const ZEROS = Buffer.alloc(1024 * 1024);
/** in memory, flushed batches are copied into arenas of this size (no allocation per turn) */
const ARENA = 4 * 1024 * 1024;

export interface LogOptions {
  /** the directory of the segment files; undefined keeps them in memory */
  dir?: string;
  durability: Durability;
  /** a segment is closed for appends once it holds this many bytes (default 64 MiB) */
  segmentBytes?: number;
  onError?: (err: Error) => void;
  /** told when recovery cut off a torn tail */
  onWarn?: (message: string) => void;
}

interface Segment {
  id: number;
  /** -1 in memory */
  fd: number;
  path: string;
  size: number;
  /** the file's length: size plus the zeros written ahead */
  allocated: number;
  /** bytes of records a module still needs (retain/release) */
  live: number;
  /** in memory: the flushed batches, in order (views into arenas) */
  chunks: { at: number; buf: Buffer }[];
  arena?: Buffer;
  arenaPos: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export const segmentOf = (pos: number): number => Math.floor(pos / SEG);
export const offsetOf = (pos: number): number => pos % SEG;

export class SegmentLog {
  readonly memory: boolean;
  private readonly dir: string | undefined;
  private readonly durability: Durability;
  readonly segmentBytes: number;
  private readonly onError: (err: Error) => void;
  private readonly onWarn: (message: string) => void;
  private readonly segs = new Map<number, Segment>();
  private current!: Segment;
  private readonly batch = new Writer(256 * 1024);
  private scheduled = false;
  private turnWaiters: Waiter[] = [];
  private syncWaiters: Waiter[] = [];
  private readonly dirty = new Set<Segment>();
  private syncing = false;
  private failed: Error | undefined;
  private closed = false;
  private replayed = false;
  /** bytes appended since open (records and headers): the log's own write counter */
  appendedBytes = 0;
  /** the size of the record the last append() wrote */
  lastSize = 0;

  constructor(opts: LogOptions) {
    this.dir = opts.dir;
    this.memory = opts.dir === undefined;
    this.durability = opts.durability;
    this.segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
    this.onError = opts.onError ?? (() => {});
    this.onWarn = opts.onWarn ?? (() => {});
    if (this.dir) {
      mkdirSync(this.dir, { recursive: true });
      const ids = readdirSync(this.dir)
        .map((f) => NAME.exec(f))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b);
      for (const id of ids) {
        const path = this.pathOf(id);
        const fd = openSync(path, 'r+');
        const size = fstatSync(fd).size;
        this.segs.set(id, { id, fd, path, size, allocated: size, live: 0, chunks: [], arenaPos: 0 });
      }
    }
    if (this.segs.size === 0) this.current = this.createSegment(1);
    else this.current = this.segs.get(Math.max(...this.segs.keys()))!;
  }

  private pathOf(id: number): string {
    return this.dir ? join(this.dir, `${String(id).padStart(16, '0')}.wlog`) : `memory:${id}`;
  }

  private createSegment(id: number): Segment {
    const path = this.pathOf(id);
    let fd = -1;
    if (this.dir) {
      fd = openSync(path, 'wx+');
      // the new file's name must survive a power cut before anything written into it counts
      if (this.durability === 'fsync') this.syncDir();
    }
    const seg: Segment = { id, fd, path, size: 0, allocated: 0, live: 0, chunks: [], arenaPos: 0 };
    this.segs.set(id, seg);
    return seg;
  }

  private syncDir(): void {
    const d = openSync(this.dir!, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  }

  /** The position the next record will have. */
  end(): number {
    return this.current.id * SEG + this.current.size + this.batch.n;
  }

  /**
   * Appends one record (its payload written by `write` straight into this turn's buffer) and
   * returns its position; its size is in lastSize. It is readable at once; durable() says when
   * it is on disk.
   */
  append(type: number, write: (w: Writer) => void): number {
    if (this.failed) throw this.failed;
    if (this.closed) throw new Error('log closed');
    const w = this.batch;
    const start = w.n;
    w.ensure(HEADER);
    w.n += HEADER;
    try {
      write(w);
    } catch (e) {
      w.n = start;
      throw e;
    }
    const buf = w.buf;
    buf[start + 8] = type;
    buf.writeUInt32LE(w.n - start - HEADER, start);
    buf.writeUInt32LE(crc32(buf.subarray(start + 8, w.n)), start + 4);
    this.lastSize = w.n - start;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushTurn);
    }
    return this.current.id * SEG + this.current.size + start;
  }

  /** Resolves once every record appended so far is as durable as configured. */
  durable(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.batch.n > 0) return new Promise((resolve, reject) => this.turnWaiters.push({ resolve, reject }));
    if (this.memory || this.durability === 'os' || (this.dirty.size === 0 && !this.syncing)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.syncWaiters.push({ resolve, reject });
      this.sync();
    });
  }

  /** Writes this turn's records and syncs them now, on the event loop (start-up work). */
  flushSync(): void {
    this.flushTurn();
    if (this.failed) throw this.failed;
    if (this.memory) return;
    for (const seg of this.dirty) fdatasyncSync(seg.fd);
    this.dirty.clear();
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const x of waiters) x.resolve();
  }

  private readonly flushTurn = (): void => {
    this.scheduled = false;
    const w = this.batch;
    if (w.n === 0 || this.failed) return;
    const seg = this.current;
    const waiters = this.turnWaiters;
    this.turnWaiters = [];
    try {
      if (seg.fd >= 0) {
        // only syncs gain from it; with `os` the zeros would be writes for nothing
        if (this.durability === 'fsync' && seg.size + w.n > seg.allocated) preallocate(seg, seg.size + w.n + PREALLOC);
        let off = 0;
        while (off < w.n) off += writeSync(seg.fd, w.buf, off, w.n - off, seg.size + off);
      } else {
        if (!seg.arena || seg.arenaPos + w.n > seg.arena.length) {
          seg.arena = Buffer.allocUnsafe(Math.max(ARENA, w.n));
          seg.arenaPos = 0;
        }
        w.buf.copy(seg.arena, seg.arenaPos, 0, w.n);
        seg.chunks.push({ at: seg.size, buf: seg.arena.subarray(seg.arenaPos, seg.arenaPos + w.n) });
        seg.arenaPos += w.n;
      }
    } catch (e) {
      this.fail(e as Error, waiters);
      return;
    }
    seg.size += w.n;
    this.appendedBytes += w.n;
    w.reset();
    if (this.memory || this.durability === 'os') {
      for (const x of waiters) x.resolve();
    } else {
      this.dirty.add(seg);
      for (const x of waiters) this.syncWaiters.push(x);
      this.sync();
    }
    if (seg.size >= this.segmentBytes) {
      try {
        // a sealed segment ends at its last record
        if (seg.fd >= 0) ftruncateSync(seg.fd, seg.size);
        seg.allocated = seg.size;
        seg.arena = undefined;
        this.current = this.createSegment(seg.id + 1);
      } catch (e) {
        this.fail(e as Error, []);
      }
    }
  };

  private sync(): void {
    if (this.syncing || this.syncWaiters.length === 0) return;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    const segs = [...this.dirty];
    this.dirty.clear();
    if (segs.length === 0) {
      for (const x of waiters) x.resolve();
      return;
    }
    this.syncing = true;
    let left = segs.length;
    let error: Error | null = null;
    for (const seg of segs) {
      fdatasync(seg.fd, (err) => {
        if (err) error = err;
        if (--left > 0) return;
        this.syncing = false;
        if (error) this.fail(error, waiters);
        else for (const x of waiters) x.resolve();
        this.sync();
      });
    }
  }

  /** A write or sync failed: what was acknowledged stays, but nothing more is accepted. */
  private fail(err: Error, waiters: Waiter[]): void {
    const e = new AppError('ERR_LOG_WRITE', `the message log could not be written: ${err.message}`);
    this.failed = e;
    this.onError(e);
    for (const x of [...waiters, ...this.turnWaiters, ...this.syncWaiters]) x.reject(e);
    this.turnWaiters = [];
    this.syncWaiters = [];
  }

  /** The payload of the record at pos (size: the whole record, as append reported it). */
  read(pos: number, size: number): Buffer {
    const seg = this.segs.get(segmentOf(pos));
    if (!seg) throw new Error(`no log segment for position ${pos}`);
    const off = offsetOf(pos);
    if (seg === this.current && off >= seg.size) {
      const at = off - seg.size + HEADER;
      return Buffer.from(this.batch.buf.subarray(at, off - seg.size + size));
    }
    if (seg.fd < 0) {
      const c = chunkAt(seg.chunks, off);
      return c.buf.subarray(off - c.at + HEADER, off - c.at + size);
    }
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(seg.fd, buf, got, size - got, off + got);
      if (n === 0) throw new Error(`log segment ${seg.path} ends before offset ${off + size}`);
      got += n;
    }
    return buf.subarray(HEADER);
  }

  /** The record at pos is needed (a live message's body). */
  retain(pos: number, size: number): void {
    const seg = this.segs.get(segmentOf(pos));
    if (seg) seg.live += size;
  }

  /** The record at pos is no longer needed. */
  release(pos: number, size: number): void {
    const seg = this.segs.get(segmentOf(pos));
    if (seg) seg.live -= size;
  }

  /**
   * Calls fn for every record from `from` on, in order, and leaves the log ready to append after
   * the last good one. The reader covers one payload and is valid only during the call.
   */
  replay(from: number, fn: (type: number, r: Reader, pos: number, size: number) => void): void {
    this.replayed = true;
    const first = segmentOf(from);
    const ids = [...this.segs.keys()].sort((a, b) => a - b);
    const last = ids[ids.length - 1]!;
    for (const id of ids) {
      if (id < first) continue;
      const seg = this.segs.get(id)!;
      const stop = this.replaySegment(seg, id === first ? offsetOf(from) : 0, id === last, fn);
      if (stop !== undefined) {
        // a torn tail (only possible at the end of the last segment), or zeros written ahead
        if (!zeroFrom(seg, stop))
          this.onWarn(`cut a torn record off the end of ${seg.path} at offset ${stop} (${seg.size - stop} bytes)`);
        ftruncateSync(seg.fd, stop);
        if (this.durability === 'fsync') fsyncSync(seg.fd);
        seg.size = seg.allocated = stop;
      }
    }
  }

  /** Returns the offset of a torn tail to cut off, if any. */
  private replaySegment(
    seg: Segment,
    from: number,
    isLast: boolean,
    fn: (type: number, r: Reader, pos: number, size: number) => void,
  ): number | undefined {
    if (seg.fd < 0) return undefined;
    let buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(seg.size - from, HEADER)));
    let bufAt = from; // file offset of buf[0]
    let have = 0;
    let off = from;
    const fill = (need: number): boolean => {
      // keep [off, bufAt + have) and read until `need` bytes from off are in memory
      if (off - bufAt + need <= have) return true;
      if (off + need > seg.size) return false;
      const keep = bufAt + have - off;
      if (need > buf.length) {
        const next = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
        buf.copy(next, 0, off - bufAt, off - bufAt + keep);
        buf = next;
      } else buf.copy(buf, 0, off - bufAt, off - bufAt + keep);
      bufAt = off;
      have = keep;
      while (have < need) {
        const n = readSync(seg.fd, buf, have, Math.min(buf.length, seg.size - bufAt) - have, bufAt + have);
        if (n === 0) return false;
        have += n;
      }
      return true;
    };
    while (off < seg.size) {
      if (!fill(HEADER)) return this.bad(seg, off, isLast, 'a record header cut short');
      const at = off - bufAt;
      const len = buf.readUInt32LE(at);
      if (len > seg.size - off - HEADER) return this.bad(seg, off, isLast, 'a record longer than the file');
      if (!fill(HEADER + len)) return this.bad(seg, off, isLast, 'a record cut short');
      const s = off - bufAt;
      if (crc32(buf.subarray(s + 8, s + HEADER + len)) !== buf.readUInt32LE(s + 4))
        return this.bad(seg, off, isLast, 'a checksum mismatch');
      try {
        fn(buf[s + 8]!, new Reader(buf, s + HEADER, s + HEADER + len), seg.id * SEG + off, HEADER + len);
      } catch (e) {
        if (e instanceof AppError) throw e;
        throw corrupt(seg, off, `a record that does not decode (${(e as Error).message})`);
      }
      off += HEADER + len;
    }
    return undefined;
  }

  private bad(seg: Segment, off: number, isLast: boolean, why: string): number {
    // zeros to the end of the file were written ahead of the records (a crash before a sealed
    // segment was cut to size leaves them too): the records end here
    if (zeroFrom(seg, off)) return off;
    if (isLast && !this.validRecordAfter(seg, off)) return off;
    throw corrupt(seg, off, why);
  }

  /** Whether any intact record starts after off: then the bad one is not a torn tail. */
  private validRecordAfter(seg: Segment, off: number): boolean {
    const n = seg.size - off;
    if (n <= HEADER) return false;
    const tail = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const r = readSync(seg.fd, tail, got, n - got, off + got);
      if (r === 0) break;
      got += r;
    }
    // an intact header is never all zeros (the CRC of a type byte is not 0): no record starts
    // in the zeros written ahead, so the scan ends at the last byte that is not zero
    let end = got;
    while (end > 0 && tail[end - 1] === 0) end--;
    for (let i = 1; i < end && i + HEADER <= got; i++) {
      const len = tail.readUInt32LE(i);
      if (len > got - i - HEADER) continue;
      if (crc32(tail.subarray(i + 8, i + HEADER + len)) === tail.readUInt32LE(i + 4)) return true;
    }
    return false;
  }

  /** Segment ids with their sizes and live bytes, oldest first (compaction picks from these). */
  segments(): { id: number; size: number; live: number; current: boolean }[] {
    return [...this.segs.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({ id: s.id, size: s.size, live: s.live, current: s === this.current }));
  }

  /**
   * Deletes the segments before `before` that hold nothing live. Records in them are needed
   * neither by the state (a snapshot at or after `before` holds it) nor for bodies.
   */
  collect(before: number): number {
    let freed = 0;
    const limit = segmentOf(before);
    for (const seg of [...this.segs.values()]) {
      if (seg.id >= limit || seg === this.current || seg.live > 0) continue;
      if (this.dirty.has(seg)) continue;
      if (seg.fd >= 0) {
        closeSync(seg.fd);
        unlinkSync(seg.path);
      }
      this.segs.delete(seg.id);
      freed += seg.size;
    }
    return freed;
  }

  /** Total bytes held in segments. */
  bytes(): number {
    let n = this.batch.n;
    for (const s of this.segs.values()) n += s.size;
    return n;
  }

  /** Whether replay() ran (a log must be replayed before it is appended to). */
  get ready(): boolean {
    return this.replayed || this.memory;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failed) {
      this.flushTurn();
      await this.durable().catch(() => {});
    }
    this.closed = true;
    // a clean stop leaves no zeros after the last record
    const cur = this.current;
    if (!this.failed && cur.fd >= 0 && cur.allocated > cur.size) ftruncateSync(cur.fd, cur.size);
    for (const seg of this.segs.values()) if (seg.fd >= 0) closeSync(seg.fd);
    this.segs.clear();
  }
}

/** Extends a segment file with zeros to `to` bytes. */
function preallocate(seg: Segment, to: number): void {
  let at = seg.allocated;
  while (at < to) at += writeSync(seg.fd, ZEROS, 0, Math.min(ZEROS.length, to - at), at);
  seg.allocated = at;
}

/** Whether every byte of the segment file from off to its end is zero. */
function zeroFrom(seg: Segment, off: number): boolean {
  const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(1, seg.size - off)));
  for (let at = off; at < seg.size;) {
    const n = readSync(seg.fd, buf, 0, Math.min(buf.length, seg.size - at), at);
    if (n === 0) break;
    for (let i = 0; i < n; i++) if (buf[i] !== 0) return false;
    at += n;
  }
  return true;
}

function chunkAt(chunks: { at: number; buf: Buffer }[], off: number): { at: number; buf: Buffer } {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (chunks[mid]!.at <= off) lo = mid;
    else hi = mid - 1;
  }
  return chunks[lo]!;
}

function corrupt(seg: Segment, off: number, why: string): AppError {
  return new AppError(
    'ERR_LOG_CORRUPT',
    `the message log is damaged: ${seg.path} has ${why} at offset ${off}, and intact records follow it, so this is not ` +
      `the torn end of a crash. Wharf will not start and drop them silently: restore the data directory from a backup, ` +
      `or move that file out of the directory to start without the records it holds.`,
  );
}
