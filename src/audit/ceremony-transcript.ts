/**
 * Auditing a `ceremony` key set from its public transcript and its proving keys, trusting the
 * aggregator for nothing:
 *
 *   1. the transcript's phase 1 is the descriptor's;
 *   2. per circuit: an initial key, then organisations' contributions, then the beacon; each
 *      contribution's statement is signed by a registered organisation (one contribution per
 *      organisation), names this ceremony, this circuit and this step, and chains: it builds
 *      on the previous step's key (sha256) and its own key is the next step's; at least one
 *      organisation contributed;
 *   3. the descriptor's contribution hashes are the transcript's, in order, ending with the
 *      beacon's;
 *   4. the final proving key (downloaded) hashes to the transcript's last step, exports the
 *      descriptor's verification key, and carries exactly those contribution records, each
 *      with a valid proof of knowledge chaining delta from the generator to the key's delta;
 *      the last record is the announced beacon;
 *   5. with the powers-of-tau file and the r1cs (built from source), snarkjs zkey verify
 *      from the r1cs: the key follows from the circuit and that public phase 1.
 * Without step 5 the audit shows who contributed and that the key carries their
 * contributions, not that its initial key was derived from the published phase 1.
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signingBytes } from '../crypto/canonical.ts';
import { verifyStrict } from '../crypto/ed25519.ts';
import { publicKeyFromDid } from '../crypto/identity.ts';
import { isPublishedPhase1, vkeyHash, type KeySetDescriptor } from '../crypto/key-set.ts';
import { runCeremonyJob } from '../keys/ceremony-jobs.ts';
import { checkRecordChain, readPhase2 } from '../keys/phase2.ts';
import { keyCurve, verificationKeyOf } from '../keys/zkey-file.ts';
import type { CeremonyStep } from '../service/ceremony.ts';

export interface CeremonyAudit {
  /** Whether phase 1 is one of the published perpetual powers of tau (else whoever made it could forge). */
  publishedPhase1: boolean;
  /** Organisations that contributed, by circuit. */
  contributors: Record<string, string[]>;
  /** Whether step 5 ran and passed for every circuit. */
  fullyVerified: boolean;
}

interface Transcript {
  ceremony: string;
  phase1: { blake2b: string; power: number };
  beacon: { value: string; iterationsExp: number };
  circuits: Record<string, CeremonyStep[]>;
}

/**
 * Audits one ceremony key set (see the module comment). Failures are pushed to `fail`.
 * @param downloadKey fetches the proving key of a circuit of this key set.
 * @param full with a ptau path and the local r1cs of each circuit: run snarkjs zkey verify.
 */
export async function auditCeremonyKeySet(
  label: string,
  descriptor: KeySetDescriptor,
  transcriptIn: unknown,
  registered: ReadonlySet<string>,
  downloadKey: (circuit: string) => Promise<Uint8Array | undefined>,
  fail: (msg: string) => void,
  full?: { ptau: string; r1cs: Record<string, { path: string; sha256: string }> },
): Promise<CeremonyAudit> {
  const out: CeremonyAudit = { publishedPhase1: isPublishedPhase1(descriptor.phase1), contributors: {}, fullyVerified: false };
  const t = transcriptIn as Transcript | undefined;
  if (!t || typeof t !== 'object' || !t.circuits || !t.beacon || !t.phase1) {
    fail(`${label}: a ceremony key set without its transcript`);
    return out;
  }
  if (descriptor.phase1.kind !== 'ptau' || t.phase1.blake2b !== descriptor.phase1.blake2b || t.phase1.power !== descriptor.phase1.power) fail(`${label}: the transcript's phase 1 is not the key set's`);
  const curve = await keyCurve();
  let fullyVerified = !!full;
  for (const [circuit, c] of Object.entries(descriptor.circuits)) {
    const where = `${label} ${circuit}`;
    const steps = t.circuits[circuit];
    if (!Array.isArray(steps) || steps.length < 3) {
      fail(`${where}: the transcript needs an initial key, a contribution and the beacon`);
      fullyVerified = false;
      continue;
    }
    const orgs: string[] = [];
    steps.forEach((s, i) => {
      if (s.index !== i) fail(`${where}: step ${i} is out of place`);
      const expectedKind = i === 0 ? 'init' : i === steps.length - 1 ? 'beacon' : 'contribution';
      if (s.kind !== expectedKind) fail(`${where}: step ${i} should be ${expectedKind}, is ${s.kind}`);
      if (s.kind !== 'contribution') return;
      const st = s.statement;
      if (!st || !s.signature || !s.org) return fail(`${where}: step ${i} has no signed statement`);
      let signed = false;
      try {
        signed = verifyStrict(Buffer.from(s.signature, 'hex'), signingBytes('ceremony-contribution', st), publicKeyFromDid(s.org));
      } catch {
        signed = false;
      }
      if (!signed || st.org !== s.org) fail(`${where}: step ${i}: the statement is not signed by ${s.org}`);
      if (!registered.has(s.org)) fail(`${where}: step ${i}: ${s.org} is not a registered organisation`);
      if (orgs.includes(s.org)) fail(`${where}: ${s.org} contributed twice`);
      if (st.ceremony !== t.ceremony || st.circuit !== circuit || st.index !== i) fail(`${where}: step ${i}: the statement names another ceremony, circuit or step`);
      if (st.previous !== steps[i - 1]?.zkey || st.next !== s.zkey) fail(`${where}: step ${i}: does not chain from the previous key`);
      if (st.contributionHash !== s.contributionHash) fail(`${where}: step ${i}: the statement signs another contribution hash`);
      orgs.push(s.org);
    });
    const ordered = steps.slice(1).map((s) => s.contributionHash ?? '');
    out.contributors[circuit] = orgs;
    if (orgs.length === 0) fail(`${where}: no organisation contributed`);
    if (JSON.stringify(ordered) !== JSON.stringify(c.contributions)) fail(`${where}: the key set's contribution hashes are not the transcript's`);
    const bytes = await downloadKey(circuit);
    if (!bytes) {
      fail(`${where}: the proving key cannot be downloaded`);
      fullyVerified = false;
      continue;
    }
    if (createHash('sha256').update(bytes).digest('hex') !== steps.at(-1)!.zkey) fail(`${where}: the proving key is not the transcript's last key`);
    try {
      if (vkeyHash(await verificationKeyOf(bytes)) !== c.vkey) fail(`${where}: the proving key's verification key is not the key set's`);
      const { mpc, delta1 } = await readPhase2(bytes);
      const chain = await checkRecordChain(curve, mpc, delta1);
      if (!chain.ok) fail(`${where}: ${chain.reason}`);
      else if (JSON.stringify(chain.hashes) !== JSON.stringify(c.contributions)) fail(`${where}: the proving key's contribution records are not the key set's`);
      const beacon = mpc.contributions.at(-1);
      if (!beacon || beacon.type !== 1 || Buffer.from(beacon.beaconHash ?? []).toString('hex') !== t.beacon.value || beacon.numIterationsExp !== t.beacon.iterationsExp) fail(`${where}: the last contribution is not the announced beacon`);
    } catch (e) {
      fail(`${where}: the proving key is unreadable (${(e as Error).message})`);
    }
    if (full) {
      const r1cs = full.r1cs[circuit];
      if (!r1cs || r1cs.sha256 !== c.r1cs) {
        fail(`${where}: the local r1cs is not the key set's circuit (build the circuits from source first)`);
        fullyVerified = false;
        continue;
      }
      const dir = await mkdtemp(join(tmpdir(), 'zktrust-audit-'));
      try {
        await writeFile(join(dir, 'key.zkey'), bytes);
        const { ok } = await runCeremonyJob({ kind: 'verify-r1cs', r1cs: r1cs.path, ptau: full.ptau, key: join(dir, 'key.zkey') });
        if (!ok) {
          fail(`${where}: snarkjs zkey verify: the key does not follow from the r1cs and the powers of tau`);
          fullyVerified = false;
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
  out.fullyVerified = fullyVerified;
  return out;
}
