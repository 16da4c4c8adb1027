/**
 * A snapshot of a module's in-memory index at a log position, so that a restart reads the
 * snapshot and only the log's tail after it. One file per module, replaced atomically (written
 * to a temporary name, synced, renamed, directory synced). Layout: magic, version, the log
 * position, the payload's length and CRC-32, the payload.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { AppError } from '../../kernel/errors.js';
import { Reader } from './codec.js';

const MAGIC = 0x504e5357; // 'WSNP'
const VERSION = 1;
const HEAD = 24;

export function writeSnapshot(dir: string, name: string, pos: number, payload: Buffer, sync: boolean): void {
  const path = join(dir, `${name}.snap`);
  const tmp = `${path}.tmp`;
  const head = Buffer.alloc(HEAD);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(VERSION, 4);
  head.writeDoubleLE(pos, 8);
  head.writeUInt32LE(payload.length, 16);
  head.writeUInt32LE(crc32(payload), 20);
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, head);
    writeAll(fd, payload);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (sync) {
    const d = openSync(dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** The snapshot's position and a reader over its payload, or undefined when there is none. */
export function readSnapshot(dir: string, name: string): { pos: number; r: Reader } | undefined {
  const path = join(dir, `${name}.snap`);
  // a temporary file is a snapshot that was never completed: the previous one (or none) stands
  if (existsSync(`${path}.tmp`)) unlinkSync(`${path}.tmp`);
  if (!existsSync(path)) return undefined;
  const buf = readFileSync(path);
  const fail = (why: string) =>
    new AppError(
      'ERR_LOG_CORRUPT',
      `the index snapshot ${path} is damaged (${why}). Snapshots are written atomically, so this is not a crash: ` +
        `restore the data directory from a backup.`,
    );
  if (buf.length < HEAD || buf.readUInt32LE(0) !== MAGIC) throw fail('not a Wharf snapshot');
  if (buf.readUInt32LE(4) !== VERSION) throw fail(`unknown version ${buf.readUInt32LE(4)}`);
  const len = buf.readUInt32LE(16);
  if (buf.length !== HEAD + len) throw fail('wrong length');
  const payload = buf.subarray(HEAD);
  if (crc32(payload) !== buf.readUInt32LE(20)) throw fail('checksum mismatch');
  return { pos: buf.readDoubleLE(8), r: new Reader(payload) };
}
