/**
 * `npm run bench`: speed figures of the cryptographic core, each next to a baseline measured
 * in the same run (the machine is shared and noisy: compare ratios, not absolute times).
 *
 *   npm run bench                       # test configuration (fast)
 *   npm run bench -- --config production
 *   npm run bench -- --only poseidon,circuits,prove,setup
 *
 * Sections:
 *   poseidon   native src/crypto/poseidon.ts against circomlibjs, hashes per second
 *   circuits   constraint counts per circuit, per record for BatchUpdate
 *   prove      Groth16 prove and verify medians per circuit (real keys of the configuration)
 *   setup      development key setup against the stock snarkjs ceremony path, same circuit
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPoseidon } from 'circomlibjs';
import { poseidon } from '../src/crypto/poseidon.ts';
import { parseR1cs } from '../src/crypto/r1cs.ts';
import { CIRCUIT_NAMES, configuration } from './lib/build-circuits.ts';
import { PROJECT_ROOT } from './lib/circom.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const configName = opt('config', 'test');
const only = new Set(opt('only', 'poseidon,circuits,prove,setup').split(','));
const runs = Number(opt('runs', configName === 'production' ? '5' : '9'));

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function rate(fn: (i: number) => void, seconds = 1): number {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) fn(n++);
  return n / ((performance.now() - t0) / 1000);
}

const report: string[] = [];
const line = (s: string) => {
  console.log(s);
  report.push(s);
};

async function benchPoseidon(): Promise<void> {
  const ref = await buildPoseidon();
  line('\n## Poseidon, hashes per second (higher is better)');
  line('inputs | native (src/crypto) | circomlibjs (baseline) | ratio');
  for (const n of [2, 4, 9, 11]) {
    const ins = (i: number) => Array.from({ length: n }, (_, k) => BigInt(i * 31 + k + 1));
    const ours = rate((i) => poseidon(ins(i)));
    const base = rate((i) => ref(ins(i)));
    line(`${n} | ${ours.toFixed(0)} | ${base.toFixed(0)} | ${(ours / base).toFixed(2)}`);
  }
}

function benchCircuits(): void {
  const { config } = configuration(configName);
  line(`\n## Constraints (${configName}: agent depth ${config.agentDepth}, org depth ${config.orgDepth}, batch ${config.batchSize})`);
  line('circuit | constraints | public signals | per record');
  for (const name of CIRCUIT_NAMES) {
    const path = join(PROJECT_ROOT, 'build', configName, `${name}.r1cs`);
    let r1cs;
    try {
      r1cs = parseR1cs(new Uint8Array(readFileSync(path)));
    } catch {
      line(`${name} | not built (npm run setup -- --config ${configName}) | |`);
      continue;
    }
    const per = name === 'batch-update' ? (r1cs.constraints.length / config.batchSize).toFixed(0) : '';
    line(`${name} | ${r1cs.constraints.length} | ${r1cs.nPubIn + r1cs.nPubOut} | ${per}`);
  }
}

const hooks: Record<string, () => Promise<void>> = {};
/** Later sections (proving, setup) register here once their modules exist. */
export function registerSection(name: string, fn: () => Promise<void>): void {
  hooks[name] = fn;
}

async function main(): Promise<void> {
  line(`# zktrust bench (${new Date().toISOString()}, node ${process.version}, config ${configName})`);
  if (only.has('poseidon')) await benchPoseidon();
  if (only.has('circuits')) benchCircuits();
  for (const [name, fn] of Object.entries(hooks)) if (only.has(name)) await fn();
  void runs;
}

await main();
process.exit(0);
