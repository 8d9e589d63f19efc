pragma circom 2.1.6;

// Threshold: "the agent's score is at least minScore" (and optionally "it has at least
// minRecords records from at least minOrgs distinct organisations") under a given state
// root, without revealing the score or the totals.
//
// Public signals, in this order:
//   root         the agent tree root of a signed checkpoint
//   agent        the agent's identity field element (docs/protocol.md, "Identities")
//   minScore     X in [0, SCALE]
//   minRecords   N, below 2^48 (0 = no condition)
//   minOrgs      K, below 2^48 (0 = no condition)
//   policyHash   the score policy compiled into the circuit
//   contextHash  Poseidon(TAG_CONTEXT, nonce, audience, expiry) of the verifier's request
//
// The leaf is opened privately: a leaf whose key is `agent` must sit at some position
// under `root`, so the proof is about this agent and this root only (invariant 6). The
// context hash enters no other constraint; it is squared so that it is bound to the proof
// (Groth16 public inputs that no constraint uses could be changed freely).
// NOTE: the verifier checks that root is in a checkpoint signed by the aggregator and that
//       contextHash matches its own nonce, audience and an unexpired expiry.

include "../../../../node_modules/circomlib/circuits/bitify.circom";
include "../../../../node_modules/circomlib/circuits/comparators.circom";
include "./quad-merkle.circom";
include "./agent-leaf.circom";
include "./policy-hash.circom";
include "./score-at-least.circom";

template Threshold(AGENT_DEPTH, VERSION, W_V, Z2_NUM, Z2_DEN, SCALE) {
    signal input root;
    signal input agent;
    signal input minScore;
    signal input minRecords;
    signal input minOrgs;
    signal input policyHash;
    signal input contextHash;

    signal input nextAgent;
    signal input nextIndex;
    signal input kept;
    signal input broken;
    signal input violations;
    signal input records;
    signal input orgCount;
    signal input orgRoot;
    signal input ext;
    signal input index;
    signal input siblings[AGENT_DEPTH][3];

    component policy = PolicyHash(VERSION, W_V, Z2_NUM, Z2_DEN, SCALE);
    policy.policyHash <== policyHash;

    // The sentinel (key 0) is not an agent.
    component agentBits = Num2Bits(252);
    agentBits.in <== agent;
    component agentZero = IsZero();
    agentZero.in <== agent;
    agentZero.out === 0;

    component leaf = AgentLeaf();
    leaf.agent <== agent;
    leaf.nextAgent <== nextAgent;
    leaf.nextIndex <== nextIndex;
    leaf.kept <== kept;
    leaf.broken <== broken;
    leaf.violations <== violations;
    leaf.records <== records;
    leaf.orgCount <== orgCount;
    leaf.orgRoot <== orgRoot;
    leaf.ext <== ext;

    component path = QuadMerkleRoot(AGENT_DEPTH);
    path.leaf <== leaf.hash;
    path.index <== index;
    path.siblings <== siblings;
    path.root === root;

    // ScoreAtLeast range-checks the totals and minScore itself.
    component score = ScoreAtLeast(48, W_V, Z2_NUM, Z2_DEN, SCALE);
    score.kept <== kept;
    score.broken <== broken;
    score.violations <== violations;
    score.minScore <== minScore;

    // records >= minRecords and orgCount >= minOrgs, all four proven to fit 48 bits.
    component fit[4];
    for (var i = 0; i < 4; i++) fit[i] = Num2Bits(48);
    fit[0].in <== records;
    fit[1].in <== minRecords;
    fit[2].in <== orgCount;
    fit[3].in <== minOrgs;
    component enoughRecords = GreaterEqThan(48);
    enoughRecords.in[0] <== records;
    enoughRecords.in[1] <== minRecords;
    enoughRecords.out === 1;
    component enoughOrgs = GreaterEqThan(48);
    enoughOrgs.in[0] <== orgCount;
    enoughOrgs.in[1] <== minOrgs;
    enoughOrgs.out === 1;

    signal contextSquare <== contextHash * contextHash;
}
