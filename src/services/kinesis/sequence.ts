/**
 * AWS's identifiers for shards and records (reference: aws-protocols.md §5.3).
 *
 * A sequence number is the decimal form of 47 hex digits: `2` | shard creation epoch seconds (9)
 * | the shard index's low nibble (1) | the record's counter in its shard (16) | `00` | the
 * record's arrival epoch seconds (9) | the shard index (8) | `2`. It lies in [2^185, 2^186), so
 * it always has 56 digits and string order is numeric order; within a shard the counter
 * dominates, so sequence numbers increase with every record.
 */
import { createHash } from 'node:crypto';

export const HASH_MAX = (1n << 128n) - 1n;

/** A partition key's hash key: its UTF-8 MD5 read as an unsigned 128-bit big-endian number. */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt('0x' + createHash('md5').update(partitionKey, 'utf8').digest('hex'));
}

export const shardIdOf = (index: number): string => `shardId-${String(index).padStart(12, '0')}`;

/** `shardId-000000000001`, or its number alone (AWS accepts both); undefined when neither. */
export function shardIndexOf(shardId: string): number | undefined {
  const m = /^(?:shardId-)?(\d{1,12})$/.exec(shardId);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 2147483647 ? n : undefined;
}

const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0').slice(-digits);

export interface SequenceParts {
  /** the shard's creation, epoch seconds */
  shardCreatedSec: number;
  shardIndex: number;
  counter: number;
  /** the record's arrival, epoch seconds */
  timeSec: number;
}

export function formatSequence(p: SequenceParts): string {
  const h =
    '2' +
    hex(p.shardCreatedSec, 9) +
    hex(p.shardIndex & 0xf, 1) +
    hex(p.counter, 16) +
    '00' +
    hex(p.timeSec, 9) +
    hex(p.shardIndex, 8) +
    '2';
  return BigInt('0x' + h).toString();
}

const MIN = 1n << 185n;
const MAX = 1n << 186n;

/** The parts of a sequence number Wharf formed; undefined for anything else. */
export function parseSequence(s: string): SequenceParts | undefined {
  if (!/^\d{56}$/.test(s)) return undefined;
  const n = BigInt(s);
  if (n < MIN || n >= MAX) return undefined;
  const h = n.toString(16);
  if (h.length !== 47 || h[46] !== '2' || h.slice(27, 29) !== '00') return undefined;
  return {
    shardCreatedSec: parseInt(h.slice(1, 10), 16),
    counter: parseInt(h.slice(11, 27), 16),
    timeSec: parseInt(h.slice(29, 38), 16),
    shardIndex: parseInt(h.slice(38, 46), 16),
  };
}
