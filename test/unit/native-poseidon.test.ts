/**
 * The native Poseidon of the ingestion path against the TypeScript reference and the frozen
 * vectors (circomlibjs), its refusal of non-canonical and malformed input, the commitment
 * checker on both engines, and the log leaf encoding against the reference encoding.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vectors from '../vectors/crypto.json' with { type: 'json' };
import { canonicalJson } from '../../src/crypto/canonical.ts';
import { recordCommitment, type OutcomeRecord } from '../../src/crypto/commitment.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { poseidon, setPoseidonBackend } from '../../src/crypto/poseidon.ts';
import { AgentState } from '../../src/state/agent-state.ts';
import { POSEIDON_CONSTANTS } from '../../src/crypto/poseidon-constants.ts';
import { leafHash } from '../../src/log/merkle-log.ts';
import { CommitmentChecker, type CheckedRecord } from '../../src/engines/commitment-check.ts';
import { entryLeaf } from '../../src/service/ledger.ts';
import { buildSubmission } from '../../src/client/submission.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { cpuHasAsm } from '../helpers/cpu.ts';
import { loadNativePoseidon, readField, writeField, type NativePoseidon } from '../../src/engines/native-poseidon.ts';

let native: NativePoseidon;
const WIDTHS = Object.keys(POSEIDON_CONSTANTS).map(Number);
const field = fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n });

beforeAll(async () => {
  const reasons: string[] = [];
  const n = await loadNativePoseidon((r) => reasons.push(r));
  // The project's machines have a C compiler and Node-API headers: the addon must build.
  expect(n, `native Poseidon unavailable: ${reasons.join('; ')}`).toBeDefined();
  native = n!;
}, 120_000);

describe('field arithmetic', () => {
  afterAll(() => native.useAsm(true));

  it('uses the assembly exactly where the CPU has BMI2 and ADX, and can be switched', () => {
    expect(native.useAsm(false)).toBe(false);
    expect(native.arithmetic).toBe('portable');
    const on = native.useAsm(true);
    if (cpuHasAsm !== undefined) expect(on).toBe(cpuHasAsm);
    expect(native.arithmetic).toBe(on ? 'asm' : 'portable');
  });

  it('the assembly and the portable arithmetic give the same hashes, extreme inputs included', () => {
    const count = 600;
    const buf = new Uint8Array(32 * 9 * count);
    const x = fc.sample(fc.array(field, { minLength: 9, maxLength: 9 }), count - 3);
    // All zeros, all r - 1, and alternating 1 and r - 1 (carries through every limb).
    x.push(Array(9).fill(0n), Array(9).fill(FIELD_MODULUS - 1n), Array.from({ length: 9 }, (_, i) => (i % 2 ? FIELD_MODULUS - 1n : 1n)));
    x.forEach((xs, k) => xs.forEach((v, i) => writeField(buf, 32 * (9 * k + i), v)));
    native.useAsm(false);
    const portable = native.hashMany(9, buf);
    native.useAsm(true);
    const asm = native.hashMany(9, buf);
    expect(Buffer.from(asm).equals(Buffer.from(portable))).toBe(true);
    expect(readField(portable, 32 * (count - 2))).toBe(poseidon(x[count - 2]!));
  });
});

describe.each(['asm', 'portable'] as const)('native Poseidon, %s arithmetic', (mode) => {
  beforeAll(() => {
    const on = native.useAsm(mode === 'asm');
    // Where the CPU lacks the extensions the 'asm' runs are a second portable run.
    if (mode === 'portable' || cpuHasAsm) expect(on).toBe(mode === 'asm');
  });
  afterAll(() => native.useAsm(true));

  it.each(vectors.poseidon.map((v) => [v.inputs.length, v]))('matches the frozen vector with %i inputs', (_, v) => {
    expect(native.hash(v.inputs.map(BigInt))).toBe(BigInt(v.out));
  });

  it('equals the TypeScript reference on random inputs of every width', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WIDTHS).chain((n) => fc.array(field, { minLength: n, maxLength: n })), (xs) => native.hash(xs) === poseidon(xs)),
      { numRuns: 200 },
    );
  });

  it('hashes many inputs, in this thread and on the thread pool, in order', async () => {
    const inputs = Array.from({ length: 37 }, (_, k) => Array.from({ length: 9 }, (_, i) => (k === 5 ? FIELD_MODULUS - 1n - BigInt(i) : (BigInt(k) << 200n) + BigInt(i) * 977n)));
    const buf = new Uint8Array(32 * 9 * inputs.length);
    inputs.forEach((xs, k) => xs.forEach((x, i) => writeField(buf, 32 * (9 * k + i), x)));
    const want = inputs.map((xs) => poseidon(xs));
    const sync = native.hashMany(9, buf);
    for (const parts of [1, 2, 5]) {
      const out = await native.hashManyAsync(9, buf, parts);
      expect(Array.from({ length: inputs.length }, (_, k) => readField(out, 32 * k))).toEqual(want);
    }
    expect(Array.from({ length: inputs.length }, (_, k) => readField(sync, 32 * k))).toEqual(want);
  });

  it('refuses a non-canonical element (r, 2^256 - 1) instead of reducing it', async () => {
    for (const bad of [FIELD_MODULUS, (1n << 256n) - 1n]) {
      const buf = new Uint8Array(32 * 2 * 3);
      writeField(buf, 0, 1n);
      // writeField itself refuses non-canonical values: write the bytes by hand.
      let x = bad;
      for (let i = 0; i < 32; i++, x >>= 8n) buf[32 * 4 + 31 - i] = Number(x & 0xffn);
      expect(() => native.hashMany(2, buf)).toThrow(/input element 4 is not a canonical field element/);
      await expect(native.hashManyAsync(2, buf, 1)).rejects.toMatchObject({ code: 'ERR_NON_CANONICAL' });
      expect(() => writeField(new Uint8Array(32), 0, bad)).toThrow(RangeError);
    }
  });

  it('refuses malformed calls', () => {
    expect(() => native.hashMany(9, new Uint8Array(32 * 9 + 1))).toThrow(RangeError);
    expect(() => native.hashMany(7, new Uint8Array(32 * 7))).toThrow(/no parameters/);
    expect(() => native.hashMany(0, new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('record commitments for submissions', () => {
  const record = fc.record({
    agent: fc.bigInt({ min: 1n, max: (1n << 252n) - 1n }),
    org: fc.bigInt({ min: 1n, max: (1n << 252n) - 1n }),
    epoch: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    kept: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    broken: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    violations: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    scope: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    salt: field,
  });

  it('recordCommitments equals recordCommitment, in order', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 0, maxLength: 20 }), (rs) => {
        expect(native.recordCommitments(rs)).toEqual(rs.map(recordCommitment));
      }),
      { numRuns: 30 },
    );
  });

  it('buildSubmission with the native commitments gives the same signed body, and checks ranges first', () => {
    const org = generateKeyPair();
    const agent = didFromPublicKey(generateKeyPair().publicKey);
    const records = Array.from({ length: 25 }, (_, i) => ({ agent, epoch: i, kept: 2 ** 32 - 1 - i, broken: i, violations: i % 2, scope: i % 3, salt: FIELD_MODULUS - 1n - BigInt(i) }));
    const opts = { nonce: 'ab'.repeat(16), timestamp: 1_700_000_000 };
    const fast = buildSubmission(org.secretKey, records, { ...opts, commitments: (rs) => native.recordCommitments(rs) });
    expect(fast).toEqual(buildSubmission(org.secretKey, records, opts));
    const outOfRange = [{ ...records[0]!, kept: 2 ** 32 }];
    expect(() => buildSubmission(org.secretKey, outOfRange, { commitments: (rs) => native.recordCommitments(rs) })).toThrow(/record\.kept/);
    expect(() => buildSubmission(org.secretKey, records, { commitments: (rs) => rs.slice(1).map(recordCommitment) })).toThrow(/one commitment per record/);
  });
});

describe('commitment checker', () => {
  const checkers: CommitmentChecker[] = [];
  afterAll(async () => {
    for (const c of checkers) await c.close();
  });

  const record = (k: number): OutcomeRecord => ({
    agent: 1000n + BigInt(k), org: 77n, epoch: BigInt(20_000 + k), kept: BigInt(k % 13), broken: BigInt(k % 3), violations: BigInt(k % 2), scope: 0n, salt: FIELD_MODULUS - 1n - BigInt(k),
  });
  const checked = (r: OutcomeRecord, commitment = recordCommitment(r)): CheckedRecord => ({
    commitment, agent: r.agent, epoch: Number(r.epoch), kept: Number(r.kept), broken: Number(r.broken), violations: Number(r.violations), scope: Number(r.scope), salt: r.salt,
  });

  it.each(['native', 'wasm'] as const)('%s: accepts honest commitments and names the first wrong one', async (engine) => {
    const c = await CommitmentChecker.start(undefined, engine);
    checkers.push(c);
    expect(c.engine).toBe(engine);
    for (const n of [1, 70]) {
      const rs = Array.from({ length: n }, (_, k) => checked(record(k)));
      expect(await c.firstMismatch(77n, rs)).toBe(-1);
      // Another organisation's commitment (the org is part of the hash) does not match.
      expect(await c.firstMismatch(78n, rs)).toBe(0);
      const tampered = rs.map((r, k) => (k >= n - 1 ? { ...r, kept: r.kept + 1 } : r));
      expect(await c.firstMismatch(77n, tampered)).toBe(n - 1);
      const wrongCommitment = rs.map((r, k) => (k === n >> 1 ? { ...r, commitment: (r.commitment + 1n) % FIELD_MODULUS } : r));
      expect(await c.firstMismatch(77n, wrongCommitment)).toBe(n >> 1);
    }
  }, 60_000);
});

describe('log leaves', () => {
  it('the ingestion encoding equals leafHash(canonicalJson(entry))', () => {
    fc.assert(
      fc.property(field, fc.string(), fc.nat(4095), fc.string(), (c, org, orgIndex, submission) => {
        const e = { commitment: c.toString(), org, orgIndex, submission };
        return Buffer.from(entryLeaf(e)).equals(Buffer.from(leafHash(new TextEncoder().encode(canonicalJson(e)))));
      }),
    );
  });
});

describe("the state's trees on the native backend", () => {
  afterAll(() => setPoseidonBackend(undefined));

  // A random history of records: new agents and known ones, several organisations, growing epochs.
  const history = fc.array(fc.record({ agent: fc.integer({ min: 1, max: 40 }), orgIndex: fc.integer({ min: 0, max: 15 }), kept: fc.integer({ min: 0, max: 30 }), broken: fc.integer({ min: 0, max: 5 }), violations: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 25 });
  const run = (steps: Array<{ agent: number; orgIndex: number; kept: number; broken: number; violations: number }>) => {
    const state = new AgentState({ agentDepth: 4, orgDepth: 2 });
    const epochs = new Map<string, bigint>();
    const out: unknown[] = [];
    for (const s of steps) {
      const key = `${s.agent}/${s.orgIndex}`;
      const epoch = (epochs.get(key) ?? 0n) + 1n;
      epochs.set(key, epoch);
      const agent = BigInt(s.agent) * 1_000_003n;
      out.push(state.apply({ record: { agent, org: 7n, epoch, kept: BigInt(s.kept), broken: BigInt(s.broken), violations: BigInt(s.violations), scope: 0n, salt: 3n }, orgIndex: s.orgIndex }));
      out.push(state.root);
    }
    return out;
  };

  it('gives the same witnesses and roots as the TypeScript Poseidon, and refuses the same inputs', () => {
    fc.assert(
      fc.property(history, (steps) => {
        setPoseidonBackend(undefined);
        const reference = run(steps);
        let calls = 0;
        setPoseidonBackend((xs) => (calls++, native.hash(xs)));
        const onNative = run(steps);
        setPoseidonBackend(undefined);
        expect(calls).toBeGreaterThan(0);
        expect(onNative).toEqual(reference);
      }),
      { numRuns: 15 },
    );
    setPoseidonBackend((xs) => native.hash(xs));
    expect(() => poseidon([FIELD_MODULUS])).toThrow(RangeError);
    expect(() => poseidon([])).toThrow(RangeError);
    expect(() => poseidon(new Array(17).fill(1n))).toThrow(RangeError);
    const v2 = vectors.poseidon.find((v) => v.inputs.length === 2)!;
    expect(poseidon(v2.inputs.map(BigInt))).toBe(BigInt(v2.out));
  });

  it('a wrong backend shows at once: the root differs', () => {
    const honest = new AgentState({ agentDepth: 4, orgDepth: 2 }).root;
    setPoseidonBackend((xs) => (native.hash(xs) + 1n) % FIELD_MODULUS);
    expect(new AgentState({ agentDepth: 4, orgDepth: 2 }).root).not.toBe(honest);
    setPoseidonBackend(undefined);
  });
});
