pragma circom 2.1.6;

// ScoreAtLeast: the score policy's threshold predicate (docs/score-model.md), without a
// square root. On an agent's evidence, s successes out of n trials, both counted in units of
// 1/UNITS trial (policy v2: the capped evidence, UNITS = TRIAL_UNITS; UNITS = 1 is policy
// v1's predicate), it constrains
//
//     X = 0, or n > 0 and X < SCALE and SCALE*s >= X*n and
//                (SCALE*s - X*n)^2 * Z2_DEN >= Z2_NUM * UNITS * n * X * (SCALE - X)
//
// which holds exactly when floor(SCALE * WilsonLowerBound(s / UNITS, n / UNITS, z^2 =
// Z2_NUM/Z2_DEN)) >= X. Every input is range-checked here (0 <= s <= n < 2^TALLY_BITS,
// 0 <= X <= SCALE); every comparator gets operands proven to fit its width, and the widths
// are derived from the parameters so that no product can wrap the field (bounds for
// TALLY_BITS = 48 and UNITS = 100: X*n and SCALE*s < 2^58, the left side < 2^130, the right
// side < 2^90).

include "../../node_modules/circomlib/circuits/bitify.circom";
include "../../node_modules/circomlib/circuits/comparators.circom";
include "./bit-width.circom";

template ScoreAtLeast(TALLY_BITS, Z2_NUM, Z2_DEN, SCALE, UNITS) {
    signal input successes;
    signal input trials;
    signal input minScore;

    var SB = bitsOf(SCALE);                   // X <= SCALE < 2^SB
    var NB = TALLY_BITS;                      // n < 2^NB
    var PB = SB + NB;                         // SCALE*s, X*n < 2^PB
    var LB = 2 * PB + bitsOf(Z2_DEN);         // (SCALE*s - X*n)^2 * Z2_DEN < 2^LB
    var RB = bitsOf(Z2_NUM * UNITS) + NB + 2 * SB;    // Z2_NUM * UNITS * n * X * (SCALE - X) < 2^RB
    var CB = LB > RB ? LB : RB;
    assert(CB <= 252);

    // 0 <= s <= n < 2^NB.
    component tallyBits[3];
    for (var i = 0; i < 3; i++) tallyBits[i] = Num2Bits(NB);
    tallyBits[0].in <== successes;
    tallyBits[1].in <== trials;
    tallyBits[2].in <== trials - successes;

    // 0 <= minScore <= SCALE.
    component scoreBits = Num2Bits(SB);
    scoreBits.in <== minScore;
    component notAboveScale = LessEqThan(SB);
    notAboveScale.in[0] <== minScore;
    notAboveScale.in[1] <== SCALE;
    notAboveScale.out === 1;

    component xIsZero = IsZero();
    xIsZero.in <== minScore;
    component xBelowScale = LessThan(SB);
    xBelowScale.in[0] <== minScore;
    xBelowScale.in[1] <== SCALE;

    // SCALE*s >= X*n: the threshold is at most the observed rate.
    signal xn <== minScore * trials;
    component atLeastRate = GreaterEqThan(PB);
    atLeastRate.in[0] <== SCALE * successes;
    atLeastRate.in[1] <== xn;

    // The quadratic condition, on d = SCALE*s - X*n only when d >= 0 (else d is taken as 0,
    // and the rate condition above already fails).
    signal d <== atLeastRate.out * (SCALE * successes - xn);
    signal dSquare <== d * d;
    signal xnRest <== xn * (SCALE - minScore);
    component quadratic = GreaterEqThan(CB);
    quadratic.in[0] <== dSquare * Z2_DEN;
    quadratic.in[1] <== Z2_NUM * UNITS * xnRest;

    // No evidence proves nothing: with n = 0 both conditions above read 0 >= 0 for every X.
    component noEvidence = IsZero();
    noEvidence.in <== trials;
    signal evidenceAndBelow <== (1 - noEvidence.out) * xBelowScale.out;
    signal belowAndRate <== evidenceAndBelow * atLeastRate.out;
    signal allHold <== belowAndRate * quadratic.out;
    // X = 0, or all three conditions.
    xIsZero.out + allHold - xIsZero.out * allHold === 1;
}
