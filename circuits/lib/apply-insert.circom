pragma circom 2.1.6;

// ApplyInsert: the first record of an agent that has no leaf yet, or an unused slot
// (isReal = 0, all inputs 0), which leaves the root unchanged.
//
// What it proves for a real record (DESIGN.md invariants 4 and 9):
//   - the agent has no leaf: the "low" leaf at lowIndex under rootIn satisfies
//     lowAgent < agent < lowNextAgent (or lowNextAgent = 0, meaning +infinity), which in the
//     sorted linked list of keys proves that no leaf holds agent;
//   - the low leaf is re-linked to point at the agent, and the agent's new leaf (inheriting the
//     low leaf's old next key) is written into the empty slot newIndex of the tree after
//     the re-link;
//   - the new leaf's organisation set holds only this organisation's slot, whose epoch
//     window is 0 <= epoch <= maxEpoch, whose record is at most RECORD_CAP weighted trials,
//     and whose capped contribution is the agent's whole evidence; a record with no trials
//     leaves records and orgCount at 0.
// NOTE: BatchUpdate folds the returned commitment into the log chain and checks
//       maxEpoch < 2^32. The keys of every leaf are below 2^252 (each was range-checked here
//       when inserted; the sentinel's is 0); they are range-checked again below because the
//       comparators need it and the check is cheap next to the two paths.

include "../../node_modules/circomlib/circuits/bitify.circom";
include "../../node_modules/circomlib/circuits/comparators.circom";
include "./quad-merkle.circom";
include "./record-commitment.circom";
include "./agent-leaf.circom";
include "./org-slot.circom";

template ApplyInsert(AGENT_DEPTH, ORG_DEPTH, W_V, RECORD_CAP, ORG_CAP, TRIAL_UNITS) {
    signal input rootIn;
    signal input maxEpoch;
    signal input isReal;
    signal output rootOut;
    signal output commitment;

    // The record opening and the organisation's registry position.
    signal input agent;
    signal input org;
    signal input orgIndex;
    signal input epoch;
    signal input kept;
    signal input broken;
    signal input violations;
    signal input scope;
    signal input salt;
    // The low leaf and its path.
    signal input lowAgent;
    signal input lowNextAgent;
    signal input lowSummary;
    signal input lowExt;
    signal input lowOrgs[4];
    signal input lowIndex;
    signal input lowSiblings[AGENT_DEPTH][3];
    // The empty slot that receives the new leaf, with its path after the re-link.
    signal input newIndex;
    signal input newSiblings[AGENT_DEPTH][3];

    var W = SUMMARY_FIELD_BITS();

    isReal * (1 - isReal) === 0;

    component record = RecordCommitment();
    record.agent <== agent;
    record.org <== org;
    record.epoch <== epoch;
    record.kept <== kept;
    record.broken <== broken;
    record.violations <== violations;
    record.scope <== scope;
    record.salt <== salt;
    commitment <== record.commitment;

    component orgZero = IsZero();
    orgZero.in <== org;
    isReal * orgZero.out === 0;

    // The agent is absent: lowAgent < agent < lowNextAgent, where lowNextAgent = 0 is +inf.
    // agent > lowAgent >= 0 also shows agent is not the sentinel's key 0.
    component agentBits = Num2Bits(252);
    agentBits.in <== agent;
    component lowBits = Num2Bits(252);
    lowBits.in <== lowAgent;
    component nextBits = Num2Bits(252);
    nextBits.in <== lowNextAgent;
    component lowBelow = LessThan(252);
    lowBelow.in[0] <== lowAgent;
    lowBelow.in[1] <== agent;
    isReal * (1 - lowBelow.out) === 0;
    component nextAbove = LessThan(252);
    nextAbove.in[0] <== agent;
    nextAbove.in[1] <== lowNextAgent;
    component nextIsEnd = IsZero();
    nextIsEnd.in <== lowNextAgent;
    signal gapAbove <== nextAbove.out + nextIsEnd.out - nextAbove.out * nextIsEnd.out;
    isReal * (1 - gapAbove) === 0;

    component evidence = RecordEvidence(W_V, RECORD_CAP);
    evidence.kept <== kept;
    evidence.broken <== broken;
    evidence.violations <== violations;
    component window = EpochWindow();
    window.nextEpoch <== 0;
    window.epoch <== epoch;
    window.maxEpoch <== maxEpoch;

    // The organisation's slot: its totals are this record's. trials <= RECORD_CAP < 2^RB.
    component capped = CappedContribution(bitsOf(RECORD_CAP), ORG_CAP, TRIAL_UNITS);
    capped.successes <== kept;
    capped.trials <== evidence.trials;
    component slot = PackOrgSlot(RECORD_CAP, ORG_CAP * TRIAL_UNITS);
    slot.nextEpoch <== epoch + 1;
    slot.successes <== kept;
    slot.trials <== evidence.trials;
    slot.cappedSuccesses <== capped.cappedSuccesses;
    slot.cappedTrials <== capped.cappedTrials;
    component orgSet = QuadSingletonTop(ORG_DEPTH);
    orgSet.leaf <== slot.slot;
    orgSet.index <== orgIndex;

    // Evidence counts only evidence: records = orgCount = 1 only if trials > 0.
    component noEvidence = IsZero();
    noEvidence.in <== evidence.trials;
    signal summary <== capped.cappedSuccesses + capped.cappedTrials * (1 << W)
        + (1 - noEvidence.out) * ((1 << (2 * W)) + (1 << (3 * W)));

    // Leaf A: the low leaf, re-linked to the new agent.
    component lowOld = AgentLeaf();
    lowOld.agent <== lowAgent;
    lowOld.nextAgent <== lowNextAgent;
    lowOld.summary <== lowSummary;
    lowOld.ext <== lowExt;
    lowOld.orgs <== lowOrgs;
    component lowNew = AgentLeaf();
    lowNew.agent <== lowAgent;
    lowNew.nextAgent <== agent;
    lowNew.summary <== lowSummary;
    lowNew.ext <== lowExt;
    lowNew.orgs <== lowOrgs;
    component pathLow = QuadMerkleUpdate(AGENT_DEPTH);
    pathLow.oldLeaf <== lowOld.hash;
    pathLow.newLeaf <== lowNew.hash;
    pathLow.index <== lowIndex;
    pathLow.siblings <== lowSiblings;
    isReal * (pathLow.oldRoot - rootIn) === 0;
    signal relinked <== rootIn + isReal * (pathLow.newRoot - rootIn);

    // Leaf B: the new agent's leaf, in an empty slot of the re-linked tree.
    component leaf = AgentLeaf();
    leaf.agent <== agent;
    leaf.nextAgent <== lowNextAgent;
    leaf.summary <== summary;
    leaf.ext <== 0;
    leaf.orgs <== orgSet.children;
    component pathNew = QuadMerkleUpdate(AGENT_DEPTH);
    pathNew.oldLeaf <== 0;
    pathNew.newLeaf <== leaf.hash;
    pathNew.index <== newIndex;
    pathNew.siblings <== newSiblings;
    isReal * (pathNew.oldRoot - relinked) === 0;
    rootOut <== relinked + isReal * (pathNew.newRoot - relinked);
}
