pragma circom 2.1.6;

// Binds a proof to the score policy compiled into the circuit: the public input
// `policyHash` must equal
//   Poseidon(TAG_POLICY = 5, VERSION, W_V, Z2_NUM, Z2_DEN, SCALE,
//            RECORD_CAP, ORG_CAP, TRIAL_UNITS, EPOCH_SECONDS, EPOCH_SKEW)
// (policy v2, docs/score-model.md), so a proof can never be presented as one made under
// another policy. Every input is a constant: the compiler folds the hash, and what remains is
// one linear constraint.

include "../../node_modules/circomlib/circuits/poseidon.circom";

template PolicyHash(VERSION, W_V, Z2_NUM, Z2_DEN, SCALE, RECORD_CAP, ORG_CAP, TRIAL_UNITS, EPOCH_SECONDS, EPOCH_SKEW) {
    signal input policyHash;
    component h = Poseidon(11);
    h.inputs[0] <== 5;
    h.inputs[1] <== VERSION;
    h.inputs[2] <== W_V;
    h.inputs[3] <== Z2_NUM;
    h.inputs[4] <== Z2_DEN;
    h.inputs[5] <== SCALE;
    h.inputs[6] <== RECORD_CAP;
    h.inputs[7] <== ORG_CAP;
    h.inputs[8] <== TRIAL_UNITS;
    h.inputs[9] <== EPOCH_SECONDS;
    h.inputs[10] <== EPOCH_SKEW;
    policyHash === h.out;
}
