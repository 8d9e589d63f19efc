pragma circom 2.1.6;

// BatchUpdate: applies the next BATCH_SIZE log entries, in log order, to the agent state
// tree (docs/protocol.md, "Applying a record").
//
// Public signals, in this order:
//   oldRoot     the agent tree root before the batch (the previous batch's newRoot)
//   newRoot     the agent tree root after the batch
//   oldChain    the log hash chain before the batch's first entry
//   newChain    the log hash chain after the batch's last real entry
//   policyHash  the score policy the state is kept for
//
// What it proves (the invariants of DESIGN.md):
//   1. The applied entries are exactly the log entries that extend oldChain to newChain, in
//      order: every real slot folds (commitment, org, orgIndex) into the chain, padding
//      slots leave it unchanged and may only follow real ones, so padding never hides an
//      entry and no entry can be skipped, reordered, duplicated or invented.
//   2. Each applied record is the opening of the commitment in its log entry (the
//      commitment is recomputed from the opening inside the circuit).
//   3. The record's org field is the org of its log entry (the same signal is hashed into
//      both the commitment and the chain).
//   4. One leaf per agent: a record goes to the leaf whose key is its agent; a new agent is
//      inserted only where the sorted linked list proves it absent (low.agent < agent <
//      low.nextAgent), into an empty slot.
//   5. The state is kept under the policy whose hash is compiled in (PolicyHash).
// NOTE: audit checks outside the circuit that each log entry carries its org's signature
//       and that orgIndex is the org's registry position; the first batch's oldRoot must be
//       GENESIS_ROOT and oldChain 0.

include "../../../../node_modules/circomlib/circuits/poseidon.circom";
include "../../../../node_modules/circomlib/circuits/bitify.circom";
include "../../../../node_modules/circomlib/circuits/comparators.circom";
include "./quad-merkle.circom";
include "./record-commitment.circom";
include "./agent-leaf.circom";
include "./policy-hash.circom";

// Totals in a leaf stay below 2^TALLY_BITS; 48 bits keep every product in the score
// predicate far below r (docs/score-model.md).
function TALLY_BITS() { return 48; }

// Root of an empty organisation set of the given depth: Z_0 = 0, Z_{k+1} = H(Z_k x 4).
// Computed by the witness generator and fixed as a constant by the compiler.
template EmptyRoot(DEPTH) {
    signal output root;
    component h[DEPTH];
    for (var i = 0; i < DEPTH; i++) {
        h[i] = Poseidon(4);
        for (var j = 0; j < 4; j++) h[i].inputs[j] <== i == 0 ? 0 : h[i - 1].out;
    }
    root <== h[DEPTH - 1].out;
}

// One log entry applied to the state (or a padding slot when isReal = 0).
template ApplyRecord(AGENT_DEPTH, ORG_DEPTH) {
    signal input rootIn;
    signal input chainIn;
    signal input emptyOrgRoot;
    signal output rootOut;
    signal output chainOut;

    signal input isReal;
    signal input isNew;
    // The record opening and its log position data.
    signal input agent;
    signal input org;
    signal input orgIndex;
    signal input epoch;
    signal input kept;
    signal input broken;
    signal input violations;
    signal input scope;
    signal input salt;
    // Leaf A: the agent's own leaf (existing agent) or the low leaf (new agent).
    signal input aAgent;
    signal input aNextAgent;
    signal input aNextIndex;
    signal input aKept;
    signal input aBroken;
    signal input aViolations;
    signal input aRecords;
    signal input aOrgCount;
    signal input aOrgRoot;
    signal input aExt;
    signal input aIndex;
    signal input aSiblings[AGENT_DEPTH][3];
    // Slot B: the empty slot that receives a new agent's leaf.
    signal input bIndex;
    signal input bSiblings[AGENT_DEPTH][3];
    // The org's slot in the agent's organisation set: 0 or org before, org after.
    signal input orgOld;
    signal input orgSiblings[ORG_DEPTH][3];

    isReal * (1 - isReal) === 0;
    isNew * (1 - isNew) === 0;
    // Only a real entry can create an agent.
    isNew * (1 - isReal) === 0;
    signal isExisting <== isReal - isNew;

    // 2, 3: the commitment of the opening, folded into the chain with the entry's org.
    component commitment = RecordCommitment();
    commitment.agent <== agent;
    commitment.org <== org;
    commitment.epoch <== epoch;
    commitment.kept <== kept;
    commitment.broken <== broken;
    commitment.violations <== violations;
    commitment.scope <== scope;
    commitment.salt <== salt;

    component chain = Poseidon(5);
    chain.inputs[0] <== 3;
    chain.inputs[1] <== chainIn;
    chain.inputs[2] <== commitment.commitment;
    chain.inputs[3] <== org;
    chain.inputs[4] <== orgIndex;
    chainOut <== chainIn + isReal * (chain.out - chainIn);

    // A real record names real identities (0 is the sentinel key and the empty org slot).
    component agentZero = IsZero();
    agentZero.in <== agent;
    isReal * agentZero.out === 0;
    component orgZero = IsZero();
    orgZero.in <== org;
    isReal * orgZero.out === 0;

    // Leaf A as it is in the tree before this entry. Its keys are range-checked so that the
    // comparators below are sound; its totals were range-checked when they were written.
    component aAgentBits = Num2Bits(252);
    aAgentBits.in <== aAgent;
    component aNextBits = Num2Bits(252);
    aNextBits.in <== aNextAgent;
    component aOld = AgentLeaf();
    aOld.agent <== aAgent;
    aOld.nextAgent <== aNextAgent;
    aOld.nextIndex <== aNextIndex;
    aOld.kept <== aKept;
    aOld.broken <== aBroken;
    aOld.violations <== aViolations;
    aOld.records <== aRecords;
    aOld.orgCount <== aOrgCount;
    aOld.orgRoot <== aOrgRoot;
    aOld.ext <== aExt;

    // 4: an existing agent's record goes to its own leaf.
    isExisting * (aAgent - agent) === 0;
    // 4: a new agent is absent: aAgent < agent < aNextAgent, where aNextAgent = 0 is +inf.
    component lowBelow = LessThan(252);
    lowBelow.in[0] <== aAgent;
    lowBelow.in[1] <== agent;
    isNew * (1 - lowBelow.out) === 0;
    component nextAbove = LessThan(252);
    nextAbove.in[0] <== agent;
    nextAbove.in[1] <== aNextAgent;
    component nextIsEnd = IsZero();
    nextIsEnd.in <== aNextAgent;
    signal gapAbove <== nextAbove.out + nextIsEnd.out - nextAbove.out * nextIsEnd.out;
    isNew * (1 - gapAbove) === 0;

    // The target leaf receives the record: leaf A for an existing agent, a fresh leaf for a
    // new one (zero totals, an empty organisation set, ext 0, leaf A's old next pointer).
    signal tKept <== isExisting * aKept;
    signal tBroken <== isExisting * aBroken;
    signal tViolations <== isExisting * aViolations;
    signal tRecords <== isExisting * aRecords;
    signal tOrgCount <== isExisting * aOrgCount;
    signal tExt <== isExisting * aExt;
    signal tOrgRoot <== aOrgRoot + isNew * (emptyOrgRoot - aOrgRoot);

    // The org's slot in the target's organisation set: empty (a new org for this agent) or
    // already holding this org.
    orgOld * (orgOld - org) === 0;
    component orgIsNew = IsZero();
    orgIsNew.in <== orgOld;
    component orgSet = QuadMerkleUpdate(ORG_DEPTH);
    orgSet.oldLeaf <== orgOld;
    orgSet.newLeaf <== org;
    orgSet.index <== orgIndex;
    orgSet.siblings <== orgSiblings;
    isReal * (orgSet.oldRoot - tOrgRoot) === 0;

    // New totals, range-checked so that no later product can wrap the field.
    signal nKept <== tKept + kept;
    signal nBroken <== tBroken + broken;
    signal nViolations <== tViolations + violations;
    signal nRecords <== tRecords + 1;
    signal nOrgCount <== tOrgCount + orgIsNew.out;
    component totalBits[5];
    for (var i = 0; i < 5; i++) totalBits[i] = Num2Bits(TALLY_BITS());
    totalBits[0].in <== nKept;
    totalBits[1].in <== nBroken;
    totalBits[2].in <== nViolations;
    totalBits[3].in <== nRecords;
    totalBits[4].in <== nOrgCount;

    component target = AgentLeaf();
    target.agent <== agent;
    target.nextAgent <== aNextAgent;
    target.nextIndex <== aNextIndex;
    target.kept <== nKept;
    target.broken <== nBroken;
    target.violations <== nViolations;
    target.records <== nRecords;
    target.orgCount <== nOrgCount;
    target.orgRoot <== orgSet.newRoot;
    target.ext <== tExt;

    // A new agent re-links the low leaf to point at it.
    component relinked = AgentLeaf();
    relinked.agent <== aAgent;
    relinked.nextAgent <== agent;
    relinked.nextIndex <== bIndex;
    relinked.kept <== aKept;
    relinked.broken <== aBroken;
    relinked.violations <== aViolations;
    relinked.records <== aRecords;
    relinked.orgCount <== aOrgCount;
    relinked.orgRoot <== aOrgRoot;
    relinked.ext <== aExt;

    // Leaf A's new value: the updated target (existing), the re-linked low leaf (new), or
    // itself (padding).
    signal aNewExisting <== isExisting * (target.hash - aOld.hash);
    signal aNewInsert <== isNew * (relinked.hash - aOld.hash);
    component pathA = QuadMerkleUpdate(AGENT_DEPTH);
    pathA.oldLeaf <== aOld.hash;
    pathA.newLeaf <== aOld.hash + aNewExisting + aNewInsert;
    pathA.index <== aIndex;
    pathA.siblings <== aSiblings;
    isReal * (pathA.oldRoot - rootIn) === 0;
    signal root1 <== rootIn + isReal * (pathA.newRoot - rootIn);

    // Slot B: a new agent's leaf goes into an empty slot of the tree after the re-link.
    component pathB = QuadMerkleUpdate(AGENT_DEPTH);
    pathB.oldLeaf <== 0;
    pathB.newLeaf <== target.hash;
    pathB.index <== bIndex;
    pathB.siblings <== bSiblings;
    isNew * (pathB.oldRoot - root1) === 0;
    rootOut <== root1 + isNew * (pathB.newRoot - root1);
}

template BatchUpdate(BATCH_SIZE, AGENT_DEPTH, ORG_DEPTH, VERSION, W_V, Z2_NUM, Z2_DEN, SCALE) {
    signal input oldRoot;
    signal input newRoot;
    signal input oldChain;
    signal input newChain;
    signal input policyHash;

    signal input isReal[BATCH_SIZE];
    signal input isNew[BATCH_SIZE];
    signal input agent[BATCH_SIZE];
    signal input org[BATCH_SIZE];
    signal input orgIndex[BATCH_SIZE];
    signal input epoch[BATCH_SIZE];
    signal input kept[BATCH_SIZE];
    signal input broken[BATCH_SIZE];
    signal input violations[BATCH_SIZE];
    signal input scope[BATCH_SIZE];
    signal input salt[BATCH_SIZE];
    signal input aAgent[BATCH_SIZE];
    signal input aNextAgent[BATCH_SIZE];
    signal input aNextIndex[BATCH_SIZE];
    signal input aKept[BATCH_SIZE];
    signal input aBroken[BATCH_SIZE];
    signal input aViolations[BATCH_SIZE];
    signal input aRecords[BATCH_SIZE];
    signal input aOrgCount[BATCH_SIZE];
    signal input aOrgRoot[BATCH_SIZE];
    signal input aExt[BATCH_SIZE];
    signal input aIndex[BATCH_SIZE];
    signal input aSiblings[BATCH_SIZE][AGENT_DEPTH][3];
    signal input bIndex[BATCH_SIZE];
    signal input bSiblings[BATCH_SIZE][AGENT_DEPTH][3];
    signal input orgOld[BATCH_SIZE];
    signal input orgSiblings[BATCH_SIZE][ORG_DEPTH][3];

    component policy = PolicyHash(VERSION, W_V, Z2_NUM, Z2_DEN, SCALE);
    policy.policyHash <== policyHash;

    component emptyOrg = EmptyRoot(ORG_DEPTH);

    // Padding only at the end: a real slot never follows a padding slot.
    for (var i = 1; i < BATCH_SIZE; i++) {
        isReal[i] * (1 - isReal[i - 1]) === 0;
    }

    component slot[BATCH_SIZE];
    for (var i = 0; i < BATCH_SIZE; i++) {
        slot[i] = ApplyRecord(AGENT_DEPTH, ORG_DEPTH);
        slot[i].rootIn <== i == 0 ? oldRoot : slot[i - 1].rootOut;
        slot[i].chainIn <== i == 0 ? oldChain : slot[i - 1].chainOut;
        slot[i].emptyOrgRoot <== emptyOrg.root;
        slot[i].isReal <== isReal[i];
        slot[i].isNew <== isNew[i];
        slot[i].agent <== agent[i];
        slot[i].org <== org[i];
        slot[i].orgIndex <== orgIndex[i];
        slot[i].epoch <== epoch[i];
        slot[i].kept <== kept[i];
        slot[i].broken <== broken[i];
        slot[i].violations <== violations[i];
        slot[i].scope <== scope[i];
        slot[i].salt <== salt[i];
        slot[i].aAgent <== aAgent[i];
        slot[i].aNextAgent <== aNextAgent[i];
        slot[i].aNextIndex <== aNextIndex[i];
        slot[i].aKept <== aKept[i];
        slot[i].aBroken <== aBroken[i];
        slot[i].aViolations <== aViolations[i];
        slot[i].aRecords <== aRecords[i];
        slot[i].aOrgCount <== aOrgCount[i];
        slot[i].aOrgRoot <== aOrgRoot[i];
        slot[i].aExt <== aExt[i];
        slot[i].aIndex <== aIndex[i];
        slot[i].aSiblings <== aSiblings[i];
        slot[i].bIndex <== bIndex[i];
        slot[i].bSiblings <== bSiblings[i];
        slot[i].orgOld <== orgOld[i];
        slot[i].orgSiblings <== orgSiblings[i];
    }
    newRoot === slot[BATCH_SIZE - 1].rootOut;
    newChain === slot[BATCH_SIZE - 1].chainOut;
}
