import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, OPTIONS } from '../../src/config/config.js';
import { REGISTRY } from '../../src/services/registry.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function table(name: string): string[][] {
  const m = new RegExp(`<!-- ${name}:begin -->([\\s\\S]*?)<!-- ${name}:end -->`).exec(readme);
  if (!m) throw new Error(`README has no ${name} table`);
  return m[1]
    .trim()
    .split('\n')
    .slice(2)
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim().replace(/^`|`$/g, '')),
    );
}

describe('README', () => {
  it('lists every option with its environment variable and default', () => {
    const rows = table('options');
    const byFlag = new Map(rows.map((r) => [r[0], r]));
    expect([...byFlag.keys()].sort()).toEqual([...OPTIONS.map((o) => `--${o.flag}`), '--config'].sort());
    for (const o of OPTIONS) {
      const row = byFlag.get(`--${o.flag}`)!;
      expect(row[1]).toBe(o.env);
      const def = DEFAULTS[o.key];
      if (def === undefined) expect(row[2]).toBe('—');
      else if (typeof def === 'boolean') expect(row[2]).toBe(def ? 'on' : 'off');
      else expect(row[2]).toBe(String(def));
    }
  });

  it('lists exactly the SQS, STS, SNS and Kinesis operations the server implements', () => {
    expect(table('operations').map((r) => r[0])).toEqual(Object.keys(REGISTRY.sqs.operations).sort());
    expect(table('sts-operations').map((r) => r[0])).toEqual(Object.keys(REGISTRY.sts.operations).sort());
    expect(table('sns-operations').map((r) => r[0])).toEqual(Object.keys(REGISTRY.sns.operations).sort());
    expect(table('kinesis-operations').map((r) => r[0])).toEqual(Object.keys(REGISTRY.kinesis.operations).sort());
  });
});
