/**
 * The wire schemas of the HTTP API, in one place: every request is validated with them and
 * the OpenAPI document (src/api/openapi.ts) is generated from them, so the two cannot drift.
 * zod 4; JSON Schema 2020-12 for OpenAPI 3.1 comes from z.toJSONSchema.
 *
 * Request schemas are strict (an unknown field is refused) and bound every string and array,
 * so that what validation costs is bounded before any cryptography runs. Domain checks that
 * need the service's state (an organisation's registration, a signature) happen after.
 * @module
 */
import { z } from 'zod';
import { FIELD_MODULUS } from '../crypto/field.ts';
import { ZkTrustError } from '../errors.ts';

// ---- scalars ----

export const Did = z.string().max(64).regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/).describe('did:key of an Ed25519 key (multicodec ed25519-pub, base58btc)');
export const Hex32 = z.string().regex(/^[0-9a-f]{64}$/).describe('32 bytes, lower-case hex');
export const Signature = z.string().regex(/^[0-9a-f]{128}$/).describe('Ed25519 signature (64 bytes, lower-case hex)');
export const Blake2b = z.string().regex(/^[0-9a-f]{128}$/).describe('blake2b-512, lower-case hex');
/** A canonical BN254 scalar-field element as a decimal string (below r). */
export const FieldElement = z
  .string()
  .max(78)
  .regex(/^(0|[1-9][0-9]{0,77})$/)
  // zod runs every check even after the pattern fails: read the number only when it is one.
  .refine((s) => !/^(0|[1-9][0-9]{0,77})$/.test(s) || BigInt(s) < FIELD_MODULUS, { message: 'must be below the field modulus r', params: { range: true } })
  .describe('decimal string of a field element below r');
export const Decimal = z.string().max(78).regex(/^(0|[1-9][0-9]{0,77})$/).describe('decimal string');
export const U32 = z.number().int().min(0).max(4294967295);
export const SafeUint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const CircuitName = z.string().regex(/^[a-z][a-z0-9-]{0,40}$/);
export const Nonce = z.string().regex(/^[0-9a-f]{16,64}$/).describe('16 to 64 lower-case hex digits, never reused by the organisation');
export const Challenge = z.string().regex(/^[0-9a-f]{80}$/).describe('a challenge from POST /v1/agents/challenge');
export const KeyModeSchema = z.enum(['dev', 'local', 'ceremony']);

/** A signed object as the aggregator returns it (docs/protocol.md, "Signed messages"). */
export const signed = <T extends z.ZodType>(body: T) => z.object({ body, signer: Did, signature: Signature });

// ---- requests ----

export const RegisterOrgBody = z
  .object({ name: z.string().min(1).max(200), publicKey: Hex32.optional(), did: Did.optional() })
  .strict()
  .refine((o) => (o.publicKey === undefined) !== (o.did === undefined), { message: 'give exactly one of publicKey and did' });

export const RecordSchema = z
  .object({
    commitment: FieldElement,
    agent: Did,
    epoch: U32,
    kept: U32,
    broken: U32,
    violations: U32,
    scope: U32,
    salt: FieldElement,
  })
  .strict();

/**
 * A submission. Its records are checked in two steps: the envelope (this schema with
 * `records` checked only for the commitments the signature covers) before the organisation
 * and its signature are checked, then each record in full (RecordSchema).
 */
export const submissionBody = (maxRecords: number) =>
  z
    .object({
      org: Did,
      nonce: Nonce,
      timestamp: z.number().int().min(0).max(2 ** 40 - 1).describe('Unix seconds'),
      records: z.array(RecordSchema).min(1).max(maxRecords),
      signature: Signature.describe('Ed25519 by the organisation over signingBytes("submission", {org, nonce, timestamp, commitments})'),
    })
    .strict();

/** What must hold before authentication: shapes, and the commitments the signature covers. */
export const submissionEnvelope = (maxRecords: number) =>
  z
    .object({
      org: Did,
      nonce: Nonce,
      timestamp: z.number().int().min(0).max(2 ** 40 - 1),
      records: z.array(z.looseObject({ commitment: Decimal })).min(1).max(maxRecords),
      signature: Signature,
    })
    .strict();

export const ChallengeBody = z.object({ agent: Did }).strict();

/**
 * A threshold request. The verifier's nonce and audience never reach the aggregator: the
 * agent sends their context hash (Poseidon(TAG_CONTEXT, nonce, audience, expiry)) and the
 * expiry, and adds nonce and audience to the presentation itself.
 */
export const ThresholdRequestBody = z
  .object({
    agent: Did,
    minScore: z.number().int().min(0).max(1000),
    minRecords: z.number().int().min(0).max(2 ** 47).optional(),
    minOrgs: z.number().int().min(0).max(2 ** 47).optional(),
    context: z.object({ hash: FieldElement, expiry: z.number().int().min(0).max(2 ** 40 - 1).describe('Unix seconds') }).strict(),
    challenge: Challenge,
    signature: Signature.describe('Ed25519 by the agent over signingBytes("threshold-request", every other field, optional ones as 0)'),
  })
  .strict();

export const CeremonyStartBody = z.object({ ptau: z.string().min(1).max(4096).describe('path of the powers-of-tau file on the aggregator machine'), ptauHash: Blake2b.optional() }).strict();
export const CeremonyFinalizeBody = z
  .object({
    beacon: z.string().regex(/^([0-9a-f]{2}){16,64}$/).describe('the public random value announced in advance'),
    iterations: z.number().int().min(10).max(63).optional(),
    activateAt: SafeUint.min(1).optional(),
  })
  .strict();

/** The JSON statement of a contribution (base64url in the zktrust-statement header). */
export const ContributionStatementSchema = z
  .object({
    ceremony: z.string().regex(/^[0-9a-f]{32}$/),
    circuit: CircuitName,
    index: z.number().int().min(0).max(100_000),
    previous: Hex32,
    next: Hex32,
    contributionHash: Blake2b,
    org: Did,
    name: z.string().regex(/^[\x20-\x7e]{0,64}$/),
    time: z.number().int().min(0).max(2 ** 40 - 1),
  })
  .strict();

// Path and query parameters: strings from the URL.
const uintString = z.string().regex(/^(0|[1-9][0-9]{0,15})$/).transform(Number);
export const SeqParams = z.object({ seq: uintString });
export const DidParams = z.object({ did: Did });
export const HashParams = z.object({ hash: Hex32 });
export const HashCircuitParams = z.object({ hash: Hex32, circuit: CircuitName });
export const CeremonyStepParams = z.object({ circuit: CircuitName, step: z.union([z.literal('latest'), uintString]) });
export const CircuitParams = z.object({ circuit: CircuitName });
export const RangeQuery = z.object({ start: uintString, end: uintString }).strict();
export const InclusionQuery = z.object({ index: uintString, size: uintString }).strict();
export const ConsistencyQuery = z.object({ first: uintString, second: uintString }).strict();
/** GET /v1/checkpoints answers at most this many checkpoints at once. */
export const MAX_CHECKPOINTS_PER_PAGE = 500;
export const CheckpointRangeQuery = z
  .object({
    from: uintString.pipe(z.number().min(1)).optional().describe('the first sequence (default 1)'),
    limit: uintString.pipe(z.number().min(1).max(MAX_CHECKPOINTS_PER_PAGE)).optional().describe(`at most this many checkpoints (default 100, at most ${MAX_CHECKPOINTS_PER_PAGE})`),
  })
  .strict();
export const SubmissionQuery = z.object({ id: z.string().max(200).regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}\/[0-9a-f]{16,64}$/) }).strict();
export const ContributionHeaders = z.object({ 'zktrust-statement': z.string().max(4096), 'zktrust-signature': Signature });

// ---- responses ----

export const ProblemSchema = z.object({ type: z.string(), title: z.string(), status: z.number().int(), detail: z.string(), code: z.string(), instance: z.string().optional() });

export const OrgSchema = z.object({ did: Did, publicKey: Hex32, index: SafeUint, name: z.string(), status: z.enum(['active', 'suspended']), registeredAt: SafeUint });
export const OrgListSchema = z.array(z.object({ did: Did, index: SafeUint, status: z.enum(['active', 'suspended']), name: z.string() }));

export const TreeHeadBodySchema = z.object({ size: SafeUint, root: Hex32, timestamp: SafeUint.describe('milliseconds since the epoch') });
export const ReceiptSchema = signed(z.object({ org: Did, firstIndex: SafeUint, count: SafeUint, treeHead: TreeHeadBodySchema, deadline: SafeUint.describe('milliseconds since the epoch') }));
export const TreeHeadSchema = signed(TreeHeadBodySchema);
export const LogEntrySchema = z.object({ index: SafeUint, commitment: Decimal, org: Did, orgIndex: SafeUint, submission: z.string() });
export const LogEntriesSchema = z.array(LogEntrySchema);
/** A submission as the log publishes it: what the organisation signed, and where its entries start. */
export const PublicSubmissionSchema = z.object({ org: Did, nonce: Nonce, timestamp: SafeUint, commitments: z.array(Decimal), signature: Signature, firstIndex: SafeUint });
export const InclusionProofSchema = z.object({ index: SafeUint, size: SafeUint, leafHash: Hex32, path: z.array(Hex32) });
export const ConsistencyProofSchema = z.object({ first: SafeUint, second: SafeUint, proof: z.array(Hex32) });

export const CheckpointBodySchema = z.object({
  // Batches are numbered from 1 (the verifier refuses 0 too).
  sequence: SafeUint.min(1),
  config: z.string(),
  stateRoot: Decimal,
  chain: Decimal,
  logSize: SafeUint,
  policyHash: Decimal,
  time: SafeUint.describe('milliseconds since the epoch'),
  keySetHash: Hex32,
  keyMode: KeyModeSchema,
});
export const CheckpointSchema = signed(CheckpointBodySchema);
/** A checkpoint with its batch's log range and when its first and last entries were accepted (the proving lag). */
export const CheckpointSummarySchema = z.object({
  checkpoint: CheckpointSchema,
  fromIndex: SafeUint.describe('the batch applied log entries [fromIndex, toIndex)'),
  toIndex: SafeUint.describe("one past its last entry: the checkpoint's logSize"),
  firstAcceptedAt: SafeUint.optional().describe("milliseconds since the epoch: when the batch's first (oldest) entry was accepted, by the aggregator's clock (absent for a batch of no entries)"),
  lastAcceptedAt: SafeUint.optional().describe("milliseconds since the epoch: when the batch's last entry was accepted, by the aggregator's clock"),
});
export const CheckpointListSchema = z.array(CheckpointSummarySchema);
const G1 = z.array(Decimal).length(3);
const G2 = z.array(z.array(Decimal).length(2)).length(3);
export const Groth16ProofSchema = z.object({ pi_a: G1, pi_b: G2, pi_c: G1, protocol: z.string().optional(), curve: z.string().optional() });
export const BatchSchema = z.object({ sequence: SafeUint, fromIndex: SafeUint, toIndex: SafeUint, proof: Groth16ProofSchema, publicSignals: z.array(Decimal), checkpoint: CheckpointSchema });

export const VerificationKeySchema = z.looseObject({ protocol: z.literal('groth16'), curve: z.string(), nPublic: SafeUint, vk_alpha_1: G1, vk_beta_2: G2, vk_gamma_2: G2, vk_delta_2: G2, IC: z.array(G1) });
export const Phase1Schema = z.union([
  z.object({ kind: z.literal('seed'), seed: z.string() }),
  z.object({ kind: z.literal('local') }),
  z.object({ kind: z.literal('ptau'), blake2b: Blake2b, power: z.number().int() }),
]);
export const KeySetDescriptorSchema = z.object({
  version: z.literal(1),
  config: z.string(),
  mode: KeyModeSchema,
  policyHash: Decimal,
  phase1: Phase1Schema,
  circuits: z.record(z.string(), z.object({ r1cs: Hex32, vkey: Hex32, contributions: z.array(Blake2b) })),
});
export const ForgeableBySchema = z.enum(['anyone', 'operator', 'colluding-participants']);
export const KeyViewSchema = z.object({
  aggregator: Did,
  config: z.string(),
  genesisRoot: Decimal,
  mode: KeyModeSchema,
  keySetHash: Hex32,
  forgeableBy: ForgeableBySchema,
  fromSequence: SafeUint,
  phase1: Phase1Schema,
  policyHash: Decimal,
  circuits: z.record(z.string(), z.object({ vkey: VerificationKeySchema, vkeyHash: Hex32, r1cs: Hex32, contributions: z.array(Blake2b) })),
  history: z.array(z.object({ fromSequence: SafeUint, keySetHash: Hex32, mode: KeyModeSchema, forgeableBy: ForgeableBySchema })),
  document: signed(z.object({ aggregator: Did, keySetHash: Hex32, descriptor: KeySetDescriptorSchema, verificationKeys: z.record(z.string(), VerificationKeySchema), fromSequence: SafeUint })),
  transcript: z.unknown().optional(),
});

export const ChallengeSchema = z.object({ agent: Did, challenge: Challenge, expires: SafeUint.describe('milliseconds since the epoch') });
/**
 * What the aggregator returns for a threshold request: a presentation without the verifier's
 * nonce and audience, which the agent adds (context: {expiry, hash}).
 */
export const ProofResponseSchema = z.object({
  version: z.literal(2),
  circuit: z.literal('threshold'),
  config: z.string(),
  agent: Did,
  proof: Groth16ProofSchema,
  publicSignals: z.array(Decimal),
  context: z.object({ hash: Decimal, expiry: SafeUint }),
  checkpoint: CheckpointSchema,
  keySet: KeySetDescriptorSchema,
  verificationKey: VerificationKeySchema,
});

const StepSchema = z.object({
  index: SafeUint,
  kind: z.enum(['init', 'contribution', 'beacon']),
  zkey: Hex32,
  contributionHash: Blake2b.optional(),
  org: Did.optional(),
  name: z.string().optional(),
  statement: ContributionStatementSchema.optional(),
  signature: Signature.optional(),
  at: SafeUint,
});
export const CeremonyStepSchema = StepSchema;
export const CeremonyStateSchema = z.object({
  id: z.string(),
  config: z.string(),
  status: z.enum(['preparing', 'open', 'finalizing', 'finalized', 'failed']),
  phase1: z.object({ blake2b: Blake2b, power: z.number().int(), published: z.boolean() }),
  createdAt: SafeUint,
  circuits: z.record(z.string(), z.array(StepSchema)),
  beacon: z.object({ value: z.string(), iterationsExp: z.number().int() }).optional(),
  activateAt: SafeUint.optional(),
  keySetHash: Hex32.optional(),
  error: z.string().optional(),
});

export const HealthSchema = z.object({
  status: z.literal('ok'),
  phase: z.enum(['starting', 'ready', 'failed', 'stopping']),
  aggregator: Did.optional(),
  config: z.string(),
  keyMode: KeyModeSchema.optional(),
  keySetHash: Hex32.optional(),
  pending: SafeUint.optional(),
  checkpoint: SafeUint.optional(),
  uptimeS: SafeUint,
});
const ComponentSchema = z.object({ ok: z.boolean(), detail: z.string().optional() });
export const ReadySchema = z.object({
  status: z.enum(['ready', 'starting', 'degraded']),
  aggregator: Did.optional(),
  config: z.string(),
  phase: z.string(),
  progress: z.object({ step: z.string(), percent: z.number() }).optional(),
  keyMode: KeyModeSchema.optional(),
  keySetHash: Hex32.optional(),
  checkpoint: SafeUint.optional(),
  pending: SafeUint.optional(),
  oldestPendingS: z.number().optional(),
  components: z.record(z.string(), ComponentSchema),
});
// ---- parsing ----

/**
 * Parses `value` with `schema`, or throws the ZkTrustError a client should see: 413
 * payload_too_large for an array over its bound, 400 out_of_range for a number out of its
 * range, 400 malformed for anything else, naming the first offending field.
 */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const first = r.error.issues[0]!;
  // Messages can quote a client's field names: keep them short.
  const issue = { ...first, message: first.message.slice(0, 160) };
  const at = [what, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))].join('').replace(/\.\[/g, '[');
  const origin = (issue as { origin?: string }).origin;
  if (issue.code === 'too_big' && origin === 'array') throw new ZkTrustError('payload_too_large', `${at}: too many elements (${issue.message})`);
  if ((issue.code === 'too_big' || issue.code === 'too_small') && (origin === 'number' || origin === 'int')) throw new ZkTrustError('out_of_range', `${at}: ${issue.message}`);
  // A refinement that marks a value out of its range (a field element >= r).
  if (issue.code === 'custom' && (issue as { params?: { range?: boolean } }).params?.range) throw new ZkTrustError('out_of_range', `${at}: ${issue.message}`);
  throw new ZkTrustError('malformed', `${at}: ${issue.message}`);
}
