/**
 * The tables of docs/score-model.md ("Choosing the caps"): the best score an agent can reach
 * with k organisations under policy v2 (every organisation reporting only kept promises, each
 * counting at most C trials), for the chosen C and for the candidates it was chosen from, and
 * what the rounding against the agent costs an agent that is nearly perfect everywhere, with
 * the cap counted in whole trials and in the policy's finer unit.
 * `npx tsx scripts/score-table.ts`
 */
import { POLICY_V2, cappedEvidence, evidenceScore, tier, type ScorePolicyV2 } from '../src/crypto/score-policy.ts';

const ORGS = [1n, 2n, 3n, 5n, 10n];
const best = (p: ScorePolicyV2, k: bigint) => evidenceScore({ successes: k * p.orgCap * p.trialUnits, trials: k * p.orgCap * p.trialUnits }, p);
const cell = (s: bigint) => `${s} (${tier(s)})`;

console.log(`Policy v2: C = ${POLICY_V2.orgCap} trials per organisation (counted in 1/${POLICY_V2.trialUnits} trial), record cap ${POLICY_V2.recordCap} weighted trials.\n`);
console.log('| organisations | best evidence (trials kept / trials) | best score |');
console.log('|---|---|---|');
for (const k of ORGS) console.log(`| ${k} | ${k * POLICY_V2.orgCap} / ${k * POLICY_V2.orgCap} | ${cell(best(POLICY_V2, k))} |`);

console.log('\nBest score by C (candidates):\n');
console.log(`| C | ${ORGS.map((k) => `${k} org${k > 1n ? 's' : ''}`).join(' | ')} |`);
console.log(`|---|${ORGS.map(() => '---').join('|')}|`);
for (const c of [4n, 8n, 9n, 16n, 32n, 64n]) {
  const p = { ...POLICY_V2, orgCap: c };
  console.log(`| ${c} | ${ORGS.map((k) => String(best(p, k))).join(' | ')} |`);
}

// What rounding against the agent costs a nearly perfect agent: 999 of every 1,000 promises kept
// at every organisation, with the cap counted in whole trials (units 1) and in hundredths.
for (const [label, s] of [['999 of every 1,000', 999n], ['99 of every 100', 990n]] as const) {
  console.log(`\nAn agent that keeps ${label} promises at each organisation (${s} / 1000 per organisation), C = ${POLICY_V2.orgCap}:\n`);
  console.log(`| unit of the cap | ${ORGS.map((k) => `${k} org${k > 1n ? 's' : ''}`).join(' | ')} |`);
  console.log(`|---|${ORGS.map(() => '---').join('|')}|`);
  for (const units of [1n, 10n, 100n]) {
    const p = { ...POLICY_V2, trialUnits: units };
    const row = ORGS.map((k) => String(evidenceScore(cappedEvidence(Array.from({ length: Number(k) }, () => ({ successes: s, trials: 1000n })), p), p)));
    console.log(`| 1/${units} trial | ${row.join(' | ')} |`);
  }
}
