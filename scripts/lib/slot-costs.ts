/**
 * Constraints per record of a configuration's batch circuit: its two slot templates are
 * compiled alone (at the configuration's sizes, under build/slot-costs/<config>/, rebuilt when
 * their sources change), and the rest of the batch (each position's chain step and matching,
 * the batch's own checks) is shared out over its positions. Used by `npm run bench` and
 * pinned by test/circuits/slot-costs.test.ts.
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseR1cs } from '../../src/crypto/r1cs.ts';
import { sourceHashes } from '../../src/prover/artifacts.ts';
import { configuration } from '../../src/build/build-circuits.ts';
import { compileCircuit, PROJECT_ROOT } from '../../src/build/circom.ts';

export interface SlotCosts {
  /** ApplyUpdate alone: a record of a known agent. */
  update: number;
  /** ApplyInsert alone: the first record of a new agent. */
  insert: number;
  /** The batch circuit less its slots, per position (chain step, matching, shared checks). */
  perPosition: number;
  /** A known agent's record: an update slot and a position. */
  knownRecord: number;
  /** A new agent's record: an insert slot and a position. */
  newRecord: number;
  /** The whole batch circuit, per record it holds. */
  average: number;
  batch: number;
  records: number;
}

/** Constraints of `component main = <expression>` with `include`s of circuits/lib, compiled alone. */
async function constraintsOfMain(configName: string, name: string, includes: string[], expression: string): Promise<number> {
  const dir = join(PROJECT_ROOT, 'build', 'slot-costs', configName);
  await mkdir(dir, { recursive: true });
  const main = join(dir, `${name}.circom`);
  const src = `pragma circom 2.1.6;\n${includes.map((f) => `include "../../../circuits/lib/${f}.circom";\n`).join('')}component main = ${expression};\n`;
  if ((await readFile(main, 'utf8').catch(() => '')) !== src) await writeFile(main, src);
  const stamp = join(dir, `${name}.sources.json`);
  const sources = JSON.stringify(sourceHashes(main));
  const r1cs = join(dir, `${name}.r1cs`);
  if (!existsSync(r1cs) || (await readFile(stamp, 'utf8').catch(() => '')) !== sources) {
    await compileCircuit(main, dir);
    await writeFile(stamp, sources);
  }
  return parseR1cs(new Uint8Array(await readFile(r1cs))).constraints.length;
}

async function constraintsOf(configName: string, template: 'ApplyUpdate' | 'ApplyInsert'): Promise<number> {
  const { config: c, policy: p } = configuration(configName);
  const file = template === 'ApplyUpdate' ? 'apply-update' : 'apply-insert';
  return constraintsOfMain(configName, template, [file], `${template}(${c.agentDepth}, ${c.orgDepth}, ${p.violationWeight}, ${p.recordCap}, ${p.orgCap}, ${p.trialUnits})`);
}

/**
 * Where an update slot's constraints go: its parts compiled alone at the configuration's
 * sizes (the rest of the slot: the gating, the zero checks and the summary's arithmetic).
 */
export async function updateSlotParts(configName: string): Promise<Array<[part: string, constraints: number]>> {
  const { config: c, policy: p } = configuration(configName);
  const capped = p.orgCap * p.trialUnits;
  const tb = p.recordCap.toString(2).length + 32;
  const parts: Array<[string, string, string[], string]> = [
    [`agent path, before and after (QuadMerkleUpdate(${c.agentDepth}))`, 'QuadMerkleUpdate', ['quad-merkle'], `QuadMerkleUpdate(${c.agentDepth})`],
    [`organisation path to the set's top children (QuadMerkleUpdateTop(${c.orgDepth}))`, 'QuadMerkleUpdateTop', ['quad-merkle'], `QuadMerkleUpdateTop(${c.orgDepth})`],
    ['one leaf hash (AgentLeaf, twice per record)', 'AgentLeaf', ['agent-leaf'], 'AgentLeaf()'],
    ['commitment with org and scope range checks (RecordCommitment)', 'RecordCommitment', ['record-commitment'], 'RecordCommitment()'],
    ['record cap (RecordEvidence)', 'RecordEvidence', ['record-commitment'], `RecordEvidence(${p.violationWeight}, ${p.recordCap})`],
    ['epoch window (EpochWindow)', 'EpochWindow', ['record-commitment'], 'EpochWindow()'],
    ['organisation slot read (UnpackOrgSlot)', 'UnpackOrgSlot', ['org-slot'], `UnpackOrgSlot(${p.recordCap}, ${capped})`],
    ['influence cap (CappedContribution)', 'CappedContribution', ['org-slot'], `CappedContribution(${tb}, ${p.orgCap}, ${p.trialUnits})`],
  ];
  const out: Array<[string, number]> = [];
  for (const [label, name, includes, expression] of parts) out.push([label, await constraintsOfMain(configName, name, includes, expression)]);
  return out;
}

/**
 * The costs of a configuration, given its compiled batch circuit's constraint count.
 * @throws Error if a template does not compile.
 */
export async function slotCosts(configName: string, batchConstraints: number): Promise<SlotCosts> {
  const { config } = configuration(configName);
  const update = await constraintsOf(configName, 'ApplyUpdate');
  const insert = await constraintsOf(configName, 'ApplyInsert');
  const records = config.insertSlots + config.updateSlots;
  const perPosition = Math.round((batchConstraints - config.insertSlots * insert - config.updateSlots * update) / records);
  return {
    update, insert, perPosition, knownRecord: update + perPosition, newRecord: insert + perPosition,
    average: Math.round(batchConstraints / records), batch: batchConstraints, records,
  };
}
