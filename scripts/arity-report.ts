/**
 * Measures the constraints of one Merkle level for arity 2, 4, 8 and 16 (circomlib Poseidon
 * with arity inputs, plus the position selector), and the cost of an update path (old and
 * new root) for a tree of at least 2^20 leaves. The table in docs/circuits.md comes from
 * `npx tsx scripts/arity-report.ts`.
 */
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { compileCircuit, PROJECT_ROOT } from '../src/build/circom.ts';
import { parseR1cs } from '../src/crypto/r1cs.ts';
import { readFileSync } from 'node:fs';

const dir = await mkdtemp(join(PROJECT_ROOT, 'build', '.arity-'));
try {
  console.log('arity | Poseidon(arity) constraints | depth for >= 2^20 | hashes per update path | path constraints (hashes only)');
  for (const arity of [2, 4, 8, 16]) {
    const src = join(dir, `p${arity}.circom`);
    await writeFile(src, `pragma circom 2.1.6;\ninclude "../../node_modules/circomlib/circuits/poseidon.circom";\ncomponent main = Poseidon(${arity});\n`);
    const c = await compileCircuit(src, dir);
    const n = parseR1cs(new Uint8Array(readFileSync(c.r1cs))).constraints.length;
    const depth = Math.ceil(20 / Math.log2(arity));
    console.log(`${arity} | ${n} | ${depth} | ${2 * depth} | ${2 * depth * n}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
