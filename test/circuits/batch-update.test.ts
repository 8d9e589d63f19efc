/**
 * BatchUpdate in the test configuration: honest batches match the TypeScript reference, and
 * every attack on invariants 1-5 of DESIGN.md fails, at the constraint meant to stop it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeMain, configuration } from '../../scripts/lib/build-circuits.ts';
import { agentLeafHash } from '../../src/crypto/agent-leaf.ts';
import { chainOf } from '../../src/crypto/chain.ts';
import type { OutcomeRecord } from '../../src/crypto/commitment.ts';
import { recordCommitment } from '../../src/crypto/commitment.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { poseidon } from '../../src/crypto/poseidon.ts';
import { QuadTree } from '../../src/crypto/quad-tree.ts';
import { AgentState, genesisRoot, type AppliedEntry } from '../../src/state/agent-state.ts';
import { buildBatch, BATCH_PUBLIC_SIGNALS } from '../../src/state/batch.ts';
import { loadTestCircuit, ROOT, tamper, type TestCircuit } from '../helpers/circuit.ts';

const { config, policy } = configuration('test');
const SHAPE = { agentDepth: config.agentDepth, orgDepth: config.orgDepth };
const B = config.batchSize;
const POLICY_HASH = poseidon([5n, BigInt(policy.version), BigInt(policy.violationWeight), BigInt(policy.z2Num), BigInt(policy.z2Den), BigInt(policy.scale)]);

// Small ordered identities make the sorted-list attacks easy to read.
const AGENT = { a: 1000n, b: 2000n, c: 3000n, d: 4000n };
const ORG = { x: 77n, y: 88n, z: 99n };
const ORG_INDEX = new Map([[ORG.x, 0], [ORG.y, 1], [ORG.z, 2]]);

let saltCounter = 1n;
function entry(agent: bigint, org: bigint, kept = 3n, broken = 1n, violations = 0n): AppliedEntry {
  const record: OutcomeRecord = { agent, org, epoch: 20_000n, kept, broken, violations, scope: 0n, salt: 123456789n * saltCounter++ };
  return { record, orgIndex: ORG_INDEX.get(org)! };
}

let circuit: TestCircuit;
const SOURCE = readFileSync(join(ROOT, 'circuits/lib/batch-update.circom'), 'utf8').split('\n');
/** The 1-based line of the first constraint containing `text` in batch-update.circom. */
function lineOf(text: string): number {
  const i = SOURCE.findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`no line with ${text}`);
  return i + 1;
}

/** Expects witness generation to stop at the given constraint of batch-update.circom (the innermost failing assert). */
async function expectAssert(input: Record<string, unknown>, constraintText: string): Promise<void> {
  const err = await circuit.witness(input).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err, 'witness generation should fail').toBeInstanceOf(Error);
  if (process.env.DEBUG_ASSERT) console.log(err!.message);
  const first = /Error in template (\w+?)_\d+ line: (\d+)/.exec(err!.message);
  expect(err!.message).toMatch(/Assert Failed/);
  expect(first?.[1]).toMatch(/^(ApplyRecord|BatchUpdate)$/);
  expect(Number(first?.[2])).toBe(lineOf(constraintText));
}

function stateWith(entries: AppliedEntry[]): AgentState {
  const s = new AgentState(SHAPE);
  for (const e of entries) s.apply(e);
  return s;
}

beforeAll(async () => {
  circuit = await loadTestCircuit(await writeMain('batch-update', 'test'));
});

describe('BatchUpdate (test configuration)', () => {
  it('pins the constraint count and the public signal order', () => {
    expect(circuit.r1cs.constraints.length).toBe(35_688);
    expect(circuit.r1cs.nPubIn + circuit.r1cs.nPubOut).toBe(5);
    BATCH_PUBLIC_SIGNALS.forEach((name, i) => expect(circuit.wire(`main.${name}`)).toBe(i + 1));
  });

  it('applies new agents, existing agents, new and repeated orgs, then padding', async () => {
    const state = new AgentState(SHAPE);
    expect(state.root).toBe(genesisRoot(SHAPE));
    const first = [entry(AGENT.b, ORG.x), entry(AGENT.a, ORG.x), entry(AGENT.b, ORG.y), entry(AGENT.b, ORG.x, 5n, 0n, 1n)];
    const b1 = buildBatch(state, first, B, POLICY_HASH);
    expect(b1.slots.map((s) => s.isNew)).toEqual([1n, 1n, 0n, 0n]);
    const w1 = await circuit.witness(b1.input);
    expect(circuit.check(w1)).toBe(-1);
    expect(b1.public.newChain).toBe(chainOf(first.map((e) => ({ commitment: recordCommitment(e.record), org: e.record.org, orgIndex: e.orgIndex }))));
    const b = state.lookup(AGENT.b)!.leaf;
    expect([b.kept, b.broken, b.violations, b.records, b.orgCount]).toEqual([11n, 2n, 1n, 3n, 2n]);

    // A partly padded batch continues from the first one's roots.
    const b2 = buildBatch(state, [entry(AGENT.c, ORG.z), entry(AGENT.a, ORG.y)], B, POLICY_HASH);
    expect(b2.public.oldRoot).toBe(b1.public.newRoot);
    expect(b2.public.oldChain).toBe(b1.public.newChain);
    expect(circuit.check(await circuit.witness(b2.input))).toBe(-1);

    // An all-padding batch proves that nothing changed.
    const b3 = buildBatch(state, [], B, POLICY_HASH);
    expect(b3.public.newRoot).toBe(b3.public.oldRoot);
    expect(b3.public.newChain).toBe(b3.public.oldChain);
    expect(circuit.check(await circuit.witness(b3.input))).toBe(-1);
  });

  it('keeps the sorted list: agents inserted out of order link in increasing order', () => {
    const state = stateWith([entry(AGENT.c, ORG.x), entry(AGENT.a, ORG.x), entry(AGENT.d, ORG.x), entry(AGENT.b, ORG.x)]);
    let cur = state.leafAt(0);
    const order: bigint[] = [];
    while (cur.nextAgent !== 0n) {
      order.push(cur.nextAgent);
      cur = state.leafAt(cur.nextIndex);
      expect(cur.agent).toBe(order.at(-1));
    }
    expect(order).toEqual([AGENT.a, AGENT.b, AGENT.c, AGENT.d]);
  });

  describe('invariant 1: the batch is exactly the next log entries, in order', () => {
    const log = () => [entry(AGENT.a, ORG.x), entry(AGENT.b, ORG.y), entry(AGENT.c, ORG.z)];
    const chainOfLog = (es: AppliedEntry[]) => chainOf(es.map((e) => ({ commitment: recordCommitment(e.record), org: e.record.org, orgIndex: e.orgIndex })));

    it('omitting an entry cannot reach the log chain', async () => {
      const es = log();
      const bad = buildBatch(new AgentState(SHAPE), [es[0]!, es[2]!], B, POLICY_HASH);
      await expectAssert({ ...bad.input, newChain: chainOfLog(es) }, 'newChain === slot');
    });

    it('reordering entries cannot reach the log chain', async () => {
      const es = log();
      const bad = buildBatch(new AgentState(SHAPE), [es[1]!, es[0]!, es[2]!], B, POLICY_HASH);
      await expectAssert({ ...bad.input, newChain: chainOfLog(es) }, 'newChain === slot');
    });

    it('duplicating an entry cannot reach the log chain', async () => {
      const es = log();
      const bad = buildBatch(new AgentState(SHAPE), [es[0]!, es[0]!, es[1]!, es[2]!], B, POLICY_HASH);
      await expectAssert({ ...bad.input, newChain: chainOfLog(es) }, 'newChain === slot');
    });

    it('substituting an invented entry cannot reach the log chain', async () => {
      const es = log();
      const invented = entry(AGENT.b, ORG.y, 1000n, 0n, 0n);
      const bad = buildBatch(new AgentState(SHAPE), [es[0]!, invented, es[2]!], B, POLICY_HASH);
      await expectAssert({ ...bad.input, newChain: chainOfLog(es) }, 'newChain === slot');
    });

    it('padding cannot hide a real entry: no real slot after a padding slot', async () => {
      const honest = buildBatch(new AgentState(SHAPE), log(), B, POLICY_HASH);
      const isReal = [1n, 0n, 1n, 0n];
      await expectAssert({ ...honest.input, isReal }, 'isReal[i] * (1 - isReal[i - 1]) === 0');
    });

    it('a padding slot cannot change the state', async () => {
      const state = stateWith([entry(AGENT.a, ORG.x)]);
      const honest = buildBatch(state, [], B, POLICY_HASH);
      // A padding slot carrying a record's data still passes the state through unchanged.
      const smuggled = stateWith([entry(AGENT.a, ORG.x)]);
      const real = buildBatch(smuggled, [entry(AGENT.a, ORG.y)], B, POLICY_HASH);
      const input: Record<string, unknown> = { ...real.input, isReal: [0n, 0n, 0n, 0n], oldChain: honest.public.oldChain, newChain: honest.public.oldChain };
      await expectAssert(input, 'newRoot === slot');
    });
  });

  describe('invariants 2 and 3: records are bound to their commitments and their org', () => {
    it('changing a record field after commitment breaks the chain', async () => {
      const e = entry(AGENT.a, ORG.x);
      const honest = buildBatch(new AgentState(SHAPE), [e], B, POLICY_HASH);
      // The aggregator applies kept = 4 (a consistent state update) but the log holds the
      // commitment to kept = 3: only the chain can notice, and it does.
      const altered = buildBatch(new AgentState(SHAPE), [{ ...e, record: { ...e.record, kept: 4n } }], B, POLICY_HASH);
      await expectAssert({ ...altered.input, newChain: honest.public.newChain }, 'newChain === slot');
      const w = await circuit.witness(honest.input);
      expect(circuit.check(tamper(circuit, w, { 'main.kept[0]': 4n }))).toBeGreaterThanOrEqual(0);
      expect(circuit.check(tamper(circuit, w, { 'main.salt[0]': 1n }))).toBeGreaterThanOrEqual(0);
    });

    it('a record attributed to another org breaks the chain', async () => {
      const e = entry(AGENT.a, ORG.x);
      const honest = buildBatch(new AgentState(SHAPE), [e], B, POLICY_HASH);
      const moved = buildBatch(new AgentState(SHAPE), [{ ...e, record: { ...e.record, org: ORG.y } }], B, POLICY_HASH);
      await expectAssert({ ...moved.input, newChain: honest.public.newChain }, 'newChain === slot');
      const w = await circuit.witness(honest.input);
      expect(circuit.check(tamper(circuit, w, { 'main.org[0]': ORG.y }))).toBeGreaterThanOrEqual(0);
    });

    it('a real record needs real identities', async () => {
      const honest = buildBatch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x)], B, POLICY_HASH);
      await expectAssert({ ...honest.input, org: [0n, 0n, 0n, 0n] }, 'isReal * orgZero.out === 0');
    });
  });

  describe('invariant 4: one leaf per agent, records only to their own leaf', () => {
    it('a second leaf for an existing agent is refused by the sorted list', async () => {
      // State: sentinel -> a. A fake insertion of a again, after the sentinel (0 < a < a fails).
      const state = stateWith([entry(AGENT.a, ORG.x)]);
      const honest = buildBatch(stateWith([entry(AGENT.a, ORG.x)]), [entry(AGENT.a, ORG.y)], B, POLICY_HASH);
      const s = state.leafAt(0);
      const tree = new QuadTree(SHAPE.agentDepth);
      state.leafHashes().forEach((h, i) => tree.set(i, h));
      const aSiblings = tree.path(0);
      tree.set(0, agentLeafHash({ ...s, nextAgent: AGENT.a, nextIndex: 2 }));
      const bSiblings = tree.path(2);
      const input = structuredClone(honest.input) as Record<string, bigint[] | bigint[][][] | bigint>;
      const set = (k: string, v: unknown) => ((input[k] as unknown[])[0] = v);
      set('isNew', 1n);
      set('aAgent', s.agent);
      set('aNextAgent', s.nextAgent);
      set('aNextIndex', BigInt(s.nextIndex));
      set('aKept', 0n);
      set('aBroken', 0n);
      set('aViolations', 0n);
      set('aRecords', 0n);
      set('aOrgCount', 0n);
      set('aOrgRoot', s.orgRoot);
      set('aExt', 0n);
      set('aIndex', 0n);
      set('aSiblings', aSiblings);
      set('bIndex', 2n);
      set('bSiblings', bSiblings);
      set('orgOld', 0n);
      await expectAssert(input, 'isNew * (1 - gapAbove) === 0');
    });

    it('a record cannot be applied to another agent\'s leaf', async () => {
      const before = [entry(AGENT.a, ORG.x), entry(AGENT.b, ORG.x)];
      const forB = buildBatch(stateWith(before), [entry(AGENT.b, ORG.x)], B, POLICY_HASH);
      const recA = entry(AGENT.a, ORG.x).record;
      const input: Record<string, unknown> = { ...forB.input };
      for (const k of ['agent', 'salt', 'kept', 'broken', 'violations'] as const) input[k] = [recA[k], 0n, 0n, 0n];
      await expectAssert(input, 'isExisting * (aAgent - agent) === 0');
    });

    it('a new agent cannot overwrite an occupied slot', async () => {
      const state = stateWith([entry(AGENT.a, ORG.x)]);
      const honest = buildBatch(state, [entry(AGENT.b, ORG.x)], B, POLICY_HASH);
      // Slot B must be empty; pointing it at a's slot (1) fails the path check.
      const input = structuredClone(honest.input) as Record<string, unknown[]>;
      input.bIndex![0] = 1n;
      await expectAssert(input, 'isNew * (pathB.oldRoot - root1) === 0');
    });

    it('an org cannot be counted twice by claiming its slot was empty', async () => {
      const state = stateWith([entry(AGENT.a, ORG.x)]);
      const honest = buildBatch(state, [entry(AGENT.a, ORG.x)], B, POLICY_HASH);
      expect(honest.slots[0]!.orgOld).toBe(ORG.x);
      const input = structuredClone(honest.input) as Record<string, unknown[]>;
      input.orgOld![0] = 0n;
      await expectAssert(input, 'isReal * (orgSet.oldRoot - tOrgRoot) === 0');
      input.orgOld![0] = ORG.y;
      await expectAssert(input, 'orgOld * (orgOld - org) === 0');
    });
  });

  it('invariant 5: another policy hash is refused', async () => {
    const honest = buildBatch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x)], B, POLICY_HASH);
    await expect(circuit.witness({ ...honest.input, policyHash: POLICY_HASH + 1n })).rejects.toThrow(/Assert Failed/);
    const w = await circuit.witness(honest.input);
    expect(circuit.check(tamper(circuit, w, { 'main.policyHash': POLICY_HASH + 1n }))).toBeGreaterThanOrEqual(0);
  });

  describe('boundaries of every range-checked input', () => {
    const base = () => buildBatch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x)], B, POLICY_HASH).input;
    const cases: Array<[string, bigint, boolean]> = [
      ['epoch', 0n, true], ['epoch', 2n ** 32n - 1n, true], ['epoch', 2n ** 32n, false], ['epoch', FIELD_MODULUS - 1n, false],
      ['kept', 2n ** 32n, false], ['broken', 2n ** 32n, false], ['violations', 2n ** 32n, false], ['scope', 2n ** 32n, false],
      ['scope', FIELD_MODULUS - 1n, false], ['orgIndex', 4n ** BigInt(SHAPE.orgDepth), false],
    ];
    it.each(cases)('%s = %s in range: %s', async (field, value, ok) => {
      const input = structuredClone(base()) as Record<string, unknown[]>;
      input[field]![0] = value;
      if (ok) {
        // In range: the only failure is the now-stale chain and root, never a range check.
        const state = new AgentState(SHAPE);
        const e = entry(AGENT.a, ORG.x);
        (e.record as unknown as Record<string, bigint>)[field] = value;
        const honest = buildBatch(state, [e], B, POLICY_HASH);
        expect(circuit.check(await circuit.witness(honest.input))).toBe(-1);
      } else {
        await expect(circuit.witness(input)).rejects.toThrow(/Assert Failed/);
      }
    });

    it('identities: 2^252 - 1 is accepted, 2^252 and r - 1 are not', async () => {
      const big = 2n ** 252n - 1n;
      const honest = buildBatch(new AgentState(SHAPE), [entry(big, ORG.x)], B, POLICY_HASH);
      expect(circuit.check(await circuit.witness(honest.input))).toBe(-1);
      for (const v of [2n ** 252n, FIELD_MODULUS - 1n]) {
        const input = structuredClone(honest.input) as Record<string, unknown[]>;
        input.agent![0] = v;
        await expect(circuit.witness(input)).rejects.toThrow(/Assert Failed/);
      }
    });

    it('totals cannot pass 2^48', async () => {
      // A state whose only agent already holds kept = 2^48 - 1 (built by hand: reaching it
      // through records would take 65,536 of them).
      const orgs = new QuadTree(SHAPE.orgDepth);
      orgs.set(0, ORG.x);
      const full = { agent: AGENT.a, nextAgent: 0n, nextIndex: 0, kept: 2n ** 48n - 1n, broken: 0n, violations: 0n, records: 1n, orgCount: 1n, orgRoot: orgs.root, ext: 0n };
      const sentinel = { ...new AgentState(SHAPE).leafAt(0), nextAgent: AGENT.a, nextIndex: 1 };
      const tree = new QuadTree(SHAPE.agentDepth);
      tree.set(0, agentLeafHash(sentinel));
      tree.set(1, agentLeafHash(full));
      const attempt = async (kept: bigint) => {
        const e = entry(AGENT.a, ORG.x, kept, 0n, 0n);
        const after = new QuadTree(SHAPE.agentDepth);
        after.set(0, agentLeafHash(sentinel));
        after.set(1, agentLeafHash({ ...full, kept: full.kept + kept, records: 2n }));
        const input = structuredClone(buildBatch(new AgentState(SHAPE), [], B, POLICY_HASH).input) as Record<string, unknown[]>;
        const one = (k: string, v: unknown) => (input[k]![0] = v);
        for (const [k, v] of Object.entries(e.record)) one(k, v);
        one('isReal', 1n);
        one('orgIndex', 0n);
        for (const [k, v] of Object.entries(full)) if (k !== 'nextIndex') one(`a${k[0]!.toUpperCase()}${k.slice(1)}`, v);
        one('aNextIndex', 0n);
        one('aIndex', 1n);
        one('aSiblings', tree.path(1));
        one('orgOld', ORG.x);
        one('orgSiblings', orgs.path(0));
        const chain = chainOf([{ commitment: recordCommitment(e.record), org: ORG.x, orgIndex: 0 }]);
        return circuit.witness({ ...input, oldRoot: tree.root, newRoot: after.root, oldChain: 0n, newChain: chain });
      };
      // The same hand-built state accepts a record that keeps the total in range...
      expect(circuit.check(await attempt(0n))).toBe(-1);
      // ...and refuses one that would carry it to 2^48.
      await expect(attempt(1n)).rejects.toThrow(/Assert Failed/);
    });
  });
});
