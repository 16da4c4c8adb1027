#!/usr/bin/env node
// The pattern engine alone (issue 8): compiled matching of ~1 KB JSON events, one core.
//
//   node bench/patterns.mjs [--events 2000] [--seconds 2] [--runs 3] [--seed 1]
//
// Rule sets, all in EventBridge's dialect on the same generated events:
//   each-5   five rules of each operator type (exact string, exact number, boolean, prefix,
//            suffix, equals-ignore-case, wildcard, anything-but, numeric range, exists, cidr, $or)
//   source-10, source-10000: each rule one source and one more condition of any type, with as
//            many sources as rules (rules per tenant), and the events' sources drawn from those:
//            an event is a candidate for about one rule either way, so the sets differ only in size
//   type-10, type-10000: each rule one detail-type (of 50) and one more condition: an event is a
//            candidate for 1 rule in 50, so the work grows with the candidates (shown for contrast)
// Reports events/s of CompiledPatterns.matchDoc over already parsed events, the slowdown from
// 10 to 10,000 rules, and matching time as a ratio to JSON.parse of the same events (text → object).
// Targets: ≥ 200,000 events/s with each-5; 10,000 rules no more than 2× slower than 10.
// Needs `npm run build` (imports the built engine from dist/).
import { CompiledPatterns } from '../dist/services/shared/patterns/compile.js';
import { parsePattern } from '../dist/services/shared/patterns/parse.js';

const argv = process.argv.slice(2);
const opt = (k, d) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const N = opt('events', 2000);
const SECONDS = opt('seconds', 2);
const RUNS = opt('runs', 3);
let seed = opt('seed', 1);
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (n) => Math.floor(rand() * n);

const SOURCES = Array.from({ length: 10_000 }, (_, i) => `com.example.service${i}`);
const TYPES = Array.from({ length: 50 }, (_, i) => `Event Type ${i}`);
const STATES = ['pending', 'running', 'stopped', 'terminated', 'failed'];
const COUNTRIES = ['NO', 'SE', 'DK', 'FI', 'DE', 'FR', 'US', 'GB'];
const NAMES = Array.from({ length: 5000 }, (_, i) => `user${i}`);

function event() {
  return {
    version: '0',
    id: `${int(1e9)}-${int(1e9)}-${int(1e9)}`,
    'detail-type': pick(TYPES),
    source: pick(SOURCES),
    account: '123456789012',
    time: '2026-12-07T12:00:00Z',
    region: pick(['us-east-1', 'eu-west-1', 'eu-north-1']),
    resources: [`arn:aws:ec2:us-east-1:123456789012:instance/i-${int(1e12).toString(16)}`],
    detail: {
      state: pick(STATES),
      user: { name: pick(NAMES), country: pick(COUNTRIES), age: int(90), vip: rand() < 0.1 },
      items: Array.from({ length: 1 + int(3) }, () => ({
        sku: `SKU-${int(1000)}`,
        qty: 1 + int(5),
        price: int(10000) / 100,
      })),
      total: int(100000) / 100,
      ip: `10.${int(256)}.${int(256)}.${int(256)}`,
      path: `/orders/${int(100)}/items/${int(1000)}.json`,
      tags: [pick(['a', 'b', 'c', 'd']), pick(['x', 'y', 'z'])],
      note: 'x'.repeat(200 + int(200)),
    },
  };
}

/** one condition of each operator type, as a pattern fragment */
const OPERATORS = [
  () => ({ detail: { state: [pick(STATES)] } }),
  () => ({ detail: { user: { age: [int(90)] } } }),
  () => ({ detail: { user: { vip: [true] } } }),
  () => ({ detail: { path: [{ prefix: `/orders/${int(100)}` }] } }),
  () => ({ detail: { path: [{ suffix: `${int(1000)}.json` }] } }),
  () => ({ detail: { user: { country: [{ 'equals-ignore-case': pick(COUNTRIES).toLowerCase() }] } } }),
  () => ({ detail: { path: [{ wildcard: `/orders/${int(100)}/items/*.json` }] } }),
  () => ({ detail: { state: [{ 'anything-but': [pick(STATES), pick(STATES)] }] } }),
  () => {
    const lo = int(900);
    return { detail: { total: [{ numeric: ['>=', lo, '<', lo + 1 + int(100)] }] } };
  },
  () => ({ detail: { user: { [pick(['vip', 'nickname'])]: [{ exists: rand() < 0.5 }] } } }),
  () => ({ detail: { ip: [{ cidr: `10.${int(256)}.0.0/16` }] } }),
  () => ({ $or: [{ detail: { state: [pick(STATES)] } }, { detail: { items: { qty: [{ numeric: ['>', 3] }] } } }] }),
];

const merge = (a, b) => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] = k in out && !Array.isArray(v) && typeof v === 'object' ? merge(out[k], v) : v;
  return out;
};

function each5() {
  return OPERATORS.flatMap((op) => Array.from({ length: 5 }, () => op()));
}
/**
 * each rule: one source and one more condition of any type, over n sources for n rules (as rules
 * per tenant): an event is a candidate for about one rule whether there are 10 or 10,000
 */
function bySource(n) {
  return Array.from({ length: n }, () => merge({ source: [SOURCES[int(n)]] }, pick(OPERATORS)()));
}
/** each rule: one detail-type (of 50) and one more condition: many rules share what an event matches */
function byType(n) {
  return Array.from({ length: n }, () => merge({ 'detail-type': [pick(TYPES)] }, pick(OPERATORS)()));
}

/** the events of a source-N set: the same events, their sources drawn from the set's N */
const forSet = (k, events) => {
  const m = /^source-(\d+)$/.exec(k);
  return m ? events.map((e, i) => ({ ...e, source: SOURCES[(i * 7919) % Number(m[1])] })) : events;
};

function measure(compiled, events) {
  let n = 0;
  let matched = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  while (performance.now() < end) {
    for (const e of events) matched += compiled.matchDoc(e).length;
    n += events.length;
  }
  return { perS: n / ((performance.now() - t0) / 1000), matchedPerEvent: matched / n };
}

function parseRate(texts) {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  while (performance.now() < end) {
    for (const t of texts) JSON.parse(t);
    n += texts.length;
  }
  return n / ((performance.now() - t0) / 1000);
}

const events = Array.from({ length: N }, event);
const texts = events.map((e) => JSON.stringify(e));
const avgBytes = texts.reduce((a, t) => a + t.length, 0) / texts.length;
const sets = {
  'each-5': each5(),
  'source-10': bySource(10),
  'source-10000': bySource(10_000),
  'type-10': byType(10),
  'type-10000': byType(10_000),
};
const onlyAt = argv.indexOf('--only');
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const span = (a) => `${Math.round(Math.min(...a)).toLocaleString()}–${Math.round(Math.max(...a)).toLocaleString()}`;

if (onlyAt >= 0) {
  // one set in this process (what the parent runs, one process per set and run, so that one
  // set's JIT feedback does not slow the next; also what a profile wants)
  const k = argv[onlyAt + 1];
  const compiled = new CompiledPatterns(sets[k].map((r, id) => ({ id, pattern: parsePattern(r, 'eventbridge') })));
  const parse = parseRate(texts);
  const m = measure(compiled, forSet(k, events));
  console.log(
    JSON.stringify({
      set: k,
      rules: sets[k].length,
      perS: m.perS,
      matchedPerEvent: m.matchedPerEvent,
      parse,
      avgBytes,
    }),
  );
  process.exit(0);
}

const { execFileSync } = await import('node:child_process');
const self = new URL(import.meta.url).pathname;
const rows = Object.fromEntries(Object.keys(sets).map((k) => [k, []]));
const parse = [];
const matchedPer = {};
for (let r = 0; r < RUNS; r++) {
  for (const k of Object.keys(sets)) {
    const out = execFileSync(process.execPath, [
      self,
      '--only',
      k,
      '--events',
      String(N),
      '--seconds',
      String(SECONDS),
      '--seed',
      String(opt('seed', 1)),
    ]);
    const res = JSON.parse(out.toString().trim().split('\n').pop());
    rows[k].push(res.perS);
    parse.push(res.parse);
    matchedPer[k] = res.matchedPerEvent;
  }
}
console.log(
  `events: ${N}, ${Math.round(avgBytes)} bytes on average; ${RUNS} runs of ${SECONDS} s, one process per set and run; median (min–max)`,
);
for (const k of Object.keys(sets)) {
  console.log(
    `  ${k.padEnd(12)} ${String(sets[k].length).padStart(6)} rules  ${Math.round(med(rows[k])).toLocaleString().padStart(10)} events/s (${span(rows[k])})  ` +
      `${matchedPer[k].toFixed(2)} matches/event  match/parse time ${(med(parse) / med(rows[k])).toFixed(2)}`,
  );
}
console.log(`  JSON.parse          ${Math.round(med(parse)).toLocaleString().padStart(10)} events/s (${span(parse)})`);
console.log(
  `  10,000 rules vs 10, by source: ${(med(rows['source-10']) / med(rows['source-10000'])).toFixed(2)}× slower (target ≤ 2)`,
);
console.log(
  `  10,000 rules vs 10, by detail-type: ${(med(rows['type-10']) / med(rows['type-10000'])).toFixed(2)}× slower (an event is a candidate for 1 in 50 rules: the work grows with the candidates)`,
);
