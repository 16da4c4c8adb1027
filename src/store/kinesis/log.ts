/**
 * Kinesis shards on the embedded log: every record is one log record, written once; memory
 * holds per shard only an index (arrival time, log position and size per counter), so a
 * GetRecords reads its records from the log by position. Appends are answered once their
 * records are durable; trims (retention) and closes are records too, so a restart rebuilds
 * exactly what was acknowledged, in order.
 */
import { Reader, type Writer } from '../log/codec.js';
import { segmentOf, type SegmentLog } from '../log/segment-log.js';
import { Upkeep, type LogModule } from '../log/upkeep.js';
import type { StoreModule } from '../kernel.js';
import {
  kinesisWakeKey,
  type Appended,
  type KinesisStore,
  type ShardAppend,
  type ShardState,
  type StoredRecord,
} from './types.js';

const T = { OPEN: 1, RETENTION: 2, REC: 3, CLOSE: 4, TRIM: 5, DROP: 6, RESET: 7 } as const;
/** index bytes per record in a snapshot (arrival, position, size) */
const SNAP_BYTES_PER_RECORD = 20;

/** One shard's index: entry i of the arrays is the record at counter `arrBase + i`. */
class Shard {
  closed = false;
  /** the first counter still kept (records before it were trimmed) */
  first = 0;
  next = 0;
  arrBase = 0;
  arrival = new Float64Array(256);
  pos = new Float64Array(256);
  size = new Uint32Array(256);

  constructor(
    readonly handle: number,
    readonly stream: string,
    readonly shard: number,
  ) {}

  push(arrival: number, pos: number, size: number): void {
    let i = this.next - this.arrBase;
    if (i === this.arrival.length) {
      this.compact();
      i = this.next - this.arrBase;
      if (i === this.arrival.length) this.grow();
    }
    this.arrival[i] = arrival;
    this.pos[i] = pos;
    this.size[i] = size;
    this.next++;
  }

  /** Moves the kept entries to the front once the trimmed ones take half the arrays. */
  private compact(): void {
    const dead = this.first - this.arrBase;
    if (dead < this.arrival.length / 2) return;
    const live = this.next - this.first;
    this.arrival.copyWithin(0, dead, dead + live);
    this.pos.copyWithin(0, dead, dead + live);
    this.size.copyWithin(0, dead, dead + live);
    this.arrBase = this.first;
  }

  private grow(): void {
    const n = this.arrival.length * 2;
    const a = new Float64Array(n);
    a.set(this.arrival);
    const p = new Float64Array(n);
    p.set(this.pos);
    const s = new Uint32Array(n);
    s.set(this.size);
    this.arrival = a;
    this.pos = p;
    this.size = s;
  }

  at(counter: number): number {
    return counter - this.arrBase;
  }

  /** The first counter at or after `from` whose record arrived at or after `t`. */
  firstFrom(from: number, t: number): number {
    let lo = Math.max(from, this.first);
    let hi = this.next;
    if (lo >= hi || this.arrival[this.at(lo)]! >= t) return lo;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.arrival[this.at(mid)]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  last(): number {
    return this.next > this.first ? this.arrival[this.at(this.next - 1)]! : -Infinity;
  }
}

export class LogKinesis implements KinesisStore, LogModule {
  private readonly shards = new Map<string, Shard>();
  private readonly byHandle = new Map<number, Shard>();
  private readonly retention = new Map<string, number>();
  private nextHandle = 1;
  readonly upkeep: Upkeep;

  constructor(
    readonly log: SegmentLog,
    snapshotDir: string | undefined,
    sync: boolean,
    private readonly wake: (key: string) => void,
  ) {
    this.upkeep = new Upkeep(this, snapshotDir, 'kinesis', sync);
  }

  module(): StoreModule {
    return {
      tables: [],
      maintain: () => this.upkeep.run(),
      close: async () => {
        await this.upkeep.snapshot();
        await this.log.close();
      },
      afterReset: () => {
        this.clear();
        this.log.append(T.RESET, () => {});
        return this.log.durable();
      },
    };
  }

  load(): void {
    const from = this.upkeep.load();
    this.log.replay(from, (type, r, pos, size) => this.apply(type, r, pos, size));
  }

  private apply(type: number, r: Reader, pos: number, size: number): void {
    switch (type) {
      case T.OPEN: {
        const handle = r.u32();
        this.addShard(handle, r.str(), r.u32());
        return;
      }
      case T.RETENTION: {
        const stream = r.str();
        this.retention.set(stream, r.f64());
        return;
      }
      case T.REC: {
        const s = this.byHandle.get(r.u32());
        const counter = r.f64();
        const arrival = r.f64();
        if (!s) return;
        if (counter === s.next) {
          s.push(arrival, pos, size);
          this.log.retain(pos, size);
        } else if (counter >= s.first && counter < s.next) {
          // a copy written by compaction: the record lives here now
          const i = s.at(counter);
          this.log.release(s.pos[i]!, s.size[i]!);
          s.pos[i] = pos;
          s.size[i] = size;
          this.log.retain(pos, size);
        }
        return;
      }
      case T.CLOSE: {
        const s = this.byHandle.get(r.u32());
        if (s) s.closed = true;
        return;
      }
      case T.TRIM: {
        const s = this.byHandle.get(r.u32());
        if (s) this.trimTo(s, r.f64());
        return;
      }
      case T.DROP:
        this.dropStream(r.str());
        return;
      case T.RESET:
        this.clear();
        return;
      default:
        throw new Error(`unknown kinesis record type ${type}`);
    }
  }

  private addShard(handle: number, stream: string, shard: number): Shard {
    const s = new Shard(handle, stream, shard);
    this.shards.set(`${stream}/${shard}`, s);
    this.byHandle.set(handle, s);
    if (handle >= this.nextHandle) this.nextHandle = handle + 1;
    return s;
  }

  private clear(): void {
    this.shards.clear();
    this.byHandle.clear();
    this.retention.clear();
  }

  private get(stream: string, shard: number): Shard | undefined {
    return this.shards.get(`${stream}/${shard}`);
  }

  private trimTo(s: Shard, first: number): void {
    const to = Math.min(first, s.next);
    for (let c = s.first; c < to; c++) this.log.release(s.pos[s.at(c)]!, s.size[s.at(c)]!);
    if (to > s.first) s.first = to;
  }

  private dropStream(stream: string): void {
    this.retention.delete(stream);
    for (const [key, s] of this.shards) {
      if (s.stream !== stream) continue;
      this.trimTo(s, s.next);
      this.shards.delete(key);
      this.byHandle.delete(s.handle);
    }
  }

  async openShards(stream: string, shards: number[], retentionMs: number): Promise<void> {
    if (this.retention.get(stream) !== retentionMs) {
      this.retention.set(stream, retentionMs);
      this.log.append(T.RETENTION, (w) => {
        w.str(stream);
        w.f64(retentionMs);
      });
    }
    for (const shard of shards) {
      if (this.get(stream, shard)) continue;
      const s = this.addShard(this.nextHandle, stream, shard);
      this.log.append(T.OPEN, (w) => {
        w.u32(s.handle);
        w.str(stream);
        w.u32(shard);
      });
    }
    await this.log.durable();
  }

  async setRetention(stream: string, retentionMs: number): Promise<void> {
    if (!this.retention.has(stream)) return;
    this.retention.set(stream, retentionMs);
    this.log.append(T.RETENTION, (w) => {
      w.str(stream);
      w.f64(retentionMs);
    });
    await this.log.durable();
  }

  async append(stream: string, groups: ShardAppend[], now: number): Promise<(Appended | undefined)[]> {
    const out = groups.map((g): Appended | undefined => {
      const s = this.get(stream, g.shard);
      if (!s || s.closed) return undefined;
      const first = s.next;
      // arrival times never go back within a shard (a clock stepped back keeps the order)
      const arrival = Math.max(now, s.last());
      for (const rec of g.records) {
        const counter = s.next;
        const pos = this.log.append(T.REC, (w) => {
          w.u32(s.handle);
          w.f64(counter);
          w.f64(arrival);
          w.str(rec.partitionKey);
          w.bytes(rec.data);
        });
        const size = this.log.lastSize;
        s.push(arrival, pos, size);
        this.log.retain(pos, size);
      }
      return { first, arrival };
    });
    await this.log.durable();
    groups.forEach((g, i) => {
      if (out[i] && g.records.length) this.wake(kinesisWakeKey(stream, g.shard));
    });
    return out;
  }

  async read(
    stream: string,
    shard: number,
    from: number,
    opts: { limit: number; maxBytes: number; notBefore: number },
  ): Promise<StoredRecord[]> {
    const s = this.get(stream, shard);
    if (!s) return [];
    const out: StoredRecord[] = [];
    let bytes = 0;
    for (let c = s.firstFrom(from, opts.notBefore); c < s.next && out.length < opts.limit; c++) {
      const i = s.at(c);
      const r = new Reader(this.log.read(s.pos[i]!, s.size[i]!));
      r.p = 4 + 8 + 8; // handle, counter, arrival
      const partitionKey = r.str();
      const data = r.bytes();
      if (out.length > 0 && bytes + data.length > opts.maxBytes) break;
      bytes += data.length;
      out.push({ counter: c, arrival: s.arrival[i]!, partitionKey, data });
    }
    return out;
  }

  async seek(stream: string, shard: number, at: number): Promise<number> {
    const s = this.get(stream, shard);
    return s ? s.firstFrom(0, at) : 0;
  }

  async states(stream: string, shards: number[]): Promise<Map<number, ShardState>> {
    const out = new Map<number, ShardState>();
    for (const shard of shards) {
      const s = this.get(stream, shard);
      if (s) out.set(shard, { next: s.next, closed: s.closed });
    }
    return out;
  }

  async close(stream: string, shard: number): Promise<ShardState | undefined> {
    const s = this.get(stream, shard);
    if (!s) return undefined;
    if (!s.closed) {
      s.closed = true;
      this.log.append(T.CLOSE, (w) => w.u32(s.handle));
      await this.log.durable();
    }
    return { next: s.next, closed: true };
  }

  async drop(stream: string): Promise<void> {
    this.dropStream(stream);
    this.log.append(T.DROP, (w) => w.str(stream));
    await this.log.durable();
  }

  async trim(now: number): Promise<number> {
    let n = 0;
    for (const s of this.shards.values()) {
      const keep = this.retention.get(s.stream);
      if (keep === undefined) continue;
      const first = s.firstFrom(s.first, now - keep);
      if (first === s.first) continue;
      n += first - s.first;
      this.trimTo(s, first);
      this.log.append(T.TRIM, (w) => {
        w.u32(s.handle);
        w.f64(first);
      });
    }
    if (n) await this.log.durable();
    return n;
  }

  // ── snapshot and compaction ───────────────────────────────────────────────

  snapshotBytes(): number {
    let n = 0;
    for (const s of this.shards.values()) n += 64 + (s.next - s.first) * SNAP_BYTES_PER_RECORD;
    return n;
  }

  snapshot(w: Writer): void {
    w.f64(this.nextHandle);
    w.u32(this.retention.size);
    for (const [stream, ms] of this.retention) {
      w.str(stream);
      w.f64(ms);
    }
    w.u32(this.shards.size);
    for (const s of this.shards.values()) {
      w.u32(s.handle);
      w.str(s.stream);
      w.u32(s.shard);
      w.u8(s.closed ? 1 : 0);
      w.f64(s.first);
      w.f64(s.next);
      for (let c = s.first; c < s.next; c++) {
        const i = s.at(c);
        w.f64(s.arrival[i]!);
        w.f64(s.pos[i]!);
        w.u32(s.size[i]!);
      }
    }
  }

  restore(r: Reader): void {
    this.nextHandle = r.f64();
    for (let n = r.u32(); n > 0; n--) {
      const stream = r.str();
      this.retention.set(stream, r.f64());
    }
    for (let n = r.u32(); n > 0; n--) {
      const s = this.addShard(r.u32(), r.str(), r.u32());
      s.closed = r.u8() === 1;
      const first = r.f64();
      const next = r.f64();
      s.first = s.next = s.arrBase = first;
      for (let c = first; c < next; c++) {
        const arrival = r.f64();
        const pos = r.f64();
        const size = r.u32();
        s.push(arrival, pos, size);
        this.log.retain(pos, size);
      }
    }
  }

  relocate(segments: Set<number>): void {
    for (const s of this.shards.values()) {
      for (let c = s.first; c < s.next; c++) {
        const i = s.at(c);
        if (!segments.has(segmentOf(s.pos[i]!))) continue;
        const payload = Buffer.from(this.log.read(s.pos[i]!, s.size[i]!));
        const pos = this.log.append(T.REC, (w) => {
          w.ensure(payload.length);
          payload.copy(w.buf, w.n);
          w.n += payload.length;
        });
        this.log.release(s.pos[i]!, s.size[i]!);
        s.pos[i] = pos;
        s.size[i] = this.log.lastSize;
        this.log.retain(pos, this.log.lastSize);
      }
    }
  }
}
