/**
 * docs/score-chart.svg is what scripts/score-chart.ts draws now (with the real score
 * function), so it cannot go stale; its curves agree with policy v1's score on whole trials
 * and with the smallest-k figures of docs/score-model.md; and the table of docs/score-model.md
 * is the script's.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { score } from '../../src/crypto/score-policy.ts';
import { KEEP_RATES, MAX_TRIALS, scoreAt, scoreChartSvg, tierCrossings } from '../../scripts/lib/score-chart.ts';
import { ROOT } from '../helpers/circuit.ts';

describe('the score chart', () => {
  it('the committed SVG is the one the script draws', () => {
    const committed = readFileSync(join(ROOT, 'docs', 'score-chart.svg'), 'utf8');
    expect(committed === scoreChartSvg(), 'docs/score-chart.svg is stale: run npx tsx scripts/score-chart.ts').toBe(true);
    expect(committed.match(/<polyline /g)).toHaveLength(KEEP_RATES.length);
    expect(committed.match(/stroke-dasharray/g)).toHaveLength(4);
    expect(committed.match(/<polyline [^>]*points="([^"]*)"/)![1]!.split(' ')).toHaveLength(MAX_TRIALS + 1);
  });

  it('draws the real score: whole trials agree with policy v1\'s score of kept and broken promises', () => {
    for (const percent of KEEP_RATES) {
      for (let n = 0; n <= MAX_TRIALS; n++) {
        if ((n * percent) % 100 !== 0) continue;
        const kept = BigInt((n * percent) / 100);
        expect(scoreAt(n, percent)).toBe(Number(score({ kept, broken: BigInt(n) - kept, violations: 0n })));
      }
    }
    // docs/score-model.md: "an agent needs 2 kept promises for probationary, 4 for standard, 9 for trusted and 35 for verified partner".
    expect(tierCrossings().filter((c) => c.percent === 100).map((c) => c.trials)).toEqual([2, 4, 9, 35]);
  });

  it('docs/score-model.md shows the chart and the table the script prints', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'score-model.md'), 'utf8');
    expect(doc).toContain('](score-chart.svg)');
    const printed = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'score-chart.ts'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    const table = printed.split('\n').filter((l) => l.startsWith('|'));
    expect(table.length).toBe(2 + KEEP_RATES.length);
    for (const line of table) expect(doc).toContain(line);
  });
});
