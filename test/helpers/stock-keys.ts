/**
 * Groth16 keys for small test circuits made with the stock snarkjs ceremony path
 * (powers of tau new, contribute, prepare phase 2, zkey new, contribute), independent of
 * zktrust's own key pipeline. Cached under build/stock-keys/ by circuit hash.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { ROOT, loadTestCircuit, type TestCircuit } from './circuit.ts';

export interface StockKeys {
  circuit: TestCircuit;
  zkeyPath: string;
  vkey: any;
}

/** Stock-ceremony keys for a circuit source (see loadTestCircuit), at the given power of tau. */
export async function stockKeys(name: string, source: string, power = 8): Promise<StockKeys> {
  const circuit = await loadTestCircuit(name, { source });
  const dir = join(ROOT, 'build', 'stock-keys', basename(circuit.r1csPath, '.r1cs') + '-' + basename(join(circuit.r1csPath, '..')));
  await mkdir(dir, { recursive: true });
  const zkeyPath = join(dir, 'final.zkey');
  const vkeyPath = join(dir, 'vkey.json');
  if (!existsSync(zkeyPath) || !existsSync(vkeyPath)) {
    const ptau0 = join(dir, 'pot0.ptau');
    const ptau1 = join(dir, 'pot1.ptau');
    const ptau = join(dir, 'pot.ptau');
    const z0 = join(dir, 'z0.zkey');
    const z1 = join(dir, 'z1.zkey');
    await snarkjs.powersOfTau.newAccumulator!(await curve(), power, ptau0);
    await snarkjs.powersOfTau.contribute!(ptau0, ptau1, 'test', 'test entropy');
    await snarkjs.powersOfTau.preparePhase2!(ptau1, ptau);
    await snarkjs.zKey.newZKey!(circuit.r1csPath, ptau, z0);
    await snarkjs.zKey.contribute!(z0, z1, 'test', 'more test entropy');
    const vkey = await snarkjs.zKey.exportVerificationKey!(z1);
    await writeFile(vkeyPath + '.tmp', JSON.stringify(vkey));
    await rename(vkeyPath + '.tmp', vkeyPath);
    await rename(z1, zkeyPath);
  }
  return { circuit, zkeyPath, vkey: JSON.parse(await readFile(vkeyPath, 'utf8')) };
}

let c: any;
async function curve() {
  const { buildBn128 } = await import('ffjavascript');
  c ??= await buildBn128();
  return c;
}
