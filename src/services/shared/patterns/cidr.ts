/** IPv4 and IPv6 networks for the `cidr` matcher: addresses as bigints, a network as its masked bits. */
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  v6: boolean;
  bits: number;
  /** the network address, masked */
  base: bigint;
  mask: bigint;
  /** IPv4: the same as 32-bit numbers (matching an IPv4 value needs no bigint) */
  base4: number;
  mask4: number;
}

function v4n(s: string): number {
  let n = 0;
  for (const p of s.split('.')) n = n * 256 + Number(p);
  return n;
}

const v4 = (s: string): bigint => BigInt(v4n(s));

// the last IPv4 value read as a number: one event's value is checked against every cidr rule in turn
let lastV4Text: string | undefined;
let lastV4: number | undefined;

function v4Number(s: string): number | undefined {
  if (s === lastV4Text) return lastV4;
  lastV4Text = s;
  return (lastV4 = isIPv4(s) ? v4n(s) : undefined);
}

function v6(s: string): bigint {
  // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups
  const m = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (m) {
    const n = v4(m[1]);
    s = `${s.slice(0, m.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

// the last address parsed: one event's value is checked against every cidr rule in turn
let lastText: string | undefined;
let lastIp: { v6: boolean; n: bigint } | undefined;

/** The address as a number and its family, or undefined for a string that is not one. */
export function parseIp(s: string): { v6: boolean; n: bigint } | undefined {
  if (s === lastText) return lastIp;
  lastText = s;
  if (isIPv4(s)) lastIp = { v6: false, n: v4(s) };
  else if (isIPv6(s) && !s.includes('%')) lastIp = { v6: true, n: v6(s) };
  else lastIp = undefined;
  return lastIp;
}

const mask = (v6: boolean, bits: number) => {
  const width = v6 ? 128n : 32n;
  return ((1n << width) - 1n) ^ ((1n << (width - BigInt(bits))) - 1n);
};

export function parseCidr(s: string, fail: (why: string) => never): Cidr {
  const parts = s.split('/');
  if (parts.length !== 2) fail("Malformed CIDR, one '/' required");
  const [addr, m] = parts;
  if (!/^\d+$/.test(m)) fail('Malformed CIDR, mask bits must be an integer');
  const ip = parseIp(addr);
  if (!ip) fail(`Nonstandard IP address: ${addr}`);
  const bits = Number(m);
  if (bits > (ip.v6 ? 128 : 32)) fail(`Nonstandard IP address: ${addr}`);
  const netMask = mask(ip.v6, bits);
  const mask4 = ip.v6 || bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const base4 = ip.v6 ? 0 : (Number(ip.n) & mask4) >>> 0;
  return { v6: ip.v6, bits, base: ip.n & netMask, mask: netMask, base4, mask4 };
}

export function inCidr(net: Cidr, s: string): boolean {
  if (!net.v6) {
    const n = v4Number(s);
    return n !== undefined && (n & net.mask4) >>> 0 === net.base4;
  }
  const ip = parseIp(s);
  return !!ip && ip.v6 === net.v6 && (ip.n & net.mask) === net.base;
}
