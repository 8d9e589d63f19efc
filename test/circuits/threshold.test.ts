/**
 * Threshold (policy v2) in the test configuration: honest statements hold exactly up to the
 * agent's capped score, and every attack of invariant 6 fails (score + 1, another agent,
 * another root, another context, another policy, out-of-range requests); one organisation's
 * flood of evidence proves no more than C perfect trials (invariant 9).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { configuration, writeMain } from '../../src/build/build-circuits.ts';
import { contextHash } from '../../src/crypto/context.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { POLICY_V2, evidenceScore, policyHash } from '../../src/crypto/score-policy.ts';
import { AgentState, type AppliedEntry } from '../../src/state/agent-state.ts';
import { buildThresholdInput, THRESHOLD_PUBLIC_SIGNALS } from '../../src/state/threshold-input.ts';
import { expectAssertAt, loadTestCircuit, tamper, type TestCircuit } from '../helpers/circuit.ts';

const { config } = configuration('test');
const SHAPE = { agentDepth: config.agentDepth, orgDepth: config.orgDepth };
const POLICY_HASH = policyHash(POLICY_V2);
const CTX = contextHash({ nonce: 'n-1', audience: 'https://gateway.example', expiry: 1_900_000_000 });

let circuit: TestCircuit;
let state: AgentState;
let salt = 1n;
const rec = (agent: bigint, org: bigint, orgIndex: number, kept: bigint, broken: bigint, violations: bigint, epoch = 20_000n): AppliedEntry => ({
  record: { agent, org, epoch, kept, broken, violations, scope: 0n, salt: salt++ },
  orgIndex,
});

const GOOD = 5_000n;
const MIXED = 6_000n;
const NEW = 7_000n;
const SILENT = 8_000n;
const FLOODED = 9_000n;

beforeAll(async () => {
  circuit = await loadTestCircuit(await writeMain('threshold', 'test'));
  state = new AgentState(SHAPE);
  for (const e of [
    rec(GOOD, 11n, 0, 40n, 1n, 0n),
    rec(GOOD, 12n, 1, 35n, 0n, 0n),
    rec(GOOD, 13n, 2, 50n, 2n, 0n),
    rec(MIXED, 11n, 0, 10n, 6n, 1n),
    rec(NEW, 12n, 1, 3n, 0n, 0n),
    // Records with all-zero tallies: the agent exists but there is no evidence.
    rec(SILENT, 11n, 0, 0n, 0n, 0n),
    rec(SILENT, 12n, 1, 0n, 0n, 0n),
    // One organisation reporting the maximum every day.
    ...Array.from({ length: 20 }, (_, d) => rec(FLOODED, 13n, 2, 1000n, 0n, 0n, 20_000n + BigInt(d))),
  ]) state.apply(e);
});

const evidence = (agent: bigint) => state.lookup(agent)!.leaf.summary;
const score = (agent: bigint) => evidenceScore(evidence(agent), POLICY_V2);
const input = (agent: bigint, minScore: bigint, minRecords = 0n, minOrgs = 0n) =>
  buildThresholdInput(state, { agent, minScore, minRecords, minOrgs, contextHash: CTX }, POLICY_HASH).input;

describe('Threshold (test configuration)', () => {
  it('pins the constraint count and the public signal order', () => {
    expect(circuit.r1cs.constraints.length).toBe(2_345);
    expect(circuit.r1cs.nPubIn + circuit.r1cs.nPubOut).toBe(7);
    THRESHOLD_PUBLIC_SIGNALS.forEach((name, i) => expect(circuit.wire(`main.${name}`)).toBe(i + 1));
  });

  it.each([[GOOD], [MIXED], [NEW], [FLOODED]])('agent %s: holds at its exact score, fails at score + 1', async (agent) => {
    const s = score(agent);
    expect(circuit.check(await circuit.witness(input(agent, s)))).toBe(-1);
    expect(circuit.check(await circuit.witness(input(agent, 0n)))).toBe(-1);
    await expectAssertAt(circuit, input(agent, s + 1n), 'ScoreAtLeast', 'score-at-least.circom', 'xIsZero.out + allHold - xIsZero.out * allHold === 1;');
  });

  it('an agent with records but no evidence proves nothing above 0', async () => {
    expect(score(SILENT)).toBe(0n);
    expect(evidence(SILENT)).toMatchObject({ records: 0n, orgCount: 0n });
    expect(circuit.check(await circuit.witness(input(SILENT, 0n)))).toBe(-1);
    for (const x of [1n, 500n, 999n]) await expect(circuit.witness(input(SILENT, x))).rejects.toThrow(/Assert Failed/);
    // Its two records without trials count neither as records nor as organisations.
    await expect(circuit.witness(input(SILENT, 0n, 1n, 0n))).rejects.toThrow(/Assert Failed/);
    await expect(circuit.witness(input(SILENT, 0n, 0n, 1n))).rejects.toThrow(/Assert Failed/);
  });

  it('one organisation\'s 20,000 perfect trials prove no more than C = 8 perfect trials', () => {
    expect(evidence(FLOODED)).toEqual({ successes: 800n, trials: 800n, records: 20n, orgCount: 1n });
    expect(score(FLOODED)).toBe(675n);
  });

  it('3 of 3 kept stays below the verified-partner tier', () => {
    expect(score(NEW)).toBeLessThan(900n);
  });

  it('minimum records and organisations hold exactly up to the agent\'s own', async () => {
    const s = score(GOOD);
    expect(circuit.check(await circuit.witness(input(GOOD, s, 3n, 3n)))).toBe(-1);
    await expect(circuit.witness(input(GOOD, s, 4n, 3n))).rejects.toThrow(/Assert Failed/);
    await expect(circuit.witness(input(GOOD, s, 3n, 4n))).rejects.toThrow(/Assert Failed/);
    await expect(circuit.witness(input(GOOD, 0n, 2n ** 48n, 0n))).rejects.toThrow(/Assert Failed/);
    await expect(circuit.witness(input(GOOD, 0n, 0n, FIELD_MODULUS - 1n))).rejects.toThrow(/Assert Failed/);
  });

  it('minScore 1000 never holds and above 1000 is refused', async () => {
    await expect(circuit.witness(input(GOOD, 1000n))).rejects.toThrow(/Assert Failed/);
    await expect(circuit.witness(input(GOOD, 1001n))).rejects.toThrow(/Assert Failed/);
    await expect(circuit.witness(input(GOOD, FIELD_MODULUS - 1n))).rejects.toThrow(/Assert Failed/);
  });

  it('another agent, another root or another policy cannot reuse a leaf', async () => {
    const honest = input(MIXED, 0n);
    await expect(circuit.witness({ ...honest, agent: GOOD })).rejects.toThrow(/Assert Failed/);
    await expect(circuit.witness({ ...honest, root: (honest.root as bigint) + 1n })).rejects.toThrow(/Assert Failed/);
    await expect(circuit.witness({ ...honest, policyHash: POLICY_HASH + 1n })).rejects.toThrow(/Assert Failed/);
    // The sentinel (agent 0) has a leaf but is no agent.
    const sentinel = { ...honest, agent: 0n, nextAgent: state.leafAt(0).nextAgent, summary: 0n, ext: 0n, orgs: [...state.leafAt(0).orgs], index: 0n, siblings: state.pathAt(0) };
    await expect(circuit.witness(sentinel)).rejects.toThrow(/Assert Failed/);
  });

  it('a witness with altered totals, public signals or context violates the constraints', async () => {
    const s = score(MIXED);
    const w = await circuit.witness(input(MIXED, s));
    expect(circuit.check(w)).toBe(-1);
    const edits: Record<string, bigint>[] = [
      { 'main.summary': w[circuit.wire('main.summary')]! + 1n },
      { 'main.minScore': s + 1n },
      { 'main.agent': GOOD },
      { 'main.root': w[circuit.wire('main.root')]! + 1n },
      { 'main.contextHash': CTX + 1n },
      { 'main.policyHash': POLICY_HASH + 1n },
      { 'main.minRecords': 2n },
    ];
    for (const e of edits) expect(circuit.check(tamper(circuit, w, e)), JSON.stringify(Object.keys(e))).toBeGreaterThanOrEqual(0);
  });
});
