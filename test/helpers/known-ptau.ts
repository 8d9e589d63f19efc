/**
 * A prepared powers-of-tau file (snarkjs's .ptau, with the Lagrange sections that
 * `powersoftau prepare phase2` adds) for secrets the test knows, computed in the field with
 * fixed-base multiplication: seconds instead of the hours the stock path takes at 2^16.
 * INSECURE by construction; tests only. Tests use it where a published perpetual
 * powers-of-tau file would be used (nothing may be downloaded), passing its hash explicitly.
 *
 * Layout (snarkjs powersoftau_new.js and powersoftau_preparephase2.js): 1 header (n8, q,
 * power, ceremony power); 2 tau^i G1 for i < 2^(P+1) - 1; 3 tau^i G2 for i < 2^P; 4 alpha
 * tau^i G1 and 5 beta tau^i G1 for i < 2^P; 6 beta G2; 7 contributions (none); 12..15 the
 * same four in Lagrange form for every power p <= P (section 12 also for p = P + 1, over the
 * powers of section 2 with the missing last one taken as 0).
 */
import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createBinFile, endWriteSection, startWriteSection, writeBigInt } from '@iden3/binfileutils';
import { buildBn128 } from 'ffjavascript';
import { FIELD_MODULUS as R } from '../../src/crypto/field.ts';
import { fixedBaseMultiply } from '../../src/keys/fixed-base.ts';
import { lagrangeAt, pow, scalarsToBytes, type Phase1Secrets } from '../../src/keys/zkey-writer.ts';

const mul = (a: bigint, b: bigint) => (a * b) % R;

/** Writes a prepared ptau of `power` for the given secrets to `path` (atomically). */
export async function writeKnownPtau(path: string, power: number, secrets: Phase1Secrets): Promise<void> {
  const { tau, alpha, beta } = secrets;
  const curve = await buildBn128(true);
  const n = 2 ** power;
  const powers = (count: number) => {
    const out = new Array<bigint>(count);
    for (let i = 0, t = 1n; i < count; i++, t = mul(t, tau)) out[i] = t;
    return out;
  };
  const tauPow = powers(2 * n - 1);
  const lag: bigint[][] = [];
  for (let p = 0; p <= power; p++) lag.push(lagrangeAt(tau, 2 ** p, curve.Fr.toObject(curve.Fr.w[p]) as bigint, 2 ** p));
  // p = P + 1 over (1, tau, ..., tau^(M-2), 0), M = 2^(P+1): L_i(tau) - w^i tau^(M-1) / M.
  const m = 2 * n;
  const wM = curve.Fr.toObject(curve.Fr.w[power + 1]) as bigint;
  const lastTerm = mul(pow(tau, BigInt(m - 1)), pow(BigInt(m), R - 2n));
  const full = lagrangeAt(tau, m, wM, m);
  const truncated = full.map((l, i) => (l - mul(pow(wM, BigInt(i)), lastTerm) + R) % R);
  const lagAll = lag.flat();

  const g1Scalars = [
    ...tauPow,
    ...tauPow.slice(0, n).map((t) => mul(alpha, t)),
    ...tauPow.slice(0, n).map((t) => mul(beta, t)),
    ...lagAll,
    ...truncated,
    ...lagAll.map((l) => mul(alpha, l)),
    ...lagAll.map((l) => mul(beta, l)),
  ];
  const g2Scalars = [...tauPow.slice(0, n), beta, ...lagAll];
  const g1 = await fixedBaseMultiply('G1', scalarsToBytes(g1Scalars));
  const g2 = await fixedBaseMultiply('G2', scalarsToBytes(g2Scalars));
  let o1 = 0;
  const take1 = (k: number) => g1.subarray(64 * o1, 64 * (o1 += k));
  let o2 = 0;
  const take2 = (k: number) => g2.subarray(128 * o2, 128 * (o2 += k));
  const sec2 = take1(2 * n - 1);
  const sec4 = take1(n);
  const sec5 = take1(n);
  const sec12 = take1(lagAll.length + m);
  const sec14 = take1(lagAll.length);
  const sec15 = take1(lagAll.length);
  const sec3 = take2(n);
  const sec6 = take2(1);
  const sec13 = take2(lagAll.length);

  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = await createBinFile(tmp, 'ptau', 1, 11, 1 << 22, 1 << 24);
  await startWriteSection(fd, 1);
  await fd.writeULE32(32);
  await writeBigInt(fd, curve.q, 32);
  await fd.writeULE32(power);
  await fd.writeULE32(power);
  await endWriteSection(fd);
  for (const [id, bytes] of [[2, sec2], [3, sec3], [4, sec4], [5, sec5], [6, sec6]] as const) {
    await startWriteSection(fd, id);
    await fd.write(bytes);
    await endWriteSection(fd);
  }
  await startWriteSection(fd, 7);
  await fd.writeULE32(0);
  await endWriteSection(fd);
  for (const [id, bytes] of [[12, sec12], [13, sec13], [14, sec14], [15, sec15]] as const) {
    await startWriteSection(fd, id);
    await fd.write(bytes);
    await endWriteSection(fd);
  }
  await fd.close();
  await rename(tmp, path);
}
