pragma circom 2.1.6;

// Threshold: "the agent's score is at least minScore" (and optionally "it has at least
// minRecords records with evidence from at least minOrgs distinct organisations") under a
// given state root, without revealing the score or the totals.
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
// under `root`, so the proof is about this agent and this root only (invariant 6). The score
// is the policy's score of the leaf's evidence, which the batch circuit keeps as the sum of
// every organisation's capped contribution (invariant 9), so what is proven is the capped
// score. The context hash enters no other constraint; it is squared so that it is bound to
// the proof (Groth16 public inputs that no constraint uses could be changed freely).
// NOTE: the verifier checks that root is in a checkpoint signed by the aggregator and that
//       contextHash matches its own nonce, audience and an unexpired expiry.

include "../../node_modules/circomlib/circuits/bitify.circom";
include "../../node_modules/circomlib/circuits/comparators.circom";
include "./quad-merkle.circom";
include "./agent-leaf.circom";
include "./policy-hash.circom";
include "./score-at-least.circom";

template Threshold(AGENT_DEPTH, VERSION, W_V, Z2_NUM, Z2_DEN, SCALE, RECORD_CAP, ORG_CAP, TRIAL_UNITS, EPOCH_SECONDS, EPOCH_SKEW) {
    signal input root;
    signal input agent;
    signal input minScore;
    signal input minRecords;
    signal input minOrgs;
    signal input policyHash;
    signal input contextHash;

    signal input nextAgent;
    signal input summary;
    signal input ext;
    signal input orgs[4];
    signal input index;
    signal input siblings[AGENT_DEPTH][3];

    var W = SUMMARY_FIELD_BITS();

    component policy = PolicyHash(VERSION, W_V, Z2_NUM, Z2_DEN, SCALE, RECORD_CAP, ORG_CAP, TRIAL_UNITS, EPOCH_SECONDS, EPOCH_SKEW);
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
    leaf.summary <== summary;
    leaf.ext <== ext;
    leaf.orgs <== orgs;

    component path = QuadMerkleRoot(AGENT_DEPTH);
    path.leaf <== leaf.hash;
    path.index <== index;
    path.siblings <== siblings;
    path.root === root;

    component fields = UnpackSummary();
    fields.summary <== summary;

    // ScoreAtLeast range-checks the evidence and minScore itself.
    component score = ScoreAtLeast(W, Z2_NUM, Z2_DEN, SCALE, TRIAL_UNITS);
    score.successes <== fields.successes;
    score.trials <== fields.trials;
    score.minScore <== minScore;

    // records >= minRecords and orgCount >= minOrgs, all four proven to fit 48 bits
    // (records and orgCount by UnpackSummary).
    component fit[2];
    for (var i = 0; i < 2; i++) fit[i] = Num2Bits(W);
    fit[0].in <== minRecords;
    fit[1].in <== minOrgs;
    component enoughRecords = GreaterEqThan(W);
    enoughRecords.in[0] <== fields.records;
    enoughRecords.in[1] <== minRecords;
    enoughRecords.out === 1;
    component enoughOrgs = GreaterEqThan(W);
    enoughOrgs.in[0] <== fields.orgCount;
    enoughOrgs.in[1] <== minOrgs;
    enoughOrgs.out === 1;

    signal contextSquare <== contextHash * contextHash;
}
