/**
 * Resharding as AWS does it: a split closes one shard and opens two children that share its
 * range; a merge closes two adjacent shards and opens one child over both. UpdateShardCount is
 * a series of them (with intermediate shards, as on AWS) that ends with the target number of
 * shards over even ranges. These are pure changes to a copy of the layout; the service makes
 * them durable (service.ts: the pending change is written first, then the store opens the
 * children and closes the parents, then the layout is published).
 */
import type { ShardDoc } from './service.js';
import { evenRanges } from './shard-map.js';

export class Reshard {
  readonly shards: ShardDoc[];
  readonly open: number[] = [];
  readonly close: number[] = [];

  constructor(
    shards: ShardDoc[],
    public nextIndex: number,
    private readonly now: number,
  ) {
    this.shards = shards.map((s) => ({ ...s }));
  }

  private child(start: bigint, end: bigint, parent: number, adjacent?: number): ShardDoc {
    const s: ShardDoc = { index: this.nextIndex++, start: start.toString(), end: end.toString(), createdAt: this.now };
    s.parent = parent;
    if (adjacent !== undefined) s.adjacent = adjacent;
    this.shards.push(s);
    this.open.push(s.index);
    return s;
  }

  private retire(s: ShardDoc): void {
    const mine = this.shards.find((x) => x.index === s.index)!;
    mine.closedAt = this.now;
    // an intermediate shard (opened and closed by the same change) is opened, then closed
    this.close.push(s.index);
  }

  /** Splits at `at` (the second child's first hash key). */
  split(s: ShardDoc, at: bigint): [ShardDoc, ShardDoc] {
    this.retire(s);
    return [this.child(BigInt(s.start), at - 1n, s.index), this.child(at, BigInt(s.end), s.index)];
  }

  /** Merges `s` with `adjacent` (either side); the child names `s` its parent. */
  merge(s: ShardDoc, adjacent: ShardDoc): ShardDoc {
    this.retire(s);
    this.retire(adjacent);
    const lo = BigInt(s.start) < BigInt(adjacent.start) ? s : adjacent;
    const hi = lo === s ? adjacent : s;
    return this.child(BigInt(lo.start), BigInt(hi.end), s.index, adjacent.index);
  }

  /**
   * From the open shards to `target` shards over even ranges: every open shard is split at the
   * new boundaries inside it, then the pieces of each new range are merged left to right (each
   * merge has AWS's two parents).
   */
  scaleTo(open: ShardDoc[], target: number): void {
    const ranges = evenRanges(target).map((r) => ({ start: BigInt(r.start), end: BigInt(r.end) }));
    const pieces: ShardDoc[] = [];
    for (const s0 of [...open].sort((a, b) => (BigInt(a.start) < BigInt(b.start) ? -1 : 1))) {
      let s = s0;
      const inside = ranges.map((r) => r.start).filter((b) => b > BigInt(s.start) && b <= BigInt(s.end));
      for (const b of inside) {
        const [left, right] = this.split(s, b);
        pieces.push(left);
        s = right;
      }
      pieces.push(s);
    }
    for (const r of ranges) {
      let mine = pieces.filter((p) => BigInt(p.start) >= r.start && BigInt(p.end) <= r.end);
      while (mine.length > 1) {
        const [a, b] = [mine[0]!, mine[1]!];
        mine = [this.merge(a, b), ...mine.slice(2)];
      }
    }
  }
}
