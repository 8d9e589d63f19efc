/**
 * The forgery that a Groth16 key's phase-1 secret allows. snarkjs keys have gamma = the G2
 * generator, so whoever knows beta makes a proof of any public signals x:
 *
 *   A = beta alpha1 + L(x),  B = G2 + m delta2,  C = m A       (any m)
 *
 * since e(A, B) = e(A, G2) e(m A, delta2) = e(alpha1, beta2) e(L(x), gamma2) e(C, delta2).
 * Development keys publish beta (it follows from the seed): this is the attack that makes
 * them worthless, kept as a regression test for every key mode.
 */
import type { Groth16ProofJson, Groth16VerificationKey } from '../../src/verifier/groth16.ts';
import { getCurve } from '../../src/verifier/groth16.ts';

const obj = (curve: any, group: 'G1' | 'G2', p: Uint8Array) => curve[group].toObject(curve[group].toAffine(p)).map((c: unknown) => (Array.isArray(c) ? c.map(String) : String(c)));

/** A proof of `publicSignals` under `vkey` made from `beta` alone, without any witness. */
export async function forgeWithBeta(vkey: Groth16VerificationKey, publicSignals: readonly bigint[], beta: bigint, m = 1234567n): Promise<Groth16ProofJson> {
  const curve = await getCurve();
  const { G1, G2 } = curve;
  const p1 = (xyz: string[]) => G1.fromObject(xyz.map(BigInt));
  const p2 = (xyz: string[][]) => G2.fromObject(xyz.map((c) => c.map(BigInt)));
  let l = p1(vkey.IC[0]!);
  publicSignals.forEach((x, i) => (l = G1.add(l, G1.timesScalar(p1(vkey.IC[i + 1]!), x))));
  const a = G1.add(G1.timesScalar(p1(vkey.vk_alpha_1), beta), l);
  const b = G2.add(G2.g, G2.timesScalar(p2(vkey.vk_delta_2), m));
  const c = G1.timesScalar(a, m);
  return { pi_a: obj(curve, 'G1', a), pi_b: obj(curve, 'G2', b), pi_c: obj(curve, 'G1', c), protocol: 'groth16', curve: 'bn128' };
}
