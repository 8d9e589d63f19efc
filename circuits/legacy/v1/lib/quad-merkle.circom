pragma circom 2.1.6;

// Quaternary (arity-4) Poseidon Merkle trees: the agent state tree and each agent's
// organisation set (docs/protocol.md, "Agent state"). An interior node is
// Poseidon(c0, c1, c2, c3). A leaf position is a base-4 number whose least significant
// digit is the position at the bottom level; it is taken as one field element and
// decomposed with Num2Bits(2 * DEPTH), which also proves it is below 4^DEPTH.

include "../../../../node_modules/circomlib/circuits/poseidon.circom";
include "../../../../node_modules/circomlib/circuits/bitify.circom";

// Selectors of a 2-bit digit: sel[j] = 1 exactly when the digit equals j. The bits must
// be constrained boolean by the caller (they come from Num2Bits).
template DigitSelectors() {
    signal input bit0;
    signal input bit1;
    signal output sel[4];
    signal both <== bit0 * bit1;
    sel[0] <== 1 - bit0 - bit1 + both;
    sel[1] <== bit0 - both;
    sel[2] <== bit1 - both;
    sel[3] <== both;
}

// One level of a path for two nodes at the same position (the old and the new value of a
// leaf share its siblings): places each node among the three siblings and hashes.
// The sibling-only terms are computed once and shared by both nodes.
template QuadLevelPair() {
    signal input nodes[2];
    signal input siblings[3];
    signal input sel[4];
    signal output parents[2];

    // Children when the node is at position p: siblings fill the other slots in order.
    //   c0 = p==0 ? node : s0
    //   c1 = p==1 ? node : (p==0 ? s0 : s1)
    //   c2 = p==2 ? node : (p<2 ? s1 : s2)
    //   c3 = p==3 ? node : s2
    signal shift1 <== sel[0] * (siblings[0] - siblings[1]);
    signal shift2 <== (sel[0] + sel[1]) * (siblings[1] - siblings[2]);
    signal t0[2];
    signal t1[2];
    signal t2[2];
    signal t3[2];
    component h[2];
    for (var k = 0; k < 2; k++) {
        t0[k] <== sel[0] * (nodes[k] - siblings[0]);
        t1[k] <== sel[1] * (nodes[k] - siblings[1]);
        t2[k] <== sel[2] * (nodes[k] - siblings[2]);
        t3[k] <== sel[3] * (nodes[k] - siblings[2]);
        h[k] = Poseidon(4);
        h[k].inputs[0] <== siblings[0] + t0[k];
        h[k].inputs[1] <== siblings[1] + t1[k] + shift1;
        h[k].inputs[2] <== siblings[2] + t2[k] + shift2;
        h[k].inputs[3] <== siblings[2] + t3[k];
        parents[k] <== h[k].out;
    }
}

// The roots of a tree before and after one leaf changes from oldLeaf to newLeaf at
// position `index`, given the leaf's siblings (siblings[0] is the bottom level).
// NOTE: the caller decides what the roots must equal; this template only computes them.
template QuadMerkleUpdate(DEPTH) {
    signal input oldLeaf;
    signal input newLeaf;
    signal input index;
    signal input siblings[DEPTH][3];
    signal output oldRoot;
    signal output newRoot;

    component bits = Num2Bits(2 * DEPTH);
    bits.in <== index;

    component sel[DEPTH];
    component level[DEPTH];
    for (var i = 0; i < DEPTH; i++) {
        sel[i] = DigitSelectors();
        sel[i].bit0 <== bits.out[2 * i];
        sel[i].bit1 <== bits.out[2 * i + 1];
        level[i] = QuadLevelPair();
        level[i].nodes[0] <== i == 0 ? oldLeaf : level[i - 1].parents[0];
        level[i].nodes[1] <== i == 0 ? newLeaf : level[i - 1].parents[1];
        level[i].siblings <== siblings[i];
        level[i].sel <== sel[i].sel;
    }
    oldRoot <== level[DEPTH - 1].parents[0];
    newRoot <== level[DEPTH - 1].parents[1];
}

// One level of a membership path: places the node among the three siblings and hashes.
template QuadLevel() {
    signal input node;
    signal input siblings[3];
    signal input sel[4];
    signal output parent;

    signal shift1 <== sel[0] * (siblings[0] - siblings[1]);
    signal shift2 <== (sel[0] + sel[1]) * (siblings[1] - siblings[2]);
    signal t0 <== sel[0] * (node - siblings[0]);
    signal t1 <== sel[1] * (node - siblings[1]);
    signal t2 <== sel[2] * (node - siblings[2]);
    signal t3 <== sel[3] * (node - siblings[2]);
    component h = Poseidon(4);
    h.inputs[0] <== siblings[0] + t0;
    h.inputs[1] <== siblings[1] + t1 + shift1;
    h.inputs[2] <== siblings[2] + t2 + shift2;
    h.inputs[3] <== siblings[2] + t3;
    parent <== h.out;
}

// The root of a tree holding `leaf` at position `index` (a membership path).
template QuadMerkleRoot(DEPTH) {
    signal input leaf;
    signal input index;
    signal input siblings[DEPTH][3];
    signal output root;

    component bits = Num2Bits(2 * DEPTH);
    bits.in <== index;

    component sel[DEPTH];
    component level[DEPTH];
    for (var i = 0; i < DEPTH; i++) {
        sel[i] = DigitSelectors();
        sel[i].bit0 <== bits.out[2 * i];
        sel[i].bit1 <== bits.out[2 * i + 1];
        level[i] = QuadLevel();
        level[i].node <== i == 0 ? leaf : level[i - 1].parent;
        level[i].siblings <== siblings[i];
        level[i].sel <== sel[i].sel;
    }
    root <== level[DEPTH - 1].parent;
}
