/**
 * BatchUpdate (policy v2) in the test configuration: honest batches match the TypeScript
 * reference, and every attack on invariants 1-5 and 9 of DESIGN.md fails at the constraint
 * meant to stop it. A cheating aggregator is played by the state twin with its checks
 * switched off (CheatingState) or with another policy, so that the witness is consistent
 * everywhere except where the attack is.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { configuration, writeMain } from '../../src/build/build-circuits.ts';
import { agentLeafHash, type AgentSummary } from '../../src/crypto/agent-leaf.ts';
import { chainOf } from '../../src/crypto/chain.ts';
import { recordCommitment, type OutcomeRecord } from '../../src/crypto/commitment.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { QuadTree } from '../../src/crypto/quad-tree.ts';
import { POLICY_V2, policyHash } from '../../src/crypto/score-policy.ts';
import { AgentState, genesisRoot, type AppliedEntry } from '../../src/state/agent-state.ts';
import { BATCH_PUBLIC_SIGNALS, buildBatch, fitBatch } from '../../src/state/batch.ts';
import { expectAssertAt, loadTestCircuit, tamper, type TestCircuit } from '../helpers/circuit.ts';

const { config } = configuration('test');
const SHAPE = { agentDepth: config.agentDepth, orgDepth: config.orgDepth };
const SLOTS = { insertSlots: config.insertSlots, updateSlots: config.updateSlots };
const B = SLOTS.insertSlots + SLOTS.updateSlots;
const POLICY_HASH = policyHash(POLICY_V2);
const MAX_EPOCH = 30_000n;
const UNITS = POLICY_V2.trialUnits;

// Small ordered identities make the sorted-list attacks easy to read.
const AGENT = { a: 1000n, b: 2000n, c: 3000n, d: 4000n };
const ORG = { x: 77n, y: 88n, z: 99n };
const ORG_INDEX = new Map([[ORG.x, 0], [ORG.y, 1], [ORG.z, 2]]);

let saltCounter = 1n;
let epochCounter = 20_000n;
function entry(agent: bigint, org: bigint, kept = 3n, broken = 1n, violations = 0n, epoch = epochCounter++): AppliedEntry {
  const record: OutcomeRecord = { agent, org, epoch, kept, broken, violations, scope: 0n, salt: 123456789n * saltCounter++ };
  return { record, orgIndex: ORG_INDEX.get(org)! };
}
const batch = (state: AgentState, entries: AppliedEntry[], maxEpoch = MAX_EPOCH) => buildBatch(state, entries, SLOTS, POLICY_HASH, maxEpoch);
const chainOfLog = (es: AppliedEntry[]) => chainOf(es.map((e) => ({ commitment: recordCommitment(e.record), org: e.record.org, orgIndex: e.orgIndex })));

/** The aggregator's twin with its checks off: it applies what the circuit must refuse. */
class CheatingState extends AgentState {
  override check(): void {}
}

let circuit: TestCircuit;
function stateWith(entries: AppliedEntry[], S: typeof AgentState = AgentState): AgentState {
  const s = new S(SHAPE);
  for (const e of entries) s.apply(e);
  return s;
}
const BATCH = 'batch-update.circom';
const expectBatchAssert = (input: Record<string, unknown>, text: string) => expectAssertAt(circuit, input, 'BatchUpdate', BATCH, text);

beforeAll(async () => {
  circuit = await loadTestCircuit(await writeMain('batch-update', 'test'));
});

describe('BatchUpdate (test configuration)', () => {
  it('pins the constraint count and the public signal order', () => {
    expect(circuit.r1cs.constraints.length).toBe(29_561);
    expect(circuit.r1cs.nPubIn + circuit.r1cs.nPubOut).toBe(6);
    BATCH_PUBLIC_SIGNALS.forEach((name, i) => expect(circuit.wire(`main.${name}`)).toBe(i + 1));
  });

  it('applies new agents, known agents, new and repeated organisations, then padding', async () => {
    const state = new AgentState(SHAPE);
    expect(state.root).toBe(genesisRoot(SHAPE));
    const first = [entry(AGENT.b, ORG.x), entry(AGENT.a, ORG.x), entry(AGENT.b, ORG.y), entry(AGENT.b, ORG.x, 5n, 0n, 1n)];
    const b1 = batch(state, first);
    expect([b1.count, b1.inserts]).toEqual([4, 2]);
    expect(b1.input.isNew).toEqual([1n, 1n, 0n, 0n, 0n]);
    const w1 = await circuit.witness(b1.input);
    expect(circuit.check(w1)).toBe(-1);
    expect(b1.public.newChain).toBe(chainOfLog(first));
    // b: x reported 3/4 then 5/10 (violations weigh 5): 8 of 14 trials, capped at 8 trials;
    // y reported 3/4. Capped: x floor(8 * 800 / 14) = 457 of 800 units, y 300 of 400.
    expect(state.lookup(AGENT.b)!.leaf.summary).toEqual({ successes: 457n + 300n, trials: 800n + 400n, records: 3n, orgCount: 2n });

    // A partly padded batch continues from the first one's roots.
    const b2 = batch(state, [entry(AGENT.c, ORG.z), entry(AGENT.a, ORG.y)]);
    expect(b2.public.oldRoot).toBe(b1.public.newRoot);
    expect(b2.public.oldChain).toBe(b1.public.newChain);
    expect(circuit.check(await circuit.witness(b2.input))).toBe(-1);

    // An all-padding batch proves that nothing changed.
    const b3 = batch(state, []);
    expect(b3.public.newRoot).toBe(b3.public.oldRoot);
    expect(b3.public.newChain).toBe(b3.public.oldChain);
    expect(circuit.check(await circuit.witness(b3.input))).toBe(-1);
  });

  it('an update in log order before an insert is applied after it, with the same result as log order', async () => {
    const base = stateWith([entry(AGENT.b, ORG.x)]);
    const es = [entry(AGENT.b, ORG.y), entry(AGENT.a, ORG.x), entry(AGENT.a, ORG.y), entry(AGENT.d, ORG.z)];
    const viaBatch = base.clone();
    const b = batch(viaBatch, es);
    expect(b.input.isNew).toEqual([0n, 1n, 0n, 1n, 0n]);
    expect(circuit.check(await circuit.witness(b.input))).toBe(-1);
    const inLogOrder = base.clone();
    for (const e of es) inLogOrder.apply(e);
    expect(viaBatch.root).toBe(inLogOrder.root);
  });

  it('takes the longest prefix of entries that fits the slots', () => {
    const state = stateWith([entry(AGENT.a, ORG.x)]);
    expect(fitBatch(state, [entry(AGENT.b, ORG.x), entry(AGENT.c, ORG.x), entry(AGENT.d, ORG.x)], SLOTS)).toBe(2);
    expect(fitBatch(state, [entry(AGENT.a, ORG.y), entry(AGENT.a, ORG.z), entry(AGENT.b, ORG.x), entry(AGENT.b, ORG.y), entry(AGENT.a, ORG.x)], SLOTS)).toBe(4);
    expect(() => batch(state, [entry(AGENT.b, ORG.x), entry(AGENT.c, ORG.x), entry(AGENT.d, ORG.x)])).toThrow(RangeError);
  });

  it('keeps the sorted list: agents inserted out of order link in increasing order', () => {
    const state = stateWith([entry(AGENT.c, ORG.x), entry(AGENT.a, ORG.x), entry(AGENT.d, ORG.x), entry(AGENT.b, ORG.x)]);
    const order: bigint[] = [];
    for (let next = state.leafAt(0).nextAgent; next !== 0n; next = state.lookup(next)!.leaf.nextAgent) order.push(next);
    expect(order).toEqual([AGENT.a, AGENT.b, AGENT.c, AGENT.d]);
  });

  describe('invariant 1: the batch is exactly the next log entries, in order', () => {
    const log = () => [entry(AGENT.a, ORG.x), entry(AGENT.b, ORG.y), entry(AGENT.a, ORG.z)];

    it('omitting an entry cannot reach the log chain', async () => {
      const es = log();
      const bad = batch(new AgentState(SHAPE), [es[0]!, es[2]!]);
      await expectBatchAssert({ ...bad.input, newChain: chainOfLog(es) }, 'newChain === chain[B]');
    });

    it('reordering entries cannot reach the log chain', async () => {
      const es = log();
      const bad = batch(new AgentState(SHAPE), [es[1]!, es[0]!, es[2]!]);
      await expectBatchAssert({ ...bad.input, newChain: chainOfLog(es) }, 'newChain === chain[B]');
    });

    it('duplicating an entry cannot reach the log chain, nor pass the epoch rule', async () => {
      const es = log();
      const bad = batch(stateWith([], CheatingState), [es[0]!, es[1]!, es[1]!, es[2]!]);
      // The copy repeats its (agent, organisation, epoch): policy v2 stops it before the chain.
      await expectAssertAt(circuit, { ...bad.input, newChain: chainOfLog(es) }, 'EpochWindow', 'record-commitment.circom', 'notEarly.in <== epoch - nextEpoch;');
      // Without the epoch rule (a copy under a fresh epoch would be another record), the chain.
      const other = { ...es[1]!, record: { ...es[1]!.record, epoch: es[1]!.record.epoch + 100n } };
      const bad2 = batch(new AgentState(SHAPE), [es[0]!, es[1]!, other, es[2]!]);
      await expectBatchAssert({ ...bad2.input, newChain: chainOfLog(es) }, 'newChain === chain[B]');
    });

    it('substituting an invented entry cannot reach the log chain', async () => {
      const es = log();
      const bad = batch(new AgentState(SHAPE), [es[0]!, entry(AGENT.b, ORG.y, 1000n, 0n, 0n), es[2]!]);
      await expectBatchAssert({ ...bad.input, newChain: chainOfLog(es) }, 'newChain === chain[B]');
    });

    it('padding cannot hide a real entry: no real position after a padding one', async () => {
      const honest = batch(new AgentState(SHAPE), log());
      await expectBatchAssert({ ...honest.input, isReal: [1n, 0n, 1n, 0n, 0n], isNew: [1n, 0n, 0n, 0n, 0n] }, 'if (p > 0) isReal[p] * (1 - isReal[p - 1]) === 0;');
    });

    it('a slot applies a record only if a position of the chain goes to it', async () => {
      const honest = batch(new AgentState(SHAPE), log());
      // Claiming the batch has only two entries leaves the third slot's record out of the
      // chain: the slot becomes padding and the root can no longer be reached.
      await expectBatchAssert({ ...honest.input, isReal: [1n, 1n, 0n, 0n, 0n], newChain: chainOfLog(log().slice(0, 2)) }, 'newRoot === root[B]');
    });

    it('a position goes to a slot of its own kind, and no kind holds more than its slots', async () => {
      const es = [entry(AGENT.a, ORG.x), entry(AGENT.a, ORG.y)];
      const honest = batch(new AgentState(SHAPE), es);
      expect(honest.input.isNew).toEqual([1n, 0n, 0n, 0n, 0n]);
      // Calling the update new sends it to the empty second insert slot.
      await expectAssertAt(circuit, { ...honest.input, isNew: [1n, 1n, 0n, 0n, 0n] }, 'ApplyInsert', 'apply-insert.circom', 'isReal * orgZero.out === 0');
      // Three new agents: the third has no insert slot.
      const three = [entry(AGENT.a, ORG.x), entry(AGENT.b, ORG.x), entry(AGENT.c, ORG.x)];
      const two = batch(new AgentState(SHAPE), three.slice(0, 2));
      const input = { ...two.input, isReal: [1n, 1n, 1n, 0n, 0n], isNew: [1n, 1n, 1n, 0n, 0n], newChain: chainOfLog(three) };
      await expectBatchAssert(input, 'used === isReal[p];');
    });

    it('a padding slot cannot change the state', async () => {
      const state = stateWith([entry(AGENT.a, ORG.x)]);
      const honest = batch(state.clone(), []);
      const real = batch(state.clone(), [entry(AGENT.a, ORG.y)]);
      const input = { ...real.input, isReal: [0n, 0n, 0n, 0n, 0n], isNew: [0n, 0n, 0n, 0n, 0n], oldChain: honest.public.oldChain, newChain: honest.public.oldChain };
      await expectBatchAssert(input, 'newRoot === root[B]');
    });
  });

  describe('invariants 2 and 3: records are bound to their commitments and their org', () => {
    it('changing a record field after commitment breaks the chain', async () => {
      const e = entry(AGENT.a, ORG.x);
      const honest = batch(new AgentState(SHAPE), [e]);
      const altered = batch(new AgentState(SHAPE), [{ ...e, record: { ...e.record, kept: 4n } }]);
      await expectBatchAssert({ ...altered.input, newChain: honest.public.newChain }, 'newChain === chain[B]');
      const w = await circuit.witness(honest.input);
      expect(circuit.check(tamper(circuit, w, { 'main.insKept[0]': 4n }))).toBeGreaterThanOrEqual(0);
      expect(circuit.check(tamper(circuit, w, { 'main.insSalt[0]': 1n }))).toBeGreaterThanOrEqual(0);
    });

    it('a record attributed to another org breaks the chain', async () => {
      const e = entry(AGENT.a, ORG.x);
      const honest = batch(new AgentState(SHAPE), [e]);
      const moved = batch(new AgentState(SHAPE), [{ ...e, record: { ...e.record, org: ORG.y } }]);
      await expectBatchAssert({ ...moved.input, newChain: honest.public.newChain }, 'newChain === chain[B]');
      const w = await circuit.witness(honest.input);
      expect(circuit.check(tamper(circuit, w, { 'main.insOrg[0]': ORG.y }))).toBeGreaterThanOrEqual(0);
    });

    it('a real record needs real identities', async () => {
      const insert = batch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x)]);
      await expectAssertAt(circuit, { ...insert.input, insOrg: [0n, 0n] }, 'ApplyInsert', 'apply-insert.circom', 'isReal * orgZero.out === 0');
      const update = batch(stateWith([entry(AGENT.a, ORG.x)]), [entry(AGENT.a, ORG.x)]);
      await expectAssertAt(circuit, { ...update.input, updOrg: [0n, 0n, 0n] }, 'ApplyUpdate', 'apply-update.circom', 'isReal * orgZero.out === 0');
    });
  });

  describe('invariant 4: one leaf per agent, records only to their own leaf', () => {
    it('a second leaf for an existing agent is refused by the sorted list', async () => {
      // State: sentinel -> a. A fake insertion of a again, after the sentinel (0 < a < a fails).
      const cheat = stateWith([entry(AGENT.a, ORG.x)]);
      const fake = batch(new AgentState(SHAPE), [entry(AGENT.a, ORG.y)]); // a's first record, taken as an insert
      const s = cheat.leafAt(0);
      const input = {
        ...fake.input, oldRoot: cheat.root,
        insLowAgent: [s.agent, 0n], insLowNextAgent: [s.nextAgent, 0n], insLowOrgs: [[...s.orgs], [0n, 0n, 0n, 0n]], insLowIndex: [0n, 0n],
        insLowSiblings: [cheat.pathAt(0), (fake.input.insLowSiblings as unknown[])[1]],
      };
      await expectAssertAt(circuit, input, 'ApplyInsert', 'apply-insert.circom', 'isReal * (1 - gapAbove) === 0');
    });

    it('a record cannot be applied to another agent\'s leaf', async () => {
      const before = [entry(AGENT.a, ORG.x), entry(AGENT.b, ORG.x)];
      const forB = batch(stateWith(before), [entry(AGENT.b, ORG.x)]);
      const recA = entry(AGENT.a, ORG.x).record;
      const input: Record<string, unknown> = { ...forB.input };
      for (const k of ['Agent', 'Salt', 'Kept', 'Broken', 'Violations', 'Epoch'] as const) input[`upd${k}`] = [recA[k.toLowerCase() as keyof OutcomeRecord], 0n, 0n];
      await expectAssertAt(circuit, input, 'ApplyUpdate', 'apply-update.circom', 'isReal * (path.oldRoot - rootIn) === 0');
    });

    it('a new agent cannot overwrite an occupied slot', async () => {
      const honest = batch(stateWith([entry(AGENT.a, ORG.x)]), [entry(AGENT.b, ORG.x)]);
      const input = structuredClone(honest.input) as Record<string, unknown[]>;
      input.insNewIndex![0] = 1n; // a's slot
      await expectAssertAt(circuit, input, 'ApplyInsert', 'apply-insert.circom', 'isReal * (pathNew.oldRoot - relinked) === 0');
    });

    it('an agent without a leaf cannot be updated', async () => {
      // a's first record sent to an update slot, with an empty leaf and organisation set.
      const honest = batch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x)]);
      const one = (k: string) => [(honest.input[`ins${k}`] as bigint[])[0], 0n, 0n];
      const input = {
        ...honest.input, isNew: [0n, 0n, 0n, 0n, 0n], updAgent: one('Agent'), updOrg: one('Org'), updOrgIndex: one('OrgIndex'), updEpoch: one('Epoch'),
        updKept: one('Kept'), updBroken: one('Broken'), updViolations: one('Violations'), updScope: one('Scope'), updSalt: one('Salt'),
      };
      await expectAssertAt(circuit, input, 'ApplyUpdate', 'apply-update.circom', 'isReal * (path.oldRoot - rootIn) === 0');
    });
  });

  it('invariant 5: another policy hash is refused', async () => {
    const honest = batch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x)]);
    await expectAssertAt(circuit, { ...honest.input, policyHash: POLICY_HASH + 1n }, 'PolicyHash', 'policy-hash.circom', 'policyHash === h.out;');
    const w = await circuit.witness(honest.input);
    expect(circuit.check(tamper(circuit, w, { 'main.policyHash': POLICY_HASH + 1n }))).toBeGreaterThanOrEqual(0);
  });

  describe('invariant 9: one organisation cannot decide an agent\'s score', () => {
    it('a second record for the same (agent, organisation, epoch) is refused', async () => {
      const cheat = stateWith([entry(AGENT.a, ORG.x, 3n, 0n, 0n, 20_100n)], CheatingState);
      const bad = batch(cheat, [entry(AGENT.a, ORG.x, 8n, 0n, 0n, 20_100n)]);
      await expectAssertAt(circuit, bad.input, 'EpochWindow', 'record-commitment.circom', 'notEarly.in <== epoch - nextEpoch;');
    });

    it('an epoch earlier than the organisation\'s last is refused', async () => {
      const cheat = stateWith([entry(AGENT.a, ORG.x, 3n, 0n, 0n, 20_100n)], CheatingState);
      const bad = batch(cheat, [entry(AGENT.a, ORG.x, 8n, 0n, 0n, 20_099n)]);
      await expectAssertAt(circuit, bad.input, 'EpochWindow', 'record-commitment.circom', 'notEarly.in <== epoch - nextEpoch;');
      // Another organisation may report that epoch.
      expect(circuit.check(await circuit.witness(batch(stateWith([entry(AGENT.a, ORG.x, 3n, 0n, 0n, 20_100n)]), [entry(AGENT.a, ORG.y, 8n, 0n, 0n, 20_099n)]).input))).toBe(-1);
    });

    it('an epoch after maxEpoch (the checkpoint\'s day plus the skew) is refused, and maxEpoch fits 32 bits', async () => {
      const ok = batch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x, 3n, 0n, 0n, MAX_EPOCH)]);
      expect(circuit.check(await circuit.witness(ok.input))).toBe(-1);
      const insert = batch(stateWith([], CheatingState), [entry(AGENT.a, ORG.x, 3n, 0n, 0n, MAX_EPOCH + 1n)]);
      await expectAssertAt(circuit, insert.input, 'EpochWindow', 'record-commitment.circom', 'notFuture.in <== maxEpoch - epoch;');
      const update = batch(stateWith([entry(AGENT.a, ORG.x)], CheatingState), [entry(AGENT.a, ORG.y, 3n, 0n, 0n, MAX_EPOCH + 1n)]);
      await expectAssertAt(circuit, update.input, 'EpochWindow', 'record-commitment.circom', 'notFuture.in <== maxEpoch - epoch;');
      await expectBatchAssert({ ...ok.input, maxEpoch: 2n ** 32n }, 'maxEpochBits.in <== maxEpoch;');
    });

    it('a record over the cap is refused', async () => {
      for (const [kept, broken, violations] of [[1001n, 0n, 0n], [600n, 300n, 21n], [0n, 0n, 201n]] as const) {
        const bad = batch(stateWith([], CheatingState), [entry(AGENT.a, ORG.x, kept, broken, violations)]);
        await expectAssertAt(circuit, bad.input, 'RecordEvidence', 'record-commitment.circom', 'underCap.in <== RECORD_CAP - trials;');
      }
      const atCap = batch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x, 600n, 300n, 20n)]);
      expect(circuit.check(await circuit.witness(atCap.input))).toBe(-1);
      // Each tally must fit the cap's width before the sum is compared.
      const wide = batch(stateWith([], CheatingState), [entry(AGENT.a, ORG.x, 2n ** 32n - 1n, 0n, 0n)]);
      await expectAssertAt(circuit, wide.input, 'RecordEvidence', 'record-commitment.circom', 'tallyBits[0].in <== kept;');
    });

    it('an organisation\'s contribution cannot be pushed over C', async () => {
      // Three full records from one organisation: 3,000 trials count as C = 8.
      const es = [0, 1, 2].map(() => entry(AGENT.a, ORG.x, 1000n, 0n, 0n));
      const honest = stateWith(es.slice(0, 2));
      const last = batch(honest.clone(), [es[2]!]);
      expect(circuit.check(await circuit.witness(last.input))).toBe(-1);
      expect(stateWith(es).lookup(AGENT.a)!.leaf.summary).toEqual({ successes: 8n * UNITS, trials: 8n * UNITS, records: 3n, orgCount: 1n });
      // An aggregator keeping an uncapped policy claims 3,000 trials: the circuit's own cap
      // gives another leaf, so the root it publishes is not reached.
      const uncapped = new AgentState(SHAPE, { ...POLICY_V2, orgCap: 4000n });
      for (const e of es.slice(0, 2)) uncapped.apply(e);
      const claimed = buildBatch(uncapped, [es[2]!], SLOTS, POLICY_HASH, MAX_EPOCH).public.newRoot;
      await expectBatchAssert({ ...last.input, newRoot: claimed }, 'newRoot === root[B]');
      // Nor can the division behind the rounding be bent.
      const w = await circuit.witness(last.input);
      const q = w[circuit.wire('main.upd[0].capped.cappedSuccesses')]!;
      expect(q).toBe(800n);
      for (const [name, value] of [['main.upd[0].capped.cappedSuccesses', q + 1n], ['main.upd[0].capped.rem', 1n], ['main.upd[0].capped.over.out', 0n], ['main.upd[0].capped.cappedTrials', 3000n * UNITS]] as const) {
        expect(circuit.check(tamper(circuit, w, { [name]: value })), name).toBeGreaterThanOrEqual(0);
      }
    });

    it('a record without trials counts neither as a record nor as an organisation', async () => {
      const state = stateWith([entry(AGENT.a, ORG.x)]);
      const before = state.clone();
      const zero = batch(state, [entry(AGENT.a, ORG.y, 0n, 0n, 0n)]);
      expect(circuit.check(await circuit.witness(zero.input))).toBe(-1);
      expect(state.lookup(AGENT.a)!.leaf.summary).toEqual(before.lookup(AGENT.a)!.leaf.summary);
      // Counting it anyway (orgCount + 1, records + 1) claims another root.
      const leaf = state.lookup(AGENT.a)!;
      const counted: AgentSummary = { ...leaf.leaf.summary, records: leaf.leaf.summary.records + 1n, orgCount: leaf.leaf.summary.orgCount + 1n };
      const tree = new QuadTree(SHAPE.agentDepth);
      state.leafHashes().forEach((h, i) => tree.set(i, h));
      tree.set(leaf.index, agentLeafHash({ ...leaf.leaf, summary: counted }));
      await expectBatchAssert({ ...zero.input, newRoot: tree.root }, 'newRoot === root[B]');
      const w = await circuit.witness(zero.input);
      for (const name of ['main.upd[0].newOrg', 'main.upd[0].noEvidence.out']) {
        expect(circuit.check(tamper(circuit, w, { [name]: 1n - w[circuit.wire(name)]! })), name).toBeGreaterThanOrEqual(0);
      }
      // A new agent whose first record has no trials has a leaf with nothing in it.
      const fresh = batch(state, [entry(AGENT.d, ORG.z, 0n, 0n, 0n)]);
      expect(circuit.check(await circuit.witness(fresh.input))).toBe(-1);
      expect(state.lookup(AGENT.d)!.leaf.summary).toEqual({ successes: 0n, trials: 0n, records: 0n, orgCount: 0n });
    });
  });

  describe('boundaries of every range-checked input', () => {
    const base = () => batch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x)]).input;
    const cases: Array<[string, bigint]> = [
      ['insScope', 2n ** 32n], ['insScope', FIELD_MODULUS - 1n], ['insOrgIndex', 4n ** BigInt(SHAPE.orgDepth)], ['insKept', FIELD_MODULUS - 1n],
      ['insEpoch', FIELD_MODULUS - 1n], ['insOrg', 2n ** 252n],
    ];
    it.each(cases)('%s = %s is refused', async (field, value) => {
      const input = structuredClone(base()) as Record<string, unknown[]>;
      input[field]![0] = value;
      await expect(circuit.witness(input)).rejects.toThrow(/Assert Failed/);
    });

    it('epochs 0 and 2^32 - 1 are in range', async () => {
      expect(circuit.check(await circuit.witness(batch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x, 1n, 0n, 0n, 0n)]).input))).toBe(-1);
      const top = 2n ** 32n - 1n;
      expect(circuit.check(await circuit.witness(batch(new AgentState(SHAPE), [entry(AGENT.a, ORG.x, 1n, 0n, 0n, top)], top).input))).toBe(-1);
    });

    it('identities: 2^252 - 1 is accepted, 2^252 and r - 1 are not', async () => {
      const big = 2n ** 252n - 1n;
      const honest = batch(new AgentState(SHAPE), [entry(big, ORG.x)]);
      expect(circuit.check(await circuit.witness(honest.input))).toBe(-1);
      for (const v of [2n ** 252n, FIELD_MODULUS - 1n]) {
        const input = structuredClone(honest.input) as Record<string, unknown[]>;
        input.insAgent![0] = v;
        await expect(circuit.witness(input)).rejects.toThrow(/Assert Failed/);
      }
    });
  });
});
