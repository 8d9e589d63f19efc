/**
 * Writes docs/score-chart.svg (scripts/lib/score-chart.ts draws it with the real score
 * function) and prints the fewest trials at which each keep rate reaches each tier, the
 * numbers docs/score-model.md quotes. test/unit/score-chart.test.ts fails when the committed
 * chart differs from what this writes: `npx tsx scripts/score-chart.ts` (`--check`: print
 * only, write nothing).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/prover/artifacts.ts';
import { KEEP_RATES, MAX_TRIALS, scoreChartSvg, tierCrossings } from './lib/score-chart.ts';

const path = join(PROJECT_ROOT, 'docs', 'score-chart.svg');
const svg = scoreChartSvg();
const same = existsSync(path) && readFileSync(path, 'utf8') === svg;
// --check: print only, write nothing (the test reads the table this way).
if (!process.argv.includes('--check')) writeFileSync(path, svg);
console.log(`${same ? 'unchanged' : process.argv.includes('--check') ? 'stale    ' : 'written  '} docs/score-chart.svg (${svg.length} bytes)\n`);

const crossings = tierCrossings();
const tiers = [...new Set(crossings.map((c) => `${c.tier} (${c.min})`))];
console.log(`Fewest weighted trials to reach each tier (policy v2; "never" within ${MAX_TRIALS}):\n`);
console.log(`| promises kept | ${tiers.join(' | ')} |`);
console.log(`|---|${tiers.map(() => '---').join('|')}|`);
for (const percent of KEEP_RATES) {
  const row = crossings.filter((c) => c.percent === percent).map((c) => (c.trials === undefined ? 'never' : String(c.trials)));
  console.log(`| ${percent}% | ${row.join(' | ')} |`);
}
