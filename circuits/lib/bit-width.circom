pragma circom 2.1.6;

// Number of bits needed to write x (0 for x = 0). Used to derive every range-check width
// from the policy's parameters, so that widths and bounds cannot drift apart.
function bitsOf(x) {
    var b = 0;
    var v = x;
    while (v > 0) {
        b++;
        v = v \ 2;
    }
    return b;
}
