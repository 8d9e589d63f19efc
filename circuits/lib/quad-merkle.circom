pragma circom 2.1.6;

// Quaternary (arity-4) Poseidon Merkle trees: the agent state tree and each agent's
// organisation set (docs/protocol.md, "Agent state"). An interior node is
// Poseidon(c0, c1, c2, c3). A leaf position is a base-4 number whose least significant
// digit is the position at the bottom level; it is taken as one field element and
// decomposed with Num2Bits(2 * DEPTH), which also proves it is below 4^DEPTH.

include "../../node_modules/circomlib/circuits/poseidon.circom";
include "../../node_modules/circomlib/circuits/bitify.circom";

// Selectors of a 2-bit digit: sel[j] = 1 exactly when the digit equals j, for j = 0, 1, 2
// (the placements below need no selector for 3: the fourth child is the rest). The bits must
// be constrained boolean by the caller (they come from Num2Bits).
template DigitSelectors() {
    signal input bit0;
    signal input bit1;
    signal output sel[3];
    signal both <== bit0 * bit1;
    sel[0] <== 1 - bit0 - bit1 + both;
    sel[1] <== bit0 - both;
    sel[2] <== bit1 - both;
}

// Places two nodes at the same position among the same three siblings: the children of
// their parents (the old and the new value of a leaf share its siblings). The sibling-only
// terms are computed once and shared by both nodes.
template QuadPlacePair() {
    signal input nodes[2];
    signal input siblings[3];
    signal input sel[3];
    signal output children[2][4];

    // Children when the node is at position p: siblings fill the other slots in order.
    //   c0 = p==0 ? node : s0
    //   c1 = p==1 ? node : (p==0 ? s0 : s1)
    //   c2 = p==2 ? node : (p<2 ? s1 : s2)
    //   c3 = p==3 ? node : s2
    // The children are the node and the siblings in some order, so c3 is their sum minus
    // c0, c1 and c2: three products per node instead of four.
    signal shift1 <== sel[0] * (siblings[0] - siblings[1]);
    signal shift2 <== (sel[0] + sel[1]) * (siblings[1] - siblings[2]);
    signal t0[2];
    signal t1[2];
    signal t2[2];
    for (var k = 0; k < 2; k++) {
        t0[k] <== sel[0] * (nodes[k] - siblings[0]);
        t1[k] <== sel[1] * (nodes[k] - siblings[1]);
        t2[k] <== sel[2] * (nodes[k] - siblings[2]);
        children[k][0] <== siblings[0] + t0[k];
        children[k][1] <== siblings[1] + t1[k] + shift1;
        children[k][2] <== siblings[2] + t2[k] + shift2;
        children[k][3] <== nodes[k] + siblings[0] + siblings[1] + siblings[2]
            - children[k][0] - children[k][1] - children[k][2];
    }
}

// One level of a path for two nodes at the same position: places both and hashes.
template QuadLevelPair() {
    signal input nodes[2];
    signal input siblings[3];
    signal input sel[3];
    signal output parents[2];

    component place = QuadPlacePair();
    place.nodes <== nodes;
    place.siblings <== siblings;
    place.sel <== sel;
    component h[2];
    for (var k = 0; k < 2; k++) {
        h[k] = Poseidon(4);
        h[k].inputs <== place.children[k];
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
    signal input sel[3];
    signal output parent;

    signal shift1 <== sel[0] * (siblings[0] - siblings[1]);
    signal shift2 <== (sel[0] + sel[1]) * (siblings[1] - siblings[2]);
    signal t0 <== sel[0] * (node - siblings[0]);
    signal t1 <== sel[1] * (node - siblings[1]);
    signal t2 <== sel[2] * (node - siblings[2]);
    signal c0 <== siblings[0] + t0;
    signal c1 <== siblings[1] + t1 + shift1;
    signal c2 <== siblings[2] + t2 + shift2;
    // As in QuadPlacePair: the fourth child is the node and the siblings less the others.
    component h = Poseidon(4);
    h.inputs[0] <== c0;
    h.inputs[1] <== c1;
    h.inputs[2] <== c2;
    h.inputs[3] <== node + siblings[0] + siblings[1] + siblings[2] - c0 - c1 - c2;
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

// The four children of the root of a tree, before and after one leaf changes from oldLeaf
// to newLeaf at `index` (a QuadMerkleUpdate that stops below the root hash). The agent leaf
// hashes these children directly instead of the organisation set's root, which saves one
// Poseidon(4) per version of the leaf (docs/circuits.md, "Sizes and costs").
// NOTE: the caller decides what the children must equal; this template only computes them.
template QuadMerkleUpdateTop(DEPTH) {
    signal input oldLeaf;
    signal input newLeaf;
    signal input index;
    signal input siblings[DEPTH][3];
    signal output oldChildren[4];
    signal output newChildren[4];

    component bits = Num2Bits(2 * DEPTH);
    bits.in <== index;

    component sel[DEPTH];
    component level[DEPTH - 1];
    for (var i = 0; i < DEPTH; i++) {
        sel[i] = DigitSelectors();
        sel[i].bit0 <== bits.out[2 * i];
        sel[i].bit1 <== bits.out[2 * i + 1];
    }
    for (var i = 0; i < DEPTH - 1; i++) {
        level[i] = QuadLevelPair();
        level[i].nodes[0] <== i == 0 ? oldLeaf : level[i - 1].parents[0];
        level[i].nodes[1] <== i == 0 ? newLeaf : level[i - 1].parents[1];
        level[i].siblings <== siblings[i];
        level[i].sel <== sel[i].sel;
    }
    component top = QuadPlacePair();
    top.nodes[0] <== DEPTH == 1 ? oldLeaf : level[DEPTH - 2].parents[0];
    top.nodes[1] <== DEPTH == 1 ? newLeaf : level[DEPTH - 2].parents[1];
    top.siblings <== siblings[DEPTH - 1];
    top.sel <== sel[DEPTH - 1].sel;
    oldChildren <== top.children[0];
    newChildren <== top.children[1];
}

// Empty subtree roots: z[0] = 0, z[k + 1] = Poseidon(z[k] x 4). Constant inputs: the compiler
// evaluates these hashes and no constraint remains.
template EmptyRoots(DEPTH) {
    signal output z[DEPTH + 1];
    component h[DEPTH];
    z[0] <== 0;
    for (var k = 0; k < DEPTH; k++) {
        h[k] = Poseidon(4);
        for (var j = 0; j < 4; j++) h[k].inputs[j] <== z[k];
        z[k + 1] <== h[k].out;
    }
}

// The four children of the root of a tree that holds `leaf` at `index` and nothing else:
// the organisation set of a new agent. Every sibling is an empty subtree root (a constant),
// so a level costs one Poseidon(4) and three products.
template QuadSingletonTop(DEPTH) {
    signal input leaf;
    signal input index;
    signal output children[4];

    component zero = EmptyRoots(DEPTH - 1);
    component bits = Num2Bits(2 * DEPTH);
    bits.in <== index;

    component sel[DEPTH];
    component h[DEPTH - 1];
    signal node[DEPTH];
    signal t[DEPTH][3];
    signal c[DEPTH][4];
    for (var i = 0; i < DEPTH; i++) {
        sel[i] = DigitSelectors();
        sel[i].bit0 <== bits.out[2 * i];
        sel[i].bit1 <== bits.out[2 * i + 1];
        node[i] <== i == 0 ? leaf : h[i - 1].out;
        // c_j = node if the digit is j, else the empty root of this level; the selectors sum
        // to 1, so the fourth term is the difference.
        for (var j = 0; j < 3; j++) t[i][j] <== sel[i].sel[j] * (node[i] - zero.z[i]);
        for (var j = 0; j < 3; j++) c[i][j] <== zero.z[i] + t[i][j];
        c[i][3] <== node[i] - t[i][0] - t[i][1] - t[i][2];
        if (i < DEPTH - 1) {
            h[i] = Poseidon(4);
            h[i].inputs <== c[i];
        }
    }
    children <== c[DEPTH - 1];
}
