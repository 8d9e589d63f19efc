pragma circom 2.1.6;

// The agent leaf hash (docs/protocol.md, "Agent state"):
//   Poseidon(TAG_LEAF = 4, agent, nextAgent, nextIndex, kept, broken, violations,
//            records, orgCount, orgRoot, ext)
// NOTE: no range checks here: callers check the fields they take from a witness.

include "../../../../node_modules/circomlib/circuits/poseidon.circom";

template AgentLeaf() {
    signal input agent;
    signal input nextAgent;
    signal input nextIndex;
    signal input kept;
    signal input broken;
    signal input violations;
    signal input records;
    signal input orgCount;
    signal input orgRoot;
    signal input ext;
    signal output hash;

    component h = Poseidon(11);
    h.inputs[0] <== 4;
    h.inputs[1] <== agent;
    h.inputs[2] <== nextAgent;
    h.inputs[3] <== nextIndex;
    h.inputs[4] <== kept;
    h.inputs[5] <== broken;
    h.inputs[6] <== violations;
    h.inputs[7] <== records;
    h.inputs[8] <== orgCount;
    h.inputs[9] <== orgRoot;
    h.inputs[10] <== ext;
    hash <== h.out;
}
