/**
 * Builds the input of a Threshold proof for one agent under the current state root.
 * @module
 */
import { packSummary } from '../crypto/agent-leaf.ts';
import type { AgentState } from './agent-state.ts';

/** Threshold's public signals, in the circuit's order (docs/circuits.md). */
export const THRESHOLD_PUBLIC_SIGNALS = ['root', 'agent', 'minScore', 'minRecords', 'minOrgs', 'policyHash', 'contextHash'] as const;
export type ThresholdPublic = Record<(typeof THRESHOLD_PUBLIC_SIGNALS)[number], bigint>;

export interface ThresholdRequest {
  agent: bigint;
  minScore: bigint;
  minRecords: bigint;
  minOrgs: bigint;
  contextHash: bigint;
}

/**
 * The full circuit input proving `request` against `state`'s current root.
 * @throws RangeError if the agent has no leaf.
 */
export function buildThresholdInput(state: AgentState, request: ThresholdRequest, policyHash: bigint): { public: ThresholdPublic; input: Record<string, unknown> } {
  const found = state.lookup(request.agent);
  if (!found) throw new RangeError('the agent has no record in this state');
  const { leaf, index, path } = found;
  const pub: ThresholdPublic = {
    root: state.root,
    agent: request.agent,
    minScore: request.minScore,
    minRecords: request.minRecords,
    minOrgs: request.minOrgs,
    policyHash,
    contextHash: request.contextHash,
  };
  return {
    public: pub,
    input: {
      ...pub,
      nextAgent: leaf.nextAgent,
      summary: packSummary(leaf.summary),
      ext: leaf.ext,
      orgs: [...leaf.orgs],
      index: BigInt(index),
      siblings: path,
    },
  };
}
