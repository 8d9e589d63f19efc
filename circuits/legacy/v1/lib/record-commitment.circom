pragma circom 2.1.6;

// The commitment to one outcome record (docs/protocol.md, "Records"):
//   commitment = Poseidon(TAG_RECORD = 2, agent, org, epoch, kept, broken, violations, scope, salt)
// Every field except the salt is range-checked here, so any circuit that opens a
// commitment through this template gets in-range values: identities below 2^252 (so they
// fit circomlib's LessThan(252)), counters and tags below 2^32. The salt is any field
// element; it only hides the record.
// NOTE: identities being non-zero is checked by the caller (padding slots carry zeros).

include "../../../../node_modules/circomlib/circuits/poseidon.circom";
include "../../../../node_modules/circomlib/circuits/bitify.circom";

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

    component idBits[2];
    idBits[0] = Num2Bits(252);
    idBits[0].in <== agent;
    idBits[1] = Num2Bits(252);
    idBits[1].in <== org;

    component countBits[5];
    for (var i = 0; i < 5; i++) {
        countBits[i] = Num2Bits(32);
    }
    countBits[0].in <== epoch;
    countBits[1].in <== kept;
    countBits[2].in <== broken;
    countBits[3].in <== violations;
    countBits[4].in <== scope;

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
