import { describe, expect, it } from 'vitest';
import { MsgTable } from '../../src/store/sqs/log/table.js';

const state = (q: number) => ({
  queueId: q,
  visibleAt: q * 2,
  receiveCount: 0,
  sentAt: q,
  firstReceiveAt: 0,
  group: q % 3 ? null : `g${q}`,
});

describe('MsgTable', () => {
  it('agrees with a Map under random puts and removes, and lists in seq order', () => {
    const t = new MsgTable();
    const model = new Map<number, number>();
    let x = 12345;
    const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let next = 1;
    for (let step = 0; step < 200_000; step++) {
      if (rnd() < 0.55 || model.size === 0) {
        // sequences far apart too (the jump after an unclean stop), and beyond 2^32
        const seq = rnd() < 0.01 ? (next += 2 ** 24) : rnd() < 0.001 ? (next += 2 ** 33) : next++;
        t.put(seq, state(seq % 1000), seq * 10, 100);
        model.set(seq, seq % 1000);
      } else {
        const keys = [...model.keys()];
        const seq = keys[Math.floor(rnd() * keys.length)]!;
        t.remove(seq);
        model.delete(seq);
        t.remove(seq); // twice is harmless
      }
      if (step % 20_000 === 0 || step === 199_999) {
        expect(t.count).toBe(model.size);
        for (const [seq, q] of model) {
          const i = t.slot(seq)!;
          expect(i).toBeDefined();
          expect([t.queueId[i], t.pos[i], t.group[i]]).toEqual([q, seq * 10, q % 3 ? null : `g${q}`]);
        }
        expect(t.slot(next + 5)).toBeUndefined();
        const order = [...t.ordered()].map((i) => t.seq[i]);
        expect(order).toEqual([...model.keys()].sort((a, b) => a - b));
      }
    }
  });
});
