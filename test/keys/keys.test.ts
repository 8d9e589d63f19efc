/**
 * Keys computed in the field (src/keys/zkey-writer.ts), local key sets
 * (src/keys/local-keys.ts) and phase-2 contributions (src/keys/phase2.ts), on the small
 * ceremony-test threshold circuit:
 *   - without a contribution, the key is byte for byte what `snarkjs zkey new` writes from a
 *     powers of tau with the same secrets; with one, `snarkjs zkey verify` accepts it and so
 *     does checkContribution, and it proves;
 *   - a local key set: no secret (tau, alpha, beta, delta, the proof-of-knowledge scalar, in
 *     any encoding) is in any file; two key sets differ in every secret point; the key set
 *     directory is refused when a file is altered, swapped or of another circuit;
 *   - a contribution made natively or in WebAssembly passes checkContribution and snarkjs
 *     zkey verify, and what snarkjs contributes passes checkContribution; each way of not
 *     being one honest contribution is refused with its reason; the native and WebAssembly
 *     point scaling agree.
 */
import { mkdtemp, readFile, readdir, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigintToBytes, bytesToBigint, FIELD_MODULUS as R, mod } from '../../src/crypto/field.ts';
import { vkeyHash } from '../../src/crypto/key-set.ts';
import { CIRCUIT_POLICY, policyHash } from '../../src/crypto/score-policy.ts';
import { KEY_SET_FILE, KeySetError, openKeySetDir, type KeySetFile } from '../../src/keys/key-set-dir.ts';
import { generateLocalKeySet } from '../../src/keys/local-keys.ts';
import { checkContribution, closePhase2Curve, contribute, encodeMpcParams, makeContribution, parseMpcParams, scalePoints } from '../../src/keys/phase2.ts';
import { keyCurve, readGrothHeader, replaceSections, verificationKeyOf } from '../../src/keys/zkey-file.ts';
import { readSections } from '../../src/crypto/binfile.ts';
import { loadAddon } from '../../src/native/addon.ts';
import { writeZkey } from '../../src/keys/zkey-writer.ts';
import { compiledCircuits } from '../../src/prover/artifacts.ts';
import { Groth16Prover } from '../../src/prover/groth16-prover.ts';
import { AgentState } from '../../src/state/agent-state.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../../src/state/threshold-input.ts';
import { verifyGroth16 } from '../../src/verifier/groth16.ts';
import { configuration } from '../../src/build/build-circuits.ts';
import { writeKnownPtau } from '../helpers/known-ptau.ts';

const circuits = compiledCircuits('ceremony-test');
const THRESHOLD = circuits.threshold!;
const SECRETS = { tau: 31337n, alpha: 271828n, beta: 314159n };
let dir: string;
let ptau: string;
let init: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-keys-'));
  // The threshold circuit has a 2^11 domain: a ptau of power 12 is the one snarkjs's zkey new reads like our writer.
  ptau = join(dir, 'p12.ptau');
  await writeKnownPtau(ptau, 12, SECRETS);
  init = join(dir, 'init.zkey');
  await snarkjs.zKey.newZKey!(THRESHOLD.r1csPath, ptau, init);
}, 240_000);
afterAll(async () => {
  await closePhase2Curve();
  await rm(dir, { recursive: true, force: true });
});

describe('keys computed in the field', () => {
  it('without a contribution: exactly the file snarkjs zkey new writes', async () => {
    const mine = join(dir, 'mine0.zkey');
    await writeZkey(THRESHOLD.r1csPath, mine, SECRETS);
    expect(Buffer.compare(await readFile(mine), await readFile(init))).toBe(0);
  });

  it('with a contribution: snarkjs zkey verify and checkContribution accept it, its verification key is snarkjs\'s, it proves', async () => {
    const mine = join(dir, 'mine1.zkey');
    const { contributionHash } = await writeZkey(THRESHOLD.r1csPath, mine, SECRETS, { phase2: { delta: 987654321987654321n, name: 'test' } });
    expect(await snarkjs.zKey.verifyFromInit!(init, ptau, mine)).toBe(true);
    const check = await checkContribution(new Uint8Array(await readFile(init)), new Uint8Array(await readFile(mine)));
    expect(check).toEqual({ ok: true, contributionHash, name: 'test', contributions: 1 });
    const vkey = await verificationKeyOf(new Uint8Array(await readFile(mine)));
    expect(vkey).toEqual(await snarkjs.zKey.exportVerificationKey!(mine));
    // It proves a real statement, and the proof verifies under its key only.
    const { config } = configuration('ceremony-test');
    const state = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
    state.apply({ record: { agent: 77n, org: 5n, epoch: 20_000n, kept: 40n, broken: 0n, violations: 0n, scope: 0n, salt: 3n }, orgIndex: 0 });
    const { input } = buildThresholdInput(state, { agent: 77n, minScore: 500n, minRecords: 1n, minOrgs: 1n, contextHash: 9n }, policyHash(CIRCUIT_POLICY));
    const prover = await Groth16Prover.fromFiles({ circuit: 'threshold', wasmPath: THRESHOLD.wasmPath, zkeyPath: mine, publicNames: THRESHOLD_PUBLIC_SIGNALS });
    const { proof, publicSignals } = await prover.prove(input);
    expect(await verifyGroth16(vkey, publicSignals, proof)).toBe(true);
    expect(await verifyGroth16(await verificationKeyOf(new Uint8Array(await readFile(init))), publicSignals, proof)).toBe(false);
    // A different delta is a different key; delta 1 (no contribution) is refused.
    await expect(writeZkey(THRESHOLD.r1csPath, join(dir, 'x.zkey'), SECRETS, { phase2: { delta: 1n, name: 'x' } })).rejects.toThrow(RangeError);
  }, 120_000);
});

/** Every 64-byte draw of a recorded stream, reduced as randomScalar reduces it, and its inverse. */
function scalarsOf(draws: Uint8Array[]): bigint[] {
  const out: bigint[] = [];
  for (const d of draws) {
    const k = mod(bytesToBigint(d), R);
    let inv = 1n;
    for (let e = R - 2n, x = k; e > 0n; e >>= 1n, x = (x * x) % R) if (e & 1n) inv = (inv * x) % R;
    out.push(k, inv);
  }
  return out;
}

function encodings(k: bigint): Buffer[] {
  const be = Buffer.from(bigintToBytes(k, 32));
  const mont = Buffer.from(bigintToBytes((k << 256n) % R, 32));
  return [be, Buffer.from(be).reverse(), mont, Buffer.from(mont).reverse(), Buffer.from(k.toString()), Buffer.from(k.toString(16).padStart(64, '0'))];
}

describe('local key sets', () => {
  let a: KeySetFile;
  let aDir: string;
  const draws: Uint8Array[] = [];

  beforeAll(async () => {
    // A recorded stream stands in for node:crypto, so that the test knows every secret.
    let counter = 0;
    const random = (n: number) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = (counter * 131 + i * 7 + 13) & 0xff;
      counter++;
      draws.push(out);
      return out;
    };
    aDir = join(dir, 'local-a');
    a = await generateLocalKeySet({ config: 'ceremony-test', policyHash: policyHash(CIRCUIT_POLICY).toString(), circuits: Object.entries(circuits).map(([name, c]) => ({ name, r1csPath: c.r1csPath, r1cs: c.r1cs })), dir: aDir }, { random });
  }, 240_000);

  it('no secret is written to any file, in any encoding', async () => {
    const secrets = scalarsOf(draws);
    expect(secrets.length).toBeGreaterThanOrEqual(2 * 10); // 4 secrets and a proof-of-knowledge scalar per circuit
    for (const f of await readdir(aDir)) {
      const bytes = await readFile(join(aDir, f));
      for (const k of secrets) for (const enc of encodings(k)) expect(bytes.indexOf(enc), `${f} holds a secret`).toBe(-1);
    }
    expect(a.descriptor).toMatchObject({ mode: 'local', phase1: { kind: 'local' }, config: 'ceremony-test' });
  });

  it('opens, and is refused when a file is altered, swapped or of another circuit', async () => {
    const expect_ = { config: 'ceremony-test', policyHash: policyHash(CIRCUIT_POLICY).toString(), r1cs: Object.fromEntries(Object.entries(circuits).map(([n, c]) => [n, c.r1cs])) };
    const set = await openKeySetDir(aDir, expect_);
    expect(set.hash).toBe(a.keySetHash);
    const copy = async (name: string) => {
      const d = join(dir, name);
      await rm(d, { recursive: true, force: true });
      await (await import('node:fs/promises')).cp(aDir, d, { recursive: true });
      return d;
    };
    // A flipped byte in a proving key.
    const d1 = await copy('alt-zkey');
    const z = await readFile(join(d1, 'threshold.zkey'));
    z[z.length - 200] = z[z.length - 200]! ^ 1;
    await writeFile(join(d1, 'threshold.zkey'), z);
    await expect(openKeySetDir(d1, expect_)).rejects.toThrow(/differs from its sha256/);
    // The proving keys of the two circuits swapped, with their recorded hashes.
    const d2 = await copy('swapped');
    await copyFile(join(aDir, 'threshold.zkey'), join(d2, 'batch-update.zkey'));
    const f2 = JSON.parse(await readFile(join(d2, KEY_SET_FILE), 'utf8')) as KeySetFile;
    f2.zkeys['batch-update'] = f2.zkeys.threshold!;
    await writeFile(join(d2, KEY_SET_FILE), JSON.stringify(f2));
    await expect(openKeySetDir(d2, expect_)).rejects.toThrow(/contribution records are not the descriptor's|verification key is not the recorded one/);
    // A verification key swapped in key-set.json.
    const d3 = await copy('vkey');
    const f3 = JSON.parse(await readFile(join(d3, KEY_SET_FILE), 'utf8')) as KeySetFile;
    f3.verificationKeys.threshold = f3.verificationKeys['batch-update']!;
    await writeFile(join(d3, KEY_SET_FILE), JSON.stringify(f3));
    await expect(openKeySetDir(d3, expect_)).rejects.toThrow(/does not hash to the descriptor's/);
    // A descriptor edited (the mode claimed as ceremony), its hash left.
    const d4 = await copy('mode');
    const f4 = JSON.parse(await readFile(join(d4, KEY_SET_FILE), 'utf8')) as KeySetFile;
    f4.descriptor = { ...f4.descriptor, mode: 'ceremony', phase1: { kind: 'ptau', blake2b: 'ab'.repeat(64), power: 12 } };
    await writeFile(join(d4, KEY_SET_FILE), JSON.stringify(f4));
    await expect(openKeySetDir(d4, expect_)).rejects.toThrow(/keySetHash is not the descriptor's hash/);
    // Another configuration's circuits.
    await expect(openKeySetDir(aDir, { ...expect_, r1cs: { ...expect_.r1cs, threshold: 'ab'.repeat(32) } })).rejects.toThrow(KeySetError);
    await expect(openKeySetDir(aDir, { ...expect_, config: 'test' })).rejects.toThrow(/for configuration ceremony-test/);
  });

  it('two local key sets share no secret point', async () => {
    const b = await generateLocalKeySet({ config: 'ceremony-test', policyHash: policyHash(CIRCUIT_POLICY).toString(), circuits: [{ name: 'threshold', r1csPath: THRESHOLD.r1csPath, r1cs: THRESHOLD.r1cs }], dir: join(dir, 'local-b') });
    const va = a.verificationKeys.threshold as any;
    const vb = b.verificationKeys.threshold as any;
    for (const k of ['vk_alpha_1', 'vk_beta_2', 'vk_delta_2'] as const) expect(vb[k]).not.toEqual(va[k]);
    expect(vkeyHash(vb)).not.toBe(vkeyHash(va));
  }, 120_000);
});

describe('phase-2 contributions', () => {
  let base: Uint8Array;
  beforeAll(async () => {
    const p = join(dir, 'base.zkey');
    await writeZkey(THRESHOLD.r1csPath, p, SECRETS, { phase2: { delta: 123456789n, name: 'base' } });
    base = new Uint8Array(await readFile(p));
  }, 60_000);

  const rebuild = (key: Uint8Array, replace: Map<number, Uint8Array>) => replaceSections(key, 'zkey', replace);

  it('a contribution (native and WebAssembly alike) passes checkContribution and snarkjs zkey verify', async () => {
    for (const native of [true, false]) {
      const { bytes, contributionHash } = await contribute(base, { name: `org ${native}`, entropy: 'dice: 3 5', native });
      expect(await checkContribution(base, bytes)).toEqual({ ok: true, contributionHash, name: `org ${native}`, contributions: 2 });
      const p = join(dir, `c-${native}.zkey`);
      await writeFile(p, bytes);
      const prevPath = join(dir, 'base-for-verify.zkey');
      await writeFile(prevPath, base);
      expect(await snarkjs.zKey.verifyFromInit!(init, ptau, p)).toBe(true);
    }
    // And what snarkjs contributes, we accept.
    await writeFile(join(dir, 'base.zkey'), base);
    await snarkjs.zKey.contribute!(join(dir, 'base.zkey'), join(dir, 'snarkjs.zkey'), 'snarkjs', 'some entropy');
    expect((await checkContribution(base, new Uint8Array(await readFile(join(dir, 'snarkjs.zkey'))))).ok).toBe(true);
  }, 120_000);

  it('refuses what is not one honest contribution to the previous key, naming why', async () => {
    const curve = await keyCurve();
    const good = (await contribute(base, { name: 'good' })).bytes;
    const sec = readSections(good, 'zkey');
    const reasons = async (next: Uint8Array) => {
      const r = await checkContribution(base, next);
      expect(r.ok).toBe(false);
      return (r as { reason: string }).reason;
    };
    // A contribution of 1: delta unchanged.
    const mpc = parseMpcParams(curve, readSections(base, 'zkey').get(10)!);
    const header = readGrothHeader(curve, readSections(base, 'zkey').get(2)!);
    const one = makeContribution(curve, { csHash: mpc.csHash, previous: mpc.contributions, prevDelta1: header.delta1, k: 1n });
    expect(await reasons(rebuild(base, new Map([[10, encodeMpcParams(curve, { csHash: mpc.csHash, contributions: [...mpc.contributions, one] })]])))).toMatch(/unchanged/);
    // An L point replaced by another point of the curve.
    const l = Uint8Array.from(sec.get(8)!);
    curve.G1.toRprLEM(l, 64 * 3, curve.G1.g);
    expect(await reasons(rebuild(good, new Map([[8, l]])))).toMatch(/section 8 is not the previous key's divided/);
    // An H point off the curve.
    const h = Uint8Array.from(sec.get(9)!);
    h[64 * 5 + 3] = h[64 * 5 + 3]! ^ 1;
    expect(await reasons(rebuild(good, new Map([[9, h]])))).toMatch(/section 9: point 5 is not on the curve/);
    // The A section altered.
    const a = Uint8Array.from(sec.get(5)!);
    curve.G1.toRprLEM(a, 0, curve.G1.g);
    expect(await reasons(rebuild(good, new Map([[5, a]])))).toMatch(/section 5 differs/);
    // Built on an older key (the initial one), not on the previous.
    const older = (await contribute(new Uint8Array(await readFile(init)), { name: 'stale' })).bytes;
    expect(await reasons(older)).toMatch(/exactly one contribution|earlier contributions/);
    // Two contributions at once.
    const twice = (await contribute(good, { name: 'again' })).bytes;
    expect(await reasons(twice)).toMatch(/exactly one contribution/);
    // A beacon instead of a random contribution.
    await writeFile(join(dir, 'base.zkey'), base);
    await snarkjs.zKey.beacon!(join(dir, 'base.zkey'), join(dir, 'beacon.zkey'), 'beacon', 'ab'.repeat(32), 10);
    expect(await reasons(new Uint8Array(await readFile(join(dir, 'beacon.zkey'))))).toMatch(/random \(type 0\)/);
    // A proof of knowledge that does not hold.
    const gm = parseMpcParams(curve, sec.get(10)!);
    gm.contributions.at(-1)!.g2Spx = curve.G2.toAffine(curve.G2.double(gm.contributions.at(-1)!.g2Spx));
    expect(await reasons(rebuild(good, new Map([[10, encodeMpcParams(curve, gm)]])))).toMatch(/proof of knowledge/);
    // Truncated, and another circuit's key.
    expect(await reasons(good.subarray(0, good.length - 100))).toMatch(/not a valid key/);
    expect(await reasons(new Uint8Array(await readFile(join(dir, 'local-a', 'batch-update.zkey'))))).toMatch(/differs from the previous key|other sections/);
  }, 120_000);

  it('scalePoints: native and WebAssembly agree on G1 and G2, infinity and edge scalars included; the addon refuses bad sizes', async () => {
    const sec = readSections(base, 'zkey');
    const g1 = Uint8Array.from(sec.get(5)!.subarray(0, 64 * 40));
    g1.fill(0, 64 * 7, 64 * 8); // a point at infinity
    const g2 = Uint8Array.from(sec.get(7)!.subarray(0, 128 * 20));
    g2.fill(0, 0, 128);
    for (const k of [0n, 1n, 2n, R - 1n, 0x1234567890abcdef1234567890abcdefn, R + 5n]) {
      expect(Buffer.compare(Buffer.from(await scalePoints(1, g1, k)), Buffer.from(await scalePoints(1, g1, k, { native: false }))), `G1 ${k}`).toBe(0);
      expect(Buffer.compare(Buffer.from(await scalePoints(2, g2, k)), Buffer.from(await scalePoints(2, g2, k, { native: false }))), `G2 ${k}`).toBe(0);
    }
    await expect(scalePoints(1, g1.subarray(0, 63), 5n)).rejects.toThrow(RangeError);
    const addon = (await loadAddon<{ scaleAsync(g: number, b: Uint8Array, s: Uint8Array, o: Uint8Array): Promise<void> }>('msm-bn254'))!;
    expect(() => addon.scaleAsync(1, g1, new Uint8Array(31), new Uint8Array(g1.length))).toThrow(RangeError);
    expect(() => addon.scaleAsync(1, g1, new Uint8Array(32), new Uint8Array(g1.length - 64))).toThrow(RangeError);
    expect(() => addon.scaleAsync(3, g1, new Uint8Array(32), new Uint8Array(g1.length))).toThrow(RangeError);
    expect(() => addon.scaleAsync(1, 'x' as never, new Uint8Array(32), new Uint8Array(g1.length))).toThrow(TypeError);
  });
});
