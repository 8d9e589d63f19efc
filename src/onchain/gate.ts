/**
 * The on-chain gate: a Solidity contract, generated for one key set's threshold verification
 * key, that accepts a threshold presentation against a checkpoint its publisher (the
 * aggregator operator's Ethereum account) published, and the calldata a relying party, a
 * relayer or the publisher sends it. The contract's own doc comment (in `gateContract`) says
 * what the chain checks, what it trusts instead of the aggregator's Ed25519 signature, and
 * what it cannot check; docs/protocol.md "On-chain verification" says the same for readers.
 *
 *   const source = solidityGate(vkey, descriptor);                  // refuses development keys
 *   // compile with solc, deploy with gateConstructorArgs(publisher)
 *   send(publisher, gate, publishCheckpointCalldata(checkpoint, aggregatorDid));
 *   call(gate, gateVerifyCalldata(presentation, { agent, minScore: 700, context, maxAgeS: 3600 }));
 *   // reverted? decodeGateError(returnData).reasons: the in-process verifier's reason codes
 *
 * Node only (the generator reads circomlibjs's Poseidon constants); imports no Ethereum
 * library: compiling and running the contract is the caller's business (test/helpers/evm.ts).
 * @module
 */
import { signingBytes } from '../crypto/canonical.ts';
import { EXPIRY_BITS } from '../crypto/context.ts';
import { verifyStrict } from '../crypto/ed25519.ts';
import { describe } from '../crypto/field.ts';
import { identityField, publicKeyFromDid } from '../crypto/identity.ts';
import { FORGEABLE_BY, KEY_MODES, isPublishedPhase1, keySetHash, parseKeySetDescriptor, vkeyHash, type KeyMode, type KeySetDescriptor } from '../crypto/key-set.ts';
import { ACCEPTED_POLICY_HASHES } from '../crypto/score-policy.ts';
import { TAG_CONTEXT } from '../crypto/tags.ts';
import type { CheckpointBody, Signed } from '../protocol/wire.ts';
import { THRESHOLD_PUBLIC_SIGNALS } from '../state/threshold-input.ts';
import { BUNDLED_KEYS, isDevelopmentKey } from '../verifier/keys.ts';
import type { ReasonCode } from '../verifier/presentation.ts';
import { decodeWords, encodeCall, encodeParams, fitsWord, hexToBytes, selector, type AbiType } from './abi.ts';
import { solidityPoseidon } from './solidity-poseidon.ts';
import { assertIdentifier, fileHeader, parseVerificationKey, verifierContract, type G2 } from './solidity.ts';

/** The gate's key modes, in the contract's enum order. */
export const GATE_KEY_MODES: readonly KeyMode[] = KEY_MODES;

/** The largest checkpoint age an expectation may ask for, as the in-process verifier's. */
const MAX_AGE_LIMIT_S = 10 * 365 * 86_400;

const N = THRESHOLD_PUBLIC_SIGNALS.length;
const sig = (name: string) => THRESHOLD_PUBLIC_SIGNALS.indexOf(name as (typeof THRESHOLD_PUBLIC_SIGNALS)[number]);

/**
 * Every custom error of the gate, with the reason codes of the in-process verifier
 * (src/verifier/presentation.ts) it stands for; an empty list is a mistake of the caller, the
 * publisher or the deployer, which the in-process verifier reports by throwing (or which has
 * no counterpart there).
 */
export const GATE_ERRORS = {
  Malformed: ['malformed'],
  // The root names no checkpoint of the authorised publisher: the chain's form of a
  // checkpoint not signed by a trusted aggregator, or of a root signal not the checkpoint's.
  UnpublishedRoot: ['untrusted_aggregator', 'bad_checkpoint_signature', 'root_mismatch'],
  AgentMismatch: ['agent_mismatch'],
  ScoreBelowExpected: ['score_below_expected'],
  RecordsBelowExpected: ['records_below_expected'],
  OrgsBelowExpected: ['orgs_below_expected'],
  PolicyMismatch: ['policy_mismatch'],
  ContextMismatch: ['context_mismatch'],
  Expired: ['expired'],
  StaleCheckpoint: ['stale_checkpoint'],
  InvalidProof: ['invalid_proof'],
  InsecureKeys: ['insecure_keys'],
  KeySetMismatch: ['key_set_mismatch'],
  ConfigurationMismatch: ['unknown_configuration'],
  InvalidExpectations: [],
  NotPublisher: [],
  InvalidPublisher: [],
  InvalidCheckpoint: [],
  SequenceNotIncreasing: [],
  RootAlreadyPublished: [],
  NotEnoughGasForPairing: [],
} as const satisfies Record<string, readonly ReasonCode[]>;
export type GateError = keyof typeof GATE_ERRORS;

/** Each error's Solidity signature (its arguments are static words). */
const ERROR_SIGNATURES: Record<GateError, string> = {
  Malformed: 'Malformed()',
  UnpublishedRoot: 'UnpublishedRoot(uint256)',
  AgentMismatch: 'AgentMismatch()',
  ScoreBelowExpected: 'ScoreBelowExpected()',
  RecordsBelowExpected: 'RecordsBelowExpected()',
  OrgsBelowExpected: 'OrgsBelowExpected()',
  PolicyMismatch: 'PolicyMismatch()',
  ContextMismatch: 'ContextMismatch()',
  Expired: 'Expired()',
  StaleCheckpoint: 'StaleCheckpoint()',
  InvalidProof: 'InvalidProof()',
  InsecureKeys: 'InsecureKeys()',
  KeySetMismatch: 'KeySetMismatch()',
  ConfigurationMismatch: 'ConfigurationMismatch()',
  InvalidExpectations: 'InvalidExpectations()',
  NotPublisher: 'NotPublisher(address)',
  InvalidPublisher: 'InvalidPublisher()',
  InvalidCheckpoint: 'InvalidCheckpoint()',
  SequenceNotIncreasing: 'SequenceNotIncreasing()',
  RootAlreadyPublished: 'RootAlreadyPublished(uint256)',
  NotEnoughGasForPairing: 'NotEnoughGasForPairing()',
};
const ERROR_BY_SELECTOR = new Map(Object.entries(ERROR_SIGNATURES).map(([name, s]) => [selector(s), name as GateError]));

/**
 * Reads a gate's revert data: which error, its arguments, and the in-process reason codes it
 * stands for. Undefined for revert data that is no gate error (an out-of-gas revert has none).
 * @example decodeGateError(returnData) // { error: 'ContextMismatch', args: [], reasons: ['context_mismatch'] }
 */
export function decodeGateError(data: Uint8Array): { error: GateError; args: bigint[]; reasons: readonly ReasonCode[] } | undefined {
  if (!(data instanceof Uint8Array) || data.length < 4 || (data.length - 4) % 32 !== 0) return undefined;
  const name = ERROR_BY_SELECTOR.get(Array.from(data.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(''));
  if (!name) return undefined;
  return { error: name, args: decodeWords(data.subarray(4)), reasons: GATE_ERRORS[name] };
}

// ---- The contract ----------------------------------------------------------------------

export interface SolidityGateOptions {
  /** The gate contract's name (default `ZktrustGate`). */
  contractName?: string;
  /** The name of the verifier contract it inherits (default `ZktrustThresholdVerifier`). */
  verifierName?: string;
  /**
   * Generate a gate for development keys (public seed: anyone can forge proofs). The
   * deployment must then also pass `allowInsecureKeys` to the constructor. Tests only.
   */
  allowInsecureKeys?: boolean;
}

const devPoints = (() => {
  const dev = Object.values(BUNDLED_KEYS).filter((k) => k.mode === 'dev').map((k) => parseVerificationKey(k.threshold));
  const [first] = dev;
  if (!first || dev.some((k) => k.alpha.join() !== first.alpha.join() || k.beta.flat().join() !== first.beta.flat().join())) {
    throw new RangeError('the bundled development keys do not share alpha and beta');
  }
  return { alpha: first.alpha, beta: first.beta };
})();

const g2Fields = (name: string, [x, y]: G2) =>
  [`${name}_X1 = ${x[1]}`, `${name}_X0 = ${x[0]}`, `${name}_Y1 = ${y[1]}`, `${name}_Y0 = ${y[0]}`].map((s) => `    uint256 internal constant ${s};`).join('\n');

/**
 * The gate's Solidity source (its verifier and Poseidon included) for one key set: the
 * threshold verification key `vkey` and the key set's descriptor, which must name that key.
 * @throws RangeError if the descriptor does not name `vkey` as its threshold key, its policy
 *   is not one verifiers accept, the key is not a threshold key (7 public signals), or the key
 *   is a development key (mode `dev`, or the development seed's alpha or beta whatever the
 *   mode says) and `allowInsecureKeys` is not set; TypeError for malformed arguments.
 * @example solidityGate(keySet.verificationKeys.threshold, keySet.descriptor)
 */
export function solidityGate(vkey: unknown, descriptor: KeySetDescriptor, opts: SolidityGateOptions = {}): string {
  const gate = opts.contractName ?? 'ZktrustGate';
  const verifier = opts.verifierName ?? 'ZktrustThresholdVerifier';
  assertIdentifier(gate, 'contractName');
  assertIdentifier(verifier, 'verifierName');
  if (gate === verifier) throw new RangeError('contractName and verifierName must differ');
  const d = parseKeySetDescriptor(descriptor, 'descriptor');
  const k = parseVerificationKey(vkey);
  if (k.nPublic !== N) throw new RangeError(`the threshold key has ${N} public signals, this key ${k.nPublic}`);
  if (d.circuits.threshold?.vkey !== k.hash) throw new RangeError("the descriptor's threshold key is not this verification key");
  if (!ACCEPTED_POLICY_HASHES.includes(d.policyHash)) throw new RangeError("the descriptor's policy is not an accepted policy");
  const dev = d.mode === 'dev' || isDevelopmentKey(vkey as never);
  if (dev && !opts.allowInsecureKeys) throw new RangeError('development keys: anyone can forge proofs under them; pass allowInsecureKeys (tests only)');
  const publishedPhase1 = d.mode === 'ceremony' && isPublishedPhase1(d.phase1);
  const hash = keySetHash(d);
  const body = gateContract(gate, verifier, { descriptor: d, keySetHash: hash, publishedPhase1 });
  return `${fileHeader(`${gate}: threshold presentations of key set ${hash} checked on chain.`, vkeyHash(vkey))}\n${verifierContract(vkey, verifier)}\n${body}`;
}

function gateContract(name: string, base: string, k: { descriptor: KeySetDescriptor; keySetHash: string; publishedPhase1: boolean }): string {
  const d = k.descriptor;
  const at = (s: string) => sig(s);
  const modeName = (m: KeyMode) => ({ dev: 'Dev', local: 'Local', ceremony: 'Ceremony' })[m];
  return `/**
 * @title zktrust gate: threshold presentations checked on chain (key set ${k.keySetHash.slice(0, 16)}...)
 * @notice Accepts a presentation, "this agent's trust score is at least X", against a checkpoint
 * of the aggregator that the publisher (the aggregator operator's account, fixed at deployment)
 * published here, under this contract's one verification key (key set KEY_SET_HASH).
 *
 * verify() checks, in the in-process verifier's order (src/verifier/presentation.ts), and
 * reverts at the first failure with the error named after its reason code:
 *   0. the caller's expectations are in range (InvalidExpectations: the in-process verifier
 *      throws), every public signal is below r, every proof coordinate below q and the expiry
 *      below 2^40 (Malformed);
 *   1. the root signal is the state root of a checkpoint the publisher published
 *      (UnpublishedRoot);
 *   4. the agent signal is the expected agent's identity field, the proven minimum score at
 *      least the expected and at most 1000, the proven records and organisations at least the
 *      expected, the policy signal this key set's policy (and every published checkpoint's),
 *      and the context signal the hash of the caller's own nonce, audience and the expiry,
 *      recomputed here (Poseidon, docs/protocol.md "Threshold context");
 *   5. block.timestamp < expiry, and the checkpoint's time is at most maxAgeS old;
 *   6. the Groth16 proof (InvalidProof; a point off its curve, at infinity or outside the
 *      subgroup included).
 * Steps 2 and 3 happen once, at deployment: the key set is fixed (the generator checked that
 * the descriptor names this key and an accepted policy); the constructor refuses development
 * keys (mode dev, or the development seed's alpha or beta whatever mode is claimed) unless
 * allowInsecureKeys, and keyMode() says which mode the key counts as.
 *
 * What the chain trusts instead of what the in-process verifier checks:
 * - The checkpoint. In-process, a checkpoint counts because the aggregator's Ed25519 key
 *   signed it. Here it counts because the publisher account sent it: Ed25519 is not checked on
 *   chain (no precompile), so the trust moves from the aggregator's signing key to the
 *   publisher's Ethereum key. Whoever holds that key can publish any root, including one the
 *   aggregator never signed or no batch proof reached, and can state any time (freshness is
 *   only as honest as the publisher). publishCheckpoint logs the aggregator's signature with
 *   every checkpoint so that anyone can check off chain that each published checkpoint is one
 *   the aggregator signed, and audit (zktrust audit) that its root is the end of a chain of
 *   batch proofs from genesis; the chain itself checks neither.
 * - The key set. The descriptor's hash, its mode, its phase 1 and its policy are constants
 *   written by the generator; the chain cannot hash the descriptor. Rebuild this source from
 *   the key set (src/onchain/gate.ts) and compare it with the verified source to check them.
 *   A ceremony's phase 1 counts as published only if it is a known powers-of-tau file
 *   (PHASE1_PUBLISHED); trustedPtauHashes has no counterpart here, nor requireKeyMode or
 *   trustedKeySets: a relying contract reads keyMode(), forgeableBy() and KEY_SET_HASH.
 * - Time. block.timestamp is the block proposer's clock, not the verifier's.
 * - The agent. The expected agent is its identity field id(pk) (docs/protocol.md
 *   "Identities"), computed off chain from its did:key: the chain does not parse DIDs.
 * - Replay. Like the in-process verifier, the gate does not remember what it accepted: the
 *   nonce is the relying contract's to make fresh and to retire. Never use proof bytes as an
 *   identifier: Groth16 proofs are malleable.
 */
contract ${name} is ${base} {
    enum KeyMode { Dev, Local, Ceremony }

    /// A Groth16 proof: A and C as [x, y], B as [[x.imag, x.real], [y.imag, y.real]].
    struct Proof { uint256[2] a; uint256[2][2] b; uint256[2] c; }
    /// A presentation as the chain reads it: the proof, the public signals (${THRESHOLD_PUBLIC_SIGNALS.join(', ')}) and the context's expiry (Unix seconds).
    struct Presentation { Proof proof; uint256[${N}] signals; uint256 expiry; }
    /// What the caller expects: the agent's identity field, the least score, records and organisations, its own nonce and audience, the oldest checkpoint (seconds).
    struct Expectations { uint256 agent; uint256 minScore; uint256 minRecords; uint256 minOrgs; string nonce; string audience; uint256 maxAgeS; }
    /// A checkpoint body as the aggregator signs it (docs/protocol.md "Checkpoints"); keyMode in the KeyMode order.
    struct Checkpoint { uint256 sequence; string config; uint256 stateRoot; uint256 chain; uint256 logSize; uint256 policyHash; uint256 time; bytes32 keySetHash; uint256 keyMode; }
    struct Published { uint64 sequence; uint64 time; }

    /// The key set this gate verifies under (hex sha256 of its descriptor), its configuration, policy and mode.
    bytes32 public constant KEY_SET_HASH = 0x${k.keySetHash};
    string public constant CONFIG = "${d.config}";
    uint256 public constant POLICY_HASH = ${d.policyHash};
    KeyMode public constant CLAIMED_KEY_MODE = KeyMode.${modeName(d.mode)};
    /// Whether the key set's phase 1 is a published powers-of-tau file (ceremony keys only).
    bool public constant PHASE1_PUBLISHED = ${k.publishedPhase1};

    // The development seed's alpha and beta (every development key has them, src/verifier/keys.ts).
    uint256 internal constant DEV_ALPHA_X = ${devPoints.alpha[0]};
    uint256 internal constant DEV_ALPHA_Y = ${devPoints.alpha[1]};
${g2Fields('DEV_BETA', devPoints.beta)}

    uint256 internal constant TAG_CONTEXT = ${TAG_CONTEXT};
    uint256 internal constant EXPIRY_LIMIT = ${1n << BigInt(EXPIRY_BITS)};
    uint256 internal constant FIELD_248 = ${(1n << 248n) - 1n};
    uint256 internal constant ID_LIMIT = ${1n << 252n};
    uint256 internal constant COUNT_LIMIT = ${1n << 48n};
    uint256 internal constant MAX_SAFE_INTEGER = ${Number.MAX_SAFE_INTEGER};
    uint256 internal constant MAX_AGE_LIMIT_S = ${MAX_AGE_LIMIT_S};
    uint256 internal constant MAX_SCORE = 1000;

    /// The mode the key counts as: Dev if claimed or if it has the development seed's alpha or beta.
    KeyMode public immutable keyMode;
    /// The only account that may publish checkpoints.
    address public immutable publisher;
    /// The sequence of the latest published checkpoint (0: none).
    uint256 public latestSequence;
    mapping(uint256 stateRoot => Published) internal _published;

    event CheckpointPublished(uint256 indexed sequence, uint256 indexed stateRoot, uint256 chain, uint256 logSize, uint256 time, bytes signature);

    error Malformed();
    error UnpublishedRoot(uint256 root);
    error AgentMismatch();
    error ScoreBelowExpected();
    error RecordsBelowExpected();
    error OrgsBelowExpected();
    error PolicyMismatch();
    error ContextMismatch();
    error Expired();
    error StaleCheckpoint();
    error InvalidProof();
    error InsecureKeys();
    error KeySetMismatch();
    error ConfigurationMismatch();
    error InvalidExpectations();
    error NotPublisher(address caller);
    error InvalidPublisher();
    error InvalidCheckpoint();
    error SequenceNotIncreasing();
    error RootAlreadyPublished(uint256 root);

    /**
     * @param publisher_ the account allowed to publish checkpoints (the aggregator operator's)
     * @param allowInsecureKeys deploy even under development keys, which anyone can forge proofs under (tests only)
     */
    constructor(address publisher_, bool allowInsecureKeys) {
        if (publisher_ == address(0)) revert InvalidPublisher();
        KeyMode mode = isDevelopmentKey() ? KeyMode.Dev : CLAIMED_KEY_MODE;
        if (mode == KeyMode.Dev && !allowInsecureKeys) revert InsecureKeys();
        keyMode = mode;
        publisher = publisher_;
    }

    /// Whether the key is claimed dev or has the development seed's alpha or beta: then anyone can forge proofs.
    function isDevelopmentKey() public pure returns (bool) {
        if (CLAIMED_KEY_MODE == KeyMode.Dev) return true;
        if (ALPHA_X == DEV_ALPHA_X && ALPHA_Y == DEV_ALPHA_Y) return true;
        return BETA_X1 == DEV_BETA_X1 && BETA_X0 == DEV_BETA_X0 && BETA_Y1 == DEV_BETA_Y1 && BETA_Y0 == DEV_BETA_Y0;
    }

    /// Who could forge a proof under the key: ${Object.values(FORGEABLE_BY).map((x) => `"${x}"`).join(', ')} (src/crypto/key-set.ts FORGEABLE_BY).
    function forgeableBy() external view returns (string memory) {
        if (keyMode == KeyMode.Dev) return "${FORGEABLE_BY.dev}";
        if (keyMode == KeyMode.Ceremony && PHASE1_PUBLISHED) return "${FORGEABLE_BY.ceremony}";
        return "${FORGEABLE_BY.local}";
    }

    /// The published checkpoint of a state root: its sequence (0: none) and time (ms).
    function checkpointOf(uint256 stateRoot) external view returns (uint256 sequence, uint256 time) {
        Published memory c = _published[stateRoot];
        return (c.sequence, c.time);
    }

    /**
     * @notice Publishes a checkpoint the aggregator signed (only the publisher). Sequences
     * increase; a root is published once; the checkpoint must be under this gate's key set,
     * configuration, mode and policy. \`signature\` is the aggregator's Ed25519 signature of the
     * body, logged for auditors, not checked here.
     */
    function publishCheckpoint(Checkpoint calldata c, bytes calldata signature) external {
        if (msg.sender != publisher) revert NotPublisher(msg.sender);
        if (c.keySetHash != KEY_SET_HASH || c.keyMode != uint256(CLAIMED_KEY_MODE)) revert KeySetMismatch();
        if (keccak256(bytes(c.config)) != keccak256(bytes(CONFIG))) revert ConfigurationMismatch();
        if (c.policyHash != POLICY_HASH) revert PolicyMismatch();
        if (c.sequence == 0 || c.sequence > MAX_SAFE_INTEGER || c.time > MAX_SAFE_INTEGER || c.logSize > MAX_SAFE_INTEGER) revert InvalidCheckpoint();
        if (c.stateRoot >= R || c.chain >= R || signature.length != 64) revert InvalidCheckpoint();
        if (c.sequence <= latestSequence) revert SequenceNotIncreasing();
        if (_published[c.stateRoot].sequence != 0) revert RootAlreadyPublished(c.stateRoot);
        latestSequence = c.sequence;
        _published[c.stateRoot] = Published(uint64(c.sequence), uint64(c.time));
        emit CheckpointPublished(c.sequence, c.stateRoot, c.chain, c.logSize, c.time, signature);
    }

    /**
     * @notice Verifies a presentation against the caller's expectations (see the contract's
     * comment for the checks); reverts with the error of the first failure.
     * @return provenMinScore the minimum score the proof establishes
     * @return sequence the sequence of the checkpoint it is about
     */
    function verify(Presentation calldata p, Expectations calldata e) external view returns (uint256 provenMinScore, uint256 sequence) {
        if (e.agent == 0 || e.agent >= ID_LIMIT || e.minScore > MAX_SCORE || e.minRecords >= COUNT_LIMIT || e.minOrgs >= COUNT_LIMIT) revert InvalidExpectations();
        if (bytes(e.nonce).length == 0 || bytes(e.audience).length == 0 || e.maxAgeS > MAX_AGE_LIMIT_S) revert InvalidExpectations();
        // 0. Shape.
        for (uint256 i = 0; i < ${N}; ++i) if (p.signals[i] >= R) revert Malformed();
        if (p.expiry >= EXPIRY_LIMIT || !_inField(p.proof)) revert Malformed();
        // 1. A checkpoint the publisher published.
        Published memory cp = _published[p.signals[${at('root')}]];
        if (cp.sequence == 0) revert UnpublishedRoot(p.signals[${at('root')}]);
        // 4. The statement.
        if (p.signals[${at('agent')}] != e.agent) revert AgentMismatch();
        if (p.signals[${at('minScore')}] < e.minScore || p.signals[${at('minScore')}] > MAX_SCORE) revert ScoreBelowExpected();
        if (p.signals[${at('minRecords')}] < e.minRecords) revert RecordsBelowExpected();
        if (p.signals[${at('minOrgs')}] < e.minOrgs) revert OrgsBelowExpected();
        if (p.signals[${at('policyHash')}] != POLICY_HASH) revert PolicyMismatch();
        if (p.signals[${at('contextHash')}] != _contextHash(e.nonce, e.audience, p.expiry)) revert ContextMismatch();
        // 5. Freshness (the checkpoint's time is in milliseconds).
        if (block.timestamp >= p.expiry) revert Expired();
        if (block.timestamp * 1000 > uint256(cp.time) + e.maxAgeS * 1000) revert StaleCheckpoint();
        // 6. The proof.
        if (!verifyProof(p.proof.a, p.proof.b, p.proof.c, p.signals)) revert InvalidProof();
        return (p.signals[${at('minScore')}], cp.sequence);
    }

    /// contextHash = Poseidon(TAG_CONTEXT, field(nonce), field(audience), expiry), field(s) = sha256(UTF-8 s) mod 2^248.
    function contextHash(string calldata nonce, string calldata audience, uint256 expiry) external pure returns (uint256) {
        if (bytes(nonce).length == 0 || bytes(audience).length == 0 || expiry >= EXPIRY_LIMIT) revert InvalidExpectations();
        return _contextHash(nonce, audience, expiry);
    }

    function _contextHash(string calldata nonce, string calldata audience, uint256 expiry) internal pure returns (uint256) {
        return _poseidon4(TAG_CONTEXT, uint256(sha256(bytes(nonce))) & FIELD_248, uint256(sha256(bytes(audience))) & FIELD_248, expiry);
    }

    /// Every coordinate of the proof below q.
    function _inField(Proof calldata proof) internal pure returns (bool) {
        return proof.a[0] < Q && proof.a[1] < Q && proof.c[0] < Q && proof.c[1] < Q
            && proof.b[0][0] < Q && proof.b[0][1] < Q && proof.b[1][0] < Q && proof.b[1][1] < Q;
    }

${solidityPoseidon(4, '_poseidon4')}}
`;
}

// ---- Calldata ----------------------------------------------------------------------------

const U2: AbiType = { array: 'uint256', length: 2 };
const PROOF: AbiType = { tuple: [U2, { array: U2, length: 2 }, U2] };
const SIGNALS: AbiType = { array: 'uint256', length: N };
const PRESENTATION: AbiType = { tuple: [PROOF, SIGNALS, 'uint256'] };
const EXPECTATIONS: AbiType = { tuple: ['uint256', 'uint256', 'uint256', 'uint256', 'string', 'string', 'uint256'] };
const CHECKPOINT: AbiType = { tuple: ['uint256', 'string', 'uint256', 'uint256', 'uint256', 'uint256', 'uint256', 'bytes32', 'uint256'] };

/** The functions' ABI signatures (test/integration/onchain.test.ts checks them against solc's). */
export const GATE_FUNCTIONS = {
  verifyProof: [U2, { array: U2, length: 2 }, U2, SIGNALS],
  verify: [PRESENTATION, EXPECTATIONS],
  publishCheckpoint: [CHECKPOINT, 'bytes'],
  contextHash: ['string', 'string', 'uint256'],
  checkpointOf: ['uint256'],
} as const satisfies Record<string, readonly AbiType[]>;

const DEC = /^(0|[1-9][0-9]*)$/;
function word(x: unknown, name: string): bigint {
  if (typeof x === 'bigint') {
    if (fitsWord(x)) return x;
  } else if (typeof x === 'string' && DEC.test(x) && x.length <= 78) {
    const v = BigInt(x);
    if (fitsWord(v)) return v;
  } else throw new TypeError(`${name} must be a decimal string, got ${describe(x)}`);
  throw new RangeError(`${name} does not fit 256 bits`);
}

/**
 * A snarkjs proof (pi_a, pi_b, pi_c, affine: z = 1) as the contract's (a, b, c), B's pairs
 * swapped to (imag, real). Coordinates are passed as they are (up to 2^256): the contract
 * refuses those >= q. (The in-process verifier also reads other projective forms of a point;
 * snarkjs writes none, and this refuses them rather than normalise them.)
 * @throws TypeError / RangeError for another shape, a z other than 1, or a number over 256 bits.
 * @example const [a, b, c] = proofCalldata(presentation.proof)
 */
export function proofCalldata(proof: unknown): [bigint[], bigint[][], bigint[]] {
  if (typeof proof !== 'object' || proof === null) throw new TypeError(`proof must be an object, got ${describe(proof)}`);
  const p = proof as Record<string, unknown>;
  const g1 = (v: unknown, name: string) => {
    if (!Array.isArray(v) || v.length !== 3) throw new TypeError(`${name} must be 3 decimal strings`);
    if (v[2] !== '1') throw new RangeError(`${name} must be affine (z = 1), as snarkjs writes it`);
    return [word(v[0], `${name}[0]`), word(v[1], `${name}[1]`)];
  };
  const b = p.pi_b;
  if (!Array.isArray(b) || b.length !== 3 || !b.every((c) => Array.isArray(c) && c.length === 2)) throw new TypeError('proof.pi_b must be 3 pairs of decimal strings');
  if (b[2][0] !== '1' || b[2][1] !== '0') throw new RangeError('proof.pi_b must be affine (z = [1, 0]), as snarkjs writes it');
  const pair = (c: unknown[], name: string) => [word(c[1], `${name}[1]`), word(c[0], `${name}[0]`)];
  return [g1(p.pi_a, 'proof.pi_a'), [pair(b[0], 'proof.pi_b[0]'), pair(b[1], 'proof.pi_b[1]')], g1(p.pi_c, 'proof.pi_c')];
}

function signalsCalldata(signals: unknown): bigint[] {
  if (!Array.isArray(signals) || signals.length !== N) throw new TypeError(`publicSignals must be an array of ${N} decimal strings`);
  return signals.map((s, i) => word(s, `publicSignals[${i}]`));
}

/**
 * Calldata of the bare verifier's `verifyProof(a, b, c, signals)`.
 * @throws TypeError / RangeError as proofCalldata, or for signals that are not 7 decimals of at most 256 bits.
 * @example verifyProofCalldata(presentation.proof, presentation.publicSignals)
 */
export function verifyProofCalldata(proof: unknown, publicSignals: unknown): Uint8Array {
  const [a, b, c] = proofCalldata(proof);
  return encodeCall('verifyProof', GATE_FUNCTIONS.verifyProof, [a, b, c, signalsCalldata(publicSignals)]);
}

/** What a relying party expects, as createVerifier's Expectations; `agent` a did:key or its identity field. */
export interface GateExpectations {
  agent: string | bigint;
  minScore: number;
  minRecords?: number;
  minOrgs?: number;
  context: { nonce: string; audience: string };
  maxAgeS: number;
}

/**
 * Calldata of the gate's `verify(presentation, expectations)` for a presentation (version 2,
 * docs/protocol.md "Presentations"): its proof, public signals and context expiry. Its
 * checkpoint, key set and key, its `config` and its `agent` label are not sent: the gate has
 * its own key set, and the agent signal is what the proof binds.
 * @throws TypeError / RangeError for what cannot be encoded (see proofCalldata), or an agent
 *   that is not a did:key (the contract range-checks the rest).
 * @example gateVerifyCalldata(presentation, { agent, minScore: 700, context: { nonce, audience }, maxAgeS: 3600 })
 */
export function gateVerifyCalldata(presentation: unknown, e: GateExpectations): Uint8Array {
  if (typeof presentation !== 'object' || presentation === null) throw new TypeError(`presentation must be an object, got ${describe(presentation)}`);
  if (typeof e !== 'object' || e === null || typeof e.context !== 'object' || e.context === null) throw new TypeError('expectations must be an object with a context {nonce, audience}');
  const p = presentation as Record<string, any>;
  const expiry = p.context?.expiry;
  if (!Number.isSafeInteger(expiry) || expiry < 0) throw new TypeError('presentation.context.expiry must be a non-negative integer');
  const [a, b, c] = proofCalldata(p.proof);
  const agent = typeof e.agent === 'bigint' ? e.agent : identityField(publicKeyFromDid(e.agent));
  return encodeCall('verify', GATE_FUNCTIONS.verify, [
    [[a, b, c], signalsCalldata(p.publicSignals), BigInt(expiry)],
    [agent, e.minScore, e.minRecords ?? 0, e.minOrgs ?? 0, e.context.nonce, e.context.audience, e.maxAgeS],
  ]);
}

/**
 * Calldata of `publishCheckpoint(body, signature)` for a checkpoint envelope, after checking
 * that `aggregator` (its did:key) signed it: a publisher publishes only what its aggregator
 * signed, so that the signature logged with it verifies.
 * @throws RangeError if the signer is not `aggregator` or the signature does not verify;
 *   TypeError / RangeError for a malformed checkpoint.
 * @example publishCheckpointCalldata(await (await fetch(`${url}/v1/checkpoints/latest`)).json(), aggregatorDid)
 */
export function publishCheckpointCalldata(checkpoint: Signed<CheckpointBody>, aggregator: string): Uint8Array {
  if (typeof checkpoint !== 'object' || checkpoint === null) throw new TypeError(`checkpoint must be an object, got ${describe(checkpoint)}`);
  const { body, signer, signature } = checkpoint;
  if (signer !== aggregator) throw new RangeError('the checkpoint is not signed by the given aggregator');
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) throw new TypeError('checkpoint.signature must be 128 lower-case hex digits');
  const sigBytes = hexToBytes(`0x${signature}`);
  if (!verifyStrict(sigBytes, signingBytes('checkpoint', body), publicKeyFromDid(aggregator))) throw new RangeError("the checkpoint's signature does not verify");
  if (typeof body.keySetHash !== 'string' || !/^[0-9a-f]{64}$/.test(body.keySetHash)) throw new TypeError('checkpoint.body.keySetHash must be 64 hex digits');
  const mode = GATE_KEY_MODES.indexOf(body.keyMode);
  if (mode < 0) throw new RangeError('checkpoint.body.keyMode is not a key mode');
  return encodeCall('publishCheckpoint', GATE_FUNCTIONS.publishCheckpoint, [
    [body.sequence, body.config, word(body.stateRoot, 'stateRoot'), word(body.chain, 'chain'), body.logSize, word(body.policyHash, 'policyHash'), body.time, `0x${body.keySetHash}`, mode],
    sigBytes,
  ]);
}

/**
 * The gate's constructor arguments, to append to its creation bytecode. The constructor
 * reverts InsecureKeys for development keys unless `allowInsecureKeys`.
 * @param publisher the publisher's address (0x and 40 hex digits)
 * @throws TypeError for an address that is not 20 bytes of hex.
 * @example concat(creationBytecode, gateConstructorArgs('0x52908400098527886E0F7030069857D2E4169EE7'))
 */
export function gateConstructorArgs(publisher: string, opts: { allowInsecureKeys?: boolean } = {}): Uint8Array {
  return encodeParams(['address', 'bool'], [publisher, opts.allowInsecureKeys === true]);
}

/**
 * The gate's key mode from `keyMode()`'s (or `CLAIMED_KEY_MODE()`'s) return word.
 * @throws RangeError for a word that is no key mode.
 * @example keyModeOf(1n) // 'local'
 */
export function keyModeOf(word: bigint): KeyMode {
  const m = GATE_KEY_MODES[Number(word)];
  if (word > 2n || !m) throw new RangeError('not a key mode');
  return m;
}
