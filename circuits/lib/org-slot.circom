pragma circom 2.1.6;

// An organisation's slot in an agent's organisation set (docs/protocol.md, "Organisation
// slots"), one packed field element, 0 before the organisation's first record:
//
//   slot = nextEpoch + 2^EB * successes + 2^(EB+TB) * trials
//          + 2^(EB+2TB) * cappedSuccesses + 2^(EB+2TB+CB) * cappedTrials
//
//   nextEpoch        the earliest epoch the organisation may report next (last epoch + 1)
//   successes        the organisation's kept promises for this agent, summed over its records
//   trials           its weighted trials (kept + broken + W_V * violations), summed
//   cappedTrials     its capped contribution, in units of 1/TRIAL_UNITS trial:
//                    TRIAL_UNITS * min(trials, ORG_CAP)
//   cappedSuccesses  floor(successes * cappedTrials / trials), 0 when trials = 0
//
// Widths: EB = 33 (nextEpoch <= 2^32), TB = bitsOf(RECORD_CAP) + 32 (at most one record per
// epoch, so trials <= RECORD_CAP * nextEpoch < 2^TB), CB = bitsOf(CAPPED_MAX) where
// CAPPED_MAX = ORG_CAP * TRIAL_UNITS.

include "../../node_modules/circomlib/circuits/bitify.circom";
include "../../node_modules/circomlib/circuits/comparators.circom";
include "./bit-width.circom";

function EPOCH_FIELD_BITS() { return 33; }
function ORG_TRIAL_BITS(RECORD_CAP) { return bitsOf(RECORD_CAP) + 32; }
function CAPPED_BITS(CAPPED_MAX) { return bitsOf(CAPPED_MAX); }

// The packed slot of its five fields. NOTE: the caller proves each field fits its width.
template PackOrgSlot(RECORD_CAP, CAPPED_MAX) {
    signal input nextEpoch;
    signal input successes;
    signal input trials;
    signal input cappedSuccesses;
    signal input cappedTrials;
    signal output slot;

    var EB = EPOCH_FIELD_BITS();
    var TB = ORG_TRIAL_BITS(RECORD_CAP);
    var CB = CAPPED_BITS(CAPPED_MAX);
    assert(EB + 2 * TB + 2 * CB <= 252);
    slot <== nextEpoch + successes * (1 << EB) + trials * (1 << (EB + TB))
        + cappedSuccesses * (1 << (EB + 2 * TB)) + cappedTrials * (1 << (EB + 2 * TB + CB));
}

// The five fields of a slot, each proven to fit its width; the widths sum to at most 252
// bits, so the decomposition is unique.
template UnpackOrgSlot(RECORD_CAP, CAPPED_MAX) {
    signal input slot;
    signal output nextEpoch;
    signal output successes;
    signal output trials;
    signal output cappedSuccesses;
    signal output cappedTrials;

    var EB = EPOCH_FIELD_BITS();
    var TB = ORG_TRIAL_BITS(RECORD_CAP);
    var CB = CAPPED_BITS(CAPPED_MAX);
    nextEpoch <-- slot & ((1 << EB) - 1);
    successes <-- (slot >> EB) & ((1 << TB) - 1);
    trials <-- (slot >> (EB + TB)) & ((1 << TB) - 1);
    cappedSuccesses <-- (slot >> (EB + 2 * TB)) & ((1 << CB) - 1);
    cappedTrials <-- (slot >> (EB + 2 * TB + CB)) & ((1 << CB) - 1);
    component bits[5];
    bits[0] = Num2Bits(EB);
    bits[0].in <== nextEpoch;
    bits[1] = Num2Bits(TB);
    bits[1].in <== successes;
    bits[2] = Num2Bits(TB);
    bits[2].in <== trials;
    bits[3] = Num2Bits(CB);
    bits[3].in <== cappedSuccesses;
    bits[4] = Num2Bits(CB);
    bits[4].in <== cappedTrials;
    component pack = PackOrgSlot(RECORD_CAP, CAPPED_MAX);
    pack.nextEpoch <== nextEpoch;
    pack.successes <== successes;
    pack.trials <== trials;
    pack.cappedSuccesses <== cappedSuccesses;
    pack.cappedTrials <== cappedTrials;
    slot === pack.slot;
}

// The influence cap (docs/score-model.md, "Policy v2"): an organisation's successes s out of
// trials n count, in units of 1/TRIAL_UNITS trial, as
//
//   cappedTrials = TRIAL_UNITS * min(n, ORG_CAP),  cappedSuccesses = floor(s * cappedTrials / n)
//
// (exactly TRIAL_UNITS * s and TRIAL_UNITS * n when n <= ORG_CAP; otherwise scaled to ORG_CAP
// trials with the successes rounded down, so the failures are rounded up: rounding is against
// the agent, by less than one unit). n = 0 gives 0 and 0.
// NOTE: the caller proves n < 2^N_BITS and 0 <= s <= n.
template CappedContribution(N_BITS, ORG_CAP, TRIAL_UNITS) {
    signal input successes;
    signal input trials;
    signal output cappedSuccesses;
    signal output cappedTrials;

    var CB = bitsOf(ORG_CAP * TRIAL_UNITS);
    assert(N_BITS + CB + 1 <= 252);
    // over = 1 when ORG_CAP < trials; both fit N_BITS.
    assert(bitsOf(ORG_CAP) <= N_BITS);
    component over = LessThan(N_BITS);
    over.in[0] <== ORG_CAP;
    over.in[1] <== trials;
    cappedTrials <== TRIAL_UNITS * (trials + over.out * (ORG_CAP - trials));

    // q = floor(s * cappedTrials / d) with d = trials (1 when trials = 0, where s = 0):
    // q * d + rem = s * cappedTrials with 0 <= rem < d and q < 2^CB is the integer division,
    // since every term is far below r (< 2^(N_BITS + CB + 1)).
    component noTrials = IsZero();
    noTrials.in <== trials;
    signal d <== trials + noTrials.out;
    signal product <== successes * cappedTrials;
    signal q;
    signal rem;
    q <-- product \ d;
    rem <-- product % d;
    signal qd <== q * d;
    qd + rem === product;
    component qBits = Num2Bits(CB);
    qBits.in <== q;
    component remBits = Num2Bits(N_BITS);
    remBits.in <== rem;
    component remBelow = Num2Bits(N_BITS);
    remBelow.in <== d - 1 - rem;
    cappedSuccesses <== q;
}
