/**
 * `circom --inspect` on every main circuit of the test configuration: each warning must be
 * explained by an entry of circuits/inspect-allowlist.json, and every entry must still be used.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CIRCUIT_NAMES, writeMain } from '../../src/build/build-circuits.ts';
import { runCircom, PROJECT_ROOT } from '../../src/build/circom.ts';

interface Allow {
  code: string;
  template: string;
  signals: string;
  reason: string;
}
const allowlist = JSON.parse(readFileSync(join(PROJECT_ROOT, 'circuits/inspect-allowlist.json'), 'utf8')) as { allow: Allow[] };

interface Warning {
  code: string;
  template: string;
  signals: string;
  text: string;
}

function parseWarnings(out: string): Warning[] {
  // eslint-disable-next-line no-control-regex
  const plain = out.replace(/\u001b\[[0-9;]*m/g, '');
  const warnings: Warning[] = [];
  for (const m of plain.matchAll(/warning\[(\w+)\]: In template "([^"]+)": (.*)/g)) {
    const signals = /signals ([\w[\].]+) contains/.exec(m[3]!)?.[1] ?? /signal ([\w[\].]+) does not/.exec(m[3]!)?.[1] ?? '';
    warnings.push({ code: m[1]!, template: m[2]!, signals, text: m[0]! });
  }
  if (/warning/i.test(plain) && warnings.length === 0) throw new Error(`unparsed inspect output:\n${plain}`);
  return warnings;
}

describe('circom --inspect', () => {
  const used = new Set<number>();
  it.each(CIRCUIT_NAMES.map((n) => [n]))('%s has no unexplained warning', async (name) => {
    const main = await writeMain(name, 'test');
    const out = await runCircom([main.slice(PROJECT_ROOT.length + 1), '--inspect', '--O2', '-o', '/tmp'], PROJECT_ROOT);
    const unexplained: string[] = [];
    for (const w of parseWarnings(out)) {
      const i = allowlist.allow.findIndex((a) => a.code === w.code && new RegExp(a.template).test(w.template) && new RegExp(a.signals).test(w.signals));
      if (i < 0) unexplained.push(w.text);
      else used.add(i);
    }
    expect(unexplained).toEqual([]);
  });

  it('every allowlist entry is still needed', () => {
    expect([...allowlist.allow.keys()].filter((i) => !used.has(i))).toEqual([]);
  });
});
