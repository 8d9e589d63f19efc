pragma circom 2.1.6;

// The agent leaf (docs/protocol.md, "Agent state"):
//   Poseidon(TAG_LEAF = 4, agent, nextAgent, summary, ext, orgs[0], orgs[1], orgs[2], orgs[3])
// where orgs are the four children of the root of the agent's organisation set (the root
// itself is never hashed: the leaf commits to the set through its top level), and
//   summary = successes + 2^48 * trials + 2^96 * records + 2^144 * orgCount
// packs the agent's capped evidence and counts, each below 2^48.
// NOTE: AgentLeaf checks no range: the batch circuit writes summaries whose fields stay in
//       range by construction (docs/circuits.md), and readers that need the fields use
//       UnpackSummary.

include "../../node_modules/circomlib/circuits/poseidon.circom";
include "../../node_modules/circomlib/circuits/bitify.circom";

// Width of each field of the summary.
function SUMMARY_FIELD_BITS() { return 48; }

template AgentLeaf() {
    signal input agent;
    signal input nextAgent;
    signal input summary;
    signal input ext;
    signal input orgs[4];
    signal output hash;

    component h = Poseidon(9);
    h.inputs[0] <== 4;
    h.inputs[1] <== agent;
    h.inputs[2] <== nextAgent;
    h.inputs[3] <== summary;
    h.inputs[4] <== ext;
    for (var j = 0; j < 4; j++) h.inputs[5 + j] <== orgs[j];
    hash <== h.out;
}

// The fields of a summary, each proven below 2^48; 4 * 48 = 192 bits < 253, so the
// decomposition is unique.
template UnpackSummary() {
    signal input summary;
    signal output successes;
    signal output trials;
    signal output records;
    signal output orgCount;

    var W = SUMMARY_FIELD_BITS();
    var mask = (1 << W) - 1;
    successes <-- summary & mask;
    trials <-- (summary >> W) & mask;
    records <-- (summary >> (2 * W)) & mask;
    orgCount <-- (summary >> (3 * W)) & mask;
    component bits[4];
    for (var i = 0; i < 4; i++) bits[i] = Num2Bits(W);
    bits[0].in <== successes;
    bits[1].in <== trials;
    bits[2].in <== records;
    bits[3].in <== orgCount;
    summary === successes + trials * (1 << W) + records * (1 << (2 * W)) + orgCount * (1 << (3 * W));
}
