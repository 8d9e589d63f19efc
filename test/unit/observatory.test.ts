/**
 * The observatory's pure parts (src/observatory/series.ts, words.ts, charts.ts's ticks): the
 * API's JSON read as untrusted data, the growth and lag series, formats, and a plain-words
 * sentence for every verifier reason code. The page itself runs in a real browser in
 * test/integration/observatory.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { niceTicks, timeTicks } from '../../src/observatory/charts.ts';
import { formatCount, formatSeconds, formatTime, growth, lags, median, readBatches } from '../../src/observatory/series.ts';
import { FORGEABLE_BY, REASONS, forgeableInWords, keyModeInWords, reasonInWords } from '../../src/observatory/words.ts';
import { ROOT } from '../helpers/circuit.ts';

/** Values of every type a JSON answer or a caller's mistake could hold, and some it could not. */
const HOSTILE: unknown[] = [null, undefined, true, 0, -5, Number.NaN, Infinity, -5n, '', '1', '<img src=x onerror=alert(1)>', '__proto__', Symbol('s'), () => 1, [], [[]], {}, JSON.parse('{"__proto__":{"polluted":1}}'), { length: 3 }, Object.create(Uint8Array.prototype), new Uint8Array(4)];

const item = (sequence: number, from: number, to: number, time: number, accepted?: [number, number]) => ({
  checkpoint: { body: { sequence, time, logSize: to, keyMode: 'local', keySetHash: 'ab'.repeat(32) }, signer: 'did:key:z', signature: '00' },
  fromIndex: from,
  toIndex: to,
  ...(accepted ? { firstAcceptedAt: accepted[0], lastAcceptedAt: accepted[1] } : {}),
});

describe('the observatory series', () => {
  it('reads checkpoints in order and drops whatever is not well formed', () => {
    const good = [item(2, 3, 5, 20_000, [12_000, 15_000]), item(1, 0, 3, 10_000, [1_000, 4_000])];
    const batches = readBatches([...good, ...HOSTILE, { checkpoint: { body: { sequence: '3' } } }, item(4, 5, 5, 30_000)]);
    expect(batches.map((b) => b.sequence)).toEqual([1, 2, 4]);
    for (const x of HOSTILE) expect(readBatches(x)).toEqual([]);
    expect(readBatches([{ ...item(5, 0, 1, 1), fromIndex: Number.NaN }])).toEqual([]);
  });

  it('makes the growth and lag series: the log accepted and proven over time, each batch\'s shortest and longest wait', () => {
    const batches = readBatches([item(1, 0, 3, 10_000, [1_000, 4_000]), item(2, 3, 5, 20_000, [12_000, 15_000]), item(3, 5, 5, 25_000)]);
    expect(growth(batches, { size: 7, timestamp: 30_000 })).toEqual({
      accepted: [{ x: 4_000, y: 3 }, { x: 15_000, y: 5 }, { x: 30_000, y: 7 }],
      proven: [{ x: 10_000, y: 3 }, { x: 20_000, y: 5 }, { x: 25_000, y: 5 }],
    });
    expect(growth([], { size: 0, timestamp: 1 })).toEqual({ accepted: [], proven: [] });
    expect(growth([], { size: 2, timestamp: 1 })).toEqual({ accepted: [{ x: 1, y: 2 }], proven: [] });
    // An empty batch has no wait; a clock that went back never gives a negative one.
    expect(lags(batches)).toEqual([{ sequence: 1, shortestS: 6, longestS: 9 }, { sequence: 2, shortestS: 5, longestS: 8 }]);
    expect(lags(readBatches([item(1, 0, 1, 1_000, [2_000, 3_000])]))).toEqual([{ sequence: 1, shortestS: 0, longestS: 0 }]);
    expect([median([]), median([3]), median([4, 1, 2]), median([4, 1, 2, 3])]).toEqual([undefined, 3, 2, 2.5]);
  });

  it('formats times, durations and counts', () => {
    expect(formatTime(Date.UTC(2026, 10, 30, 12, 34, 56))).toBe('2026-11-30 12:34:56 UTC');
    expect(formatTime(Number.NaN)).toBe('an invalid time');
    expect([formatSeconds(0.4251), formatSeconds(12.34), formatSeconds(245), formatSeconds(7380), formatSeconds(9, 0)]).toEqual(['0.43 s', '12.3 s', '4 min 5 s', '2 h 3 min', '9 s']);
    expect([formatCount(0), formatCount(999), formatCount(1234567)]).toEqual(['0', '999', '1,234,567']);
  });

  it('picks round ticks: whole numbers for counts, round times', () => {
    expect(niceTicks(0, 10, 4, true)).toEqual([0, 5, 10]);
    expect(niceTicks(0, 10, 4)).toEqual([0, 2.5, 5, 7.5, 10]);
    expect(niceTicks(0, 1, 4, true)).toEqual([0, 1]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(5, 5)).toEqual([5]);
    expect(timeTicks(0, 60_000)).toEqual([0, 15_000, 30_000, 45_000, 60_000]);
    expect(timeTicks(1_000, 3_600_000).length).toBeLessThanOrEqual(7);
  });
});

describe('the observatory in words', () => {
  it('has a sentence for every reason code the verifier returns, key mode and forger, and nothing for other strings', () => {
    const source = readFileSync(join(ROOT, 'src/verifier/presentation.ts'), 'utf8');
    const union = source.slice(source.indexOf('export type ReasonCode'), source.indexOf(';', source.indexOf('export type ReasonCode')));
    const codes = [...union.matchAll(/'([a-z0-9_]+)'/g)].map((m) => m[1]).sort();
    expect(Object.keys(REASONS).sort()).toEqual(codes);
    for (const c of codes) expect(reasonInWords(c)).toMatch(/^[A-Z].*\.$/);
    for (const x of ['__proto__', 'constructor', 'toString', '', ...HOSTILE]) expect(reasonInWords(x)).toBeUndefined();
    expect(keyModeInWords('local')?.name).toBe('local keys');
    for (const x of ['__proto__', 'hasOwnProperty', ...HOSTILE]) expect(keyModeInWords(x)).toBeUndefined();
    expect(Object.keys(FORGEABLE_BY).map(forgeableInWords)).toEqual(['anyone', "the aggregator's operator", 'all ceremony participants together']);
    for (const x of ['__proto__', 'toString', ...HOSTILE]) expect(forgeableInWords(x)).toBeUndefined();
  });
});
