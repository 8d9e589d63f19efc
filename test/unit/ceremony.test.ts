/**
 * The ceremony path on a small circuit with a locally made powers-of-tau file: the ptau hash
 * is checked, contributions are recorded, the beacon finalises, zkey verify passes and the
 * key proves; a tampered ptau, a wrong hash and a finalisation without contribution are refused.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { buildBn128 } from 'ffjavascript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HERMEZ_PTAU_BLAKE2B, blake2bFile, ceremonyContribute, ceremonyFinalize, ceremonyInit, checkPtau, ptauPower } from '../../scripts/lib/ceremony.ts';
import { zkeyPhase2 } from '../../src/prover/artifacts.ts';
import { verifyGroth16 } from '../../src/verifier/groth16.ts';
import { loadTestCircuit, type TestCircuit } from '../helpers/circuit.ts';

const SOURCE = `pragma circom 2.1.6;
template Mul() { signal input a; signal input b; signal output c; c <== a * b; }
component main {public [a]} = Mul();
`;
let dir: string;
let ptau: string;
let ptauHash: string;
let circuit: TestCircuit;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-ceremony-'));
  circuit = await loadTestCircuit('ceremony-mul', { source: SOURCE });
  const curve = await buildBn128();
  await snarkjs.powersOfTau.newAccumulator!(curve, 8, join(dir, 'p0.ptau'));
  await snarkjs.powersOfTau.contribute!(join(dir, 'p0.ptau'), join(dir, 'p1.ptau'), 'first', 'entropy one');
  ptau = join(dir, 'final.ptau');
  await snarkjs.powersOfTau.preparePhase2!(join(dir, 'p1.ptau'), ptau);
  ptauHash = await blake2bFile(ptau);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('ceremony', () => {
  it('reads the power and refuses a hash other than the published one', async () => {
    expect(await ptauPower(ptau)).toBe(8);
    // A locally made ptau is not Hermez's: without an explicit hash it is refused.
    await expect(checkPtau(ptau)).rejects.toThrow(/mismatch/);
    expect(HERMEZ_PTAU_BLAKE2B[8]).toMatch(/^[0-9a-f]{128}$/);
    await expect(checkPtau(ptau, '00'.repeat(64))).rejects.toThrow(/mismatch/);
    expect((await checkPtau(ptau, ptauHash)).power).toBe(8);
  });

  it('refuses a tampered ptau', async () => {
    const bytes = await readFile(ptau);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 1;
    const bad = join(dir, 'tampered.ptau');
    await writeFile(bad, bytes);
    await expect(ceremonyInit({ r1csPath: circuit.r1csPath, ptauPath: bad, ptauHash, dir: join(dir, 'c-bad') })).rejects.toThrow(/mismatch/);
  });

  it('init, two contributions, beacon: zkey verify passes and the key proves', async () => {
    const cdir = join(dir, 'c');
    await ceremonyInit({ r1csPath: circuit.r1csPath, ptauPath: ptau, ptauHash, dir: cdir });
    await expect(ceremonyFinalize({ dir: cdir, beaconHex: 'ab'.repeat(32), iterationsExp: 10, zkeyOut: join(dir, 'never.zkey') })).rejects.toThrow(/no phase-2 contribution/);
    const h1 = await ceremonyContribute({ dir: cdir, name: 'Alice' });
    const h2 = await ceremonyContribute({ dir: cdir, name: 'Bob', entropy: 'dice: 4 1 6' });
    expect(h1).not.toBe(h2);
    const out = join(dir, 'final.zkey');
    const { vkey, contributions } = await ceremonyFinalize({ dir: cdir, beaconHex: 'ab'.repeat(32), iterationsExp: 10, zkeyOut: out });
    expect(contributions.map((c) => c.name)).toEqual(['Alice', 'Bob', 'final beacon']);
    expect(contributions.slice(0, 2).map((c) => c.hash)).toEqual([h1, h2]);
    expect(zkeyPhase2(new Uint8Array(await readFile(out))).contributions).toBe(3);
    const { proof, publicSignals } = await snarkjs.groth16.fullProve({ a: 6, b: 7 }, circuit.wasmPath, out);
    expect(publicSignals).toEqual(['42', '6']);
    expect(await verifyGroth16(vkey as never, publicSignals, proof)).toBe(true);
  });
});
