/**
 * `audit`: re-checks an aggregator's public record from scratch, trusting nothing it says
 * without a signature or a proof:
 *
 *   1. the organisation registry: one index per organisation, one organisation per index;
 *   2. every log entry against the organisation-signed submission it came from (invariants
 *      2 and 3 outside the circuit: the commitment, its order and its org are what the org signed)
 *      and against the registry (orgIndex);
 *   3. the signed tree head: the Merkle root recomputed from every entry (RFC 9162);
 *   0. the key sets: each document signed by the aggregator, its verification keys hashing
 *      to its descriptor and the descriptor to its key set hash, the schedule increasing from
 *      checkpoint 1; a ceremony key set's transcript and proving keys
 *      (src/audit/ceremony-transcript.ts);
 *   4. every batch: the checkpoint's signature, that it names the key set the schedule puts
 *      in force at its sequence, the Groth16 proof under that key set's verification key,
 *      and the chain from genesis: each batch starts at the previous
 *      batch's root and chain, covers the next entries in log order, and its chain equals the
 *      chain recomputed from those entries (invariant 1), under the published policy hash;
 *      and its maxEpoch is at most the day of its signed checkpoint plus the policy's skew, so
 *      no batch applied a record from the future of its checkpoint (invariant 9).
 * @module
 */
import type { Signed } from '../protocol/wire.ts';
import { canonicalJson, signingBytes } from '../crypto/canonical.ts';
import { chainStep, GENESIS_CHAIN } from '../crypto/chain.ts';
import { verifyStrict } from '../crypto/ed25519.ts';
import { identityField, publicKeyFromDid } from '../crypto/identity.ts';
import { maxEpochAt } from '../crypto/epoch.ts';
import { FORGEABLE_BY, keySetHash, parseKeySetDescriptor, vkeyHash, type ForgeableBy, type KeyMode, type KeySetDescriptor } from '../crypto/key-set.ts';
import { POLICY_V2, policyHash } from '../crypto/score-policy.ts';
import { BATCH_PUBLIC_SIGNALS } from '../state/batch.ts';
import { MerkleLog, leafHash, verifyConsistency } from '../log/merkle-log.ts';
import { verifyGroth16, type Groth16VerificationKey } from '../verifier/groth16.ts';
import { auditCeremonyKeySet, type CeremonyAudit } from './ceremony-transcript.ts';

export interface AuditOptions {
  /** Pin the aggregator: its did:key. If omitted, the key the server names is used (and reported). */
  aggregator?: string;
  /** Pin the batch circuit's verification key; by default each key set's, as the server serves it. */
  batchVerificationKey?: Groth16VerificationKey;
  /**
   * For ceremony key sets: the powers-of-tau file and each circuit's r1cs built from source,
   * to run snarkjs zkey verify (src/audit/ceremony-transcript.ts, step 5).
   */
  ceremonyFull?: { ptau: string; r1cs: Record<string, { path: string; sha256: string }> };
  /** A tree head seen earlier (size and hex root): the log must have grown from it (RFC 9162 consistency). */
  previousHead?: { size: number; root: string };
  fetch?: typeof fetch;
  /** A line at the end of each step (registry, entries, submissions, batches). */
  onProgress?: (msg: string) => void;
  /**
   * Counts within a step, for progress bars: log entries fetched, entries checked against their
   * organisation-signed submissions, batch proofs verified (out of the latest checkpoint's
   * sequence, as the server announces it). Called often; throttle the display.
   */
  onCount?: (step: AuditStep, done: number, total: number) => void;
}

/** The counted steps of an audit. */
export type AuditStep = 'entries' | 'signatures' | 'batches';

/** A key set the audited aggregator has proven under. */
export interface AuditedKeySet {
  keySetHash: string;
  mode: KeyMode;
  fromSequence: number;
  forgeableBy: ForgeableBy;
  /** Ceremony key sets: who contributed, and whether snarkjs zkey verify ran from the r1cs and ptau. */
  ceremony?: CeremonyAudit;
}

export interface AuditReport {
  ok: boolean;
  /** Every key set, oldest first: whoever `forgeableBy` names could have forged its batches. */
  keySets: AuditedKeySet[];
  aggregator: string;
  organisations: number;
  entries: number;
  submissions: number;
  batches: number;
  provenEntries: number;
  failures: string[];
}


const fromHex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

/** Audits the aggregator at `url`. Never throws for a failed check: failures are listed. */
export async function audit(url: string, opts: AuditOptions = {}): Promise<AuditReport> {
  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const r = await (opts.fetch ?? fetch)(url.replace(/\/$/, '') + path);
    return { status: r.status, body: (await r.json()) as T };
  };
  const getBytes = async (path: string): Promise<Uint8Array | undefined> => {
    const r = await (opts.fetch ?? fetch)(url.replace(/\/$/, '') + path);
    return r.ok ? new Uint8Array(await r.arrayBuffer()) : undefined;
  };
  const log = opts.onProgress ?? (() => {});
  const count = opts.onCount ?? (() => {});
  const failures: string[] = [];
  const fail = (m: string) => failures.push(m);

  const keys = (await get<{ aggregator: string; genesisRoot: string; config: string; history: Array<{ fromSequence: number; keySetHash: string; mode: KeyMode }> }>('/v1/keys')).body;
  const aggregator = opts.aggregator ?? keys.aggregator;
  if (keys.aggregator !== aggregator) fail(`the server names aggregator ${keys.aggregator}, expected ${aggregator}`);
  const aggKey = publicKeyFromDid(aggregator);
  const checkSig = (what: string, type: string, s: Signed<unknown>) => {
    if (s.signer !== aggregator || !verifyStrict(fromHex(s.signature), signingBytes(type, s.body), aggKey)) fail(`${what}: signature by the aggregator does not verify`);
  };

  // 0. Key sets: each document signed by the aggregator, its keys hashing to its key set.
  const keySets: AuditedKeySet[] = [];
  const batchKeys = new Map<string, { vkey: Groth16VerificationKey; mode: KeyMode }>();
  let previousFrom = 0;
  for (const h of Array.isArray(keys.history) ? keys.history : []) {
    const r = await get<{ document: Signed<{ aggregator: string; keySetHash: string; descriptor: unknown; verificationKeys: Record<string, Groth16VerificationKey>; fromSequence: number }>; transcript?: unknown }>(`/v1/keys/${encodeURIComponent(String(h.keySetHash))}`);
    if (r.status !== 200 || !r.body?.document?.body) {
      fail(`key set ${String(h.keySetHash).slice(0, 12)}: its document is missing`);
      continue;
    }
    const doc = r.body.document;
    checkSig(`key set ${h.keySetHash.slice(0, 12)}`, 'key-document', doc);
    let descriptor: KeySetDescriptor | undefined;
    try {
      descriptor = parseKeySetDescriptor(doc.body.descriptor);
    } catch (e) {
      fail(`key set ${h.keySetHash.slice(0, 12)}: malformed descriptor (${(e as Error).message})`);
    }
    if (!descriptor) continue;
    if (keySetHash(descriptor) !== h.keySetHash || doc.body.keySetHash !== h.keySetHash) fail(`key set ${h.keySetHash.slice(0, 12)}: its descriptor does not hash to it`);
    if (doc.body.fromSequence !== h.fromSequence || h.fromSequence <= previousFrom || (previousFrom === 0 && h.fromSequence !== 1)) fail(`key set ${h.keySetHash.slice(0, 12)}: the schedule is not increasing from checkpoint 1`);
    if (descriptor.mode !== h.mode) fail(`key set ${h.keySetHash.slice(0, 12)}: the schedule names another mode than its descriptor`);
    for (const [name, c] of Object.entries(descriptor.circuits)) {
      if (vkeyHash(doc.body.verificationKeys?.[name]) !== c.vkey) fail(`key set ${h.keySetHash.slice(0, 12)}: the ${name} verification key does not hash to the descriptor's`);
    }
    previousFrom = h.fromSequence;
    batchKeys.set(h.keySetHash, { vkey: opts.batchVerificationKey ?? doc.body.verificationKeys['batch-update']!, mode: descriptor.mode });
    const audited: AuditedKeySet = { keySetHash: h.keySetHash, mode: descriptor.mode, fromSequence: h.fromSequence, forgeableBy: FORGEABLE_BY[descriptor.mode] };
    if (descriptor.mode === 'ceremony') {
      const registered = new Set((await get<Array<{ did: string }>>('/v1/orgs')).body.map((o) => o.did));
      const hash = h.keySetHash;
      audited.ceremony = await auditCeremonyKeySet(`key set ${hash.slice(0, 12)}`, descriptor, r.body.transcript, registered, (circuit) => getBytes(`/v1/keys/${hash}/${circuit}.zkey`), fail, opts.ceremonyFull);
    }
    keySets.push(audited);
  }
  if (keySets.length === 0) fail('the aggregator publishes no key set');
  const keySetAt = (seq: number) => [...keySets].reverse().find((k) => k.fromSequence <= seq);
  log(`key sets: ${keySets.map((k) => `${k.mode} from checkpoint ${k.fromSequence}`).join(', ') || 'none'}`);

  // 1. Registry.
  const orgs = (await get<Array<{ did: string; index: number }>>('/v1/orgs')).body;
  const indexOf = new Map<string, number>();
  const seenIndex = new Set<number>();
  for (const o of orgs) {
    if (indexOf.has(o.did) || seenIndex.has(o.index)) fail(`registry: ${o.did} or index ${o.index} appears twice`);
    indexOf.set(o.did, o.index);
    seenIndex.add(o.index);
  }
  log(`registry: ${orgs.length} organisations`);

  // 2, 3. Entries, submissions and the tree head.
  const head = (await get<Signed<{ size: number; root: string }>>('/v1/log/head')).body;
  checkSig('tree head', 'tree-head', head);
  const entries: Array<{ index: number; commitment: string; org: string; orgIndex: number; submission: string }> = [];
  for (let start = 0; start < head.body.size; start += 1000) {
    entries.push(...(await get<typeof entries>(`/v1/log/entries?start=${start}&end=${Math.min(head.body.size, start + 1000)}`)).body);
    count('entries', entries.length, head.body.size);
  }
  log(`entries: ${entries.length} / ${head.body.size} fetched`);
  const merkle = new MerkleLog();
  for (const e of entries) merkle.append(leafHash(new TextEncoder().encode(canonicalJson({ commitment: e.commitment, org: e.org, orgIndex: e.orgIndex, submission: e.submission }))));
  if (entries.length !== head.body.size || Buffer.from(merkle.root()).toString('hex') !== head.body.root) fail('tree head: the root recomputed from the entries differs from the signed head');
  type SubmissionRecord = { org: string; nonce: string; timestamp: number; commitments: string[]; signature: string; firstIndex: number };
  const submissions = new Map<string, SubmissionRecord>();
  if (opts.previousHead) {
    const { size, root: prevRoot } = opts.previousHead;
    if (size > head.body.size) fail(`tree head: the log shrank from ${size} to ${head.body.size} entries`);
    else if (size > 0) {
      const c = await get<{ proof?: string[] }>(`/v1/log/consistency?first=${size}&second=${head.body.size}`);
      const ok = c.status === 200 && verifyConsistency(size, head.body.size, fromHex(prevRoot), fromHex(head.body.root), (c.body.proof ?? []).map(fromHex));
      // Independently of the server's proof, the earlier head must be the root of our first `size` entries.
      if (!ok || Buffer.from(merkle.root(Math.min(size, merkle.size))).toString('hex') !== prevRoot) fail(`tree head: not consistent with the earlier head of size ${size}`);
    }
  }
  for (const [i, e] of entries.entries()) {
    if (e.index !== i) fail(`entry ${e.index}: out of place`);
    if (indexOf.get(e.org) !== e.orgIndex) fail(`entry ${e.index}: orgIndex ${e.orgIndex} is not ${e.org}'s registry index`);
    let s = submissions.get(e.submission);
    if (!s) {
      const r = await get<SubmissionRecord | undefined>(`/v1/log/submission?id=${encodeURIComponent(e.submission)}`);
      if (r.status !== 200 || !r.body) {
        fail(`entry ${e.index}: its submission is missing`);
        continue;
      }
      s = r.body;
      submissions.set(e.submission, s);
      const signed = signingBytes('submission', { org: s.org, nonce: s.nonce, timestamp: s.timestamp, commitments: s.commitments });
      if (s.org !== e.org || !verifyStrict(fromHex(s.signature), signed, publicKeyFromDid(s.org))) fail(`submission ${e.submission}: the organisation's signature does not verify`);
    }
    if (s.commitments[e.index - s.firstIndex] !== e.commitment) fail(`entry ${e.index}: commitment differs from what the organisation signed`);
    count('signatures', i + 1, entries.length);
  }
  log(`submissions: ${submissions.size} checked`);

  // 4. Batches from genesis.
  const policy = POLICY_V2;
  const ph = policyHash(policy).toString();
  let root = keys.genesisRoot;
  let chain = GENESIS_CHAIN;
  let next = 0;
  let seq = 1;
  // Only for progress: how many batches the server says there are. The loop below does not trust it.
  const latest = await get<Signed<{ sequence: number }>>('/v1/checkpoints/latest');
  const announced = latest.status === 200 ? latest.body.body.sequence : 0;
  for (; ; seq++) {
    const r = await get<{ sequence: number; fromIndex: number; toIndex: number; proof: unknown; publicSignals: string[]; checkpoint: Signed<{ sequence: number; stateRoot: string; chain: string; logSize: number; policyHash: string; time: number; keySetHash: string; keyMode: KeyMode }> }>(`/v1/batches/${seq}`);
    if (r.status === 404) break;
    const b = r.body;
    checkSig(`checkpoint ${seq}`, 'checkpoint', b.checkpoint);
    if (b.fromIndex !== next || b.toIndex < b.fromIndex || b.toIndex > entries.length) fail(`batch ${seq}: covers [${b.fromIndex}, ${b.toIndex}) but the next entry is ${next}`);
    const chainBefore = chain;
    for (let i = b.fromIndex; i < Math.min(b.toIndex, entries.length); i++) {
      const e = entries[i]!;
      chain = chainStep(chain, { commitment: BigInt(e.commitment), org: identityField(publicKeyFromDid(e.org)), orgIndex: e.orgIndex });
    }
    const signal = (name: (typeof BATCH_PUBLIC_SIGNALS)[number]) => b.publicSignals[BATCH_PUBLIC_SIGNALS.indexOf(name)];
    const [oldRoot, newRoot, oldChain, newChain, batchPolicy, maxEpoch] = BATCH_PUBLIC_SIGNALS.map(signal);
    if (oldRoot !== root) fail(`batch ${seq}: does not start at the previous root`);
    if (oldChain !== chainBefore.toString() || newChain !== chain.toString()) fail(`batch ${seq}: its chain is not the chain of log entries [${b.fromIndex}, ${b.toIndex})`);
    if (batchPolicy !== ph || b.checkpoint.body.policyHash !== ph) fail(`batch ${seq}: another policy`);
    const time = b.checkpoint.body.time;
    const epochOk = typeof maxEpoch === 'string' && /^[0-9]{1,20}$/.test(maxEpoch) && Number.isSafeInteger(time) && time >= 0 && BigInt(maxEpoch) <= BigInt(maxEpochAt(time, policy));
    if (!epochOk) fail(`batch ${seq}: its maxEpoch ${maxEpoch} is after the day of its checkpoint plus the allowed skew`);
    if (b.checkpoint.body.stateRoot !== newRoot || b.checkpoint.body.chain !== newChain || b.checkpoint.body.logSize !== b.toIndex || b.checkpoint.body.sequence !== seq) fail(`checkpoint ${seq}: does not match its batch`);
    const inForce = keySetAt(seq);
    if (!inForce || b.checkpoint.body.keySetHash !== inForce.keySetHash || b.checkpoint.body.keyMode !== inForce.mode) fail(`checkpoint ${seq}: names another key set than the schedule's`);
    const vkey = batchKeys.get(b.checkpoint.body.keySetHash)?.vkey;
    let valid = false;
    try {
      valid = vkey !== undefined && (await verifyGroth16(vkey, b.publicSignals, b.proof as never));
    } catch {
      valid = false;
    }
    if (!valid) fail(`batch ${seq}: the proof does not verify`);
    root = newRoot ?? root;
    next = b.toIndex;
    count('batches', seq, Math.max(seq, announced));
  }
  log(`batches: ${seq - 1} checked, ${next} entries proven`);
  return { ok: failures.length === 0, aggregator, organisations: orgs.length, entries: entries.length, submissions: submissions.size, batches: seq - 1, provenEntries: next, keySets, failures };
}
