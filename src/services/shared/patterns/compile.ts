/**
 * Many patterns compiled into one matcher (all of a topic's filter policies, all of a bus's
 * rules), so that an event costs about the same however many there are: the event is read only
 * along the paths some pattern names (a trie), each value is looked up in per-path indexes
 * (exact values, and prefixes and suffixes by their lengths) instead of being tried against every
 * condition, and a conjunction matches when all its conditions were hit. Conditions that only a
 * scan can decide (wildcard, anything-but, numeric, cidr, exists) are scanned per path, which
 * costs in proportion to how many of them name that path. Checked against the interpreter
 * (match.ts) by property tests.
 */
import { matchValue, type Fields } from './match.js';
import type { Condition, Conjunction, Matcher, Pattern, Scalar } from './parse.js';

interface Cond {
  conj: number;
  path: number;
  /** satisfied by the path's absence (an exists:false matcher) */
  absentOk: boolean;
}

interface PathIndex {
  exact: Map<string, number[]>;
  prefix: Map<number, Map<string, number[]>>;
  suffix: Map<number, Map<string, number[]>>;
  prefixIc: Map<number, Map<string, number[]>>;
  suffixIc: Map<number, Map<string, number[]>>;
  eqic: Map<string, number[]>;
  /** matchers tried one by one: [matcher, condition] */
  scan: [Matcher, number][];
  /** exists:true */
  present: number[];
}

interface Trie {
  children: Map<string, Trie>;
  /** the same, as an array: what matching walks (faster to go through than the map) */
  edges: [string, Trie][];
  /** the path index of the path ending here, or -1 */
  path: number;
}

/** matchers the per-path indexes decide (the rest are tried one by one) */
const indexable = (m: Matcher) =>
  m.op === 'exact' || m.op === 'prefix' || m.op === 'suffix' || m.op === 'eqic' || (m.op === 'exists' && m.value);

/** The scalars at a path of a document, arrays flattened at every level (as fieldsOf reads them). */
function collect(v: unknown, segs: string[], i: number, out: Scalar[]): void {
  if (Array.isArray(v)) {
    for (const x of v) collect(x, segs, i, out);
  } else if (typeof v === 'object' && v !== null) {
    if (i === segs.length) return;
    const x = (v as Record<string, unknown>)[segs[i]];
    if (x !== undefined) collect(x, segs, i + 1, out);
  } else if (i === segs.length) out.push(v as Scalar);
}

const keyOf = (v: Scalar): string =>
  typeof v === 'string' ? `s${v}` : typeof v === 'number' ? `n${v}` : v === null ? 'z' : `b${v}`;

function add<K>(m: Map<K, number[]>, k: K, ci: number): void {
  const l = m.get(k);
  if (l) l.push(ci);
  else m.set(k, [ci]);
}

function addByLength(m: Map<number, Map<string, number[]>>, s: string, ci: number): void {
  let byLen = m.get(s.length);
  if (!byLen) m.set(s.length, (byLen = new Map()));
  add(byLen, s, ci);
}

export class CompiledPatterns<T> {
  private readonly paths: string[] = [];
  private readonly pathIds = new Map<string, number>();
  private readonly index: PathIndex[] = [];
  private readonly conds: Cond[] = [];
  /** conditions per conjunction, and which pattern it belongs to */
  private readonly size: number[] = [];
  private readonly owner: T[] = [];
  /** the pattern of each conjunction as a number (patterns with several conjunctions count once) */
  private readonly ownerIndex: number[] = [];
  private ownerSeen: Int32Array;
  private readonly conjConds: number[][] = [];
  /** conjunctions whose every condition allows absence: they may match with no hit at all */
  private readonly absentOnly: number[] = [];
  /** the paths the indexes use, and the trie the event is walked along for them */
  private readonly trie: Trie = { children: new Map(), edges: [], path: -1 };
  private readonly indexed: number[];
  private readonly segs: string[][];
  /** the event being matched: a path's values when first asked for */
  private lookup: (p: number) => Scalar[] = () => [];
  /** per conjunction: its conditions whose scanned matchers wait for the indexes to touch it */
  private readonly deferred: (number[] | undefined)[] = [];
  /** per condition: the matchers tried at the end when deferred */
  private readonly condScan: Matcher[][] = [];
  // scratch, reused across events
  private valsAt: Int32Array;
  private vals: Scalar[][];
  private hits: Int32Array;
  private condSeen: Int32Array;
  private epoch = 0;

  constructor(entries: Iterable<{ id: T; pattern: Pattern }>) {
    const all: { id: T; conj: Conjunction }[] = [];
    // how many distinct exact values each path is matched against: the more, the more selective
    const distinct = new Map<string, Set<string>>();
    for (const { id, pattern } of entries) {
      for (const conj of pattern.any) {
        all.push({ id, conj });
        for (const c of conj)
          for (const m of c.matchers) {
            if (m.op !== 'exact') continue;
            let set = distinct.get(c.path);
            if (!set) distinct.set(c.path, (set = new Set()));
            set.add(keyOf(m.value));
          }
      }
    }
    const selectivity = (c: Condition) =>
      c.matchers.every((m) => m.op === 'exact')
        ? (distinct.get(c.path)?.size ?? 1) / c.matchers.length
        : 0.5 / c.matchers.length;
    const owners = new Map<T, number>();
    for (const { id, conj } of all) {
      const cj = this.size.length;
      this.size.push(conj.length);
      this.owner.push(id);
      let o = owners.get(id);
      if (o === undefined) owners.set(id, (o = owners.size));
      this.ownerIndex.push(o);
      // the gate: the most selective condition the indexes decide alone; only it is indexed, and
      // the conjunction's other conditions are tried only when the gate was hit, so an event
      // costs what the rules it could match cost, not what all of them do
      let gate: Condition | undefined;
      for (const c of conj) {
        if (!c.matchers.every(indexable)) continue;
        if (!gate || selectivity(c) > selectivity(gate)) gate = c;
      }
      const ids: number[] = [];
      let needsHit = false;
      let deferred: number[] | undefined;
      for (const c of conj) {
        const ci = this.conds.length;
        const p = this.pathId(c.path);
        const absentOk = c.matchers.some((m) => m.op === 'exists' && !m.value);
        this.conds.push({ conj: cj, path: p, absentOk });
        ids.push(ci);
        if (!absentOk) needsHit = true;
        if (gate && c !== gate) {
          this.condScan.push(c.matchers.filter((m) => !(m.op === 'exists' && !m.value)));
          (deferred ??= []).push(ci);
        } else {
          this.condScan.push([]);
          for (const m of c.matchers) this.indexMatcher(p, m, ci);
        }
      }
      this.conjConds.push(ids);
      this.deferred.push(deferred);
      // a conjunction of conditions that all allow absence can match without a single hit
      if (!needsHit) this.absentOnly.push(cj);
    }
    this.hits = new Int32Array(this.size.length);
    this.condSeen = new Int32Array(this.conds.length);
    this.valsAt = new Int32Array(this.paths.length);
    this.vals = new Array<Scalar[]>(this.paths.length);
    this.ownerSeen = new Int32Array(owners.size);
    // the event is read eagerly only along the paths the indexes use; other paths when asked
    this.segs = this.paths.map((p) => p.split('.'));
    this.indexed = this.index.flatMap((ix, p) => {
      const used =
        ix.exact.size || ix.prefix.size || ix.suffix.size || ix.prefixIc.size || ix.suffixIc.size || ix.eqic.size;
      return used || ix.scan.length || ix.present.length ? [p] : [];
    });
    for (const p of this.indexed) {
      let node = this.trie;
      for (const k of this.segs[p]) {
        let next = node.children.get(k);
        if (!next) {
          node.children.set(k, (next = { children: new Map(), edges: [], path: -1 }));
          node.edges.push([k, next]);
        }
        node = next;
      }
      node.path = p;
    }
  }

  get patterns(): number {
    return this.ownerSeen.length;
  }

  private pathId(path: string): number {
    let id = this.pathIds.get(path);
    if (id !== undefined) return id;
    id = this.paths.push(path) - 1;
    this.pathIds.set(path, id);
    this.index.push({
      exact: new Map(),
      prefix: new Map(),
      suffix: new Map(),
      prefixIc: new Map(),
      suffixIc: new Map(),
      eqic: new Map(),
      scan: [],
      present: [],
    });
    return id;
  }

  /** Indexes one matcher (exists:false needs none: no value satisfies it). */
  private indexMatcher(p: number, m: Matcher, ci: number): void {
    const ix = this.index[p];
    switch (m.op) {
      case 'exact':
        return add(ix.exact, keyOf(m.value), ci);
      case 'prefix':
        return addByLength(m.ic ? ix.prefixIc : ix.prefix, m.ic ? m.value.toLowerCase() : m.value, ci);
      case 'suffix':
        return addByLength(m.ic ? ix.suffixIc : ix.suffix, m.ic ? m.value.toLowerCase() : m.value, ci);
      case 'eqic':
        return add(ix.eqic, m.value.toLowerCase(), ci);
      case 'exists':
        if (m.value) ix.present.push(ci);
        return;
      default:
        ix.scan.push([m, ci]);
    }
  }

  private hit(list: number[] | undefined, touched: number[]): void {
    if (!list) return;
    for (const ci of list) this.hitOne(ci, touched);
  }

  private hitOne(ci: number, touched: number[]): void {
    if (this.condSeen[ci] === this.epoch) return;
    this.condSeen[ci] = this.epoch;
    const cj = this.conds[ci].conj;
    if (this.hits[cj]++ === 0) touched.push(cj);
  }

  private byLength(m: Map<number, Map<string, number[]>>, v: string, suffix: boolean, touched: number[]): void {
    for (const [len, map] of m) {
      if (len > v.length) continue;
      this.hit(map.get(suffix ? v.slice(v.length - len) : v.slice(0, len)), touched);
    }
  }

  private value(p: number, v: Scalar, touched: number[]): void {
    if (this.valsAt[p] !== this.epoch) {
      this.valsAt[p] = this.epoch;
      this.vals[p] = [v];
    } else this.vals[p].push(v);
    const ix = this.index[p];
    if (ix.exact.size) this.hit(ix.exact.get(keyOf(v)), touched);
    if (typeof v === 'string') {
      if (ix.prefix.size) this.byLength(ix.prefix, v, false, touched);
      if (ix.suffix.size) this.byLength(ix.suffix, v, true, touched);
      if (ix.eqic.size || ix.prefixIc.size || ix.suffixIc.size) {
        const lower = v.toLowerCase();
        this.hit(ix.eqic.get(lower), touched);
        if (ix.prefixIc.size) this.byLength(ix.prefixIc, lower, false, touched);
        if (ix.suffixIc.size) this.byLength(ix.suffixIc, lower, true, touched);
      }
    }
    const scan = ix.scan;
    for (let i = 0; i < scan.length; i++) {
      const ci = scan[i]![1];
      if (this.condSeen[ci] !== this.epoch && matchValue(scan[i]![0], v)) this.hitOne(ci, touched);
    }
  }

  /** A path's values in the event being matched (read once per event). */
  private valuesOf(p: number): Scalar[] {
    if (this.valsAt[p] === this.epoch) return this.vals[p];
    this.valsAt[p] = this.epoch;
    return (this.vals[p] = this.lookup(p));
  }

  /** The ids of the patterns that match an event given as its fields (SNS attributes). */
  matchFields(fields: Fields): T[] {
    const touched = this.begin();
    this.lookup = (p) => fields.get(this.paths[p]) ?? [];
    for (const p of this.indexed) {
      const values = fields.get(this.paths[p]);
      if (values === undefined || values.length === 0) continue;
      this.hit(this.index[p].present, touched);
      for (const v of values) this.value(p, v, touched);
    }
    return this.finish(touched);
  }

  /** The ids of the patterns that match a JSON document, read only along the patterns' paths. */
  matchDoc(doc: unknown): T[] {
    const touched = this.begin();
    const isObject = typeof doc === 'object' && doc !== null && !Array.isArray(doc);
    this.lookup = (p) => {
      const out: Scalar[] = [];
      if (isObject) collect(doc, this.segs[p], 0, out);
      return out;
    };
    const walk = (v: unknown, node: Trie): void => {
      if (Array.isArray(v)) {
        for (const x of v) walk(x, node);
      } else if (typeof v === 'object' && v !== null) {
        const edges = node.edges;
        for (let i = 0; i < edges.length; i++) {
          const x = (v as Record<string, unknown>)[edges[i]![0]];
          if (x !== undefined) walk(x, edges[i]![1]);
        }
      } else if (node.path >= 0 && v !== undefined) {
        if (this.valsAt[node.path] !== this.epoch) this.hit(this.index[node.path].present, touched);
        this.value(node.path, v as Scalar, touched);
      }
    };
    if (isObject) walk(doc, this.trie);
    return this.finish(touched);
  }

  private begin(): number[] {
    if (++this.epoch === 0x7fffffff) {
      this.epoch = 1;
      this.condSeen.fill(0);
      this.valsAt.fill(0);
      this.ownerSeen.fill(0);
    }
    return [];
  }

  private finish(touched: number[]): T[] {
    const out: T[] = [];
    for (const cj of touched) {
      const later = this.deferred[cj];
      if (later) {
        for (const ci of later) {
          if (this.condSeen[ci] === this.epoch) continue;
          const vals = this.valuesOf(this.conds[ci].path);
          if (vals.length === 0) continue;
          if (this.condScan[ci].some((m) => (m.op === 'exists' ? m.value : vals.some((v) => matchValue(m, v))))) {
            this.condSeen[ci] = this.epoch;
            this.hits[cj]++;
          }
        }
      }
      this.decide(cj, out);
      this.hits[cj] = 0;
    }
    for (const cj of this.absentOnly) if (this.hits[cj] === 0) this.decide(cj, out);
    return out;
  }

  /** Adds the conjunction's pattern when every condition holds (once per pattern and event). */
  private decide(cj: number, out: T[]): void {
    let n = this.hits[cj];
    if (n < this.size[cj]) {
      // conditions not hit still hold when they allow absence and their path is absent
      for (const ci of this.conjConds[cj]) {
        const c = this.conds[ci];
        if (this.condSeen[ci] !== this.epoch && c.absentOk && this.valuesOf(c.path).length === 0) n++;
      }
    }
    if (n !== this.size[cj]) return;
    const o = this.ownerIndex[cj];
    if (this.ownerSeen[o] === this.epoch) return;
    this.ownerSeen[o] = this.epoch;
    out.push(this.owner[cj]);
  }
}
