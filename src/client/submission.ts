/**
 * Building what organisations and agents send: signed submissions of record commitments
 * (with fresh salts) and signed threshold requests. Pure apart from randomness.
 * @module
 */
import { signingBytes } from '../crypto/canonical.ts';
import { assertRecord, recordCommitment, type OutcomeRecord } from '../crypto/commitment.ts';
import { publicKeyOf, sign } from '../crypto/ed25519.ts';
import { FIELD_MODULUS, bytesToBigint } from '../crypto/field.ts';
import { contextHash } from '../crypto/context.ts';
import { didFromPublicKey, identityField, publicKeyFromDid } from '../crypto/identity.ts';

export interface RecordInput {
  agent: string;
  epoch: number;
  kept: number;
  broken: number;
  violations: number;
  scope?: number;
  /** A field element; a fresh random one when omitted. */
  salt?: bigint;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** A uniformly random field element (rejection sampling on 254-bit values). */
export function randomSalt(): bigint {
  for (;;) {
    const x = bytesToBigint(random(32)) & ((1n << 254n) - 1n);
    if (x < FIELD_MODULUS) return x;
  }
}

/**
 * The commitments of many range-checked records, in order. The default is src/crypto's
 * recordCommitment (pure TypeScript, 800 to 1,300 records/s here); an organisation submitting in
 * bulk can pass a faster implementation of the same function, such as the native Poseidon's
 * (`NativePoseidon.recordCommitments`, over ten times as fast).
 */
export type CommitmentFn = (records: readonly OutcomeRecord[]) => bigint[];

/**
 * A signed submission body for POST /v1/records.
 * @param opts.commitments how to compute the commitments (see CommitmentFn).
 * @throws TypeError / RangeError for invalid keys, DIDs or record fields.
 */
export function buildSubmission(orgSecretKey: Uint8Array, records: readonly RecordInput[], opts: { nonce?: string; timestamp?: number; commitments?: CommitmentFn } = {}) {
  const orgDid = didFromPublicKey(publicKeyOf(orgSecretKey));
  const org = identityField(publicKeyOf(orgSecretKey));
  const full = records.map((r): OutcomeRecord => {
    const record = {
      agent: identityField(publicKeyFromDid(r.agent)), org, epoch: BigInt(r.epoch), kept: BigInt(r.kept), broken: BigInt(r.broken),
      violations: BigInt(r.violations), scope: BigInt(r.scope ?? 0), salt: r.salt ?? randomSalt(),
    };
    assertRecord(record);
    return record;
  });
  const commitments = opts.commitments ? opts.commitments(full) : full.map(recordCommitment);
  if (commitments.length !== full.length) throw new RangeError('the commitment function must return one commitment per record');
  const out = records.map((r, i) => ({
    commitment: commitments[i]!.toString(), agent: r.agent, epoch: r.epoch, kept: r.kept, broken: r.broken, violations: r.violations, scope: r.scope ?? 0, salt: full[i]!.salt.toString(),
  }));
  const nonce = opts.nonce ?? hex(random(16));
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = hex(sign(signingBytes('submission', { org: orgDid, nonce, timestamp, commitments: out.map((r) => r.commitment) }), orgSecretKey));
  return { org: orgDid, nonce, timestamp, records: out, signature };
}

export interface ThresholdAsk {
  minScore: number;
  minRecords?: number;
  minOrgs?: number;
  context: { nonce: string; audience: string; expiry: number };
}

/**
 * A signed threshold request body for POST /v1/proofs/threshold, answering `challenge`. The
 * verifier's nonce and audience stay here: the request carries only their context hash
 * (docs/protocol.md, "Threshold context") and the expiry.
 */
export function buildThresholdRequest(agentSecretKey: Uint8Array, challenge: string, ask: ThresholdAsk) {
  const agent = didFromPublicKey(publicKeyOf(agentSecretKey));
  const context = { hash: contextHash(ask.context).toString(), expiry: ask.context.expiry };
  const request = { agent, minScore: ask.minScore, minRecords: ask.minRecords ?? 0, minOrgs: ask.minOrgs ?? 0, context, challenge };
  return { ...request, signature: hex(sign(signingBytes('threshold-request', request), agentSecretKey)) };
}
