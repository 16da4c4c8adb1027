import { describe, expect, it } from 'vitest';
import { ReceiptSigner } from '../../src/services/sqs/receipts.js';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('receipt handles', () => {
  const signer = new ReceiptSigner(Buffer.from('0123456789abcdef0123456789abcdef'));
  const receipts = Array.from({ length: 64 }, (_, i) => ({
    queueId: i + 1,
    seq: 1_000_003 * i,
    receiveCount: i % 7,
    receivedAt: 1_700_000_000_000 + i * 997,
  }));

  it('round-trips what it signs', () => {
    for (const r of receipts) expect(signer.verify(signer.sign(r))).toEqual(r);
  });

  it('accepts exactly one spelling of the last character', () => {
    // 41 bytes leave two unused bits in the last base64 digit: the three other digits that decode
    // to the same bytes must be refused, as must every digit that changes the bytes
    for (const r of receipts) {
      const handle = signer.sign(r);
      const accepted = [...B64URL].filter((c) => signer.verify(handle.slice(0, -1) + c) !== undefined);
      expect(accepted).toEqual([handle.at(-1)]);
    }
  });

  it('refuses any other single-character change', () => {
    const handle = signer.sign(receipts[5]!);
    for (let i = 0; i < handle.length - 1; i++) {
      for (const c of 'Ab9_') {
        if (c === handle[i]) continue;
        expect(signer.verify(handle.slice(0, i) + c + handle.slice(i + 1))).toBeUndefined();
      }
    }
  });

  it('refuses handles signed with another secret', () => {
    const other = new ReceiptSigner(Buffer.from('fedcba9876543210fedcba9876543210'));
    expect(signer.verify(other.sign(receipts[3]!))).toBeUndefined();
  });
});
