pragma circom 2.1.6;

// ScoreAtLeast: the score policy's threshold predicate (docs/score-model.md), without a
// square root. With s = kept and n = kept + broken + W_V * violations, it constrains
//
//     X = 0, or n > 0 and X < SCALE and SCALE*s >= X*n and
//                (SCALE*s - X*n)^2 * Z2_DEN >= Z2_NUM * n * X * (SCALE - X)
//
// which holds exactly when floor(SCALE * WilsonLowerBound(s, n, z^2 = Z2_NUM/Z2_DEN)) >= X.
// Every input is range-checked here; every comparator gets operands proven to fit its width,
// and the widths are derived from the parameters so that no product can wrap the field
// (bounds for the v1 parameters: n < 2^51, X*n and SCALE*s < 2^61, the left side < 2^136,
// the right side < 2^87).

include "../../../../node_modules/circomlib/circuits/bitify.circom";
include "../../../../node_modules/circomlib/circuits/comparators.circom";

// Number of bits needed to write x (x >= 1).
function bitsOf(x) {
    var b = 0;
    var v = x;
    while (v > 0) {
        b++;
        v = v \ 2;
    }
    return b;
}

template ScoreAtLeast(TALLY_BITS, W_V, Z2_NUM, Z2_DEN, SCALE) {
    signal input kept;
    signal input broken;
    signal input violations;
    signal input minScore;

    var SB = bitsOf(SCALE);                   // X <= SCALE < 2^SB
    var NB = TALLY_BITS + bitsOf(W_V + 2);    // n < (2 + W_V) * 2^TALLY_BITS <= 2^NB
    var PB = SB + NB;                         // SCALE*s, X*n < 2^PB
    var LB = 2 * PB + bitsOf(Z2_DEN);         // (SCALE*s - X*n)^2 * Z2_DEN < 2^LB
    var RB = bitsOf(Z2_NUM) + NB + 2 * SB;    // Z2_NUM * n * X * (SCALE - X) < 2^RB
    var CB = LB > RB ? LB : RB;
    assert(CB <= 252);

    component tallyBits[3];
    for (var i = 0; i < 3; i++) tallyBits[i] = Num2Bits(TALLY_BITS);
    tallyBits[0].in <== kept;
    tallyBits[1].in <== broken;
    tallyBits[2].in <== violations;

    // 0 <= minScore <= SCALE.
    component scoreBits = Num2Bits(SB);
    scoreBits.in <== minScore;
    component notAboveScale = LessEqThan(SB);
    notAboveScale.in[0] <== minScore;
    notAboveScale.in[1] <== SCALE;
    notAboveScale.out === 1;

    signal n <== kept + broken + W_V * violations;

    component xIsZero = IsZero();
    xIsZero.in <== minScore;
    component xBelowScale = LessThan(SB);
    xBelowScale.in[0] <== minScore;
    xBelowScale.in[1] <== SCALE;

    // SCALE*s >= X*n: the threshold is at most the observed rate.
    signal xn <== minScore * n;
    component atLeastRate = GreaterEqThan(PB);
    atLeastRate.in[0] <== SCALE * kept;
    atLeastRate.in[1] <== xn;

    // The quadratic condition, on d = SCALE*s - X*n only when d >= 0 (else d is taken as 0,
    // and the rate condition above already fails).
    signal d <== atLeastRate.out * (SCALE * kept - xn);
    signal dSquare <== d * d;
    signal xnRest <== xn * (SCALE - minScore);
    component quadratic = GreaterEqThan(CB);
    quadratic.in[0] <== dSquare * Z2_DEN;
    quadratic.in[1] <== Z2_NUM * xnRest;

    // No evidence proves nothing: with n = 0 both conditions above read 0 >= 0 for every X.
    component noEvidence = IsZero();
    noEvidence.in <== n;
    signal evidenceAndBelow <== (1 - noEvidence.out) * xBelowScale.out;
    signal belowAndRate <== evidenceAndBelow * atLeastRate.out;
    signal allHold <== belowAndRate * quadratic.out;
    // X = 0, or all three conditions.
    xIsZero.out + allHold - xIsZero.out * allHold === 1;
}
