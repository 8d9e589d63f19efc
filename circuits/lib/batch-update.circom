pragma circom 2.1.6;

// BatchUpdate: applies the next log entries, at most INSERT_SLOTS of them first records of new
// agents and at most UPDATE_SLOTS records of known agents, to the agent state tree
// (docs/protocol.md, "Applying a batch").
//
// Public signals, in this order:
//   oldRoot     the agent tree root before the batch (the previous batch's newRoot)
//   newRoot     the agent tree root after the batch
//   oldChain    the log hash chain before the batch's first entry
//   newChain    the log hash chain after the batch's last entry
//   policyHash  the score policy the state is kept for
//   maxEpoch    the latest epoch a record may have: the day of the checkpoint plus the
//               policy's skew (audit checks it against the signed checkpoint's time)
//
// The batch's entries are its positions 0..B-1 in log order (B = INSERT_SLOTS + UPDATE_SLOTS),
// real ones first. Each real position is either new (the first record of an agent without a
// leaf) or an update; the k-th new position goes to insert slot k and the j-th update to
// update slot j. All insert slots are applied first, then all update slots: this is the state
// that applying the entries in log order gives (an agent's first record is its insert and all
// its other records follow it; records of different agents commute; new agents take slots
// in log order), and it lets each slot be only as large as its kind needs.
//
// What it proves (the invariants of DESIGN.md):
//   1. The applied entries are exactly the log entries that extend oldChain to newChain, in
//      order: the chain folds (commitment, org, orgIndex) of every real position in order,
//      each real position is matched to exactly one slot of its kind, and each used slot to
//      exactly one position, so no entry can be skipped, reordered, duplicated or invented.
//   2, 3. Each applied record is the opening of its logged commitment, with its logged org
//      (the slot recomputes the commitment; the position folds it with the same org).
//   4. One leaf per agent (ApplyInsert's sorted-list gap, ApplyUpdate's keyed leaf).
//   5. The state is kept under the policy whose hash is compiled in (PolicyHash).
//   9. One record per (agent, organisation, epoch), epochs strictly increasing per
//      organisation and at most maxEpoch, each record at most RECORD_CAP weighted trials,
//      each organisation's contribution capped at ORG_CAP trials, records without trials
//      counting for nothing (ApplyInsert, ApplyUpdate).
// NOTE: audit checks outside the circuit that each log entry carries its org's signature,
//       that orgIndex is the org's registry position, that maxEpoch is at most the day of the
//       batch's signed checkpoint plus the skew, and that the first batch's oldRoot is
//       GENESIS_ROOT and its oldChain 0.

include "../../node_modules/circomlib/circuits/poseidon.circom";
include "../../node_modules/circomlib/circuits/bitify.circom";
include "../../node_modules/circomlib/circuits/comparators.circom";
include "./apply-insert.circom";
include "./apply-update.circom";
include "./policy-hash.circom";

template BatchUpdate(INSERT_SLOTS, UPDATE_SLOTS, AGENT_DEPTH, ORG_DEPTH,
                     VERSION, W_V, Z2_NUM, Z2_DEN, SCALE, RECORD_CAP, ORG_CAP, TRIAL_UNITS, EPOCH_SECONDS, EPOCH_SKEW) {
    var I = INSERT_SLOTS;
    var U = UPDATE_SLOTS;
    var B = I + U;

    signal input oldRoot;
    signal input newRoot;
    signal input oldChain;
    signal input newChain;
    signal input policyHash;
    signal input maxEpoch;

    // Positions, in log order.
    signal input isReal[B];
    signal input isNew[B];

    // Insert slots.
    signal input insAgent[I];
    signal input insOrg[I];
    signal input insOrgIndex[I];
    signal input insEpoch[I];
    signal input insKept[I];
    signal input insBroken[I];
    signal input insViolations[I];
    signal input insScope[I];
    signal input insSalt[I];
    signal input insLowAgent[I];
    signal input insLowNextAgent[I];
    signal input insLowSummary[I];
    signal input insLowExt[I];
    signal input insLowOrgs[I][4];
    signal input insLowIndex[I];
    signal input insLowSiblings[I][AGENT_DEPTH][3];
    signal input insNewIndex[I];
    signal input insNewSiblings[I][AGENT_DEPTH][3];

    // Update slots.
    signal input updAgent[U];
    signal input updOrg[U];
    signal input updOrgIndex[U];
    signal input updEpoch[U];
    signal input updKept[U];
    signal input updBroken[U];
    signal input updViolations[U];
    signal input updScope[U];
    signal input updSalt[U];
    signal input updNextAgent[U];
    signal input updSummary[U];
    signal input updExt[U];
    signal input updIndex[U];
    signal input updSiblings[U][AGENT_DEPTH][3];
    signal input updOrgOld[U];
    signal input updOrgSiblings[U][ORG_DEPTH][3];

    component policy = PolicyHash(VERSION, W_V, Z2_NUM, Z2_DEN, SCALE, RECORD_CAP, ORG_CAP, TRIAL_UNITS, EPOCH_SECONDS, EPOCH_SKEW);
    policy.policyHash <== policyHash;
    component maxEpochBits = Num2Bits(32);
    maxEpochBits.in <== maxEpoch;

    // Positions: real ones first; a new one is real.
    for (var p = 0; p < B; p++) {
        isReal[p] * (1 - isReal[p]) === 0;
        isNew[p] * (1 - isNew[p]) === 0;
        isNew[p] * (1 - isReal[p]) === 0;
        if (p > 0) isReal[p] * (1 - isReal[p - 1]) === 0;
    }

    // match[p][s] = 1 when position p goes to slot s (insert slots 0..I-1, then update slots):
    // the k-th new position to insert slot k, the j-th update to update slot j. A position p
    // has at most p positions before it, so only slots of rank <= p are possible.
    signal match[B][B];
    component rankIs[B][B];
    var insRank = 0;
    var updRank = 0;
    for (var p = 0; p < B; p++) {
        for (var k = 0; k < I; k++) {
            if (k <= p) {
                rankIs[p][k] = IsZero();
                rankIs[p][k].in <== insRank - k;
                match[p][k] <== isNew[p] * rankIs[p][k].out;
            } else {
                match[p][k] <== 0;
            }
        }
        for (var j = 0; j < U; j++) {
            if (j <= p) {
                rankIs[p][I + j] = IsZero();
                rankIs[p][I + j].in <== updRank - j;
                match[p][I + j] <== (isReal[p] - isNew[p]) * rankIs[p][I + j].out;
            } else {
                match[p][I + j] <== 0;
            }
        }
        insRank += isNew[p];
        updRank += isReal[p] - isNew[p];
    }
    // Every real position has a slot (a batch holds at most I new agents and U updates);
    // a slot is used exactly when a position goes to it.
    signal slotUsed[B];
    for (var p = 0; p < B; p++) {
        var used = 0;
        for (var s = 0; s < B; s++) used += match[p][s];
        used === isReal[p];
    }
    for (var s = 0; s < B; s++) {
        var use = 0;
        for (var p = 0; p < B; p++) use += match[p][s];
        slotUsed[s] <== use;
    }

    // The roots: insert slots first, then update slots.
    signal root[B + 1];
    root[0] <== oldRoot;
    component ins[I];
    component upd[U];
    for (var k = 0; k < I; k++) {
        ins[k] = ApplyInsert(AGENT_DEPTH, ORG_DEPTH, W_V, RECORD_CAP, ORG_CAP, TRIAL_UNITS);
        ins[k].rootIn <== root[k];
        ins[k].maxEpoch <== maxEpoch;
        ins[k].isReal <== slotUsed[k];
        ins[k].agent <== insAgent[k];
        ins[k].org <== insOrg[k];
        ins[k].orgIndex <== insOrgIndex[k];
        ins[k].epoch <== insEpoch[k];
        ins[k].kept <== insKept[k];
        ins[k].broken <== insBroken[k];
        ins[k].violations <== insViolations[k];
        ins[k].scope <== insScope[k];
        ins[k].salt <== insSalt[k];
        ins[k].lowAgent <== insLowAgent[k];
        ins[k].lowNextAgent <== insLowNextAgent[k];
        ins[k].lowSummary <== insLowSummary[k];
        ins[k].lowExt <== insLowExt[k];
        ins[k].lowOrgs <== insLowOrgs[k];
        ins[k].lowIndex <== insLowIndex[k];
        ins[k].lowSiblings <== insLowSiblings[k];
        ins[k].newIndex <== insNewIndex[k];
        ins[k].newSiblings <== insNewSiblings[k];
        root[k + 1] <== ins[k].rootOut;
    }
    for (var j = 0; j < U; j++) {
        upd[j] = ApplyUpdate(AGENT_DEPTH, ORG_DEPTH, W_V, RECORD_CAP, ORG_CAP, TRIAL_UNITS);
        upd[j].rootIn <== root[I + j];
        upd[j].maxEpoch <== maxEpoch;
        upd[j].isReal <== slotUsed[I + j];
        upd[j].agent <== updAgent[j];
        upd[j].org <== updOrg[j];
        upd[j].orgIndex <== updOrgIndex[j];
        upd[j].epoch <== updEpoch[j];
        upd[j].kept <== updKept[j];
        upd[j].broken <== updBroken[j];
        upd[j].violations <== updViolations[j];
        upd[j].scope <== updScope[j];
        upd[j].salt <== updSalt[j];
        upd[j].nextAgent <== updNextAgent[j];
        upd[j].summary <== updSummary[j];
        upd[j].ext <== updExt[j];
        upd[j].index <== updIndex[j];
        upd[j].siblings <== updSiblings[j];
        upd[j].orgOld <== updOrgOld[j];
        upd[j].orgSiblings <== updOrgSiblings[j];
        root[I + j + 1] <== upd[j].rootOut;
    }
    newRoot === root[B];

    // The log chain over the positions, in order, from what each position's slot opened.
    signal slotCommitment[B];
    signal slotOrg[B];
    signal slotOrgIndex[B];
    for (var k = 0; k < I; k++) {
        slotCommitment[k] <== ins[k].commitment;
        slotOrg[k] <== insOrg[k];
        slotOrgIndex[k] <== insOrgIndex[k];
    }
    for (var j = 0; j < U; j++) {
        slotCommitment[I + j] <== upd[j].commitment;
        slotOrg[I + j] <== updOrg[j];
        slotOrgIndex[I + j] <== updOrgIndex[j];
    }
    signal pick[B][B][3];
    component step[B];
    signal chain[B + 1];
    chain[0] <== oldChain;
    for (var p = 0; p < B; p++) {
        var c = 0;
        var o = 0;
        var x = 0;
        for (var s = 0; s < B; s++) {
            if ((s < I && s <= p) || (s >= I && s - I <= p)) {
                pick[p][s][0] <== match[p][s] * slotCommitment[s];
                pick[p][s][1] <== match[p][s] * slotOrg[s];
                pick[p][s][2] <== match[p][s] * slotOrgIndex[s];
                c += pick[p][s][0];
                o += pick[p][s][1];
                x += pick[p][s][2];
            } else {
                for (var f = 0; f < 3; f++) pick[p][s][f] <== 0;
            }
        }
        step[p] = Poseidon(5);
        step[p].inputs[0] <== 3;
        step[p].inputs[1] <== chain[p];
        step[p].inputs[2] <== c;
        step[p].inputs[3] <== o;
        step[p].inputs[4] <== x;
        chain[p + 1] <== chain[p] + isReal[p] * (step[p].out - chain[p]);
    }
    newChain === chain[B];
}
