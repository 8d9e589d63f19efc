pragma circom 2.1.6;

// Binds a proof to the score policy compiled into the circuit: the public input
// `policyHash` must equal Poseidon(TAG_POLICY = 5, VERSION, W_V, Z2_NUM, Z2_DEN, SCALE),
// so a proof can never be presented as one made under another policy.

include "../../../../node_modules/circomlib/circuits/poseidon.circom";

template PolicyHash(VERSION, W_V, Z2_NUM, Z2_DEN, SCALE) {
    signal input policyHash;
    component h = Poseidon(6);
    h.inputs[0] <== 5;
    h.inputs[1] <== VERSION;
    h.inputs[2] <== W_V;
    h.inputs[3] <== Z2_NUM;
    h.inputs[4] <== Z2_DEN;
    h.inputs[5] <== SCALE;
    policyHash === h.out;
}
