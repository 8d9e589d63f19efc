pragma circom 2.1.6;

// The commitment to one outcome record (docs/protocol.md, "Records"):
//   commitment = Poseidon(TAG_RECORD = 2, agent, org, epoch, kept, broken, violations, scope, salt)
// and the record's evidence under the policy: its weighted trials
//   trials = kept + broken + W_V * violations, at most RECORD_CAP.
//
// RecordCommitment range-checks the fields whose only use is the commitment (org, scope);
// RecordEvidence range-checks the tallies. The agent and the epoch are range-checked by the
// slot that uses them (NOTE): an inserted agent by Num2Bits(252) before its comparators, an
// updated agent by being the key of an existing leaf (every key was range-checked when it was
// inserted), the epoch by its window nextEpoch <= epoch <= maxEpoch < 2^32 (EpochWindow).
// The salt is any field element; it only hides the record.

include "../../node_modules/circomlib/circuits/poseidon.circom";
include "../../node_modules/circomlib/circuits/bitify.circom";
include "./bit-width.circom";

template RecordCommitment() {
    signal input agent;
    signal input org;
    signal input epoch;
    signal input kept;
    signal input broken;
    signal input violations;
    signal input scope;
    signal input salt;
    signal output commitment;

    component orgBits = Num2Bits(252);
    orgBits.in <== org;
    component scopeBits = Num2Bits(32);
    scopeBits.in <== scope;

    component h = Poseidon(9);
    h.inputs[0] <== 2;
    h.inputs[1] <== agent;
    h.inputs[2] <== org;
    h.inputs[3] <== epoch;
    h.inputs[4] <== kept;
    h.inputs[5] <== broken;
    h.inputs[6] <== violations;
    h.inputs[7] <== scope;
    h.inputs[8] <== salt;
    commitment <== h.out;
}

// The record cap: kept, broken and violations each fit bitsOf(RECORD_CAP) bits (a larger one
// is over the cap anyway), and trials = kept + broken + W_V * violations <= RECORD_CAP, shown
// by RECORD_CAP - trials fitting the same width: trials < (2 + W_V) * 2^RB is far below r, so
// a trials above the cap would make the difference wrap to about r.
template RecordEvidence(W_V, RECORD_CAP) {
    signal input kept;
    signal input broken;
    signal input violations;
    signal output trials;

    var RB = bitsOf(RECORD_CAP);
    component tallyBits[3];
    for (var i = 0; i < 3; i++) tallyBits[i] = Num2Bits(RB);
    tallyBits[0].in <== kept;
    tallyBits[1].in <== broken;
    tallyBits[2].in <== violations;
    trials <== kept + broken + W_V * violations;
    component underCap = Num2Bits(RB);
    underCap.in <== RECORD_CAP - trials;
}

// nextEpoch <= epoch <= maxEpoch, for nextEpoch < 2^33 and maxEpoch < 2^32 proven by the
// caller. Both differences fit 32 bits; as all three values are far below r, this is the
// integer order, and it also proves 0 <= epoch < 2^32.
template EpochWindow() {
    signal input nextEpoch;
    signal input epoch;
    signal input maxEpoch;

    component notEarly = Num2Bits(32);
    notEarly.in <== epoch - nextEpoch;
    component notFuture = Num2Bits(32);
    notFuture.in <== maxEpoch - epoch;
}
