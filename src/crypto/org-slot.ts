/**
 * An organisation's slot in an agent's organisation set (policy v2), one packed field element,
 * the twin of PackOrgSlot / UnpackOrgSlot in circuits/lib/org-slot.circom
 * (docs/protocol.md, "Organisation slots"):
 *
 *   slot = nextEpoch + 2^EB * successes + 2^(EB+TB) * trials
 *          + 2^(EB+2TB) * cappedSuccesses + 2^(EB+2TB+CB) * cappedTrials
 *
 * with EB = 33, TB = bitLength(recordCap) + 32, CB = bitLength(orgCap * trialUnits). 0 is the slot of an
 * organisation that never reported on the agent. Pure.
 * @module
 */
import { assertBits, assertField } from './field.ts';
import type { ScorePolicyV2 } from './score-policy.ts';

export interface OrgSlot {
  /** The earliest epoch the organisation may report next on this agent (its last epoch + 1). */
  nextEpoch: bigint;
  /** Kept promises, summed over the organisation's records about the agent. */
  successes: bigint;
  /** Weighted trials, summed likewise. */
  trials: bigint;
  /** The capped contribution (cappedContribution of successes and trials), in units of 1/trialUnits trial. */
  cappedSuccesses: bigint;
  cappedTrials: bigint;
}

export const EMPTY_ORG_SLOT: Readonly<OrgSlot> = Object.freeze({ nextEpoch: 0n, successes: 0n, trials: 0n, cappedSuccesses: 0n, cappedTrials: 0n });

const bitLength = (x: bigint) => x.toString(2).length;
const EPOCH_BITS = 33;

/** The widths of the slot's fields under a policy. */
export function orgSlotLayout(p: ScorePolicyV2): { epochBits: number; trialBits: number; cappedBits: number } {
  return { epochBits: EPOCH_BITS, trialBits: bitLength(p.recordCap) + 32, cappedBits: bitLength(p.orgCap * p.trialUnits) };
}

const FIELDS = ['nextEpoch', 'successes', 'trials', 'cappedSuccesses', 'cappedTrials'] as const;

function widths(p: ScorePolicyV2): number[] {
  const { epochBits, trialBits, cappedBits } = orgSlotLayout(p);
  return [epochBits, trialBits, trialBits, cappedBits, cappedBits];
}

/**
 * The packed slot.
 * @throws TypeError / RangeError for a field that is not a bigint of its width.
 */
export function packOrgSlot(s: OrgSlot, p: ScorePolicyV2): bigint {
  let x = 0n;
  let shift = 0n;
  widths(p).forEach((w, i) => {
    const v = s[FIELDS[i]!];
    assertBits(v, w, `slot.${FIELDS[i]}`);
    x += v << shift;
    shift += BigInt(w);
  });
  return x;
}

/**
 * The fields of a packed slot.
 * @throws TypeError / RangeError for a value that is not a field element, or that has bits
 *   above the layout.
 */
export function unpackOrgSlot(x: bigint, p: ScorePolicyV2): OrgSlot {
  assertField(x, 'slot');
  const out: Record<string, bigint> = {};
  let rest = x;
  widths(p).forEach((w, i) => {
    out[FIELDS[i]!] = rest & ((1n << BigInt(w)) - 1n);
    rest >>= BigInt(w);
  });
  if (rest !== 0n) throw new RangeError('slot has bits above its layout');
  return out as unknown as OrgSlot;
}

/**
 * A packed slot's nextEpoch, its lowest bits (unpackOrgSlot(x, p).nextEpoch without the other
 * fields or the checks): read once per slot of a whole state at recovery.
 */
export function slotNextEpoch(x: bigint): bigint {
  return BigInt.asUintN(EPOCH_BITS, x);
}
