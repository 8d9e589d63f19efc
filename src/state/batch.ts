/**
 * Builds the input of one BatchUpdate proof: applies up to BATCH_SIZE log entries to the
 * state, pads the rest, and lays the witness out under the circuit's signal names.
 * @module
 */
import { AgentState, paddingSlot, SLOT_FIELDS, type AppliedEntry, type SlotWitness } from './agent-state.ts';

/** BatchUpdate's public signals, in the circuit's order (docs/circuits.md). */
export const BATCH_PUBLIC_SIGNALS = ['oldRoot', 'newRoot', 'oldChain', 'newChain', 'policyHash'] as const;
export type BatchPublic = Record<(typeof BATCH_PUBLIC_SIGNALS)[number], bigint>;

export interface BatchInput {
  public: BatchPublic;
  /** Number of real (non-padding) entries. */
  count: number;
  /** The full circuit input: public and private signals by name. */
  input: Record<string, unknown>;
  slots: SlotWitness[];
}

/**
 * Applies `entries` (at most `batchSize`) to `state` and returns the circuit input.
 * If an entry is refused (RangeError) the entries before it have been applied: the caller
 * must rebuild the state from the log. Entries are validated at ingestion, so this is a bug.
 * @throws RangeError if there are more entries than the batch size, or an entry is refused.
 */
export function buildBatch(state: AgentState, entries: readonly AppliedEntry[], batchSize: number, policyHash: bigint): BatchInput {
  if (entries.length > batchSize) throw new RangeError(`a batch holds at most ${batchSize} entries, got ${entries.length}`);
  const oldRoot = state.root;
  const oldChain = state.chain;
  const slots = entries.map((e) => state.apply(e));
  while (slots.length < batchSize) slots.push(paddingSlot(state.shape));
  const pub: BatchPublic = { oldRoot, newRoot: state.root, oldChain, newChain: state.chain, policyHash };
  const input: Record<string, unknown> = { ...pub };
  for (const f of SLOT_FIELDS) input[f] = slots.map((s) => s[f]);
  return { public: pub, count: entries.length, input, slots };
}
