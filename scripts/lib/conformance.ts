/**
 * The conformance vectors of conformance/ (one JSON document per signed object and per hash
 * construction), made by zktrust's own code paths, not by a second implementation:
 *
 *   - submissions by the organisation client's buildSubmission (src/client/submission.ts);
 *   - receipts, tree heads, log entries, public submissions, inclusion and consistency proofs
 *     by the service's Ingestion, with a real Ledger, Registry, Projection and commitment
 *     checker over a temporary LevelDB store, signing through ServiceParts as the aggregator
 *     does (the harness below), and refusals by the same Ingestion;
 *   - checkpoints over the state that the sequencer's buildBatch computes from the log's
 *     openings, signed through ServiceParts with the sequencer's field list;
 *   - threshold requests by the agent client's buildThresholdRequest, refusals by the
 *     service's Presenter;
 *   - the presentation by the threshold prover under the repository's development keys of the
 *     `test` configuration, and every reason code by the verifier (src/verifier).
 *
 * Deterministic: every key comes from a public seed (`testSeed`), the service's clock is
 * pinned to fixed times while it runs, and salts, nonces and challenges are fixed. The one
 * random value, the presentation's Groth16 proof, is kept from the previous file as long as it
 * still verifies for the statement built now; otherwise a new one is proven (`prove`).
 *
 * scripts/gen-conformance.ts writes the documents; test/unit/conformance.test.ts rebuilds
 * them and compares, and checks them against an independent implementation.
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuration } from '../../src/build/build-circuits.ts';
import { TIER_THRESHOLDS } from '../../src/client/agent-client.ts';
import { buildSubmission, buildThresholdRequest, type RecordInput, type ThresholdAsk } from '../../src/client/submission.ts';
import { canonicalJson, signingBytes } from '../../src/crypto/canonical.ts';
import { chainStep, GENESIS_CHAIN } from '../../src/crypto/chain.ts';
import { RECORD_FIELDS, recordCommitment, type OutcomeRecord } from '../../src/crypto/commitment.ts';
import { contextHash, stringToField } from '../../src/crypto/context.ts';
import { publicKeyOf, sign, verifyStrict } from '../../src/crypto/ed25519.ts';
import { maxEpochAt } from '../../src/crypto/epoch.ts';
import { bytesToBigint } from '../../src/crypto/field.ts';
import { didFromPublicKey, identityField } from '../../src/crypto/identity.ts';
import { PUBLISHED_PTAU_BLAKE2B, keySetHash, vkeyHash, type KeySetDescriptor } from '../../src/crypto/key-set.ts';
import { poseidon } from '../../src/crypto/poseidon.ts';
import { ACCEPTED_POLICY_HASHES, CIRCUIT_POLICY, POLICY_V1, POLICY_V2, evidenceScore, policyHash } from '../../src/crypto/score-policy.ts';
import { TAG_CHAIN, TAG_CONTEXT, TAG_IDENTITY, TAG_RECORD } from '../../src/crypto/tags.ts';
import { CommitmentChecker } from '../../src/engines/commitment-check.ts';
import { signerFor } from '../../src/engines/fast-ed25519.ts';
import { identityOfDid } from '../../src/engines/fast-hash.ts';
import { ERROR_STATUS, ZkTrustError } from '../../src/errors.ts';
import { EMPTY_ROOT, leafHash } from '../../src/log/merkle-log.ts';
import { PROJECT_ROOT, compiledCircuits, loadCircuitArtifacts } from '../../src/prover/artifacts.ts';
import { Groth16Prover } from '../../src/prover/groth16-prover.ts';
import type { CheckpointBody, KeyDocumentBody, Presentation, ProofResponse, Signed } from '../../src/protocol/wire.ts';
import { loadConfig } from '../../src/service/config.ts';
import { Ingestion } from '../../src/service/ingestion.ts';
import { Ledger, entryLeaf } from '../../src/service/ledger.ts';
import { Presenter } from '../../src/service/presenter.ts';
import { Projection } from '../../src/service/projection.ts';
import { Registry } from '../../src/service/registry.ts';
import { serviceParts, type ServiceParts } from '../../src/service/service-parts.ts';
import type { ContributionStatement } from '../../src/service/ceremony.ts';
import { AgentState, type AppliedEntry } from '../../src/state/agent-state.ts';
import { buildBatch } from '../../src/state/batch.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../../src/state/threshold-input.ts';
import { Store } from '../../src/store/db.ts';
import { getCurve, verifyGroth16, type Groth16VerificationKey } from '../../src/verifier/groth16.ts';
import { BUNDLED_KEYS, createVerifier, type Expectations, type ReasonCode, type VerifierOptions } from '../../src/verifier/index.ts';

/** The circuit configuration of the vectors (its development keys ship in artifacts/test). */
export const CONFIG = 'test';
/** The service's clock when it accepts the vectors' submissions: 2026-01-01T00:00:00Z, in milliseconds. */
export const T_MS = 1_767_225_600_000;
const T_S = T_MS / 1000;
/** Where a document says where its rules are written down. */
const SPEC = 'docs/protocol.md';
const KEYS_NOTE = 'Every key is derived from a public test seed (identity.json): never use these keys for anything real.';

export const ROLES = ['aggregator', 'org-a', 'org-b', 'agent-1', 'agent-2', 'agent-3'] as const;
export type Role = (typeof ROLES)[number];

/** The label whose SHA-256 is a role's Ed25519 secret key (a public test seed). */
export const seedLabel = (role: Role) => `zktrust/conformance/v1/${role}`;
/** A role's Ed25519 secret key: SHA-256 of its UTF-8 label. Public: tests only. */
export function testSeed(role: Role): Uint8Array {
  return new Uint8Array(createHash('sha256').update(seedLabel(role)).digest());
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const pk = (role: Role) => publicKeyOf(testSeed(role));
export const didOf = (role: Role) => didFromPublicKey(pk(role));
const idOf = (role: Role) => identityField(pk(role));
const signer = (role: Role) => ({ role, did: didOf(role), publicKey: hex(pk(role)) });
const stringify = (x: unknown) => JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));

/** Runs `fn` with the process clock (Date.now) reading `ms`: the service code reads no other clock. */
export async function atTime<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => ms;
  try {
    return await fn();
  } finally {
    Date.now = real;
  }
}

/**
 * The service's ingestion and presenter, as the aggregator wires them (src/service/aggregator.ts),
 * over a temporary store, with the test aggregator's key and the service's default settings.
 * The presenter is that of a service with no proven state yet: every request it accepts ends in
 * not_found, so its prover and key ring are never reached.
 */
export interface Harness {
  parts: ServiceParts;
  registry: Registry;
  ledger: Ledger;
  ingestion: Ingestion;
  presenter: Presenter;
  close(): Promise<void>;
}

export async function openHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-conformance-'));
  const store = await Store.open(join(dir, 'db'));
  const config = loadConfig({ ZKTRUST_CIRCUITS: CONFIG });
  const parts = serviceParts({ store, did: didOf('aggregator'), sign: signerFor(testSeed('aggregator')), logger: () => {} });
  const registry = new Registry(store, config.orgDepth);
  await registry.load();
  const ledger = await Ledger.open(store);
  const commitments = await CommitmentChecker.start();
  const ingestion = new Ingestion(parts, {
    config, ledger, registry, projection: new Projection(), commitments, policy: CIRCUIT_POLICY,
    pending: () => ledger.size, proving: () => true, onAppended: () => {},
  });
  const presenter = new Presenter(parts, {
    config, policy: CIRCUIT_POLICY, policyHash: policyHash(CIRCUIT_POLICY),
    sequencer: { latestCheckpoint: () => undefined, get committed(): never { throw new Error('no proven state'); } },
    keys: undefined as never, provers: undefined as never,
  });
  return {
    parts, registry, ledger, ingestion, presenter,
    async close() {
      await commitments.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The problem code a call is refused with (ZkTrustError), or 'accepted'. */
export async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'accepted';
  } catch (e) {
    if (e instanceof ZkTrustError) return e.code;
    throw e;
  }
}

/** What a signed object's case records: its body, canonical JSON, signing bytes and signature. */
function signedCase(type: string, role: Role, body: unknown, signature: string) {
  const bytes = signingBytes(type, body);
  if (!verifyStrict(Buffer.from(signature, 'hex'), bytes, pk(role))) throw new Error(`the ${type} signature does not verify`);
  return {
    type,
    signer: signer(role),
    body: stringify(body),
    canonicalJson: canonicalJson(body),
    signingBytes: { utf8: utf8(bytes), hex: hex(bytes), sha256: sha256(bytes) },
    signature,
  };
}

// ---- JSON Patch (RFC 6902: add, remove, replace), for the presentation's cases ----

export interface PatchOp {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

/** A copy of `doc` with the operations applied (RFC 6901 pointers; "-" appends to an array). */
export function applyPatch<T>(doc: T, ops: readonly PatchOp[]): T {
  const out = structuredClone(doc) as unknown;
  for (const o of ops) {
    const keys = o.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    const parent = keys.reduce((x: any, k) => x[Array.isArray(x) ? Number(k) : k], out);
    if (Array.isArray(parent)) {
      if (o.op === 'remove') parent.splice(Number(last), 1);
      else if (o.op === 'add') parent.splice(last === '-' ? parent.length : Number(last), 0, structuredClone(o.value));
      else parent[Number(last)] = structuredClone(o.value);
    } else if (o.op === 'remove') delete parent[last];
    else parent[last] = structuredClone(o.value);
  }
  return out as T;
}

// ---- the vectors ----

/** The records the vectors submit: two organisations, three agents, five log entries. */
const SUBMISSIONS: Array<{ name: string; org: Role; nonce: string; timestamp: number; records: Array<Omit<RecordInput, 'agent'> & { agent: Role }> }> = [
  {
    name: 'org-a: two records (agents 1 and 2)',
    org: 'org-a',
    nonce: '00112233445566778899aabbccddeeff',
    timestamp: T_S - 5,
    records: [
      { agent: 'agent-1', epoch: 20453, kept: 40, broken: 1, violations: 0, scope: 0, salt: 0x1234n },
      { agent: 'agent-2', epoch: 20453, kept: 3, broken: 0, violations: 1, scope: 7, salt: 21888242871839275222246405745257275088548364400416034343698204186575808495616n },
    ],
  },
  {
    name: 'org-b: one record (agent 1), the shortest nonce',
    org: 'org-b',
    nonce: '0123456789abcdef',
    timestamp: T_S,
    records: [{ agent: 'agent-1', epoch: 20454, kept: 50, broken: 0, violations: 0, scope: 0, salt: 987654321987654321987654321n }],
  },
  {
    name: 'org-a: two records (agents 2 and 3), the longest nonce',
    org: 'org-a',
    nonce: 'f'.repeat(64),
    timestamp: T_S + 120,
    records: [
      { agent: 'agent-2', epoch: 20454, kept: 12, broken: 2, violations: 0, scope: 0, salt: 5n },
      { agent: 'agent-3', epoch: 20455, kept: 1, broken: 0, violations: 0, scope: 3, salt: 0n },
    ],
  },
];
/** The service's clock as it accepts each submission. */
const ACCEPTED_AT = [T_MS, T_MS + 1_000, T_MS + 2_000];
/** Batches: entries [0, 3) and [3, 5), their checkpoints signed at these times. */
const BATCHES = [
  { from: 0, to: 3, time: T_MS + 60_000 },
  { from: 3, to: 5, time: T_MS + 120_000 },
];
const CONTEXT = { nonce: 'verifier-nonce-7f3a', audience: 'https://verifier.example/agents', expiry: T_S + 600 };
/** The verifier's clock in presentation.json. */
const VERIFIER_NOW = T_MS + 180_000;
/** An opaque challenge as POST /v1/agents/challenge returns it (this one was not issued by any service). */
const CHALLENGE = hex(Buffer.from((T_MS + 120_000).toString(16).padStart(16, '0'), 'hex')) + 'a5'.repeat(16) + '5a'.repeat(16);

export interface BuildOptions {
  /** The presentation of the previous presentation.json, whose proof is kept if it still verifies. */
  previous?: { proof: unknown; publicSignals: string[] };
  /** Prove a new presentation when the previous proof does not fit (false: throw instead). */
  prove: boolean;
}

/** Every conformance document, by file name. */
export async function buildConformance(opts: BuildOptions): Promise<Record<string, unknown>> {
  const h = await openHarness();
  try {
    return await build(h, opts);
  } finally {
    await h.close();
  }
}

async function build(h: Harness, opts: BuildOptions): Promise<Record<string, unknown>> {
  const docs: Record<string, unknown> = {};
  const policy = CIRCUIT_POLICY;
  const ph = policyHash(policy);

  // ---- identity.json ----
  docs['identity.json'] = {
    description: 'The test keys every other document uses, and the identity constructions: Ed25519 secret key = SHA-256(UTF-8 seed label) (RFC 8032 32-byte seed), the did:key, and the identity field element id = Poseidon(1, hi, lo) mod 2^252, where hi and lo are the big-endian integers of the public key\'s two 16-byte halves.',
    spec: `${SPEC}, "Identities"`,
    note: KEYS_NOTE,
    cases: ROLES.map((role) => {
      const key = pk(role);
      const [hi, lo] = [bytesToBigint(key.subarray(0, 16)), bytesToBigint(key.subarray(16))];
      return {
        role, seedLabel: seedLabel(role), secretKey: hex(testSeed(role)), publicKey: hex(key), multicodec: `ed01${hex(key)}`, did: didOf(role),
        hi: hi.toString(), lo: lo.toString(), poseidon: poseidon([TAG_IDENTITY, hi, lo]).toString(), id: idOf(role).toString(),
      };
    }),
  };

  // ---- canonical-json.json ----
  const CANONICAL_INPUTS: Array<[string, string]> = [
    ['keys sorted, whitespace dropped', '{ "b": 1, "a": [2, "x", null, true, false] }'],
    ['nested objects sorted at every level, arrays kept in order', '{"z":{"y":[{"b":2,"a":1}],"x":{}},"a":[]}'],
    ['escapes: quote, backslash and control characters; "/" and DEL are not escaped', '{"s":"quote \\" backslash \\\\ slash / tab \\t newline \\n cr \\r bs \\b ff \\f nul \\u0000 us \\u001F del \\u007f"}'],
    ['non-ASCII is written as UTF-8, not escaped; a lone surrogate is escaped', '{"s":"caf\\u00e9 \\u20ac \\ud83d\\ude00 \\ud800"}'],
    ['keys sorted by UTF-16 code units (not code points): U+1F600 (D83D DE00) sorts before U+FB01', '{"\\ufb01":1,"\\ud83d\\ude00":2,"\\u00e9":3,"a":4,"B":5,"":6}'],
    ['integers in decimal; -0 is written 0', '{"zero":0,"max":9007199254740991,"negZero":-0}'],
  ];
  docs['canonical-json.json'] = {
    description: 'Canonical JSON (src/crypto/canonical.ts): object keys sorted by UTF-16 code units, no whitespace, strings and numbers written as ECMAScript JSON.stringify writes them, arrays in order. `input` is JSON text; `canonical` is what is signed or hashed. Every signed zktrust object holds only strings, non-negative integers below 2^53, booleans, arrays and objects with ASCII keys.',
    spec: `${SPEC}, "Canonical JSON"`,
    cases: CANONICAL_INPUTS.map(([name, input]) => {
      const canonical = canonicalJson(JSON.parse(input));
      return { name, input, canonical, hex: hex(new TextEncoder().encode(canonical)) };
    }),
  };

  // ---- the log: registration, submissions, receipts, tree heads ----
  const orgIndex: Partial<Record<Role, number>> = {};
  for (const org of ['org-a', 'org-b'] as const) orgIndex[org] = (await atTime(T_MS - 86_400_000, () => h.registry.register({ name: org, publicKey: hex(pk(org)) }))).index;
  const submissionCases: unknown[] = [];
  const receiptCases: unknown[] = [];
  const headCases: unknown[] = [];
  const requests: Array<ReturnType<typeof buildSubmission>> = [];
  for (const [k, s] of SUBMISSIONS.entries()) {
    const inputs: RecordInput[] = s.records.map((r) => ({ ...r, agent: didOf(r.agent) }));
    const request = buildSubmission(testSeed(s.org), inputs, { nonce: s.nonce, timestamp: s.timestamp });
    requests.push(request);
    const receipt = await atTime(ACCEPTED_AT[k]!, () => h.ingestion.submit(stringify(request)));
    const head = await atTime(ACCEPTED_AT[k]! + 500, async () => h.ingestion.treeHead());
    const body = { org: request.org, nonce: request.nonce, timestamp: request.timestamp, commitments: request.records.map((r) => r.commitment) };
    submissionCases.push({
      name: s.name,
      org: { ...signer(s.org), orgIndex: orgIndex[s.org] },
      records: s.records.map((r, i) => {
        const record: OutcomeRecord = {
          agent: idOf(r.agent), org: idOf(s.org), epoch: BigInt(r.epoch), kept: BigInt(r.kept), broken: BigInt(r.broken), violations: BigInt(r.violations), scope: BigInt(r.scope ?? 0), salt: r.salt!,
        };
        if (recordCommitment(record).toString() !== request.records[i]!.commitment) throw new Error('commitment');
        return { agentRole: r.agent, opening: request.records[i], poseidonInputs: [TAG_RECORD, ...RECORD_FIELDS.map((f) => record[f])].map(String) };
      }),
      request,
      signed: signedCase('submission', s.org, body, request.signature),
      acceptedAtMs: ACCEPTED_AT[k],
      receipt: 'receipt.json, the case of the same name',
    });
    receiptCases.push({ name: s.name, acceptedAtMs: ACCEPTED_AT[k], envelope: receipt, ...signedCase('receipt', 'aggregator', receipt.body, receipt.signature) });
    headCases.push({ name: `after "${s.name}"`, atMs: ACCEPTED_AT[k]! + 500, envelope: head, ...signedCase('tree-head', 'aggregator', head.body, head.signature) });
  }
  const size = h.ledger.size;
  docs['submission.json'] = {
    description: 'Signed submissions (POST /v1/records), as the organisation client builds them: each record\'s commitment Poseidon(2, agent, org, epoch, kept, broken, violations, scope, salt) over identity field elements (identity.json), and the signature over signingBytes("submission", {org, nonce, timestamp, commitments}), the commitments as decimal strings in record order. `refused` lists requests the service refuses, with the problem code it answers (accepted at the time `atMs`, after the cases above).',
    spec: `${SPEC}, "Submissions"`,
    note: KEYS_NOTE,
    cases: submissionCases,
    refused: await refusedSubmissions(h, requests),
  };
  docs['receipt.json'] = {
    description: 'Receipts (the 201 answer to POST /v1/records), signed by the aggregator as type "receipt": {org, firstIndex, count, treeHead: {size, root, timestamp}, deadline}. The entries of the submission are [firstIndex, firstIndex + count); treeHead is the log right after the write that holds them; treeHead.timestamp and deadline are milliseconds since 1970 (deadline = acceptance time + ZKTRUST_RECEIPT_DEADLINE_MS, one hour by default).',
    spec: `${SPEC}, "Receipts"`,
    note: KEYS_NOTE,
    cases: receiptCases,
  };
  docs['tree-head.json'] = {
    description: 'Signed tree heads (GET /v1/log/head), type "tree-head": {size, root, timestamp}. root is the RFC 9162 Merkle tree head (SHA-256, lower-case hex) of the first `size` log entries (inclusion.json); timestamp is milliseconds since 1970.',
    spec: `${SPEC}, "Tree heads"`,
    note: KEYS_NOTE,
    emptyRoot: hex(EMPTY_ROOT),
    cases: headCases,
  };

  // ---- log-leaf.json, inclusion.json ----
  const entries = await h.ingestion.logEntries(0, size);
  const publicSubmissions = await Promise.all(requests.map((r) => h.ingestion.submission(`${r.org}/${r.nonce}`)));
  docs['log-leaf.json'] = {
    description: 'Log entries (GET /v1/log/entries) and their leaves: the leaf data is the canonical JSON of {commitment, org, orgIndex, submission} (the entry without its index; orgIndex a JSON number, submission the id "<org did>/<nonce>"), and the leaf hash is SHA-256(0x00 || leaf data) (RFC 9162 section 2.1.1). `submissions` are the public submissions (GET /v1/log/submission?id=<submission id>) the entries come from.',
    spec: `${SPEC}, "The transparency log"`,
    cases: entries.map((e) => {
      const { index: _i, ...leaf } = e;
      const data = new TextEncoder().encode(canonicalJson(leaf));
      if (hex(leafHash(data)) !== hex(entryLeaf(leaf)) || hex(leafHash(data)) !== hex(h.ledger.log.leaf(e.index))) throw new Error('leaf');
      return { entry: e, leafData: { utf8: utf8(data), hex: hex(data) }, leafHash: hex(leafHash(data)) };
    }),
    submissions: publicSubmissions,
  };
  const sizes = Array.from({ length: size }, (_, i) => i + 1);
  docs['inclusion.json'] = {
    description: 'RFC 9162 (section 2.1) over the leaf hashes of log-leaf.json: the tree head of every size, inclusion proofs (GET /v1/log/inclusion?index=&size=: {index, size, leafHash, path}, path the audit path of section 2.1.3.1 in its order, from the leaf\'s level up) and consistency proofs (GET /v1/log/consistency?first=&second=: {first, second, proof}, section 2.1.4.1). Hashes are lower-case hex.',
    spec: `${SPEC}, "The transparency log"`,
    roots: [{ size: 0, root: hex(EMPTY_ROOT) }, ...sizes.map((n) => ({ size: n, root: hex(h.ledger.log.root(n)) }))],
    inclusion: sizes.flatMap((n) => Array.from({ length: n }, (_, i) => h.ingestion.inclusionProof(i, n))),
    consistency: sizes.flatMap((n) => sizes.filter((m) => m <= n).map((m) => h.ingestion.consistencyProof(m, n))),
    refused: [
      { request: 'GET /v1/log/inclusion?index=5&size=5', code: await outcome(async () => h.ingestion.inclusionProof(5, 5)) },
      { request: `GET /v1/log/inclusion?index=0&size=${size + 1}`, code: await outcome(async () => h.ingestion.inclusionProof(0, size + 1)) },
      { request: 'GET /v1/log/consistency?first=0&second=5', code: await outcome(async () => h.ingestion.consistencyProof(0, 5)) },
    ],
  };

  // ---- chain.json, checkpoint.json ----
  const applied: AppliedEntry[] = (await h.ledger.openings(0, size)).map(({ entry, opening: o }) => ({
    record: { agent: identityOfDid(o.agent), org: identityOfDid(entry.org), epoch: BigInt(o.epoch), kept: BigInt(o.kept), broken: BigInt(o.broken), violations: BigInt(o.violations), scope: BigInt(o.scope), salt: BigInt(o.salt) },
    orgIndex: entry.orgIndex,
  }));
  let chain = GENESIS_CHAIN;
  docs['chain.json'] = {
    description: 'The log hash chain the batch circuit folds: chain_0 = 0, chain_{i+1} = Poseidon(3, chain_i, commitment_i, org_i, orgIndex_i), where org_i is the identity field element of the entry\'s organisation (identity.json), not its DID.',
    spec: `${SPEC}, "The log and its hash chain"`,
    cases: entries.map((e, i) => {
      const before = chain;
      chain = chainStep(chain, { commitment: BigInt(e.commitment), org: applied[i]!.record.org, orgIndex: e.orgIndex });
      return { index: e.index, chainBefore: before.toString(), poseidonInputs: [TAG_CHAIN, before, BigInt(e.commitment), applied[i]!.record.org, BigInt(e.orgIndex)].map(String), chainAfter: chain.toString() };
    }),
  };
  const { config: shape } = configuration(CONFIG);
  const state = new AgentState({ agentDepth: shape.agentDepth, orgDepth: shape.orgDepth }, policy);
  const dev = BUNDLED_KEYS[CONFIG]!;
  const checkpoints: Array<Signed<CheckpointBody>> = [];
  const checkpointCases = BATCHES.map((b, k) => {
    const batch = buildBatch(state, applied.slice(b.from, b.to), { insertSlots: shape.insertSlots, updateSlots: shape.updateSlots }, ph, BigInt(maxEpochAt(b.time, policy)));
    const body: CheckpointBody = {
      sequence: k + 1, config: CONFIG, stateRoot: batch.public.newRoot.toString(), chain: batch.public.newChain.toString(), logSize: b.to,
      policyHash: ph.toString(), time: b.time, keySetHash: dev.keySetHash, keyMode: dev.descriptor.mode,
    };
    const cp = h.parts.signed<CheckpointBody>('checkpoint', body);
    checkpoints.push(cp);
    return { name: `batch ${k + 1}: log entries [${b.from}, ${b.to})`, covers: { from: b.from, to: b.to }, envelope: cp, ...signedCase('checkpoint', 'aggregator', body, cp.signature) };
  });
  docs['checkpoint.json'] = {
    description: 'Signed checkpoints (GET /v1/checkpoints/latest, /v1/checkpoints/{seq}, and inside presentations), type "checkpoint": {sequence, config, stateRoot, chain, logSize, policyHash, time, keySetHash, keyMode}. Checkpoint `sequence` proves the batch of log entries [logSize of checkpoint sequence - 1 (0 for the first), logSize); an entry with index i is in a proven batch once a checkpoint has logSize > i. stateRoot and chain are decimal field elements (chain equals chain.json after logSize entries); time is milliseconds since 1970. These two prove the entries of log-leaf.json under the development key set of the test configuration (key-set.json).',
    spec: `${SPEC}, "Checkpoints"`,
    note: KEYS_NOTE,
    cases: checkpointCases,
  };

  // ---- key-set.json, key-document.json ----
  const vkeys: Record<string, Groth16VerificationKey> = Object.fromEntries(
    Object.keys(dev.descriptor.circuits).map((c) => [c, JSON.parse(readFileSync(join(PROJECT_ROOT, 'artifacts', CONFIG, `${c}.vkey.json`), 'utf8'))]),
  );
  for (const [c, vk] of Object.entries(vkeys)) if (vkeyHash(vk) !== dev.descriptor.circuits[c]!.vkey) throw new Error(`vkey ${c}`);
  docs['key-set.json'] = {
    description: 'Key set hashes and verification key hashes: keySetHash = hex(SHA-256(signingBytes("key-set", descriptor))) (nothing is signed: the type only separates the domain), and a descriptor\'s circuits.<name>.vkey = hex(SHA-256(canonical JSON of the snarkjs verification key)). `publishedPtau` lists the blake2b-512 of the published perpetual powers-of-tau files by power: a `ceremony` key set whose phase 1 is not among them counts as forgeable by its operator.',
    spec: `${SPEC}, "Key sets"`,
    cases: Object.entries(BUNDLED_KEYS).map(([name, k]) => {
      const bytes = signingBytes('key-set', k.descriptor);
      if (keySetHash(k.descriptor) !== sha256(bytes)) throw new Error('key set hash');
      return { name: `the development key set of the ${name} configuration`, descriptor: k.descriptor, signingBytes: { utf8: utf8(bytes), hex: hex(bytes) }, keySetHash: keySetHash(k.descriptor) };
    }),
    verificationKeys: Object.entries(vkeys).map(([circuit, vkey]) => ({ config: CONFIG, circuit, vkey, canonicalJsonSha256: vkeyHash(vkey) })),
    publishedPtau: PUBLISHED_PTAU_BLAKE2B,
  };
  const keyDocBody: KeyDocumentBody = { aggregator: didOf('aggregator'), keySetHash: dev.keySetHash, descriptor: dev.descriptor, verificationKeys: vkeys, fromSequence: 1 };
  const keyDoc = h.parts.signed<KeyDocumentBody>('key-document', keyDocBody);
  docs['key-document.json'] = {
    description: 'The aggregator\'s signed key document (the `document` of GET /v1/keys), type "key-document": {aggregator, keySetHash, descriptor, verificationKeys: {<circuit>: snarkjs verification key}, fromSequence}. A verifier given it (createVerifier\'s keyDocuments) accepts presentations that carry no key set.',
    spec: `${SPEC}, "Key documents"`,
    note: KEYS_NOTE,
    cases: [{ name: 'the development key set of the test configuration, in force from checkpoint 1', envelope: keyDoc, ...signedCase('key-document', 'aggregator', keyDocBody, keyDoc.signature) }],
  };

  // ---- context.json, threshold-request.json ----
  const contexts = [CONTEXT, { nonce: 'n', audience: 'did:web:gateway.example', expiry: 0 }, { nonce: 'nonce-\u00e9\u20ac', audience: 'https://b\u00fccher.example', expiry: 2 ** 40 - 1 }];
  docs['context.json'] = {
    description: 'Verifier contexts: nonceField = SHA-256(UTF-8 nonce) mod 2^248 (the digest read as a big-endian integer), the same for the audience, and contextHash = Poseidon(6, nonceField, audienceField, expiry), expiry in Unix seconds, an integer in [0, 2^40). Nonce and audience are non-empty strings.',
    spec: `${SPEC}, "Threshold context"`,
    cases: contexts.map((c) => ({
      context: c, nonceUtf8Hex: hex(new TextEncoder().encode(c.nonce)), audienceUtf8Hex: hex(new TextEncoder().encode(c.audience)),
      nonceField: stringToField(c.nonce).toString(), audienceField: stringToField(c.audience).toString(),
      poseidonInputs: [TAG_CONTEXT, stringToField(c.nonce), stringToField(c.audience), BigInt(c.expiry)].map(String), contextHash: contextHash(c).toString(),
    })),
  };
  const agentState = state.lookup(idOf('agent-1'))!.leaf.summary;
  const score = Number(evidenceScore(agentState, POLICY_V2));
  const minScore = Math.max(...TIER_THRESHOLDS.filter((t) => t <= score));
  const asks: Array<[string, ThresholdAsk]> = [
    ['every field given', { minScore, minRecords: 2, minOrgs: 2, context: CONTEXT }],
    ['minRecords and minOrgs left out: signed as 0', { minScore: 300, context: CONTEXT }],
  ];
  const thresholdCases = asks.map(([name, ask]) => {
    const request = buildThresholdRequest(testSeed('agent-1'), CHALLENGE, ask);
    const { signature, ...signedBody } = request;
    const sent = { ...request };
    if (ask.minRecords === undefined) delete (sent as Partial<typeof sent>).minRecords;
    if (ask.minOrgs === undefined) delete (sent as Partial<typeof sent>).minOrgs;
    return { name, ask, challenge: CHALLENGE, request: sent, ...signedCase('threshold-request', 'agent-1', signedBody, signature) };
  });
  const omitted = thresholdCases[1]!;
  const naiveBody = { ...(omitted.request as Record<string, unknown>) };
  delete naiveBody.signature;
  const naiveSignature = hex(sign(signingBytes('threshold-request', naiveBody), testSeed('agent-1')));
  const naive = { ...naiveBody, signature: naiveSignature };
  docs['threshold-request.json'] = {
    description: 'Threshold requests (POST /v1/proofs/threshold), as the agent client builds them: the agent signs, as type "threshold-request", {agent, minScore, minRecords, minOrgs, context: {hash, expiry}, challenge}: the request without its signature, with minRecords and minOrgs as 0 when they are left out, and the context hash (context.json) in place of the verifier\'s nonce and audience, which never reach the aggregator. `refused` shows what the service answers (a service with no proven state yet): a request signed over the fields as sent, without the zeros, is refused as invalid_signature; a well-signed one with a challenge this service did not issue as forbidden.',
    spec: `${SPEC}, "Threshold requests"`,
    note: KEYS_NOTE,
    challengeResponse: { agent: didOf('agent-1'), challenge: CHALLENGE, expires: T_MS + 120_000 },
    cases: thresholdCases,
    refused: await atTime(T_MS, async () => {
      const first = thresholdCases[0]!.request as Record<string, unknown>;
      const withExpiry = (expiry: number) => ({ ...first, context: { hash: contextHash(CONTEXT).toString(), expiry } });
      const refused: Array<[string, Record<string, unknown>, Record<string, unknown>?]> = [
        ['the second case as sent: its signature verifies (over the zeros), the challenge was not issued by this service', omitted.request as Record<string, unknown>],
        ['signed over the fields as sent, without minRecords and minOrgs', naive, { signingBytes: { utf8: utf8(signingBytes('threshold-request', naiveBody)) } }],
        ['context.expiry in milliseconds', withExpiry(CONTEXT.expiry * 1000)],
        ['context.expiry 2^40', withExpiry(2 ** 40)],
      ];
      const out = [];
      for (const [name, request, extra] of refused) out.push({ name, ...extra, request, code: await outcome(() => h.presenter.presentThreshold(request)) });
      return out;
    }),
  };

  // ---- ceremony-contribution.json ----
  const statement: ContributionStatement = {
    ceremony: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', circuit: 'threshold', index: 1, previous: sha256('the initial key'), next: sha256('the contributed key'),
    contributionHash: createHash('blake2b512').update('a contribution').digest('hex'), org: didOf('org-a'), name: 'Org A "north" \\ lab', time: T_S,
  };
  const contributionSignature = hex(sign(signingBytes('ceremony-contribution', statement), testSeed('org-a')));
  docs['ceremony-contribution.json'] = {
    description: 'A ceremony contribution\'s statement (POST /v1/ceremony/{circuit}/contributions): the organisation signs it as type "ceremony-contribution"; the zktrust-statement header carries base64url (RFC 4648 section 5, no padding) of its JSON (any key order and spacing: the service signs over the canonical JSON of what it parses), zktrust-signature the signature in lower-case hex. time is Unix seconds (within 10 minutes of the service\'s clock).',
    spec: `${SPEC}, "Ceremony contributions"`,
    note: KEYS_NOTE,
    cases: [{
      name: 'a name with a quote and a backslash (escaped in canonical JSON)',
      headers: { 'zktrust-statement': Buffer.from(JSON.stringify(statement)).toString('base64url'), 'zktrust-signature': contributionSignature },
      ...signedCase('ceremony-contribution', 'org-a', statement, contributionSignature),
    }],
  };

  // ---- presentation.json ----
  docs['presentation.json'] = await presentationDoc(h, { state, checkpoint: checkpoints[1]!, vkeys, minScore, keyDoc, opts });
  return docs;
}

/** Requests the service refuses, each with the code it answers, run on the harness after the cases. */
async function refusedSubmissions(h: Harness, requests: Array<ReturnType<typeof buildSubmission>>) {
  const atMs = T_MS + 3_000;
  const first = requests[0]!;
  const sk = testSeed('org-a');
  const one = [{ agent: didOf('agent-3'), epoch: 20455, kept: 1, broken: 0, violations: 0, salt: 9n }];
  const cases: Array<[string, unknown]> = [
    ['the first case again (its nonce is used)', first],
    ['timestamp in milliseconds', buildSubmission(sk, one, { nonce: 'aa'.repeat(8), timestamp: atMs })],
    ['timestamp 2^40 + 1', buildSubmission(sk, one, { nonce: 'aa'.repeat(8), timestamp: 2 ** 40 + 1 })],
    ['timestamp 2^40', buildSubmission(sk, one, { nonce: 'aa'.repeat(8), timestamp: 2 ** 40 })],
    ['timestamp 2^40 - 1 (in the schema\'s range, far from the clock)', buildSubmission(sk, one, { nonce: 'aa'.repeat(8), timestamp: 2 ** 40 - 1 })],
    ['timestamp 301 s behind the clock', buildSubmission(sk, one, { nonce: 'aa'.repeat(8), timestamp: atMs / 1000 - 301 })],
    ['nonce in upper case', buildSubmission(sk, one, { nonce: 'AA'.repeat(8), timestamp: atMs / 1000 })],
    ['nonce of 15 hex digits', buildSubmission(sk, one, { nonce: 'a'.repeat(15), timestamp: atMs / 1000 })],
    ['nonce of 66 hex digits', buildSubmission(sk, one, { nonce: 'a'.repeat(66), timestamp: atMs / 1000 })],
    ['a commitment changed after signing', (() => {
      const r = buildSubmission(sk, one, { nonce: 'ab'.repeat(8), timestamp: atMs / 1000 });
      return { ...r, records: [{ ...r.records[0]!, commitment: (BigInt(r.records[0]!.commitment) ^ 1n).toString() }] };
    })()],
    ['a salt changed after signing (the signature covers commitments, the service recomputes them)', (() => {
      const r = buildSubmission(sk, one, { nonce: 'ac'.repeat(8), timestamp: atMs / 1000 });
      return { ...r, records: [{ ...r.records[0]!, salt: '10' }] };
    })()],
    ['an epoch after tomorrow', buildSubmission(sk, [{ ...one[0]!, epoch: 20457 }], { nonce: 'ad'.repeat(8), timestamp: atMs / 1000 })],
    ['signed by another key than the organisation\'s', (() => {
      const r = buildSubmission(testSeed('org-b'), one, { nonce: 'ae'.repeat(8), timestamp: atMs / 1000 });
      return { ...r, org: didOf('org-a') };
    })()],
  ];
  const out = [];
  for (const [name, request] of cases) {
    const code = await atTime(atMs, () => outcome(() => h.ingestion.submit(stringify(request))));
    if (code === 'accepted') throw new Error(`refused submission "${name}" was accepted`);
    out.push({ name, atMs, request: stringify(request), status: ERROR_STATUS[code as keyof typeof ERROR_STATUS], code });
  }
  return out;
}

/** A G1 and a G2 point that are no development key's alpha and beta (the groups' generators). */
async function generators(): Promise<{ g1: string[]; g2: string[][] }> {
  const curve = await getCurve();
  const g1 = curve.G1.toObject(curve.G1.toAffine(curve.G1.g)).map(String);
  const g2 = curve.G2.toObject(curve.G2.toAffine(curve.G2.g)).map((c: bigint[]) => c.map(String));
  return { g1, g2 };
}

interface PresentationInputs {
  state: AgentState;
  checkpoint: Signed<CheckpointBody>;
  vkeys: Record<string, Groth16VerificationKey>;
  minScore: number;
  keyDoc: Signed<KeyDocumentBody>;
  opts: BuildOptions;
}

async function presentationDoc(h: Harness, { state, checkpoint, vkeys, minScore, keyDoc, opts }: PresentationInputs) {
  const dev = BUNDLED_KEYS[CONFIG]!;
  const vkey = vkeys.threshold!;
  const ph = policyHash(CIRCUIT_POLICY);
  const ask = { minScore, minRecords: 2, minOrgs: 2, context: CONTEXT };
  const request = buildThresholdRequest(testSeed('agent-1'), CHALLENGE, ask);
  const { input, public: expected } = buildThresholdInput(
    state,
    { agent: idOf('agent-1'), minScore: BigInt(minScore), minRecords: 2n, minOrgs: 2n, contextHash: BigInt(request.context.hash) },
    ph,
  );
  if (state.root.toString() !== checkpoint.body.stateRoot) throw new Error('the presentation must prove against the checkpoint\'s state');
  const signals = THRESHOLD_PUBLIC_SIGNALS.map((n) => expected[n].toString());
  let proven = opts.previous;
  const fits = proven !== undefined && JSON.stringify(proven.publicSignals) === JSON.stringify(signals) && (await verifyGroth16(vkey, signals, proven.proof as never).catch(() => false));
  if (!fits) {
    if (!opts.prove) throw new Error('presentation.json holds no proof of the current statement: run `npx tsx scripts/gen-conformance.ts`');
    const wasmPath = compiledCircuits(CONFIG).threshold!.wasmPath;
    const { zkeyPath } = await loadCircuitArtifacts(CONFIG, 'threshold', { quiet: true });
    const prover = await Groth16Prover.fromFiles({ circuit: 'threshold', wasmPath, zkeyPath, publicNames: THRESHOLD_PUBLIC_SIGNALS });
    const r = await prover.prove(input);
    proven = { proof: r.proof, publicSignals: r.publicSignals };
  }
  // What the aggregator answers (src/service/presenter.ts), and what the agent forwards (src/client/agent-client.ts).
  const answer: ProofResponse = {
    version: 2, circuit: 'threshold', config: CONFIG, agent: request.agent, proof: proven!.proof, publicSignals: proven!.publicSignals,
    context: request.context, checkpoint, keySet: dev.descriptor, verificationKey: vkey,
  };
  const presentation: Presentation = { ...answer, context: { nonce: CONTEXT.nonce, audience: CONTEXT.audience, expiry: CONTEXT.expiry } };

  const base = { options: { aggregatorKeys: [didOf('aggregator')], allowInsecureKeys: true }, expectations: { agent: didOf('agent-1'), minScore, minRecords: 2, minOrgs: 2, context: { nonce: CONTEXT.nonce, audience: CONTEXT.audience }, maxAgeS: 3600 }, nowMs: VERIFIER_NOW };
  const resigned = (over: Partial<CheckpointBody>): PatchOp => ({ op: 'replace', path: '/checkpoint', value: h.parts.signed('checkpoint', { ...checkpoint.body, ...over }) });
  const { g1, g2 } = await generators();
  const ceremonyVkey = { ...vkey, vk_alpha_1: g1, vk_beta_2: g2 };
  const ceremonySet: KeySetDescriptor = {
    version: 1, config: CONFIG, mode: 'ceremony', policyHash: ph.toString(), phase1: { kind: 'ptau', blake2b: 'ab'.repeat(64), power: 14 },
    circuits: { threshold: { r1cs: dev.descriptor.circuits.threshold!.r1cs, vkey: vkeyHash(ceremonyVkey), contributions: ['cd'.repeat(64)] } },
  };
  interface Case { name: string; reason: ReasonCode; options?: Record<string, unknown>; expectations?: Record<string, unknown>; nowMs?: number; patch?: PatchOp[]; why: string }
  const stranger = didOf('org-b');
  const cases: Case[] = [
    { name: 'as forwarded', reason: 'ok', why: 'every check passes (development keys, so only with allowInsecureKeys)' },
    { name: 'keys from the key document', reason: 'ok', options: { keyDocuments: [{ $ref: 'key-document.json#/cases/0/envelope' }] }, patch: [{ op: 'remove', path: '/keySet' }, { op: 'remove', path: '/verificationKey' }], why: 'a verifier that holds the aggregator\'s key document needs no keys in the presentation' },
    { name: 'version 3', reason: 'malformed', patch: [{ op: 'replace', path: '/version', value: 3 }], why: 'version must be 2 (or 1, the legacy form)' },
    { name: 'expiry 2^40', reason: 'malformed', patch: [{ op: 'replace', path: '/context/expiry', value: 2 ** 40 }], why: 'context.expiry must be an integer in [0, 2^40)' },
    { name: 'a public signal with a leading zero', reason: 'malformed', patch: [{ op: 'replace', path: '/publicSignals/2', value: `0${proven!.publicSignals[2]}` }], why: 'public signals are canonical decimal strings below r' },
    { name: 'checkpoint signed by an unknown key', reason: 'untrusted_aggregator', options: { aggregatorKeys: [stranger] }, why: 'checkpoint.signer is not among the trusted aggregator keys' },
    { name: 'state root altered after signing', reason: 'bad_checkpoint_signature', patch: [{ op: 'replace', path: '/checkpoint/body/stateRoot', value: '5' }], why: 'the checkpoint signature does not verify over the body' },
    { name: 'another configuration', reason: 'unknown_configuration', patch: [{ op: 'replace', path: '/config', value: 'production' }], why: 'config must be the key set\'s and the checkpoint\'s configuration' },
    { name: 'no keys, no key document', reason: 'unknown_key_set', patch: [{ op: 'remove', path: '/keySet' }], why: 'the presentation carries no key set and the verifier holds no key document of checkpoint.body.keySetHash' },
    { name: 'a descriptor that does not hash to the checkpoint\'s keySetHash', reason: 'key_set_mismatch', patch: [{ op: 'replace', path: '/keySet/circuits/threshold/contributions/0', value: 'ab'.repeat(64) }], why: 'keySetHash(keySet) must equal checkpoint.body.keySetHash' },
    { name: 'development keys refused by default', reason: 'insecure_keys', options: { allowInsecureKeys: false }, why: 'mode dev (or a key whose alpha or beta is a development key\'s) without allowInsecureKeys' },
    { name: 'development keys below a required mode', reason: 'key_mode_not_accepted', options: { requireKeyMode: 'local' }, why: 'the mode is below requireKeyMode (dev < local < ceremony)' },
    { name: 'key set not pinned', reason: 'untrusted_key_set', options: { trustedKeySets: ['00'.repeat(32)] }, why: 'trustedKeySets is given and does not list the key set' },
    {
      name: 'a ceremony key set over an unpublished phase 1', reason: 'unpublished_phase1', options: { requireKeyMode: 'ceremony' },
      patch: [{ op: 'replace', path: '/keySet', value: ceremonySet }, { op: 'replace', path: '/verificationKey', value: ceremonyVkey }, resigned({ keySetHash: keySetHash(ceremonySet), keyMode: 'ceremony' })],
      why: 'ceremony keys are required and phase1.blake2b is neither a published powers-of-tau file (key-set.json) nor in trustedPtauHashes',
    },
    { name: 'another agent expected', reason: 'agent_mismatch', expectations: { agent: didOf('agent-2') }, why: 'presentation.agent and the agent signal must be the expected agent' },
    { name: 'a checkpoint of another state', reason: 'root_mismatch', patch: [resigned({ stateRoot: '12345' })], why: 'the root signal must equal checkpoint.body.stateRoot' },
    { name: 'a higher score expected', reason: 'score_below_expected', expectations: { minScore: minScore + 1 }, why: 'the minScore signal must be at least the expected minScore (and at most 1000)' },
    { name: 'more records expected', reason: 'records_below_expected', expectations: { minRecords: 3 }, why: 'the minRecords signal must be at least the expected minRecords' },
    { name: 'more organisations expected', reason: 'orgs_below_expected', expectations: { minOrgs: 3 }, why: 'the minOrgs signal must be at least the expected minOrgs' },
    { name: 'a checkpoint of policy v1', reason: 'policy_mismatch', patch: [resigned({ policyHash: policyHash(POLICY_V1).toString() })], why: 'the policyHash signal must be an accepted policy and equal the checkpoint\'s and the key set\'s' },
    { name: 'another verifier nonce', reason: 'context_mismatch', expectations: { context: { nonce: 'another-nonce', audience: CONTEXT.audience } }, why: 'the contextHash signal must be contextHash(the verifier\'s nonce, its audience, context.expiry)' },
    { name: 'at the expiry', reason: 'expired', nowMs: CONTEXT.expiry * 1000, why: 'refused once now >= context.expiry * 1000' },
    { name: 'checkpoint older than maxAgeS', reason: 'stale_checkpoint', expectations: { maxAgeS: 59 }, why: 'refused once checkpoint.body.time + maxAgeS * 1000 < now' },
    { name: 'pi_c replaced by pi_a', reason: 'invalid_proof', patch: [{ op: 'replace', path: '/proof/pi_c', value: (proven!.proof as { pi_a: string[] }).pi_a }], why: 'the Groth16 pairing check fails' },
  ];
  // Every case must give its reason with the verifier as it is.
  for (const c of cases) {
    const options = { ...base.options, ...c.options } as Record<string, unknown>;
    if (options.keyDocuments) options.keyDocuments = [keyDoc];
    const verifier = createVerifier({ ...(options as unknown as VerifierOptions), now: () => c.nowMs ?? base.nowMs });
    const r = await verifier.verifyPresentation(applyPatch(presentation, c.patch ?? []), { ...base.expectations, ...c.expectations } as Expectations);
    if (r.reason !== c.reason) throw new Error(`presentation case "${c.name}": ${r.reason}, expected ${c.reason}`);
  }
  const reasons = new Set(cases.map((c) => c.reason));
  return {
    description: 'A threshold presentation under the development keys of the test configuration (anyone can forge under them: verifiers accept them only with allowInsecureKeys), proving for agent-1 that its score is at least minScore, with at least 2 records from at least 2 organisations, against checkpoint 2 of checkpoint.json. `proofResponse` is what the aggregator answers the request of threshold-request.json\'s first case; `presentation` is what the agent forwards (the verifier\'s nonce and audience in place of the context hash). Each case is the presentation changed by `patch` (RFC 6902 JSON Patch), checked with `base.options` overridden by `options`, `base.expectations` overridden by `expectations` and the clock at `nowMs` (milliseconds), and the reason the verifier returns. The Groth16 proof is random; regenerating keeps it while it still proves the same statement.',
    spec: `${SPEC}, "Verifying a presentation"`,
    note: KEYS_NOTE,
    publicSignalOrder: THRESHOLD_PUBLIC_SIGNALS,
    acceptedPolicyHashes: ACCEPTED_POLICY_HASHES,
    developmentKeyPoints: { vk_alpha_1: dev.threshold.vk_alpha_1, vk_beta_2: dev.threshold.vk_beta_2 },
    request: { ask, request },
    proofResponse: answer,
    presentation,
    base,
    reasonsCovered: [...reasons],
    cases,
  };
}
