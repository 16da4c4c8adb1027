/**
 * Shard iterators are opaque to clients and signed: the stream (its name, account, region and
 * the id of this creation of it), the shard, the counter of the next record to read and when
 * the iterator was issued, then a 128-bit HMAC tag, in base64 as AWS's are. A client cannot
 * move one to another position or stream, and an iterator outlives neither its 5 minutes nor its
 * stream (a stream deleted and created again has another id).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 1;
const MAC = 16;
/** AWS: an iterator is valid for 5 minutes after it is issued */
export const ITERATOR_TTL_MS = 300_000;

export interface IteratorState {
  account: string;
  region: string;
  stream: string;
  /** the stream's id (StreamDoc.id) */
  streamId: string;
  shard: number;
  /** the counter of the next record to read */
  counter: number;
  issuedAt: number;
}

export class IteratorSigner {
  constructor(private readonly secret: Buffer) {}

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(body).digest().subarray(0, MAC);
  }

  sign(s: IteratorState): string {
    const text = Buffer.from(`${s.account}/${s.region}/${s.stream}/${s.streamId}`, 'utf8');
    const b = Buffer.allocUnsafe(1 + 8 + 8 + 4 + text.length + MAC);
    b.writeUInt8(VERSION, 0);
    b.writeDoubleBE(s.issuedAt, 1);
    b.writeDoubleBE(s.counter, 9);
    b.writeUInt32BE(s.shard, 17);
    text.copy(b, 21);
    this.mac(b.subarray(0, b.length - MAC)).copy(b, b.length - MAC);
    return b.toString('base64');
  }

  /** The iterator's state, or undefined when it is malformed or its tag is wrong. */
  verify(iterator: string): IteratorState | undefined {
    const b = Buffer.from(iterator, 'base64');
    // only the canonical spelling: what sign() wrote
    if (b.length < 21 + MAC || b.toString('base64') !== iterator || b.readUInt8(0) !== VERSION) return undefined;
    const body = b.subarray(0, b.length - MAC);
    if (!timingSafeEqual(this.mac(body), b.subarray(b.length - MAC))) return undefined;
    const [account, region, stream, streamId] = body.subarray(21).toString('utf8').split('/');
    if (streamId === undefined) return undefined;
    return {
      account: account!,
      region: region!,
      stream: stream!,
      streamId,
      shard: b.readUInt32BE(17),
      counter: b.readDoubleBE(9),
      issuedAt: b.readDoubleBE(1),
    };
  }
}

/** `Thu Jan 22 01:22:02 UTC 2015`: how AWS writes times in ExpiredIteratorException. */
export function amzUtc(ms: number): string {
  const m = /^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/.exec(new Date(ms).toUTCString())!;
  return `${m[1]} ${m[3]} ${m[2]} ${m[5]} UTC ${m[4]}`;
}
