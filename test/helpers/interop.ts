/**
 * Real threshold presentations for any verifier context and threshold, for the interop tests
 * (VC/VP, A2A, Agent Governance Toolkit): the test agent of test/helpers/presentations.ts
 * (records from three organisations), proven under the shared local key set and presented
 * with a checkpoint signed by the test aggregator, as the service presents them. A proof
 * takes about a second; `proveFor` memoises by request.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contextHash, type VerifierContext } from '../../src/crypto/context.ts';
import { identityField } from '../../src/crypto/identity.ts';
import { POLICY_V2, evidenceScore, policyHash } from '../../src/crypto/score-policy.ts';
import { KEY_SET_FILE, type KeySetFile } from '../../src/keys/key-set-dir.ts';
import { compiledCircuits } from '../../src/prover/artifacts.ts';
import { Groth16Prover } from '../../src/prover/groth16-prover.ts';
import type { AgentState } from '../../src/state/agent-state.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../../src/state/threshold-input.ts';
import { testLocalKeySetDir } from './keys.ts';
import { agent, presentationUnder, testAgentState } from './presentations.ts';

let setup: Promise<{ state: AgentState; prover: Groth16Prover; set: KeySetFile; score: number }> | undefined;

function ready() {
  setup ??= (async () => {
    const state = testAgentState();
    const id = identityField(agent.publicKey);
    const dir = testLocalKeySetDir();
    const set: KeySetFile = JSON.parse(await readFile(join(dir, KEY_SET_FILE), 'utf8'));
    const prover = await Groth16Prover.fromFiles({ circuit: 'threshold', wasmPath: compiledCircuits('test').threshold!.wasmPath, zkeyPath: join(dir, 'threshold.zkey'), publicNames: THRESHOLD_PUBLIC_SIGNALS });
    return { state, prover, set, score: Number(evidenceScore(state.lookup(id)!.leaf.summary, POLICY_V2)) };
  })();
  return setup;
}

/** The test agent's exact (hidden) score. */
export async function agentScore(): Promise<number> {
  return (await ready()).score;
}

const proofs = new Map<string, Promise<any>>();

/**
 * A presentation proving "score >= minScore" (3 records, 2 organisations) for `context`, under
 * the local key set, with a checkpoint signed by the test aggregator (test/helpers/presentations.ts).
 * @throws when the statement does not hold (the circuit refuses the witness).
 */
export function proveFor(context: VerifierContext, minScore: number): Promise<any> {
  const key = JSON.stringify([context.nonce, context.audience, context.expiry, minScore]);
  if (!proofs.has(key)) {
    proofs.set(key, (async () => {
      const { state, prover, set } = await ready();
      const { input } = buildThresholdInput(state, { agent: identityField(agent.publicKey), minScore: BigInt(minScore), minRecords: 3n, minOrgs: 2n, contextHash: contextHash(context) }, policyHash(POLICY_V2));
      const { proof, publicSignals } = await prover.prove(input);
      const p = presentationUnder(set.descriptor, set.verificationKeys.threshold, proof, publicSignals, state.root.toString());
      return { ...p, context: { nonce: context.nonce, audience: context.audience, expiry: context.expiry } };
    })());
  }
  return proofs.get(key)!.then((p) => structuredClone(p));
}
