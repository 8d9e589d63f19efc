/**
 * Times the verification of one presentation in a fresh Node process, as a verifier service
 * would run it (scripts/bench-observatory.ts): `runs + 1` times createVerifier and
 * verifyPresentation, the first of which builds the curve's WebAssembly. Prints the times (ms)
 * as a JSON array.
 *
 *   node --import tsx scripts/lib/verify-timing.ts <presentation.json> <aggregator did> <agent did> <nonce> <audience> <runs>
 */
import { readFileSync } from 'node:fs';
import { createVerifier } from '../../src/verifier/index.ts';

const [file, aggregator, agent, nonce, audience, runs] = process.argv.slice(2) as [string, string, string, string, string, string];
const presentation = JSON.parse(readFileSync(file, 'utf8'));
const times: number[] = [];
for (let i = 0; i <= Number(runs); i++) {
  const t0 = performance.now();
  const r = await createVerifier({ aggregatorKeys: [aggregator], allowInsecureKeys: true }).verifyPresentation(presentation, { agent, minScore: 700, context: { nonce, audience }, maxAgeS: 86_400 });
  times.push(performance.now() - t0);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
}
console.log(JSON.stringify(times));
process.exit(0);
