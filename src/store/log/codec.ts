/**
 * Binary encoding for log records and snapshots: a growing buffer written front to back, and a
 * reader over one record's payload. Numbers are doubles (epoch milliseconds and sequence numbers
 * stay exact below 2^53); strings are a u32 byte length and UTF-8; NONE marks an absent string.
 */
const NONE = 0xffffffff;

export class Writer {
  buf: Buffer;
  n = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for `bytes` more bytes. */
  ensure(bytes: number): void {
    if (this.n + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.n++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.n);
    this.n += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.n);
    this.n += 8;
  }

  str(s: string): void {
    // at most three bytes per UTF-16 unit: measure while writing instead of before
    this.ensure(4 + s.length * 3);
    const len = this.buf.write(s, this.n + 4, 'utf8');
    this.buf.writeUInt32LE(len, this.n);
    this.n += 4 + len;
  }

  optStr(s: string | null | undefined): void {
    if (s === null || s === undefined) this.u32(NONE);
    else this.str(s);
  }

  bytes(b: Buffer): void {
    this.ensure(4 + b.length);
    this.buf.writeUInt32LE(b.length, this.n);
    b.copy(this.buf, this.n + 4);
    this.n += 4 + b.length;
  }

  /** The bytes written so far (a view: valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.n);
  }

  reset(): void {
    this.n = 0;
  }
}

export class Reader {
  p: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.p = start;
  }

  private need(bytes: number): void {
    if (this.p + bytes > this.end) throw new RangeError('record ends early');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.p++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.p);
    this.p += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.p);
    this.p += 8;
    return v;
  }

  str(): string {
    const len = this.u32();
    this.need(len);
    const s = this.buf.toString('utf8', this.p, this.p + len);
    this.p += len;
    return s;
  }

  optStr(): string | null {
    const len = this.u32();
    if (len === NONE) return null;
    this.need(len);
    const s = this.buf.toString('utf8', this.p, this.p + len);
    this.p += len;
    return s;
  }

  bytes(): Buffer {
    const len = this.u32();
    this.need(len);
    const b = this.buf.subarray(this.p, this.p + len);
    this.p += len;
    return b;
  }

  get done(): boolean {
    return this.p >= this.end;
  }
}
