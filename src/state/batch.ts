/**
 * Builds the input of one BatchUpdate proof: takes the next log entries that fit the
 * circuit's slots (at most `insertSlots` first records of new agents and `updateSlots`
 * records of known agents), applies the inserts and then the updates to the state, as the
 * circuit does, pads the unused slots, and lays the witness out under the circuit's signal
 * names (docs/circuits.md, "BatchUpdate").
 * @module
 */
import { chainStep } from '../crypto/chain.ts';
import { recordCommitment } from '../crypto/commitment.ts';
import {
  AgentState, INSERT_FIELDS, paddingInsert, paddingUpdate, UPDATE_FIELDS, type AppliedEntry, type InsertWitness, type UpdateWitness,
} from './agent-state.ts';

/** BatchUpdate's public signals, in the circuit's order (docs/circuits.md). */
export const BATCH_PUBLIC_SIGNALS = ['oldRoot', 'newRoot', 'oldChain', 'newChain', 'policyHash', 'maxEpoch'] as const;
export type BatchPublic = Record<(typeof BATCH_PUBLIC_SIGNALS)[number], bigint>;

/** The slots of a batch circuit (circuits/circuits.json). */
export interface BatchSlots {
  insertSlots: number;
  updateSlots: number;
}

export interface BatchInput {
  public: BatchPublic;
  /** Number of entries applied (the batch's real positions). */
  count: number;
  /** How many of them were first records of new agents. */
  inserts: number;
  /** The full circuit input: public and private signals by name. */
  input: Record<string, unknown>;
  insertSlots: InsertWitness[];
  updateSlots: UpdateWitness[];
}

/**
 * How many of `entries`, from the first, one batch can take: it stops before the entry that
 * would be one new agent or one update too many. Nothing is changed.
 */
export function fitBatch(state: AgentState, entries: readonly AppliedEntry[], slots: BatchSlots): number {
  const seen = new Set<bigint>();
  let inserts = 0;
  let updates = 0;
  for (let i = 0; i < entries.length; i++) {
    const agent = entries[i]!.record.agent;
    if (state.has(agent) || seen.has(agent)) updates++;
    else inserts++;
    if (inserts > slots.insertSlots || updates > slots.updateSlots) return i;
    seen.add(agent);
  }
  return entries.length;
}

/**
 * Applies `entries` (which must fit one batch, see fitBatch) to `state`: first records of new
 * agents first, then the others, each group in log order, which gives the state of applying
 * them in log order; the chain advances in log order. Returns the circuit input.
 * If an entry is refused (RangeError) the entries before it have been applied: the caller must
 * rebuild the state from the log. Entries are validated at ingestion, so this is a bug.
 * @throws RangeError if the entries do not fit one batch, or an entry is refused.
 */
export function buildBatch(state: AgentState, entries: readonly AppliedEntry[], slots: BatchSlots, policyHash: bigint, maxEpoch: bigint): BatchInput {
  if (fitBatch(state, entries, slots) < entries.length) {
    throw new RangeError(`a batch holds at most ${slots.insertSlots} new agents and ${slots.updateSlots} other records`);
  }
  const oldRoot = state.root;
  const oldChain = state.chain;
  const seen = new Set<bigint>();
  const isNew = entries.map((e) => {
    const fresh = !state.has(e.record.agent) && !seen.has(e.record.agent);
    seen.add(e.record.agent);
    return fresh;
  });
  const insertSlots: InsertWitness[] = [];
  const updateSlots: UpdateWitness[] = [];
  for (const pass of [true, false]) {
    entries.forEach((e, i) => {
      if (isNew[i] !== pass) return;
      const r = state.apply(e, maxEpoch);
      if (r.kind === 'insert') insertSlots.push(r.witness);
      else updateSlots.push(r.witness);
    });
  }
  let chain = oldChain;
  for (const e of entries) chain = chainStep(chain, { commitment: recordCommitment(e.record), org: e.record.org, orgIndex: e.orgIndex });
  state.chain = chain;
  state.applied += entries.length;
  const inserts = insertSlots.length;
  while (insertSlots.length < slots.insertSlots) insertSlots.push(paddingInsert(state.shape));
  while (updateSlots.length < slots.updateSlots) updateSlots.push(paddingUpdate(state.shape));
  const positions = slots.insertSlots + slots.updateSlots;
  const pub: BatchPublic = { oldRoot, newRoot: state.root, oldChain, newChain: chain, policyHash, maxEpoch };
  const input: Record<string, unknown> = {
    ...pub,
    isReal: Array.from({ length: positions }, (_, p) => (p < entries.length ? 1n : 0n)),
    isNew: Array.from({ length: positions }, (_, p) => (isNew[p] ? 1n : 0n)),
  };
  const name = (prefix: string, f: string) => prefix + f[0]!.toUpperCase() + f.slice(1);
  for (const f of INSERT_FIELDS) input[name('ins', f)] = insertSlots.map((s) => s[f]);
  for (const f of UPDATE_FIELDS) input[name('upd', f)] = updateSlots.map((s) => s[f]);
  return { public: pub, count: entries.length, inserts, input, insertSlots, updateSlots };
}
