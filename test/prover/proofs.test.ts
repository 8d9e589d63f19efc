/**
 * Real Groth16 proofs in the test configuration: keys from the manifest-checked loader,
 * honest batches and threshold statements prove and verify, and every altered public
 * signal, truncation or foreign key is rejected. The loader refuses altered files and keys
 * without a phase-2 contribution.
 */
import { cp, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuration } from '../../src/build/build-circuits.ts';
import { deriveDevSecrets } from '../../src/build/dev-zkey.ts';
import { writeZkey } from '../../src/keys/zkey-writer.ts';
import { contextHash } from '../../src/crypto/context.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { POLICY_V2, evidenceScore, policyHash } from '../../src/crypto/score-policy.ts';
import { ArtifactError, PROJECT_ROOT, loadCircuitArtifacts, readManifest, sha256File, zkeyPhase2, type LoadedCircuit } from '../../src/prover/artifacts.ts';
import { Groth16Prover } from '../../src/prover/groth16-prover.ts';
import { AgentState, type AppliedEntry } from '../../src/state/agent-state.ts';
import { BATCH_PUBLIC_SIGNALS, buildBatch } from '../../src/state/batch.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../../src/state/threshold-input.ts';
import { verifyGroth16 } from '../../src/verifier/groth16.ts';

const { config } = configuration('test');
const SHAPE = { agentDepth: config.agentDepth, orgDepth: config.orgDepth };
const PH = policyHash(POLICY_V2);
const SLOTS = { insertSlots: config.insertSlots, updateSlots: config.updateSlots };
const score = (agent: bigint) => evidenceScore(state.lookup(agent)!.leaf.summary, POLICY_V2);
let batch: LoadedCircuit;
let threshold: LoadedCircuit;
let batchProver: Groth16Prover<(typeof BATCH_PUBLIC_SIGNALS)[number]>;
let thresholdProver: Groth16Prover<(typeof THRESHOLD_PUBLIC_SIGNALS)[number]>;
let salt = 1n;
const rec = (agent: bigint, org: bigint, orgIndex: number, kept: bigint, broken = 0n, violations = 0n): AppliedEntry => ({
  record: { agent, org, epoch: 20_000n, kept, broken, violations, scope: 0n, salt: 1000n + salt++ },
  orgIndex,
});

beforeAll(async () => {
  batch = await loadCircuitArtifacts('test', 'batch-update', { quiet: true });
  threshold = await loadCircuitArtifacts('test', 'threshold', { quiet: true });
  batchProver = await Groth16Prover.fromFiles({ circuit: 'batch-update', wasmPath: batch.wasmPath, zkeyPath: batch.zkeyPath, publicNames: BATCH_PUBLIC_SIGNALS });
  thresholdProver = await Groth16Prover.fromFiles({ circuit: 'threshold', wasmPath: threshold.wasmPath, zkeyPath: threshold.zkeyPath, publicNames: THRESHOLD_PUBLIC_SIGNALS });
});

const state = new AgentState(SHAPE);

describe('proofs in the test configuration', () => {
  let thresholdProof: Awaited<ReturnType<typeof thresholdProver.prove>>;

  it('batches prove and verify: new and existing agents, padding, an all-padding batch, no evidence', async () => {
    const batches = [
      [rec(10n, 1n, 0, 30n, 1n), rec(20n, 1n, 0, 2n, 5n, 1n), rec(10n, 2n, 1, 12n)],
      [rec(30n, 2n, 1, 0n), rec(10n, 3n, 2, 8n, 0n, 0n), rec(20n, 2n, 1, 1n), rec(40n, 3n, 2, 0n, 0n, 0n)],
      [],
    ];
    let prevRoot = state.root;
    for (const entries of batches) {
      const b = buildBatch(state, entries, SLOTS, PH, 20_001n);
      const { proof, publicSignals, named } = await batchProver.prove(b.input);
      expect(named).toEqual(b.public);
      expect(named.oldRoot).toBe(prevRoot);
      prevRoot = named.newRoot;
      expect(await verifyGroth16(batch.vkey as never, publicSignals, proof)).toBe(true);
    }
  });

  it('a threshold statement proves and verifies at X = score; each altered public signal is rejected', async () => {
    const s = score(10n);
    expect(s).toBeGreaterThan(0n);
    const ctx = contextHash({ nonce: 'abc', audience: 'verifier.example', expiry: 2_000_000_000 });
    const { input, public: pub } = buildThresholdInput(state, { agent: 10n, minScore: s, minRecords: 3n, minOrgs: 3n, contextHash: ctx }, PH);
    thresholdProof = await thresholdProver.prove(input);
    expect(thresholdProof.named).toEqual(pub);
    const { proof, publicSignals } = thresholdProof;
    expect(await verifyGroth16(threshold.vkey as never, publicSignals, proof)).toBe(true);
    expect(await snarkjs.groth16.verify(threshold.vkey, publicSignals, proof)).toBe(true);
    for (let i = 0; i < publicSignals.length; i++) {
      const plus1 = publicSignals.map((v, k) => (k === i ? String(BigInt(v) + 1n) : v));
      expect(await verifyGroth16(threshold.vkey as never, plus1, proof), THRESHOLD_PUBLIC_SIGNALS[i]).toBe(false);
      const plusR = publicSignals.map((v, k) => (k === i ? String(BigInt(v) + FIELD_MODULUS) : v));
      await expect(verifyGroth16(threshold.vkey as never, plusR, proof)).rejects.toThrow(RangeError);
      expect(await snarkjs.groth16.verify(threshold.vkey, plusR, proof)).toBe(false);
    }
    await expect(verifyGroth16(threshold.vkey as never, publicSignals.slice(0, 6), proof)).rejects.toThrow(RangeError);
    // Another circuit's key: the batch key has 6 public signals, so this is malformed input...
    await expect(verifyGroth16(batch.vkey as never, publicSignals, proof)).rejects.toThrow(RangeError);
    // ...and its first six signals do not verify under it either.
    expect(await verifyGroth16(batch.vkey as never, publicSignals.slice(0, 6), proof)).toBe(false);
  });

  it('the boundary through real proofs: X = score proves and verifies, X = score + 1 cannot be proven', async () => {
    for (const agent of [10n, 20n, 30n]) {
      const s = score(agent);
      const at = buildThresholdInput(state, { agent, minScore: s, minRecords: 0n, minOrgs: 0n, contextHash: 1n }, PH);
      const p = await thresholdProver.prove(at.input);
      expect(await verifyGroth16(threshold.vkey as never, p.publicSignals, p.proof)).toBe(true);
      const above = buildThresholdInput(state, { agent, minScore: s + 1n, minRecords: 0n, minOrgs: 0n, contextHash: 1n }, PH);
      await expect(thresholdProver.prove(above.input), `agent ${agent} at ${s + 1n}`).rejects.toThrow(/Assert Failed/);
    }
  });
});

describe('artifact loader', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'zktrust-artifacts-'));
    for (const p of ['circuits', 'artifacts', 'node_modules/circomlib/circuits', 'build/test']) await cp(join(PROJECT_ROOT, p), join(root, p), { recursive: true });
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('accepts the untouched copy', async () => {
    const loaded = await loadCircuitArtifacts('test', 'threshold', { root, quiet: true });
    expect(loaded.mode).toBe('dev');
    expect(zkeyPhase2(new Uint8Array(await readFile(loaded.zkeyPath)))).toEqual({ contributions: 1, deltaIsGenerator: false });
  });

  it.each([['build/test/threshold.zkey'], ['build/test/threshold.wasm'], ['build/test/threshold.r1cs'], ['artifacts/test/threshold.vkey.json'], ['circuits/lib/threshold.circom']])(
    'refuses a one-byte change to %s',
    async (file) => {
      const path = join(root, file);
      const original = await readFile(path);
      const altered = Buffer.from(original);
      altered[altered.length - 2] = altered[altered.length - 2]! ^ 1;
      await writeFile(path, altered);
      try {
        await expect(loadCircuitArtifacts('test', 'threshold', { root, quiet: true })).rejects.toThrow(ArtifactError);
        await expect(loadCircuitArtifacts('test', 'threshold', { root, quiet: true })).rejects.toThrow(file.split('/').pop()!);
      } finally {
        await writeFile(path, original);
      }
    },
  );

  it('refuses a key without a phase-2 contribution even when the manifest lists it', async () => {
    const zkey = join(root, 'build/test/threshold.zkey');
    const original = await readFile(zkey);
    await writeZkey(join(root, 'build/test/threshold.r1cs'), zkey, deriveDevSecrets('another seed'));
    expect(zkeyPhase2(new Uint8Array(await readFile(zkey)))).toEqual({ contributions: 0, deltaIsGenerator: true });
    const manifest = readManifest(join(root, 'artifacts/manifest.json'));
    manifest.configurations.test!.circuits.threshold!.zkey = sha256File(zkey);
    try {
      await expect(loadCircuitArtifacts('test', 'threshold', { root, manifest, quiet: true })).rejects.toThrow(/no phase-2 contribution/);
    } finally {
      await writeFile(zkey, original);
    }
  });
});
