import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEADER, SegmentLog, segmentOf } from '../../src/store/log/segment-log.js';
import type { Reader } from '../../src/store/log/codec.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wharf-log-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const text = (i: number) => `record ${i} ${'x'.repeat((i % 7) * 13)}`;

/** Replays a log into [type, text, pos] triples. */
function replayAll(log: SegmentLog, from = 0): [number, string, number][] {
  const out: [number, string, number][] = [];
  log.replay(from, (type: number, r: Reader, pos: number) => out.push([type, r.str(), pos]));
  return out;
}

async function writeRecords(d: string, n: number, opts: { segmentBytes?: number } = {}): Promise<number[]> {
  const log = new SegmentLog({ dir: d, durability: 'fsync', ...opts });
  replayAll(log);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    log.append(1 + (i % 5), (w) => w.str(text(i)));
    sizes.push(log.lastSize);
    // a few records per turn, as under load
    if (i % 3 === 2) await log.durable();
  }
  await log.close();
  return sizes;
}

describe('SegmentLog', () => {
  it('reads a record back in the same turn, after the write, and after a restart', async () => {
    const log = new SegmentLog({ dir, durability: 'fsync' });
    replayAll(log);
    const a = log.append(7, (w) => w.str('hello'));
    const sa = log.lastSize;
    expect(log.read(a, sa).subarray(4).toString()).toBe('hello');
    await log.durable();
    const b = log.append(8, (w) => w.str('world'));
    const sb = log.lastSize;
    expect(log.read(a, sa).subarray(4).toString()).toBe('hello');
    expect(log.read(b, sb).subarray(4).toString()).toBe('world');
    await log.close();
    const again = new SegmentLog({ dir, durability: 'fsync' });
    expect(replayAll(again)).toEqual([
      [7, 'hello', a],
      [8, 'world', b],
    ]);
    expect(again.read(b, sb).subarray(4).toString()).toBe('world');
    // appends continue after the last record
    expect(again.end()).toBe(b + sb);
    await again.close();
  });

  it('groups every record of a turn into one write', async () => {
    const log = new SegmentLog({ dir, durability: 'os' });
    replayAll(log);
    for (let i = 0; i < 100; i++) log.append(1, (w) => w.str(text(i)));
    const file = join(dir, readdirSync(dir)[0]!);
    expect(statSync(file).size).toBe(0); // nothing written until the turn ends
    await log.durable();
    // one write of every record (the file is extended with zeros ahead of it)
    expect(log.appendedBytes).toBeGreaterThan(100 * HEADER);
    expect(statSync(file).size).toBeGreaterThanOrEqual(log.appendedBytes);
    await log.close();
    expect(statSync(file).size).toBe(log.appendedBytes);
  });

  it('rolls segments, replays across them from any position, and deletes only dead ones', async () => {
    const log = new SegmentLog({ dir, durability: 'fsync', segmentBytes: 200 });
    replayAll(log);
    const pos: number[] = [];
    for (let i = 0; i < 40; i++) {
      pos.push(log.append(1, (w) => w.str(text(i))));
      await log.durable();
    }
    const segs = log.segments();
    expect(segs.length).toBeGreaterThan(5);
    // one live record in the third segment keeps it
    const keep = pos.find((p) => segmentOf(p) === segs[2]!.id)!;
    log.retain(keep, HEADER + 4 + Buffer.byteLength(text(pos.indexOf(keep))));
    const before = pos[30]!;
    log.collect(before);
    const left = log.segments().map((s) => s.id);
    expect(left).toContain(segs[2]!.id);
    expect(left).not.toContain(segs[0]!.id);
    expect(left).toContain(segmentOf(before));
    await log.close();
    const again = new SegmentLog({ dir, durability: 'fsync', segmentBytes: 200 });
    const got = replayAll(again, before);
    expect(got.map((g) => g[1])).toEqual([...Array(10).keys()].map((i) => text(30 + i)));
    await again.close();
  });

  it('cuts a torn tail at any point and serves everything before it', async () => {
    const sizes = await writeRecords(dir, 12);
    const file = readdirSync(dir).find((f) => f.endsWith('.wlog'))!;
    const full = readFileSync(join(dir, file));
    const ends = sizes.reduce<number[]>((a, s) => [...a, (a[a.length - 1] ?? 0) + s], []);
    for (let cut = 0; cut <= full.length; cut++) {
      const d = join(dir, `cut-${cut}`);
      mkdirSync(d);
      writeFileSync(join(d, file), full.subarray(0, cut));
      const warnings: string[] = [];
      const log = new SegmentLog({ dir: d, durability: 'os', onWarn: (m) => warnings.push(m) });
      const got = replayAll(log);
      const whole = ends.filter((e) => e <= cut).length;
      expect(got.map((g) => g[1])).toEqual([...Array(whole).keys()].map(text));
      const boundary = whole ? ends[whole - 1]! : 0;
      expect(statSync(join(d, file)).size).toBe(boundary);
      expect(warnings.length).toBe(cut === boundary ? 0 : 1);
      // the log goes on after the cut
      log.append(9, (w) => w.str('after'));
      await log.close();
      const again = new SegmentLog({ dir: d, durability: 'os' });
      expect(replayAll(again).map((g) => g[1])).toEqual([...[...Array(whole).keys()].map(text), 'after']);
      await again.close();
    }
  });

  it('refuses to start on a damaged record that intact records follow, naming the file and offset', async () => {
    const sizes = await writeRecords(dir, 12);
    const file = readdirSync(dir).find((f) => f.endsWith('.wlog'))!;
    const full = readFileSync(join(dir, file));
    let start = 0;
    for (let k = 0; k < sizes.length; k++) {
      // every byte of the record: its length, its checksum, its type and its payload
      for (let at = start; at < start + sizes[k]!; at++) {
        const d = join(dir, `bad-${at}`);
        mkdirSync(d);
        const bad = Buffer.from(full);
        bad[at] = bad[at]! ^ 0x5a;
        writeFileSync(join(d, file), bad);
        const log = new SegmentLog({ dir: d, durability: 'os' });
        if (k < sizes.length - 1) {
          let err: Error | undefined;
          try {
            replayAll(log);
          } catch (e) {
            err = e as Error;
          }
          expect(err, `byte ${at} of record ${k}`).toBeDefined();
          expect((err as Error & { code?: string }).code).toBe('ERR_LOG_CORRUPT');
          expect(err!.message).toContain(join(d, file));
          expect(err!.message).toContain(`at offset ${start}`);
        } else {
          // the last record damaged is indistinguishable from a torn write: it is cut off
          expect(replayAll(log).length).toBe(sizes.length - 1);
        }
        await log.close();
        rmSync(d, { recursive: true });
      }
      start += sizes[k]!;
    }
  });

  it('treats damage in a segment that is not the last as corruption, even at its end', async () => {
    await writeRecords(dir, 30, { segmentBytes: 200 });
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.wlog'))
      .sort();
    expect(files.length).toBeGreaterThan(2);
    const first = join(dir, files[0]!);
    truncateSync(first, statSync(first).size - 3);
    const log = new SegmentLog({ dir, durability: 'os', segmentBytes: 200 });
    expect(() => replayAll(log)).toThrow(/ERR_LOG_CORRUPT|damaged/);
    await log.close();
  });

  it('keeps its segments in memory without a directory, and frees dead ones', async () => {
    const log = new SegmentLog({ durability: 'fsync', segmentBytes: 100 });
    const pos: number[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < 30; i++) {
      pos.push(log.append(1, (w) => w.str(text(i))));
      sizes.push(log.lastSize);
      if (i % 4 === 0) await log.durable();
    }
    await log.durable();
    for (let i = 0; i < 30; i++) expect(log.read(pos[i]!, sizes[i]!).subarray(4).toString()).toBe(text(i));
    log.retain(pos[29]!, sizes[29]!);
    const segs = log.segments().length;
    log.collect(log.end());
    expect(log.segments().length).toBeLessThan(segs);
    expect(log.read(pos[29]!, sizes[29]!).subarray(4).toString()).toBe(text(29));
    await log.close();
  });

  it('stops at the zeros written ahead of the records, with or without a clean stop', async () => {
    const log = new SegmentLog({ dir, durability: 'fsync' });
    replayAll(log);
    for (let i = 0; i < 5; i++) log.append(1, (w) => w.str(text(i)));
    await log.durable();
    const file = join(dir, readdirSync(dir)[0]!);
    expect(statSync(file).size).toBeGreaterThan(log.appendedBytes); // zeros ahead
    const crashed = join(dir, 'crashed');
    mkdirSync(crashed);
    copyFileSync(
      file,
      join(
        crashed,
        readdirSync(dir).find((f) => f.endsWith('.wlog'))!,
      ),
    );
    const warnings: string[] = [];
    const again = new SegmentLog({ dir: crashed, durability: 'fsync', onWarn: (m) => warnings.push(m) });
    expect(replayAll(again).map((g) => g[1])).toEqual([0, 1, 2, 3, 4].map(text));
    expect(warnings).toEqual([]); // zeros are not a torn record
    again.append(1, (w) => w.str('next'));
    await again.close();
    const third = new SegmentLog({ dir: crashed, durability: 'fsync' });
    expect(replayAll(third).map((g) => g[1])).toEqual([...[0, 1, 2, 3, 4].map(text), 'next']);
    await third.close();
    // a record torn by a power cut, then the zeros written ahead: cut off with a warning
    const torn = join(dir, 'torn');
    mkdirSync(torn);
    const name = readdirSync(dir).find((f) => f.endsWith('.wlog'))!;
    const bytes = readFileSync(file);
    const end = log.appendedBytes;
    bytes.fill(0xab, end, end + 7);
    writeFileSync(join(torn, name), bytes);
    const cut: string[] = [];
    const fourth = new SegmentLog({ dir: torn, durability: 'fsync', onWarn: (m) => cut.push(m) });
    expect(replayAll(fourth).map((g) => g[1])).toEqual([0, 1, 2, 3, 4].map(text));
    expect(cut.length).toBe(1);
    expect(statSync(join(torn, name)).size).toBe(end);
    await fourth.close();
    await log.close();
  });

  it('copies of a segment file replay the same as the original (no state outside the files)', async () => {
    await writeRecords(dir, 20);
    const copy = join(dir, 'copy');
    mkdirSync(copy);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.wlog'))) copyFileSync(join(dir, f), join(copy, f));
    const a = new SegmentLog({ dir, durability: 'os' });
    const b = new SegmentLog({ dir: copy, durability: 'os' });
    expect(replayAll(b)).toEqual(replayAll(a));
    await a.close();
    await b.close();
  });
});
