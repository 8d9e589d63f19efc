/**
 * Real threshold presentations of the test configuration, for the verifier's tests: one
 * agent with records from three organisations, a checkpoint signed by a test aggregator, and
 * the same statement proven under the repository's development keys and under the shared
 * local key set (test/helpers/keys.ts). Proving takes about a second.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configuration } from '../../src/build/build-circuits.ts';
import { signingBytes } from '../../src/crypto/canonical.ts';
import { contextHash } from '../../src/crypto/context.ts';
import { generateKeyPair, sign } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey, identityField } from '../../src/crypto/identity.ts';
import { keySetHash, type KeySetDescriptor } from '../../src/crypto/key-set.ts';
import { POLICY_V2, evidenceScore, policyHash } from '../../src/crypto/score-policy.ts';
import { KEY_SET_FILE, type KeySetFile } from '../../src/keys/key-set-dir.ts';
import { compiledCircuits, loadCircuitArtifacts } from '../../src/prover/artifacts.ts';
import { Groth16Prover } from '../../src/prover/groth16-prover.ts';
import { AgentState } from '../../src/state/agent-state.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../../src/state/threshold-input.ts';
import { BUNDLED_KEYS, type Expectations } from '../../src/verifier/index.ts';
import { testLocalKeySetDir } from './keys.ts';

export const aggregator = generateKeyPair();
export const aggregatorDid = didFromPublicKey(aggregator.publicKey);
export const agent = generateKeyPair();
export const agentDid = didFromPublicKey(agent.publicKey);
/** The verifiers' clock in the tests (ms). */
export const T0 = 1_800_000_000_000;
export const CONTEXT = { nonce: 'nonce-1', audience: 'https://gateway.example', expiry: T0 / 1000 + 600 };

/** A checkpoint signed by the test aggregator, naming a key set. */
export function checkpoint(stateRoot: string, keySetHash: string, keyMode: string, over: Record<string, unknown> = {}) {
  const body = { sequence: 4, config: 'test', stateRoot, chain: '1', logSize: 3, policyHash: policyHash(POLICY_V2).toString(), time: T0 - 60_000, keySetHash, keyMode, ...over };
  return { body, signer: aggregatorDid, signature: Buffer.from(sign(signingBytes('checkpoint', body), aggregator.secretKey)).toString('hex') };
}

/** A version 2 presentation of a proof under a key set, with a freshly signed checkpoint. */
export function presentationUnder(descriptor: KeySetDescriptor, vkey: unknown, proof: unknown, publicSignals: string[], root: string) {
  const hash = keySetHash(descriptor);
  return { version: 2, circuit: 'threshold', config: 'test', agent: agentDid, proof, publicSignals, context: CONTEXT, checkpoint: checkpoint(root, hash, descriptor.mode), keySet: descriptor, verificationKey: vkey };
}

/** The test configuration's state holding the test agent's records: one from each of three organisations. */
export function testAgentState(): AgentState {
  const { config } = configuration('test');
  const state = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
  const id = identityField(agent.publicKey);
  for (let i = 0; i < 3; i++) state.apply({ record: { agent: id, org: 100n + BigInt(i), epoch: 20_000n, kept: 30n, broken: 1n, violations: 0n, scope: 0n, salt: 7n + BigInt(i) }, orgIndex: i });
  return state;
}

export interface Presentations {
  /** Under the repository's development keys. */
  dev: any;
  /** The same statement under the local key set. */
  local: any;
  localSet: KeySetFile;
  /** The minimum score both prove (the agent's score less 10). */
  provenScore: number;
}

/** Proves the agent's statement (minScore = its score - 10, 3 records, 2 organisations) under both key sets. */
export async function provePresentations(): Promise<Presentations> {
  const state = testAgentState();
  const id = identityField(agent.publicKey);
  const provenScore = Number(evidenceScore(state.lookup(id)!.leaf.summary, POLICY_V2)) - 10;
  const { input } = buildThresholdInput(state, { agent: id, minScore: BigInt(provenScore), minRecords: 3n, minOrgs: 2n, contextHash: contextHash(CONTEXT) }, policyHash(POLICY_V2));
  const wasmPath = compiledCircuits('test').threshold!.wasmPath;
  const proveWith = async (zkeyPath: string) => (await Groth16Prover.fromFiles({ circuit: 'threshold', wasmPath, zkeyPath, publicNames: THRESHOLD_PUBLIC_SIGNALS })).prove(input);
  const d = await proveWith((await loadCircuitArtifacts('test', 'threshold', { quiet: true })).zkeyPath);
  const dev = presentationUnder(BUNDLED_KEYS.test!.descriptor, BUNDLED_KEYS.test!.threshold, d.proof, d.publicSignals, state.root.toString());
  // A local key set (made by the global setup with the service's own code).
  const dir = testLocalKeySetDir();
  const localSet: KeySetFile = JSON.parse(await readFile(join(dir, KEY_SET_FILE), 'utf8'));
  const l = await proveWith(join(dir, 'threshold.zkey'));
  const local = presentationUnder(localSet.descriptor, localSet.verificationKeys.threshold, l.proof, l.publicSignals, state.root.toString());
  return { dev, local, localSet, provenScore };
}

/** What a verifier expects of the test agent's presentation, with `over` changed. */
export function expectationsOf(provenScore: number, over: Partial<Expectations> = {}): Expectations {
  return { agent: agentDid, minScore: provenScore, context: { nonce: CONTEXT.nonce, audience: CONTEXT.audience }, maxAgeS: 3600, ...over };
}
