pragma circom 2.1.6;

// ApplyUpdate: one record of an agent that already has a leaf (the common case), or an
// unused slot (isReal = 0, all inputs 0), which leaves the root unchanged.
//
// What it proves for a real record (DESIGN.md invariants 4 and 9):
//   - the agent's leaf, keyed by the record's agent, is at `index` under rootIn, and rootOut
//     is the same tree with that leaf updated (so the record goes to its own agent's leaf);
//   - the organisation's slot orgIndex of the agent's organisation set held `orgOld`, and
//     nextEpoch(orgOld) <= epoch <= maxEpoch: one record per (agent, organisation, epoch),
//     epochs strictly increasing per organisation, none in the future of the checkpoint;
//   - the record's weighted trials are at most RECORD_CAP;
//   - the organisation's raw totals grow by the record, its capped contribution is
//     recomputed (CappedContribution), and the agent's evidence changes by exactly the
//     difference of the capped contributions;
//   - records grows by 1 only for a record with trials > 0, orgCount only when this
//     organisation's trials go from 0 to more than 0.
// NOTE: BatchUpdate folds the returned commitment with org and orgIndex into the log chain
//       and checks maxEpoch < 2^32; audit checks that orgIndex is org's registry position.
//       The summary of the leaf is updated by adding differences: its fields stay within
//       their 48 bits by construction (docs/circuits.md, "Packed leaves"), so it is never
//       unpacked here.

include "../../node_modules/circomlib/circuits/bitify.circom";
include "../../node_modules/circomlib/circuits/comparators.circom";
include "./quad-merkle.circom";
include "./record-commitment.circom";
include "./agent-leaf.circom";
include "./org-slot.circom";

template ApplyUpdate(AGENT_DEPTH, ORG_DEPTH, W_V, RECORD_CAP, ORG_CAP, TRIAL_UNITS) {
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
    // The agent's leaf and its path.
    signal input nextAgent;
    signal input summary;
    signal input ext;
    signal input index;
    signal input siblings[AGENT_DEPTH][3];
    // The organisation's slot in the agent's organisation set, and its path.
    signal input orgOld;
    signal input orgSiblings[ORG_DEPTH][3];

    var W = SUMMARY_FIELD_BITS();
    var TB = ORG_TRIAL_BITS(RECORD_CAP);

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

    // A real record names real identities (0 is the sentinel's key).
    component agentZero = IsZero();
    agentZero.in <== agent;
    isReal * agentZero.out === 0;
    component orgZero = IsZero();
    orgZero.in <== org;
    isReal * orgZero.out === 0;

    component evidence = RecordEvidence(W_V, RECORD_CAP);
    evidence.kept <== kept;
    evidence.broken <== broken;
    evidence.violations <== violations;

    // The organisation's slot before the record, and the epoch rule.
    component old = UnpackOrgSlot(RECORD_CAP, ORG_CAP * TRIAL_UNITS);
    old.slot <== orgOld;
    component window = EpochWindow();
    window.nextEpoch <== old.nextEpoch;
    window.epoch <== epoch;
    window.maxEpoch <== maxEpoch;

    // The organisation's raw totals after the record. trials < 2^TB + 2^(RB+3) before this
    // check; proving it below 2^TB keeps it in its slot and lets the cap compare it.
    signal successes <== old.successes + kept;
    signal trials <== old.trials + evidence.trials;
    component trialBits = Num2Bits(TB);
    trialBits.in <== trials;
    component capped = CappedContribution(TB, ORG_CAP, TRIAL_UNITS);
    capped.successes <== successes;
    capped.trials <== trials;

    component slot = PackOrgSlot(RECORD_CAP, ORG_CAP * TRIAL_UNITS);
    slot.nextEpoch <== epoch + 1;
    slot.successes <== successes;
    slot.trials <== trials;
    slot.cappedSuccesses <== capped.cappedSuccesses;
    slot.cappedTrials <== capped.cappedTrials;

    component orgSet = QuadMerkleUpdateTop(ORG_DEPTH);
    orgSet.oldLeaf <== orgOld;
    orgSet.newLeaf <== slot.slot;
    orgSet.index <== orgIndex;
    orgSet.siblings <== orgSiblings;

    // Evidence counts only evidence.
    component noEvidence = IsZero();
    noEvidence.in <== evidence.trials;
    component orgWasSilent = IsZero();
    orgWasSilent.in <== old.trials;
    signal newOrg <== orgWasSilent.out * (1 - noEvidence.out);
    signal newSummary <== summary
        + (capped.cappedSuccesses - old.cappedSuccesses)
        + (capped.cappedTrials - old.cappedTrials) * (1 << W)
        + (1 - noEvidence.out) * (1 << (2 * W))
        + newOrg * (1 << (3 * W));

    component leafOld = AgentLeaf();
    leafOld.agent <== agent;
    leafOld.nextAgent <== nextAgent;
    leafOld.summary <== summary;
    leafOld.ext <== ext;
    leafOld.orgs <== orgSet.oldChildren;
    component leafNew = AgentLeaf();
    leafNew.agent <== agent;
    leafNew.nextAgent <== nextAgent;
    leafNew.summary <== newSummary;
    leafNew.ext <== ext;
    leafNew.orgs <== orgSet.newChildren;

    component path = QuadMerkleUpdate(AGENT_DEPTH);
    path.oldLeaf <== leafOld.hash;
    path.newLeaf <== leafNew.hash;
    path.index <== index;
    path.siblings <== siblings;
    isReal * (path.oldRoot - rootIn) === 0;
    rootOut <== rootIn + isReal * (path.newRoot - rootIn);
}
