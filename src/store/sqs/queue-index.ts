/**
 * The in-memory receive index of one queue on the SQLite store. SQL keeps every message and its
 * state (and stays the source of truth: a claim re-checks visibility in SQL); this index only
 * says which messages to try next, without a secondary SQL index to maintain on every send,
 * receive and delete. Per visible message it holds 16 bytes (seq and enqueue time in a ring
 * buffer); delayed and in-flight messages also have a small map entry and a heap slot.
 *
 * Standard queues keep ready messages in lanes: one per fair-queue tenant (MessageGroupId), ''
 * for messages without one. FIFO queues keep every message of a group in order; a group is
 * receivable when its oldest message is visible.
 *
 * Fair queues (the policy AWS documents): a tenant is noisy when it holds at least 30 messages
 * in flight and more than 10% of the queue's in-flight messages. A receive serves quiet
 * tenants first, round-robin, one message per tenant per pass; noisy tenants are served after
 * them, the one with the fewest messages in flight first. Nothing is dropped or throttled.
 */
import { PairDeque, TimeHeap } from '../structures.js';
import { isNoisy } from './rules.js';

interface Timed {
  at: number;
  inflight: boolean;
  group: string | null;
  sentAt: number;
}

interface Lane {
  ready: PairDeque;
  inflight: number;
}

interface Group {
  msgs: PairDeque;
  queued: boolean;
}

export class QueueIndex {
  readonly fifo: boolean;
  private readonly timed = new Map<number, Timed>();
  private readonly heap = new TimeHeap();
  private visible = 0;
  private inflight = 0;
  private delayed = 0;
  // standard queues
  private readonly lanes = new Map<string, Lane>();
  private order: string[] = [];
  private rr = 0;
  /** seqs still sitting in a ready lane that are no longer ready (deleted, made invisible) */
  private readonly dead = new Set<number>();
  // FIFO queues
  private readonly groups = new Map<string, Group>();
  private readyGroups: string[] = [];
  private readyHead = 0;
  /** the group of each seq the last take() returned (a claim that fails needs it) */
  private readonly taken = new Map<number, string>();

  constructor(fifo: boolean) {
    this.fifo = fifo;
  }

  /** A message arrives (sent, moved here from another queue, or loaded at start). */
  add(seq: number, visibleAt: number, sentAt: number, group: string | null, inflight: boolean, now: number): void {
    if (this.fifo) {
      const g = this.group(group ?? '');
      g.msgs.push(seq, sentAt);
      if (visibleAt <= now) {
        this.visible++;
        if (g.msgs.length === 1) this.queueGroup(group ?? '', g);
      } else this.setTimed(seq, { at: visibleAt, inflight, group, sentAt });
      return;
    }
    if (visibleAt <= now) this.pushReady(seq, sentAt, group);
    else this.setTimed(seq, { at: visibleAt, inflight, group, sentAt });
  }

  /** Picks up to max messages to claim, in the order they should be delivered. */
  take(now: number, max: number): number[] {
    this.promote(now);
    return this.fifo ? this.takeFifo(max) : this.takeStandard(max);
  }

  /** A taken message was claimed: it is in flight until visibleAt. */
  claimed(seq: number, visibleAt: number, sentAt: number, group: string | null): void {
    if (this.fifo) this.visible--;
    this.setTimed(seq, { at: visibleAt, inflight: true, group, sentAt });
  }

  /** A taken message could not be claimed (SQL no longer has it visible): forget it. */
  lost(seq: number, group: string | null): void {
    if (!this.fifo) return;
    this.visible--;
    this.removeFromGroup(seq, group ?? this.taken.get(seq) ?? '');
  }

  /** The message left the queue: deleted, expired, moved to another queue. */
  removed(seq: number, group: string | null): void {
    const t = this.timed.get(seq);
    if (t) this.clearTimed(seq, t);
    else {
      this.visible--;
      if (!this.fifo) this.dead.add(seq);
    }
    if (this.fifo) this.removeFromGroup(seq, group ?? '');
  }

  /** The visibility of a message changed (ChangeMessageVisibility, a retried FIFO receive). */
  visibilityChanged(seq: number, visibleAt: number, sentAt: number, group: string | null, now: number): void {
    const t = this.timed.get(seq);
    if (t) {
      if (visibleAt <= now) {
        this.clearTimed(seq, t);
        this.becameVisible(seq, t.sentAt, t.group);
      } else {
        t.at = visibleAt;
        this.heap.push(visibleAt, seq);
      }
      return;
    }
    // a visible standard message (its timeout had passed) takes a new timeout
    if (this.fifo) return;
    this.visible--;
    this.dead.add(seq);
    if (visibleAt <= now) this.pushReady(seq, sentAt, group);
    else this.setTimed(seq, { at: visibleAt, inflight: true, group, sentAt });
  }

  counts(now: number): { visible: number; notVisible: number; delayed: number } {
    this.promote(now);
    return { visible: this.visible, notVisible: this.inflight, delayed: this.delayed };
  }

  /** When the next delayed or in-flight message becomes visible. */
  nextVisibleAt(now: number): number | undefined {
    this.promote(now);
    while (this.heap.size) {
      const t = this.timed.get(this.heap.peekSeq());
      if (t && t.at === this.heap.peekAt()) return t.at;
      this.heap.pop();
    }
    return undefined;
  }

  /** Visible messages whose enqueue time is before the cutoff, oldest first (retention). */
  expiredFront(cutoff: number, limit: number): number[] {
    const out: number[] = [];
    const lanes = this.fifo
      ? [...this.groups.values()].map((g) => g.msgs)
      : [...this.lanes.values()].map((l) => l.ready);
    for (const q of lanes) {
      for (let i = 0; i < q.length && out.length < limit; i++) {
        if (q.sentAt(i) > cutoff) break;
        const seq = q.seqAt(i);
        if (!this.dead.has(seq) && !this.timed.has(seq)) out.push(seq);
      }
    }
    return out;
  }

  /** Candidate seqs for a non-destructive look (admin peek). */
  sample(limit: number): number[] {
    const out: number[] = [];
    for (const seq of this.timed.keys()) if (out.length < limit) out.push(seq);
    const lanes = this.fifo
      ? [...this.groups.values()].map((g) => g.msgs)
      : [...this.lanes.values()].map((l) => l.ready);
    for (const q of lanes) for (let i = 0; i < q.length && out.length < limit; i++) out.push(q.seqAt(i));
    return out;
  }

  clear(): void {
    this.timed.clear();
    this.heap.clear();
    this.lanes.clear();
    this.order = [];
    this.dead.clear();
    this.groups.clear();
    this.readyGroups = [];
    this.readyHead = 0;
    this.visible = this.inflight = this.delayed = 0;
  }

  // ── internals ─────────────────────────────────────────────────────────────

  private setTimed(seq: number, t: Timed): void {
    this.timed.set(seq, t);
    this.heap.push(t.at, seq);
    if (t.inflight) {
      this.inflight++;
      if (!this.fifo) this.lane(t.group ?? '').inflight++;
    } else this.delayed++;
  }

  private clearTimed(seq: number, t: Timed): void {
    this.timed.delete(seq);
    if (t.inflight) {
      this.inflight--;
      if (!this.fifo) this.lane(t.group ?? '').inflight--;
    } else this.delayed--;
  }

  private becameVisible(seq: number, sentAt: number, group: string | null): void {
    if (!this.fifo) return this.pushReady(seq, sentAt, group);
    this.visible++;
    const key = group ?? '';
    const g = this.groups.get(key);
    if (g && g.msgs.length && g.msgs.seqAt(0) === seq) this.queueGroup(key, g);
  }

  /** Delayed and in-flight messages whose time has come become visible. */
  private promote(now: number): void {
    while (this.heap.peekAt() <= now) {
      const at = this.heap.peekAt();
      const seq = this.heap.peekSeq();
      this.heap.pop();
      const t = this.timed.get(seq);
      if (!t || t.at !== at) continue; // stale entry
      this.clearTimed(seq, t);
      this.becameVisible(seq, t.sentAt, t.group);
    }
  }

  private lane(key: string): Lane {
    let l = this.lanes.get(key);
    if (!l) {
      this.lanes.set(key, (l = { ready: new PairDeque(), inflight: 0 }));
      this.order.push(key);
    }
    return l;
  }

  private pushReady(seq: number, sentAt: number, group: string | null): void {
    this.lane(group ?? '').ready.push(seq, sentAt);
    this.visible++;
  }

  /** Pops the next live seq of a lane, or undefined when it has none. */
  private popLane(l: Lane): number | undefined {
    while (l.ready.length) {
      const seq = l.ready.shift();
      if (this.dead.delete(seq)) continue;
      this.visible--;
      return seq;
    }
    return undefined;
  }

  private takeStandard(max: number): number[] {
    const out: number[] = [];
    if (this.order.length === 1) {
      this.drain(this.lanes.get(this.order[0])!, max, out);
      return out;
    }
    const noisy = (l: Lane) => isNoisy(l.inflight, this.inflight);
    // quiet tenants first, one message each per pass, round-robin
    for (let progress = true; progress && out.length < max;) {
      progress = false;
      const n = this.order.length;
      for (let i = 0; i < n && out.length < max; i++) {
        const key = this.order[(this.rr + i) % n];
        const l = this.lanes.get(key)!;
        if (noisy(l)) continue;
        const seq = this.popLane(l);
        if (seq !== undefined) {
          out.push(seq);
          progress = true;
        }
      }
      this.rr = n ? (this.rr + 1) % n : 0;
    }
    if (out.length < max) {
      // then the noisy ones, fewest in flight first
      const rest = this.order
        .map((k) => this.lanes.get(k)!)
        .filter(noisy)
        .sort((a, b) => a.inflight - b.inflight);
      for (const l of rest) this.drain(l, max, out);
    }
    this.compactLanes();
    return out;
  }

  private drain(l: Lane, max: number, out: number[]): void {
    while (out.length < max) {
      const seq = this.popLane(l);
      if (seq === undefined) return;
      out.push(seq);
    }
  }

  /** Forgets tenants with nothing ready and nothing in flight. */
  private compactLanes(): void {
    if (this.order.length < 64 || this.order.length < 2 * this.lanesInUse()) return;
    this.order = this.order.filter((k) => {
      const l = this.lanes.get(k)!;
      if (l.ready.length || l.inflight) return true;
      this.lanes.delete(k);
      return false;
    });
    this.rr = 0;
  }

  private lanesInUse(): number {
    let n = 0;
    for (const l of this.lanes.values()) if (l.ready.length || l.inflight) n++;
    return n;
  }

  private group(key: string): Group {
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { msgs: new PairDeque(4), queued: false }));
    return g;
  }

  private queueGroup(key: string, g: Group): void {
    if (g.queued) return;
    g.queued = true;
    this.readyGroups.push(key);
  }

  private takeFifo(max: number): number[] {
    const out: number[] = [];
    this.taken.clear();
    while (out.length < max && this.readyHead < this.readyGroups.length) {
      const key = this.readyGroups[this.readyHead++];
      const g = this.groups.get(key);
      if (!g) continue;
      g.queued = false;
      // as many messages of one group as possible, in order, while they are visible
      for (let i = 0; i < g.msgs.length && out.length < max; i++) {
        const seq = g.msgs.seqAt(i);
        if (this.timed.has(seq)) break;
        out.push(seq);
        this.taken.set(seq, key);
      }
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.readyGroups.length) {
      this.readyGroups = this.readyGroups.slice(this.readyHead);
      this.readyHead = 0;
    }
    return out;
  }

  private removeFromGroup(seq: number, key: string): void {
    const g = this.groups.get(key);
    if (!g) return;
    const i = g.msgs.indexOf(seq, 64);
    const at = i >= 0 ? i : g.msgs.indexOf(seq);
    if (at < 0) return;
    g.msgs.removeAt(at);
    if (g.msgs.length === 0) {
      this.groups.delete(key);
      return;
    }
    if (at === 0 && !this.timed.has(g.msgs.seqAt(0))) this.queueGroup(key, g);
  }
}
