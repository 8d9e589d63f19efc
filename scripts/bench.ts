/**
 * `npm run bench`: speed figures of the cryptographic core, each next to a baseline measured
 * in the same run (the machine is shared and noisy: compare ratios, not absolute times).
 *
 *   npm run bench                       # test configuration (fast)
 *   npm run bench -- --config production
 *   npm run bench -- --only poseidon,circuits,prove,setup
 *
 * Sections:
 *   poseidon   the BigInt reference (src/crypto) and the native addon of ingestion against
 *              circomlibjs's WebAssembly, hashes per second
 *   circuits   constraint counts per circuit; for BatchUpdate per record (a known agent's, a new
 *              agent's, the batch's average) against policy v1's batch circuit
 *   prove      Groth16 prove (zktrust's engine against snarkjs.groth16.prove) and verify medians
 *              per circuit (real keys of the configuration), and batch proving in records per
 *              second against policy v1's batch circuit (circuits/legacy/v1, built with
 *              development keys under build/legacy/ on first use) in the same run
 *   setup      development key setup against the stock snarkjs ceremony path, same circuit
 *   verifier   Groth16 verification one by one against random-linear-combination batches
 *   state      witness generation: records applied to the agent state of the configuration's
 *              shape (new agents, then known ones), its Poseidon native against the BigInt
 *              reference in the same run; then at `--agents` agents (20,000; up to 1,000,000
 *              and more): the restarted aggregator's memory (committed state, working copy,
 *              projection), snapshot size, encoding, restart and working-copy times, and
 *              witness generation at that size
 *   keys       (opt-in: `--only keys`) a local key set as a service makes it on first start,
 *              against development keys of the same circuits (which add snarkjs's beacon);
 *              one phase-2 contribution to the BatchUpdate key (src/keys/phase2.ts) against
 *              `snarkjs zkey contribute`, and the aggregator's check of it
 *   service    ingestion, submission latency while proving, presentation latency (opt-in:
 *              `--only service`; see scripts/bench-service.ts)
 *   pipeline   proven records/s with 1 and 2 batch provers, the same submissions (opt-in:
 *              `--only pipeline [--records N]`; see scripts/bench-pipeline.ts)
 *   soak       100 connections from 100 addresses for `--seconds` (60), submissions and
 *              presentations mixed while batches prove, under the default limits, against one
 *              connection alone (opt-in: `--only soak`; see scripts/bench-soak.ts)
 *   onchain    gas of the on-chain gate's verify against the bare Groth16 verifier, in a real
 *              EVM, and solc's compile time (opt-in: `--only onchain`; see scripts/bench-onchain.ts)
 *   observatory the page at `/` in headless Chromium: its load time, and a presentation
 *              verified in the page against the same in Node, in the same run (opt-in:
 *              `--only observatory`; see scripts/bench-observatory.ts)
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPoseidon } from 'circomlibjs';
import * as snarkjs from 'snarkjs';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import { contextHash } from '../src/crypto/context.ts';
import { POLICY_V1, POLICY_V2, policyHash } from '../src/crypto/score-policy.ts';
import { artifactPaths, loadCircuitArtifacts } from '../src/prover/artifacts.ts';
import { Groth16Prover } from '../src/prover/groth16-prover.ts';
import { AgentState, type AppliedEntry } from '../src/state/agent-state.ts';
import { BATCH_PUBLIC_SIGNALS, buildBatch } from '../src/state/batch.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../src/state/threshold-input.ts';
import { getCurve, verifyGroth16, verifyGroth16Batch } from '../src/verifier/groth16.ts';
import { createVerifier } from '../src/verifier/presentation.ts';
import { BUNDLED_KEYS } from '../src/verifier/keys.ts';
import { signingBytes } from '../src/crypto/canonical.ts';
import { generateKeyPair, sign } from '../src/crypto/ed25519.ts';
import { didFromPublicKey, identityField } from '../src/crypto/identity.ts';
import { compileCircuit } from '../src/build/circom.ts';
import { ensureLegacyV1Batch } from './lib/legacy.ts';
import { slotCosts, updateSlotParts } from './lib/slot-costs.ts';
import { V1AgentState, V1_BATCH_PUBLIC_SIGNALS, buildV1Batch } from './legacy/v1-state.ts';
import { devSetup } from '../src/build/dev-zkey.ts';
import { poseidon, setPoseidonBackend } from '../src/crypto/poseidon.ts';
import { loadNativePoseidon, writeField } from '../src/engines/native-poseidon.ts';
import { parseR1cs } from '../src/crypto/r1cs.ts';
import type { RestartReport } from './lib/state-restart.ts';
import { CIRCUIT_NAMES, configuration, readCircuitsFile } from '../src/build/build-circuits.ts';
import { PROJECT_ROOT } from '../src/build/circom.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const configName = opt('config', 'test');
const only = new Set(opt('only', 'poseidon,circuits,prove,setup,verifier,state').split(','));
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
  const addon = await loadNativePoseidon((r) => line(`(native Poseidon unavailable: ${r})`));
  line('\n## Poseidon, hashes per second on one thread (higher is better)');
  const asm = addon?.useAsm(true) ?? false;
  line(`native addon: ${asm ? 'x86-64 assembly arithmetic (mulx/adx), and its portable C arithmetic in the same run' : 'portable C arithmetic (this CPU or build has no mulx/adx assembly)'}`);
  line('inputs | BigInt reference (src/crypto) | native addon (ingestion) | native, portable C | circomlibjs WebAssembly (baseline) | reference / baseline | native / baseline | native / portable C');
  for (const n of [2, 4, 9, 11]) {
    const ins = (i: number) => Array.from({ length: n }, (_, k) => BigInt(i * 31 + k + 1));
    const ours = rate((i) => poseidon(ins(i)));
    // The addon hashes a buffer of many inputs in one call, as ingestion does.
    const batch = 256;
    const buf = new Uint8Array(32 * n * batch);
    for (let i = 0; i < batch; i++) ins(i).forEach((x, k) => writeField(buf, 32 * (n * i + k), x));
    const native = addon ? rate(() => addon.hashMany(n, buf)) * batch : NaN;
    addon?.useAsm(false);
    const portable = addon ? rate(() => addon.hashMany(n, buf)) * batch : NaN;
    addon?.useAsm(true);
    const base = rate((i) => ref(ins(i)));
    line(`${n} | ${ours.toFixed(0)} | ${native.toFixed(0)} | ${portable.toFixed(0)} | ${base.toFixed(0)} | ${(ours / base).toFixed(2)} | ${(native / base).toFixed(2)} | ${(native / portable).toFixed(2)}`);
  }
}

async function benchCircuits(): Promise<void> {
  const { config } = configuration(configName);
  const legacy = readCircuitsFile().legacy.v1.configurations[configName];
  line(`\n## Constraints (${configName}: agent depth ${config.agentDepth}, org depth ${config.orgDepth}, ${config.insertSlots} insert and ${config.updateSlots} update slots)`);
  line('circuit | constraints | public signals | per record');
  let batchConstraints = 0;
  for (const name of CIRCUIT_NAMES) {
    const path = artifactPaths(configName, name).r1cs;
    let r1cs;
    try {
      r1cs = parseR1cs(new Uint8Array(readFileSync(path)));
    } catch {
      line(`${name} | not built (npm run setup -- --config ${configName}) | |`);
      continue;
    }
    if (name === 'batch-update') batchConstraints = r1cs.constraints.length;
    const per = name === 'batch-update' ? (r1cs.constraints.length / (config.insertSlots + config.updateSlots)).toFixed(0) : '';
    line(`${name} | ${r1cs.constraints.length} | ${r1cs.nPubIn + r1cs.nPubOut} | ${per}`);
  }
  if (!batchConstraints || !legacy) return;
  const c = await slotCosts(configName, batchConstraints);
  const old = await ensureLegacyV1Batch(configName, (m) => console.log(m));
  const oldPer = Math.round(old.constraints / legacy.batchSize);
  line(`\nBatchUpdate per record (slot templates compiled alone; the rest of the batch shared over its ${c.records} positions: ${c.perPosition} each) against policy v1's batch circuit (${old.constraints} constraints, ${legacy.batchSize} records, agent depth ${legacy.agentDepth}, org depth ${legacy.orgDepth}, every slot able to insert)`);
  line('record | constraints | policy v1 | ratio');
  line(`known agent (update slot ${c.update} + position) | ${c.knownRecord} | ${oldPer} | ${(c.knownRecord / oldPer).toFixed(2)}`);
  line(`new agent (insert slot ${c.insert} + position) | ${c.newRecord} | ${oldPer} | ${(c.newRecord / oldPer).toFixed(2)}`);
  line(`batch average (${c.batch} / ${c.records}) | ${c.average} | ${oldPer} | ${(c.average / oldPer).toFixed(2)}`);
  const parts = await updateSlotParts(configName);
  line(`\nAn update slot (${c.update}), its parts compiled alone`);
  line('part | constraints');
  for (const [part, n] of parts) line(`${part} | ${n}`);
  const counted = parts.reduce((a, [part, n]) => a + (part.startsWith('one leaf hash') ? 2 * n : n), 0);
  line(`the rest (gating, zero checks, the summary's and the slot's arithmetic) | ${c.update - counted}`);
}

async function benchProve(): Promise<void> {
  const { config } = configuration(configName);
  const shape = { agentDepth: config.agentDepth, orgDepth: config.orgDepth };
  const slots = { insertSlots: config.insertSlots, updateSlots: config.updateSlots };
  const perBatch = slots.insertSlots + slots.updateSlots;
  const batch = await loadCircuitArtifacts(configName, 'batch-update', { quiet: true });
  const thr = await loadCircuitArtifacts(configName, 'threshold', { quiet: true });
  const bp = await Groth16Prover.fromFiles({ circuit: 'batch-update', wasmPath: batch.wasmPath, zkeyPath: batch.zkeyPath, publicNames: BATCH_PUBLIC_SIGNALS });
  const tp = await Groth16Prover.fromFiles({ circuit: 'threshold', wasmPath: thr.wasmPath, zkeyPath: thr.zkeyPath, publicNames: THRESHOLD_PUBLIC_SIGNALS });
  const ph = policyHash(POLICY_V2);
  const state = new AgentState(shape);
  let salt = 1n;
  // Baseline, in the same run on the same inputs: circom's witness calculator and
  // snarkjs.groth16.prove, as snarkjs's fullProve does it.
  const calculators = new Map<string, Awaited<ReturnType<typeof WitnessCalculatorBuilder>>>();
  const zkeys = new Map<string, Uint8Array>();
  const snarkjsProve = async (art: { wasmPath: string; zkeyPath: string }, input: Record<string, unknown>): Promise<number> => {
    if (!calculators.has(art.wasmPath)) {
      calculators.set(art.wasmPath, await WitnessCalculatorBuilder(new Uint8Array(readFileSync(art.wasmPath))));
      zkeys.set(art.zkeyPath, new Uint8Array(readFileSync(art.zkeyPath)));
    }
    const t = performance.now();
    const wtns = await calculators.get(art.wasmPath)!.calculateWTNSBin(input, false);
    await snarkjs.groth16.prove({ type: 'mem', data: zkeys.get(art.zkeyPath) }, { type: 'mem', data: wtns });
    return performance.now() - t;
  };
  // Policy v1's batch circuit, proven by the same engine on records of the same kind.
  const legacyConfig = readCircuitsFile().legacy.v1.configurations[configName];
  const legacy = legacyConfig ? await ensureLegacyV1Batch(configName, (m) => console.log(m)) : undefined;
  const lp = legacy && (await Groth16Prover.fromFiles({ circuit: 'legacy-batch-update', wasmPath: legacy.wasmPath, zkeyPath: legacy.zkeyPath, publicNames: V1_BATCH_PUBLIC_SIGNALS }));
  const legacyState = legacyConfig && new V1AgentState({ agentDepth: legacyConfig.agentDepth, orgDepth: legacyConfig.orgDepth });
  const legacyTimes: number[] = [];

  // A population of known agents, each reported on by a few organisations: the state a
  // batch of mostly known agents meets.
  const ORGS = 12;
  const known = 30;
  let epoch = 20_000n;
  const rec = (agent: bigint, org: number, e: bigint) => ({ record: { agent, org: BigInt(100 + org), epoch: e, kept: 5n, broken: 1n, violations: 0n, scope: 0n, salt: salt++ }, orgIndex: org });
  for (let a = 1; a <= known; a++) state.apply(rec(BigInt(a), a % ORGS, epoch));
  const batchBase: number[] = [];
  const thrBase: number[] = [];
  const batchTimes: number[] = [];
  let last: Awaited<ReturnType<typeof bp.prove>> | undefined;
  let newAgent = 1_000_000n;
  for (let i = 0; i < runs; i++) {
    epoch++;
    // Full batches: every insert slot a new agent, every update slot a known one.
    const entries = [
      ...Array.from({ length: slots.insertSlots }, (_, k) => rec(newAgent++, k % ORGS, epoch)),
      ...Array.from({ length: slots.updateSlots }, (_, k) => rec(BigInt(1 + ((i * slots.updateSlots + k) % known)), (i + k) % ORGS, epoch)),
    ];
    const b = buildBatch(state, entries, slots, ph, epoch);
    if (b.count !== perBatch) throw new Error('bench batch is not full');
    const t = performance.now();
    last = await bp.prove(b.input);
    batchTimes.push(performance.now() - t);
    batchBase.push(await snarkjsProve(batch, b.input));
    if (lp && legacyState && legacyConfig) {
      // Policy v1's batch: its size, new and known agents mixed as its bench did.
      const v1 = Array.from({ length: legacyConfig.batchSize }, (_, k) => ({
        record: { agent: BigInt(1 + ((i * legacyConfig.batchSize + k) % 7)), org: BigInt(100 + (k % 3)), epoch: 1n, kept: 5n, broken: 1n, violations: 0n, scope: 0n, salt: salt++ },
        orgIndex: k % 3,
      }));
      const lb = buildV1Batch(legacyState, v1, legacyConfig.batchSize, policyHash(POLICY_V1));
      const tl = performance.now();
      await lp.prove(lb.input);
      legacyTimes.push(performance.now() - tl);
    }
  }
  const ctx = contextHash({ nonce: 'bench', audience: 'bench', expiry: 2_000_000_000 });
  const thrTimes: number[] = [];
  let lastT: Awaited<ReturnType<typeof tp.prove>> | undefined;
  for (let i = 0; i < runs; i++) {
    const agent = BigInt(1 + (i % 7));
    const { input } = buildThresholdInput(state, { agent, minScore: 100n, minRecords: 1n, minOrgs: 1n, contextHash: ctx }, ph);
    const t = performance.now();
    lastT = await tp.prove(input);
    thrTimes.push(performance.now() - t);
    thrBase.push(await snarkjsProve(thr, input));
  }
  const verifyTimes = async (vkey: unknown, p: { proof: unknown; publicSignals: string[] }, fn: 'ours' | 'snarkjs') => {
    const ts: number[] = [];
    for (let i = 0; i < 3 * runs; i++) {
      const t = performance.now();
      const ok = fn === 'ours' ? await verifyGroth16(vkey as never, p.publicSignals, p.proof as never) : await snarkjs.groth16.verify(vkey, p.publicSignals, p.proof as never);
      ts.push(performance.now() - t);
      if (!ok) throw new Error('bench proof did not verify');
    }
    return median(ts.slice(1));
  };
  line(`\n## Groth16 (${configName}), median of ${runs} runs, milliseconds (multiexponentiation: ${bp.nativeMsm ? 'native' : 'WebAssembly'})`);
  line('circuit | constraints | prove (witness + proof) | prove with snarkjs (baseline) | ratio | verify (src/verifier) | verify (snarkjs, baseline) | ratio');
  for (const [name, times, base, art, p] of [['batch-update', batchTimes, batchBase, batch, last!], ['threshold', thrTimes, thrBase, thr, lastT!]] as const) {
    const ours = await verifyTimes(art.vkey, p, 'ours');
    const vBase = await verifyTimes(art.vkey, p, 'snarkjs');
    const [pOurs, pBase] = [median(times), median(base)];
    line(`${name} | ${art.entry.constraints} | ${pOurs.toFixed(0)} | ${pBase.toFixed(0)} | ${(pOurs / pBase).toFixed(2)} | ${ours.toFixed(1)} | ${vBase.toFixed(1)} | ${(ours / vBase).toFixed(2)}`);
  }
  const rate = (ms: number, n: number) => (n * 1000) / ms;
  line(`batch-update: ${(median(batchTimes) / perBatch).toFixed(0)} ms per record, ${rate(median(batchTimes), perBatch).toFixed(2)} records/s`);
  if (legacy && legacyConfig && legacyTimes.length) {
    const [now, then] = [rate(median(batchTimes), perBatch), rate(median(legacyTimes), legacyConfig.batchSize)];
    line(`\n## Batch proving against policy v1's batch circuit (${configName}), same engine, same run, median of ${runs}`);
    line('batch circuit | constraints | records per batch | constraints per record | prove ms | ms per record | records/s');
    line(`policy v1 (circuits/legacy/v1) | ${legacy.constraints} | ${legacyConfig.batchSize} | ${(legacy.constraints / legacyConfig.batchSize).toFixed(0)} | ${median(legacyTimes).toFixed(0)} | ${(median(legacyTimes) / legacyConfig.batchSize).toFixed(0)} | ${then.toFixed(2)}`);
    line(`policy v2 (circuits/lib) | ${batch.entry.constraints} | ${perBatch} | ${(batch.entry.constraints / perBatch).toFixed(0)} | ${median(batchTimes).toFixed(0)} | ${(median(batchTimes) / perBatch).toFixed(0)} | ${now.toFixed(2)}`);
    line(`records/s, v2 / v1: ${(now / then).toFixed(2)}`);
  }
}

async function benchSetup(): Promise<void> {
  // One small circuit (a chain of Poseidon hashes) through both paths at the same power.
  const power = Number(opt('power', '10'));
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-setup-'));
  try {
    const hashes = Math.max(1, Math.floor((2 ** (power - 1)) / 240));
    const src = join(PROJECT_ROOT, 'build', `bench-setup-${power}.circom`);
    await writeFile(src, `pragma circom 2.1.6;\ninclude "../node_modules/circomlib/circuits/poseidon.circom";\ntemplate Chain(N) { signal input x; signal output y; component h[N]; for (var i = 0; i < N; i++) { h[i] = Poseidon(2); h[i].inputs[0] <== i == 0 ? x : h[i-1].out; h[i].inputs[1] <== i; } y <== h[N-1].out; }\ncomponent main = Chain(${hashes});\n`);
    const c = await compileCircuit(src, dir);
    const constraints = parseR1cs(new Uint8Array(readFileSync(c.r1cs))).constraints.length;
    let t = performance.now();
    await devSetup({ r1csPath: c.r1cs, zkeyPath: join(dir, 'dev.zkey'), seed: 'bench' });
    const dev = (performance.now() - t) / 1000;
    t = performance.now();
    const curve = await getCurve();
    await snarkjs.powersOfTau.newAccumulator!(curve, power, join(dir, 'p0.ptau'));
    await snarkjs.powersOfTau.contribute!(join(dir, 'p0.ptau'), join(dir, 'p1.ptau'), 'bench', 'bench entropy');
    await snarkjs.powersOfTau.preparePhase2!(join(dir, 'p1.ptau'), join(dir, 'p.ptau'));
    await snarkjs.zKey.newZKey!(c.r1cs, join(dir, 'p.ptau'), join(dir, 'z0.zkey'));
    await snarkjs.zKey.contribute!(join(dir, 'z0.zkey'), join(dir, 'z1.zkey'), 'bench', 'more entropy');
    const stock = (performance.now() - t) / 1000;
    line(`\n## Key setup at 2^${power} (${constraints} constraints), seconds`);
    line('development keys (src/build/dev-zkey.ts) | stock snarkjs ceremony path (baseline) | ratio');
    line(`${dev.toFixed(1)} | ${stock.toFixed(1)} | ${(stock / dev).toFixed(1)}x faster`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchKeys(): Promise<void> {
  const { makeLocalKeySet } = await import('../src/keys/local-keys.ts');
  const { checkContribution, closePhase2Curve, contribute } = await import('../src/keys/phase2.ts');
  const { compiledCircuits } = await import('../src/prover/artifacts.ts');
  const circuits = compiledCircuits(configName);
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-keys-'));
  try {
    let t = performance.now();
    await makeLocalKeySet({ config: configName, policyHash: policyHash(POLICY_V2).toString(), circuits: Object.entries(circuits).map(([name, c]) => ({ name, r1csPath: c.r1csPath, r1cs: c.r1cs })), dir: join(dir, 'local') });
    const local = (performance.now() - t) / 1000;
    t = performance.now();
    for (const [name, c] of Object.entries(circuits)) await devSetup({ r1csPath: c.r1csPath, zkeyPath: join(dir, `${name}.dev.zkey`), seed: 'bench' });
    const dev = (performance.now() - t) / 1000;
    line(`\n## Keys (${configName}), seconds`);
    line('local key set, every circuit (first start) | development keys, same circuits (baseline) | ratio');
    line(`${local.toFixed(1)} | ${dev.toFixed(1)} | ${(dev / local).toFixed(2)}`);
    const prevPath = join(dir, 'local', 'batch-update.zkey');
    const prev = new Uint8Array(readFileSync(prevPath));
    t = performance.now();
    const { bytes } = await contribute(prev, { name: 'bench' });
    const ours = (performance.now() - t) / 1000;
    t = performance.now();
    await snarkjs.zKey.contribute!(prevPath, join(dir, 'snarkjs.zkey'), 'bench', 'bench entropy');
    const stock = (performance.now() - t) / 1000;
    t = performance.now();
    const check = await checkContribution(prev, bytes);
    const checked = (performance.now() - t) / 1000;
    if (!check.ok) throw new Error(`bench contribution refused: ${check.reason}`);
    await closePhase2Curve();
    line(`\nphase-2 contribution to the batch-update key (${(prev.length / 1e6).toFixed(0)} MB) | snarkjs zkey contribute (baseline) | ratio | the aggregator's check of it`);
    line(`${ours.toFixed(1)} | ${stock.toFixed(1)} | ${(stock / ours).toFixed(1)}x faster | ${checked.toFixed(1)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchVerifier(): Promise<void> {
  // One real threshold proof of the configuration, verified one by one and in batches.
  const { config } = configuration(configName);
  const thr = await loadCircuitArtifacts(configName, 'threshold', { quiet: true });
  const tp = await Groth16Prover.fromFiles({ circuit: 'threshold', wasmPath: thr.wasmPath, zkeyPath: thr.zkeyPath, publicNames: THRESHOLD_PUBLIC_SIGNALS });
  const state = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
  for (let o = 0; o < 3; o++) state.apply({ record: { agent: 5n, org: 9n + BigInt(o), epoch: 1n, kept: 50n, broken: 1n, violations: 0n, scope: 0n, salt: 1n }, orgIndex: o });
  const { input } = buildThresholdInput(state, { agent: 5n, minScore: 700n, minRecords: 1n, minOrgs: 1n, contextHash: 42n }, policyHash(POLICY_V2));
  const { proof, publicSignals } = await tp.prove(input);
  const vk = thr.vkey as never;
  const single: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await verifyGroth16(vk, publicSignals, proof as never);
    single.push(performance.now() - t);
  }
  const one = median(single.slice(5));
  line(`\n## Verification (${configName} threshold), milliseconds per proof`);
  line('proofs | batch (random linear combination) | one by one (baseline) | ratio');
  for (const n of [16, 256]) {
    const items = Array.from({ length: n }, () => ({ publicSignals, proof: proof as never }));
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      if (!(await verifyGroth16Batch(vk, items))) throw new Error('batch did not verify');
      times.push(performance.now() - t);
    }
    const per = median(times) / n;
    line(`${n} | ${per.toFixed(2)} | ${one.toFixed(2)} | ${(one / per).toFixed(1)}x`);
  }
  line(`single verification, warm: p50 ${one.toFixed(2)} ms`);

  // A presentation through createVerifier: first decision, then the cached one.
  const agg = generateKeyPair();
  const agent = generateKeyPair();
  const id = identityField(agent.publicKey);
  const st = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
  for (let o = 0; o < 3; o++) st.apply({ record: { agent: id, org: 9n + BigInt(o), epoch: 1n, kept: 50n, broken: 1n, violations: 0n, scope: 0n, salt: 1n }, orgIndex: o });
  const context = { nonce: 'bench', audience: 'bench', expiry: Math.floor(Date.now() / 1000) + 3600 };
  const pi = buildThresholdInput(st, { agent: id, minScore: 700n, minRecords: 0n, minOrgs: 0n, contextHash: contextHash(context) }, policyHash(POLICY_V2));
  const pr = await tp.prove(pi.input);
  // Under the repository's development keys (what this bench proves with), allowed explicitly.
  const keys = BUNDLED_KEYS[configName]!;
  const body = { sequence: 1, config: configName, stateRoot: st.root.toString(), chain: "0", logSize: 3, policyHash: policyHash(POLICY_V2).toString(), time: Date.now(), keySetHash: keys.keySetHash, keyMode: "dev" };
  const presentation = {
    version: 2, circuit: 'threshold', config: configName, agent: didFromPublicKey(agent.publicKey), proof: pr.proof, publicSignals: pr.publicSignals, context,
    checkpoint: { body, signer: didFromPublicKey(agg.publicKey), signature: Buffer.from(sign(signingBytes('checkpoint', body), agg.secretKey)).toString('hex') },
    keySet: keys.descriptor, verificationKey: keys.threshold,
  };
  const verifier = createVerifier({ aggregatorKeys: [didFromPublicKey(agg.publicKey)], allowInsecureKeys: true });
  const exp = { agent: presentation.agent, minScore: 700, context: { nonce: 'bench', audience: 'bench' }, maxAgeS: 3600 };
  const t = performance.now();
  const first = await verifier.verifyPresentation(presentation, exp);
  const firstMs = performance.now() - t;
  if (!first.ok) throw new Error(`bench presentation refused: ${first.reason}`);
  const cached: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t1 = performance.now();
    await verifier.verifyPresentation(presentation, exp);
    cached.push(performance.now() - t1);
  }
  line('presentation decision | ms');
  line(`first (signature, signals, Groth16) | ${firstMs.toFixed(2)}`);
  line(`cached, p50 | ${median(cached).toFixed(4)}`);
}

/**
 * Witness generation: the sequencer applies each record to the agent state, hashing the
 * agent's leaf, its path in the agent tree and its organisation set. Records/s of new agents
 * (inserts, also re-linking the low leaf) and of known ones (updates), on the TypeScript
 * Poseidon and on the native addon the aggregator installs.
 */
async function benchState(): Promise<void> {
  const { config } = configuration(configName);
  const shape = { agentDepth: config.agentDepth, orgDepth: config.orgDepth };
  const native = await loadNativePoseidon();
  const N = 400;
  const measure = (): { inserts: number; updates: number } => {
    const state = new AgentState(shape);
    const rec = (i: number, epoch: bigint) => ({ record: { agent: BigInt(i + 1) * 0x9e3779b97f4a7c15n, org: 5n, epoch, kept: 3n, broken: 1n, violations: 0n, scope: 0n, salt: 9n }, orgIndex: i % 16 });
    let t = performance.now();
    for (let i = 0; i < N; i++) state.apply(rec(i, 1n));
    const inserts = N / ((performance.now() - t) / 1000);
    t = performance.now();
    for (let i = 0; i < N; i++) state.apply(rec(i, 2n));
    return { inserts, updates: N / ((performance.now() - t) / 1000) };
  };
  line(`\n## Witness generation (${configName}: agent tree depth ${shape.agentDepth}, organisation sets depth ${shape.orgDepth}), ${N} new agents then ${N} updates`);
  line('Poseidon | new agents/s | known agents/s');
  setPoseidonBackend(undefined);
  const ts = measure();
  line(`TypeScript BigInt (baseline) | ${ts.inserts.toFixed(0)} | ${ts.updates.toFixed(0)}`);
  if (!native) return line('native addon unavailable');
  setPoseidonBackend((xs) => native.hash(xs));
  const nat = measure();
  setPoseidonBackend(undefined);
  line(`native (${native.arithmetic}) | ${nat.inserts.toFixed(0)} | ${nat.updates.toFixed(0)}`);
  line(`ratio native / TypeScript: new ${(nat.inserts / ts.inserts).toFixed(2)}, known ${(nat.updates / ts.updates).toFixed(2)}`);
  await benchStateSize(shape, native);
}

/**
 * The state at `--agents` agents (default 20,000), each reported on by three organisations, as
 * the aggregator holds it. Built in one hashing pass (AgentState.fromEntries, checked here
 * against applying the same records one by one for the first thousand agents), then: snapshot
 * size and encoding; the aggregator's restart from that snapshot in a fresh process
 * (scripts/lib/state-restart.ts: restore, ingestion's projection seeded from it, the working
 * copy) with its time and the process's memory after each step; and witness generation on the
 * state at that size (native Poseidon). Per agent, and extrapolated linearly to a full
 * production tree (2^20 agents), marked as such.
 */
async function benchStateSize(shape: { agentDepth: number; orgDepth: number }, native: NonNullable<Awaited<ReturnType<typeof loadNativePoseidon>>>): Promise<void> {
  const agents = Math.min(Number(opt('agents', '20000')), 4 ** shape.agentDepth - 1);
  const ORGS_PER_AGENT = 3;
  const SAMPLE = Math.min(agents, 1000);
  const key = (i: number) => BigInt(i + 1) * 0x9e3779b97f4a7c15n;
  const rec = (i: number, o: number, epoch: bigint) => ({ record: { agent: key(i), org: 5n + BigInt(o), epoch, kept: 3n, broken: 1n, violations: 0n, scope: 0n, salt: 9n }, orgIndex: (i + 5 * o) % 4 ** shape.orgDepth });
  function* records(count: number): Generator<AppliedEntry> {
    for (let i = 0; i < count; i++) for (let o = 0; o < ORGS_PER_AGENT; o++) yield rec(i, o, 1n);
  }
  setPoseidonBackend((xs) => native.hash(xs));
  const applied = new AgentState(shape);
  for (const e of records(SAMPLE)) applied.apply(e);
  if (AgentState.fromEntries(shape, records(SAMPLE)).root !== applied.root) throw new Error('fromEntries gives another state than apply');
  let t = performance.now();
  const state = AgentState.fromEntries(shape, records(agents));
  const buildS = (performance.now() - t) / 1000;
  t = performance.now();
  const snap = state.toSnapshot();
  const encodeMs = performance.now() - t;
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-state-'));
  let restart: RestartReport;
  try {
    await writeFile(join(dir, 'state.snap'), snap);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/lib/state-restart.ts', join(dir, 'state.snap'), String(shape.agentDepth), String(shape.orgDepth)], { maxBuffer: 1 << 20 }, (e, stdout, stderr) =>
        e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    restart = JSON.parse(out) as RestartReport;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (BigInt(restart.root) !== state.root) throw new Error('the restarted state has another root');
  t = performance.now();
  const copy = state.clone();
  const cloneMs = performance.now() - t;
  // Witness generation at this size, on the copy as on the sequencer's working state.
  const N = 400;
  t = performance.now();
  for (let i = 0; i < N; i++) copy.apply(rec(agents + i, 0, 1n));
  const inserts = N / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < N; i++) copy.apply(rec(Math.floor((i * agents) / N), i % ORGS_PER_AGENT, 2n + BigInt(i)));
  const updates = N / ((performance.now() - t) / 1000);
  setPoseidonBackend(undefined);

  const full = 2 ** 20;
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const bytes = (x: number) => `${x.toFixed(0)} B`;
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const us = (x: number) => `${(1000 * x).toFixed(2)} us`;
  const { before, restored, seeded, cloned } = restart.memory;
  line(`\n## The state at ${agents.toLocaleString('en')} agents, ${ORGS_PER_AGENT} organisations each (${configName} shape)`);
  line(`built in ${buildS.toFixed(1)} s (${((agents * ORGS_PER_AGENT) / buildS).toFixed(0)} records/s: AgentState.fromEntries, every node hashed once; the same root as applying the records one by one for the first ${SAMPLE.toLocaleString('en')} agents)`);
  line('measure | at this size | per agent | a full tree (2^20), extrapolated');
  const row = (name: string, v: number, fmt: (x: number) => string, each: (x: number) => string) => line(`${name} | ${fmt(v)} | ${each(v / agents)} | ${fmt((v * full) / agents)}`);
  line(`RSS of the restarted process: committed state, working copy and projection | ${mib(cloned.rss)} | | (${mib(before.rss)} before reading the snapshot)`);
  row('RSS: the restored state', restored.rss - before.rss, mib, bytes);
  row('RSS: the projection seeded from it', seeded.rss - restored.rss, mib, bytes);
  row('RSS: the working copy', cloned.rss - seeded.rss, mib, bytes);
  row('RSS: all three', cloned.rss - before.rss, mib, bytes);
  row('V8 heap used, all three', cloned.heapUsed - before.heapUsed, mib, bytes);
  row('typed arrays, all three', cloned.arrayBuffers - before.arrayBuffers, mib, bytes);
  row('snapshot', snap.length, mib, bytes);
  row('snapshot encoding', encodeMs, ms, us);
  row('restart: read the snapshot file', restart.ms.read, ms, us);
  row('restart: restore the state (fromSnapshot, no hashing)', restart.ms.restore, ms, us);
  row('restart: seed the projection (orgEpochs)', restart.ms.seed, ms, us);
  row('restart: working copy (clone)', restart.ms.clone, ms, us);
  row('restart: all four', restart.ms.read + restart.ms.restore + restart.ms.seed + restart.ms.clone, ms, us);
  row('working copy (clone) in this process', cloneMs, ms, us);
  line(`witness generation on this state (native ${native.arithmetic}), records/s | new agents ${inserts.toFixed(0)} | known agents ${updates.toFixed(0)}`);
}

async function main(): Promise<void> {
  line(`# zktrust bench (${new Date().toISOString()}, node ${process.version}, config ${configName})`);
  if (only.has('poseidon')) await benchPoseidon();
  if (only.has('circuits')) await benchCircuits();
  if (only.has('prove')) await benchProve();
  if (only.has('setup')) await benchSetup();
  if (only.has('verifier')) await benchVerifier();
  if (only.has('state')) await benchState();
  if (only.has('keys')) await benchKeys();
  if (only.has('service')) await (await import('./bench-service.ts')).benchService(configName, line);
  if (only.has('pipeline')) await (await import('./bench-pipeline.ts')).benchPipeline(configName, Number(opt('records', configName === 'production' ? '120' : '60')), line);
  if (only.has('workers')) await (await import('./bench-pipeline.ts')).benchWorkers(configName, Number(opt('records', configName === 'production' ? '120' : '60')), line);
  if (only.has('ledger')) await (await import('./bench-ledger.ts')).benchLedger(Number(opt('entries', '300000')), line);
  if (only.has('soak')) await (await import('./bench-soak.ts')).benchSoak(configName, Number(opt('seconds', '60')), line);
  if (only.has('onchain')) await (await import('./bench-onchain.ts')).benchOnchain(line);
  if (only.has('observatory')) await (await import('./bench-observatory.ts')).benchObservatory(configName, runs, line);
}

await main();
process.exit(0);
