/**
 * An exact reference for floor(1000 * WilsonLowerBound(s, n, z^2 = a/b)), derived from the
 * closed form of the bound rather than from the threshold predicate under test:
 *
 *   lower = (s + z^2/2 - z * sqrt(s(n-s)/n + z^2/4)) / (n + z^2)
 *         = (2bns + an - sqrt(M)) / (2n(bn + a)),   M = a * n * (4b s(n-s) + a n)
 *
 * so 1000 * lower >= X  iff  T = 1000(2bns + an) - 2Xn(bn + a) >= 0 and T^2 >= 10^6 * M,
 * an exact integer test (no floating point, no square root). With evidence counted in units of
 * 1/k trial (policy v2), s and n stand for s/k and n/k: multiplying through by k^2 and k^3,
 * T = 1000(2bns + ank) - 2Xn(bn + ak) and M = k a n (4b s(n-s) + a n k).
 */
export function wilsonFloorReference(s: bigint, n: bigint, a = 38416n, b = 10000n, scale = 1000n, k = 1n): bigint {
  if (n === 0n) return 0n;
  if (s < 0n || s > n) throw new RangeError('need 0 <= s <= n');
  const M = k * a * n * (4n * b * s * (n - s) + a * n * k);
  const holds = (x: bigint) => {
    const t = scale * (2n * b * n * s + a * n * k) - 2n * x * n * (b * n + a * k);
    return t >= 0n && t * t >= scale * scale * M;
  };
  // The bound is below 1, so the floor is at most scale - 1; scan down from the rate.
  let lo = 0n;
  let hi = scale; // invariant: holds(lo), !holds(hi)
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (holds(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
