import { describe, expect, it } from 'vitest';
import { Reshard } from '../../src/services/kinesis/reshard.js';
import { evenRanges } from '../../src/services/kinesis/shard-map.js';
import type { ShardDoc } from '../../src/services/kinesis/service.js';

const initial = (n: number): ShardDoc[] => evenRanges(n).map((r, index) => ({ index, ...r, createdAt: 0 }));

describe('UpdateShardCount as splits and merges', () => {
  for (const [from, to] of [
    [1, 2],
    [2, 1],
    [3, 5],
    [5, 3],
    [4, 7],
    [7, 4],
    [6, 12],
    [12, 6],
    [10, 19],
    [5, 5],
  ] as const) {
    it(`${from} → ${to} shards: even ranges, AWS lineage, every step a split or a merge`, () => {
      const r = new Reshard(initial(from), from, 1000);
      r.scaleTo(initial(from), to);
      const open = r.shards.filter((s) => s.closedAt === undefined);
      expect(open.map((s) => [s.start, s.end]).sort()).toEqual(
        evenRanges(to)
          .map((x) => [x.start, x.end])
          .sort(),
      );
      for (const s of r.shards) {
        if (s.parent === undefined) continue;
        const parents = [s.parent, s.adjacent]
          .filter((x) => x !== undefined)
          .map((i) => r.shards.find((p) => p.index === i)!);
        for (const p of parents) expect(p.closedAt).toBe(1000);
        if (parents.length === 2) {
          // a merge: two adjacent parents, the child exactly their union
          const [lo, hi] = [...parents].sort((a, b) => (BigInt(a.start) < BigInt(b.start) ? -1 : 1));
          expect(BigInt(lo!.end) + 1n).toBe(BigInt(hi!.start));
          expect([s.start, s.end]).toEqual([lo!.start, hi!.end]);
        } else {
          // a split: the two children of a parent are its range cut in two
          const kids = r.shards.filter((x) => x.parent === s.parent && x.adjacent === undefined);
          expect(kids.length).toBe(2);
          const [a, b] = kids.sort((x, y) => (BigInt(x.start) < BigInt(y.start) ? -1 : 1));
          expect([a!.start, b!.end]).toEqual([parents[0]!.start, parents[0]!.end]);
          expect(BigInt(a!.end) + 1n).toBe(BigInt(b!.start));
        }
      }
      // every shard the change opened is in open; every one it retired is in close
      expect(r.close.sort()).toEqual(
        r.shards
          .filter((s) => s.closedAt !== undefined)
          .map((s) => s.index)
          .sort(),
      );
      if (from === to) expect(r.open).toEqual([]);
    });
  }
});
