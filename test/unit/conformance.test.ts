/**
 * The conformance vectors of conformance/ checked two ways.
 *
 * 1. With zktrust's code: the files are exactly what scripts/lib/conformance.ts makes today
 *    with the clients, the service's ingestion and presenter, the state code and the verifier
 *    (so a protocol change that forgets the vectors fails here), every signature verifies
 *    with both Ed25519 implementations, the wire schemas take every request and answer, the
 *    verifier gives every reason code, and every signature type in src/ is documented.
 * 2. With an independent implementation written below from docs/protocol.md alone: node:crypto
 *    for Ed25519 (a raw key wrapped in PKCS #8 / SPKI DER) and SHA-256, circomlibjs for
 *    Poseidon, and nothing imported from src/ or scripts/ (the section says so where it
 *    starts). It recomputes every byte, hash, signature and proof of the files, and decides
 *    each presentation case up to the Groth16 pairing.
 *
 * Then the two meet: requests made by the independent implementation are accepted (and the
 * documented mistakes refused) by the service's own code, and what the service answers
 * verifies independently.
 */
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildPoseidon } from 'circomlibjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// ---- zktrust's code (part 1 and the interoperation tests only) ----
import { canonicalJson, signingBytes } from '../../src/crypto/canonical.ts';
import { verifyStrict } from '../../src/crypto/ed25519.ts';
import { verifierFor } from '../../src/engines/fast-ed25519.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/log/merkle-log.ts';
import * as S from '../../src/protocol/schemas.ts';
import { parseStatement } from '../../src/service/ceremony.ts';
import { createVerifier, type ReasonCode } from '../../src/verifier/index.ts';
import { T_MS, applyPatch, atTime, buildConformance, openHarness, outcome, type Harness } from '../../scripts/lib/conformance.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'conformance');
const load = (name: string): any => JSON.parse(readFileSync(join(DIR, name), 'utf8'));
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const docs = Object.fromEntries(FILES.map((f) => [f, load(f)])) as Record<string, any>;
const bytesOf = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
/** Every signed case of every file: [file, case]. */
const signedCases = (): Array<[string, any]> => FILES.flatMap((f) => (docs[f].cases ?? []).filter((c: any) => c.type || c.signed).map((c: any) => [f, c.signed ?? c] as [string, any]));

/** Every reason code of the verifier (a compile error when ReasonCode gains or loses one). */
const REASONS: Record<ReasonCode, true> = {
  ok: true, malformed: true, untrusted_aggregator: true, bad_checkpoint_signature: true, unknown_configuration: true, unknown_key_set: true,
  key_set_mismatch: true, insecure_keys: true, key_mode_not_accepted: true, untrusted_key_set: true, unpublished_phase1: true, agent_mismatch: true,
  root_mismatch: true, score_below_expected: true, records_below_expected: true, orgs_below_expected: true, policy_mismatch: true,
  context_mismatch: true, expired: true, stale_checkpoint: true, invalid_proof: true,
};
const SIGNATURE_TYPES = ['submission', 'receipt', 'tree-head', 'checkpoint', 'key-document', 'threshold-request', 'ceremony-contribution'];

/** A `$ref` of presentation.json's options ("file#/json/pointer") resolved in the files. */
function resolveRef(x: unknown): unknown {
  if (typeof x !== 'object' || x === null || !('$ref' in x)) return x;
  const [file, pointer] = String((x as { $ref: string }).$ref).split('#');
  return pointer!.split('/').slice(1).reduce((o: any, k) => o[k], docs[file!]);
}

describe('the vectors against zktrust\'s code', () => {
  let rebuilt: Record<string, unknown>;
  beforeAll(async () => {
    rebuilt = await buildConformance({ previous: docs['presentation.json'].presentation, prove: false });
  }, 60_000);

  it('are exactly what the clients, the service and the verifier make today', () => {
    expect(Object.keys(rebuilt).sort()).toEqual(FILES);
    for (const f of FILES) expect(rebuilt[f], f).toEqual(docs[f]);
  });

  it('every signature verifies (both Ed25519 implementations) over its signing bytes, and not over altered bytes', () => {
    const cases = signedCases();
    expect(new Set(cases.map(([, c]) => c.type))).toEqual(new Set(SIGNATURE_TYPES));
    for (const [file, c] of cases) {
      const bytes = signingBytes(c.type, c.body);
      expect(Buffer.from(bytes).toString('hex'), file).toBe(c.signingBytes.hex);
      expect(canonicalJson(c.body)).toBe(c.canonicalJson);
      const [sig, pk] = [bytesOf(c.signature), bytesOf(c.signer.publicKey)];
      expect(verifyStrict(sig, bytes, pk), file).toBe(true);
      expect(verifierFor(pk)(sig, bytes), file).toBe(true);
      const altered = Uint8Array.from(bytes);
      altered[altered.length - 2]! ^= 1;
      expect(verifyStrict(sig, altered, pk)).toBe(false);
      expect(verifierFor(pk)(sig, altered)).toBe(false);
      if (c.envelope) expect(c.envelope).toEqual({ body: c.body, signer: c.signer.did, signature: c.signature });
    }
  });

  it('the wire schemas take every request and answer of the files', () => {
    for (const c of docs['submission.json'].cases) expect(S.parseOrThrow(S.submissionBody(1000), c.request, 'body')).toEqual(c.request);
    for (const c of docs['receipt.json'].cases) S.ReceiptSchema.parse(c.envelope);
    for (const c of docs['tree-head.json'].cases) S.TreeHeadSchema.parse(c.envelope);
    S.LogEntriesSchema.parse(docs['log-leaf.json'].cases.map((c: any) => c.entry));
    for (const s of docs['log-leaf.json'].submissions) S.PublicSubmissionSchema.parse(s);
    for (const p of docs['inclusion.json'].inclusion) S.InclusionProofSchema.parse(p);
    for (const p of docs['inclusion.json'].consistency) S.ConsistencyProofSchema.parse(p);
    for (const c of docs['checkpoint.json'].cases) expect(S.CheckpointSchema.parse(c.envelope)).toEqual(c.envelope);
    S.KeyViewSchema.shape.document.parse(docs['key-document.json'].cases[0].envelope);
    for (const c of docs['threshold-request.json'].cases) S.parseOrThrow(S.ThresholdRequestBody, c.request, 'body');
    S.ChallengeSchema.parse(docs['threshold-request.json'].challengeResponse);
    S.ProofResponseSchema.parse(docs['presentation.json'].proofResponse);
    const contribution = docs['ceremony-contribution.json'].cases[0];
    expect(parseStatement(contribution.headers['zktrust-statement'])).toEqual(contribution.body);
    expect(verifyStrict(bytesOf(contribution.headers['zktrust-signature']), signingBytes('ceremony-contribution', parseStatement(contribution.headers['zktrust-statement'])), bytesOf(contribution.signer.publicKey))).toBe(true);
  });

  it('the log\'s leaves, heads and proofs verify with src/log', () => {
    const leaves = docs['log-leaf.json'].cases.map((c: any) => leafHash(new TextEncoder().encode(canonicalJson({ ...c.entry, index: undefined }))));
    expect(leaves.map((l: Uint8Array) => Buffer.from(l).toString('hex'))).toEqual(docs['log-leaf.json'].cases.map((c: any) => c.leafHash));
    const roots = new Map<number, string>(docs['inclusion.json'].roots.map((r: any) => [r.size, r.root]));
    for (const p of docs['inclusion.json'].inclusion) expect(verifyInclusion(leaves[p.index], p.index, p.size, p.path.map(bytesOf), bytesOf(roots.get(p.size)!))).toBe(true);
    for (const p of docs['inclusion.json'].consistency) expect(verifyConsistency(p.first, p.second, bytesOf(roots.get(p.first)!), bytesOf(roots.get(p.second)!), p.proof.map(bytesOf))).toBe(true);
    for (const c of docs['tree-head.json'].cases) expect(roots.get(c.body.size)).toBe(c.body.root);
  });

  it('every reason code of the verifier, each from its case', async () => {
    const p = docs['presentation.json'];
    expect(new Set(p.reasonsCovered)).toEqual(new Set(Object.keys(REASONS)));
    for (const c of p.cases) {
      const options = { ...p.base.options, ...c.options };
      if (options.keyDocuments) options.keyDocuments = options.keyDocuments.map(resolveRef);
      const verifier = createVerifier({ ...options, now: () => c.nowMs ?? p.base.nowMs });
      const r = await verifier.verifyPresentation(applyPatch(p.presentation, c.patch ?? []), { ...p.base.expectations, ...c.expectations });
      expect(r.reason, c.name).toBe(c.reason);
    }
  });

  it('the refusals the files record are the documented ones', () => {
    const code = (list: any[], name: string) => list.find((r) => r.name.startsWith(name))?.code;
    const refused = docs['submission.json'].refused;
    expect(code(refused, 'timestamp in milliseconds')).toBe('out_of_range');
    expect(code(refused, 'timestamp 2^40 + 1')).toBe('out_of_range');
    // Every time in seconds is below 2^40: 2^40 itself is out of range; 2^40 - 1 passes the
    // schema and is refused by the clock.
    expect(refused.find((r: any) => r.name === 'timestamp 2^40')?.code).toBe('out_of_range');
    expect(code(refused, 'timestamp 2^40 - 1 (')).toBe('stale_timestamp');
    expect(code(refused, 'nonce in upper case')).toBe('malformed');
    expect(code(refused, 'a commitment changed after signing')).toBe('invalid_signature');
    expect(code(refused, 'the first case again')).toBe('replayed_nonce');
    const t = docs['threshold-request.json'].refused;
    expect(code(t, 'signed over the fields as sent, without')).toBe('invalid_signature');
    expect(code(t, 'the second case as sent')).toBe('forbidden');
    expect(code(t, 'context.expiry in milliseconds')).toBe('out_of_range');
    expect(code(t, 'context.expiry 2^40')).toBe('out_of_range');
    expect(() => S.parseOrThrow(S.submissionBody(1000), { ...docs['submission.json'].cases[0].request, timestamp: T_MS }, 'body')).toThrow(expect.objectContaining({ code: 'out_of_range' }));
    expect(() => S.parseOrThrow(S.submissionBody(1000), { ...docs['submission.json'].cases[0].request, nonce: 'AABBCCDDEEFF0011' }, 'body')).toThrow(expect.objectContaining({ code: 'malformed' }));
  });

  it('documents every signature type that src/ signs, and quotes the vectors\' bytes', () => {
    const types = new Set<string>();
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    for (const file of walk(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:signingBytes|signed(?:<\w+>)?)\(\s*'([a-z-]+)'/g)) types.add(m[1]!);
    }
    expect([...types].sort()).toEqual([...SIGNATURE_TYPES, 'key-set'].sort());
    const protocol = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');
    for (const t of SIGNATURE_TYPES) expect(protocol).toContain(`| \`${t}\` |`);
    for (const r of Object.keys(REASONS)) expect(protocol).toContain(`| \`${r}\` |`);
    const quoted = [
      docs['submission.json'].cases[1].signed.canonicalJson,
      docs['receipt.json'].cases[1].canonicalJson,
      docs['checkpoint.json'].cases[0].canonicalJson,
      docs['threshold-request.json'].cases[1].canonicalJson,
      docs['log-leaf.json'].cases[2].leafData.utf8,
      docs['log-leaf.json'].cases[2].leafHash,
    ];
    for (const q of quoted) expect(protocol).toContain(q);
    // Each file names the section of docs/protocol.md it illustrates.
    for (const f of FILES) {
      const section = /^docs\/protocol\.md, "(.+)"$/.exec(docs[f].spec)?.[1];
      expect(section && new RegExp(`^#{2,3} ${section.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').test(protocol), f).toBe(true);
    }
  });
});

// ---- An independent implementation of docs/protocol.md: node:crypto and circomlibjs only ----
// Nothing below this line and above "Interoperation" uses an import from src/ or scripts/.

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const beInt = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt('0x' + hexOf(b)));

/** "Canonical JSON", from the document's list of rules. */
function canon(v: unknown): string {
  if (v === null || v === true || v === false) return String(v);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || Math.abs(v) >= 2 ** 53) throw new RangeError('only integers below 2^53 occur');
    return BigInt(v).toString(); // -0 is 0
  }
  if (typeof v === 'string') {
    let out = '"';
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < v.length && v.charCodeAt(i + 1) >= 0xdc00 && v.charCodeAt(i + 1) <= 0xdfff;
      if (pair) {
        out += v[i]! + v[i + 1]!;
        i++;
      } else if (c >= 0xd800 && c <= 0xdfff) out += '\\u' + c.toString(16);
      else if (c === 0x22) out += '\\"';
      else if (c === 0x5c) out += '\\\\';
      else if (c < 0x20) out += ({ 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' } as Record<number, string>)[c] ?? '\\u' + c.toString(16).padStart(4, '0');
      else out += v[i];
    }
    return out + '"';
  }
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const byCodeUnits = (a: string, b: string) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.charCodeAt(i) - b.charCodeAt(i);
      return a.length - b.length;
    };
    return '{' + Object.keys(o).filter((k) => o[k] !== undefined).sort(byCodeUnits).map((k) => canon(k) + ':' + canon(o[k])).join(',') + '}';
  }
  throw new TypeError(`no canonical form for ${typeof v}`);
}
const toSign = (type: string, body: unknown) => utf8(`zktrust/v1/${type}\n${canon(body)}`);

// Ed25519 with node:crypto: a raw 32-byte key in the DER wrappers of RFC 8410.
const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const privateKey = (seedHex: string) => createPrivateKey({ key: Buffer.concat([PKCS8, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });
const publicKeyHex = (seedHex: string) => hexOf(createPublicKey(privateKey(seedHex)).export({ format: 'der', type: 'spki' }).subarray(SPKI.length));
const edSign = (seedHex: string, msg: Uint8Array) => hexOf(nodeSign(null, msg, privateKey(seedHex)));
const edVerify = (pkHex: string, msg: Uint8Array, sigHex: string) => /^[0-9a-f]{128}$/.test(sigHex) && nodeVerify(null, msg, createPublicKey({ key: Buffer.concat([SPKI, Buffer.from(pkHex, 'hex')]), format: 'der', type: 'spki' }), Buffer.from(sigHex, 'hex'));

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(b: Uint8Array): string {
  let x = beInt(b);
  let s = '';
  for (; x > 0n; x /= 58n) s = B58[Number(x % 58n)] + s;
  for (const byte of b) {
    if (byte !== 0) break;
    s = '1' + s;
  }
  return s;
}
const didOfKey = (pkHex: string) => 'did:key:z' + base58(Buffer.from('ed01' + pkHex, 'hex'));
function keyOfDid(did: string): string {
  let x = 0n;
  for (const ch of did.slice('did:key:z'.length)) x = x * 58n + BigInt(B58.indexOf(ch));
  const hex = x.toString(16).padStart(68, '0');
  if (!hex.startsWith('ed01') || didOfKey(hex.slice(4)) !== did) throw new RangeError('not a canonical Ed25519 did:key');
  return hex.slice(4);
}

let H: (xs: bigint[]) => bigint;
const idOf = (pkHex: string) => H([1n, beInt(Buffer.from(pkHex.slice(0, 32), 'hex')), beInt(Buffer.from(pkHex.slice(32), 'hex'))]) & ((1n << 252n) - 1n);
const fieldOf = (s: string) => beInt(sha256(utf8(s))) & ((1n << 248n) - 1n);
const contextHashOf = (c: { nonce: string; audience: string; expiry: number }) => H([6n, fieldOf(c.nonce), fieldOf(c.audience), BigInt(c.expiry)]);

// RFC 9162 section 2.1.
const leafOf = (data: Uint8Array) => sha256(Buffer.concat([Buffer.from([0]), data]));
const nodeOf = (l: Uint8Array, r: Uint8Array) => sha256(Buffer.concat([Buffer.from([1]), l, r]));
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));
const mth = (d: Uint8Array[]): Uint8Array => (d.length === 0 ? sha256('') : d.length === 1 ? d[0]! : nodeOf(mth(d.slice(0, split(d.length))), mth(d.slice(split(d.length)))));
function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = split(d.length);
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const k = split(d.length);
  return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}
/** Section 2.1.3.2. */
function inclusionHolds(leaf: Uint8Array, index: number, size: number, p: Uint8Array[], root: Uint8Array): boolean {
  if (index >= size) return false;
  let [fn, sn, r] = [index, size - 1, leaf];
  for (const q of p) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeOf(q, r);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [fn >> 1, sn >> 1];
    } else r = nodeOf(r, q);
    [fn, sn] = [fn >> 1, sn >> 1];
  }
  return sn === 0 && Buffer.from(r).equals(Buffer.from(root));
}

describe('the vectors against an independent implementation of docs/protocol.md', () => {
  const ids = new Map<string, any>();
  beforeAll(async () => {
    const poseidon = await buildPoseidon();
    H = (xs) => poseidon.F.toObject(poseidon(xs));
    for (const k of docs['identity.json'].cases) ids.set(k.role, k);
  });
  const seedOf = (did: string) => [...ids.values()].find((k) => k.did === did).secretKey as string;

  it('canonical JSON', () => {
    for (const c of docs['canonical-json.json'].cases) {
      expect(canon(JSON.parse(c.input)), c.name).toBe(c.canonical);
      expect(hexOf(utf8(c.canonical))).toBe(c.hex);
    }
  });

  it('identities: keys from the public seeds, did:key, id(pk)', () => {
    for (const k of docs['identity.json'].cases) {
      expect(k.secretKey).toBe(hexOf(sha256(k.seedLabel)));
      expect(publicKeyHex(k.secretKey)).toBe(k.publicKey);
      expect(didOfKey(k.publicKey)).toBe(k.did);
      expect(keyOfDid(k.did)).toBe(k.publicKey);
      expect(k.did).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/);
      expect(H([1n, BigInt(k.hi), BigInt(k.lo)]).toString()).toBe(k.poseidon);
      expect(idOf(k.publicKey).toString()).toBe(k.id);
    }
  });

  it('every signed object: its bytes from its body, its signature from the seed (deterministic), refused over altered bytes', () => {
    for (const [file, c] of signedCases()) {
      const bytes = toSign(c.type, c.body);
      expect(hexOf(bytes), file).toBe(c.signingBytes.hex);
      expect(bytes.toString('utf8')).toBe(c.signingBytes.utf8);
      expect(hexOf(sha256(bytes))).toBe(c.signingBytes.sha256);
      expect(didOfKey(c.signer.publicKey)).toBe(c.signer.did);
      expect(edSign(seedOf(c.signer.did), bytes), file).toBe(c.signature);
      expect(edVerify(c.signer.publicKey, bytes, c.signature)).toBe(true);
      // What the aggregator's answers carry: the envelope verifies from its own body.
      if (c.envelope) expect(c.envelope.signer === c.signer.did && edVerify(keyOfDid(c.envelope.signer), toSign(c.type, c.envelope.body), c.envelope.signature), file).toBe(true);
      const altered = Buffer.from(bytes);
      altered[20]! ^= 0x20;
      expect(edVerify(c.signer.publicKey, altered, c.signature)).toBe(false);
    }
  });

  it('submissions: commitments from the openings, the signed object from the request', () => {
    for (const c of docs['submission.json'].cases) {
      const { request } = c;
      const org = idOf(keyOfDid(request.org));
      for (const [i, r] of request.records.entries()) {
        const inputs = [2n, idOf(keyOfDid(r.agent)), org, ...[r.epoch, r.kept, r.broken, r.violations, r.scope].map(BigInt), BigInt(r.salt)];
        expect(inputs.map(String)).toEqual(c.records[i].poseidonInputs);
        expect(H(inputs).toString()).toBe(r.commitment);
        expect(r.commitment).toMatch(/^(0|[1-9][0-9]*)$/);
        expect(r.salt).toMatch(/^(0|[1-9][0-9]*)$/);
      }
      const body = { org: request.org, nonce: request.nonce, timestamp: request.timestamp, commitments: request.records.map((r: any) => r.commitment) };
      expect(c.signed.body).toEqual(body);
      expect(edVerify(keyOfDid(request.org), toSign('submission', body), request.signature)).toBe(true);
      expect(request.nonce).toMatch(/^[0-9a-f]{16,64}$/);
      expect(request.timestamp).toBeLessThan(2 ** 40); // Unix seconds
    }
    // What the documents say is refused, with the codes they name.
    for (const r of docs['submission.json'].refused) {
      const q = r.request;
      if (!/^[0-9a-f]{16,64}$/.test(q.nonce)) expect(r.code).toBe('malformed');
      else if (q.timestamp >= 2 ** 40) expect(r.code).toBe('out_of_range');
      else if (Math.abs(q.timestamp * 1000 - r.atMs) > 300_000) expect(r.code).toBe('stale_timestamp');
      else if (!edVerify(keyOfDid(q.org), toSign('submission', { org: q.org, nonce: q.nonce, timestamp: q.timestamp, commitments: q.records.map((x: any) => x.commitment) }), q.signature)) expect(r.code).toBe('invalid_signature');
    }
  });

  it('receipts cover their submissions\' entries; tree heads and every proof follow RFC 9162', () => {
    const entries = docs['log-leaf.json'].cases;
    const leaves = entries.map((c: any) => {
      const { index: _i, ...leaf } = c.entry;
      expect(canon(leaf)).toBe(c.leafData.utf8);
      expect(c.entry.submission).toBe(`${c.entry.org}/${docs['log-leaf.json'].submissions.find((s: any) => s.firstIndex <= c.entry.index && c.entry.index < s.firstIndex + s.commitments.length).nonce}`);
      expect(typeof c.entry.orgIndex).toBe('number');
      return leafOf(utf8(c.leafData.utf8));
    });
    expect(leaves.map(hexOf)).toEqual(entries.map((c: any) => c.leafHash));
    for (const { size, root } of docs['inclusion.json'].roots) expect(hexOf(mth(leaves.slice(0, size)))).toBe(root);
    expect(docs['tree-head.json'].emptyRoot).toBe(hexOf(sha256('')));
    for (const p of docs['inclusion.json'].inclusion) {
      expect(p.leafHash).toBe(hexOf(leaves[p.index]));
      expect(p.path).toEqual(path(p.index, leaves.slice(0, p.size)).map(hexOf));
      expect(inclusionHolds(leaves[p.index], p.index, p.size, p.path.map(bytesOf), mth(leaves.slice(0, p.size)))).toBe(true);
      expect(inclusionHolds(leaves[(p.index + 1) % p.size], p.index, p.size, p.path.map(bytesOf), mth(leaves.slice(0, p.size)))).toBe(p.size === 1);
    }
    for (const p of docs['inclusion.json'].consistency) expect(p.proof).toEqual((p.first === p.second ? [] : subproof(p.first, leaves.slice(0, p.second), true)).map(hexOf));
    for (const c of docs['receipt.json'].cases) {
      const s = docs['log-leaf.json'].submissions.find((x: any) => x.firstIndex === c.body.firstIndex);
      expect(c.body.count).toBe(s.commitments.length);
      expect(c.body.org).toBe(s.org);
      expect(c.body.treeHead.size).toBeGreaterThanOrEqual(c.body.firstIndex + c.body.count);
      expect(c.body.treeHead.root).toBe(hexOf(mth(leaves.slice(0, c.body.treeHead.size))));
      expect(c.body.deadline - c.body.treeHead.timestamp).toBe(3_600_000); // both milliseconds: an hour apart
    }
    for (const c of docs['tree-head.json'].cases) expect(c.body.root).toBe(hexOf(mth(leaves.slice(0, c.body.size))));
  });

  it('the hash chain, and the entries each checkpoint covers', () => {
    const entries = docs['log-leaf.json'].cases.map((c: any) => c.entry);
    let chain = 0n;
    const after: bigint[] = [0n];
    for (const [i, e] of entries.entries()) {
      const step = docs['chain.json'].cases[i];
      const inputs = [3n, chain, BigInt(e.commitment), idOf(keyOfDid(e.org)), BigInt(e.orgIndex)];
      expect(inputs.map(String)).toEqual(step.poseidonInputs);
      chain = H(inputs);
      expect(chain.toString()).toBe(step.chainAfter);
      after.push(chain);
    }
    let proven = 0;
    for (const c of docs['checkpoint.json'].cases) {
      expect(c.covers).toEqual({ from: proven, to: c.body.logSize });
      expect(c.body.chain).toBe(after[c.body.logSize]!.toString());
      expect(c.body.sequence).toBe(docs['checkpoint.json'].cases.indexOf(c) + 1);
      proven = c.body.logSize;
    }
    // A receipt's entries are proven once a checkpoint's logSize reaches firstIndex + count.
    const last = docs['receipt.json'].cases.at(-1).body;
    expect(docs['checkpoint.json'].cases.find((c: any) => c.body.logSize >= last.firstIndex + last.count).body.sequence).toBe(2);
  });

  it('key set hashes, verification key hashes and the key document', () => {
    for (const c of docs['key-set.json'].cases) {
      expect(hexOf(toSign('key-set', c.descriptor))).toBe(c.signingBytes.hex);
      expect(hexOf(sha256(toSign('key-set', c.descriptor)))).toBe(c.keySetHash);
    }
    for (const v of docs['key-set.json'].verificationKeys) {
      expect(hexOf(sha256(utf8(canon(v.vkey))))).toBe(v.canonicalJsonSha256);
      expect(docs['key-set.json'].cases[0].descriptor.circuits[v.circuit].vkey).toBe(v.canonicalJsonSha256);
    }
    const doc = docs['key-document.json'].cases[0].envelope;
    expect(doc.body.aggregator).toBe(doc.signer);
    expect(hexOf(sha256(toSign('key-set', doc.body.descriptor)))).toBe(doc.body.keySetHash);
    for (const [name, vk] of Object.entries(doc.body.verificationKeys)) expect(hexOf(sha256(utf8(canon(vk))))).toBe(doc.body.descriptor.circuits[name].vkey);
  });

  it('context hashes, threshold requests (optional fields signed as 0), ceremony headers', () => {
    for (const c of docs['context.json'].cases) {
      expect(hexOf(utf8(c.context.nonce))).toBe(c.nonceUtf8Hex);
      expect(fieldOf(c.context.nonce).toString()).toBe(c.nonceField);
      expect(fieldOf(c.context.audience).toString()).toBe(c.audienceField);
      expect(contextHashOf(c.context).toString()).toBe(c.contextHash);
    }
    for (const c of docs['threshold-request.json'].cases) {
      const { signature, ...sent } = c.request;
      const signed = { minRecords: 0, minOrgs: 0, ...sent };
      expect(c.body).toEqual(signed);
      expect(signed.context.hash).toBe(contextHashOf(c.ask.context).toString());
      expect(signed.context.expiry).toBe(c.ask.context.expiry);
      expect(edVerify(keyOfDid(c.request.agent), toSign('threshold-request', signed), signature)).toBe(true);
      // Left out and 0 are other bytes: a signature over the one never verifies over the other.
      if (!('minRecords' in sent)) {
        expect(hexOf(toSign('threshold-request', sent))).not.toBe(hexOf(toSign('threshold-request', signed)));
        expect(edVerify(keyOfDid(c.request.agent), toSign('threshold-request', sent), signature)).toBe(false);
      }
    }
    const ceremony = docs['ceremony-contribution.json'].cases[0];
    const statement = JSON.parse(Buffer.from(ceremony.headers['zktrust-statement'], 'base64url').toString('utf8'));
    expect(ceremony.headers['zktrust-statement']).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(canon(statement)).toBe(ceremony.canonicalJson);
    expect(edVerify(keyOfDid(statement.org), toSign('ceremony-contribution', statement), ceremony.headers['zktrust-signature'])).toBe(true);
  });

  it('each presentation case, decided by the documented checks up to the pairing', () => {
    const p = docs['presentation.json'];
    const devPoints = JSON.parse(readFileSync(join(ROOT, 'artifacts', 'test', 'threshold.vkey.json'), 'utf8'));
    const published = Object.values(docs['key-set.json'].publishedPtau);
    const accepted = [H([5n, 1n, 5n, 38416n, 10000n, 1000n]), H([5n, 2n, 5n, 38416n, 10000n, 1000n, 1000n, 8n, 100n, 86400n, 1n])].map(String);
    expect(p.acceptedPolicyHashes).toEqual(accepted);
    const MODES = ['dev', 'local', 'ceremony'];
    const decimal = (s: unknown) => typeof s === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(s) && BigInt(s) < R;
    // docs/protocol.md, "Verifying a presentation", steps 0 to 5; step 6 needs a pairing.
    function decide(pr: any, o: any, e: any, now: number): string {
      const cp = pr.checkpoint;
      const b = cp?.body;
      const shape = pr.circuit === 'threshold' && (pr.version === 2 || pr.version === 1) && /^[a-z][a-z0-9-]{0,40}$/.test(pr.config) && typeof pr.agent === 'string'
        && Number.isInteger(pr.context?.expiry) && pr.context.expiry >= 0 && pr.context.expiry < 2 ** 40 && typeof cp?.signer === 'string' && /^[0-9a-f]{128}$/.test(cp.signature)
        && Number.isInteger(b?.sequence) && b.sequence >= 1 && Number.isInteger(b.time) && b.time >= 0 && [b.stateRoot, b.policyHash, b.config].every((x) => typeof x === 'string')
        && Array.isArray(pr.publicSignals) && pr.publicSignals.length === 7 && pr.publicSignals.every(decimal);
      if (!shape) return 'malformed';
      if (!o.aggregatorKeys.includes(cp.signer)) return 'untrusted_aggregator';
      if (!edVerify(keyOfDid(cp.signer), toSign('checkpoint', b), cp.signature)) return 'bad_checkpoint_signature';
      if (!/^[0-9a-f]{64}$/.test(b.keySetHash)) return 'malformed';
      let set: { descriptor: any; vkey: any };
      if (pr.keySet !== undefined) {
        if (hexOf(sha256(toSign('key-set', pr.keySet))) !== b.keySetHash) return 'key_set_mismatch';
        if (hexOf(sha256(utf8(canon(pr.verificationKey)))) !== pr.keySet.circuits.threshold?.vkey) return 'key_set_mismatch';
        set = { descriptor: pr.keySet, vkey: pr.verificationKey };
      } else {
        const doc = (o.keyDocuments ?? []).find((d: any) => d.body.keySetHash === b.keySetHash);
        if (!doc) return 'unknown_key_set';
        set = { descriptor: doc.body.descriptor, vkey: doc.body.verificationKeys.threshold };
      }
      if (set.descriptor.mode !== b.keyMode) return 'key_set_mismatch';
      if (set.descriptor.config !== pr.config || b.config !== pr.config) return 'unknown_configuration';
      if (set.vkey.nPublic !== 7) return 'malformed';
      const isDev = set.descriptor.mode === 'dev' || canon(set.vkey.vk_alpha_1) === canon(devPoints.vk_alpha_1) || canon(set.vkey.vk_beta_2) === canon(devPoints.vk_beta_2);
      const mode = isDev ? 'dev' : set.descriptor.mode;
      const minMode = o.requireKeyMode ?? (o.allowInsecureKeys ? 'dev' : 'local');
      if (mode === 'dev' && !o.allowInsecureKeys) return 'insecure_keys';
      if (MODES.indexOf(mode) < MODES.indexOf(minMode)) return 'key_mode_not_accepted';
      if (o.trustedKeySets && !o.trustedKeySets.includes(b.keySetHash)) return 'untrusted_key_set';
      const ptau = set.descriptor.phase1;
      if (minMode === 'ceremony' && mode === 'ceremony' && !(published.includes(ptau.blake2b) || (o.trustedPtauHashes ?? []).includes(ptau.blake2b))) return 'unpublished_phase1';
      const [root, agent, minScore, minRecords, minOrgs, policy, ctx] = pr.publicSignals.map(BigInt);
      if (pr.agent !== e.agent || agent !== idOf(keyOfDid(e.agent))) return 'agent_mismatch';
      if (root.toString() !== b.stateRoot) return 'root_mismatch';
      if (minScore < BigInt(e.minScore) || minScore > 1000n) return 'score_below_expected';
      if (minRecords < BigInt(e.minRecords ?? 0)) return 'records_below_expected';
      if (minOrgs < BigInt(e.minOrgs ?? 0)) return 'orgs_below_expected';
      if (!accepted.includes(policy.toString()) || b.policyHash !== policy.toString() || set.descriptor.policyHash !== policy.toString()) return 'policy_mismatch';
      if (ctx !== contextHashOf({ nonce: e.context.nonce, audience: e.context.audience, expiry: pr.context.expiry })) return 'context_mismatch';
      if (now >= pr.context.expiry * 1000) return 'expired';
      if (now > b.time + e.maxAgeS * 1000) return 'stale_checkpoint';
      return 'pairing';
    }
    // The forwarded presentation is the aggregator's answer with the verifier's nonce and audience for the hash.
    const { context: answered, ...answer } = p.proofResponse;
    const { context: forwarded, ...presentation } = p.presentation;
    expect(presentation).toEqual(answer);
    expect(answered).toEqual({ hash: contextHashOf(forwarded).toString(), expiry: forwarded.expiry });
    expect(p.publicSignalOrder).toEqual(['root', 'agent', 'minScore', 'minRecords', 'minOrgs', 'policyHash', 'contextHash']);
    for (const c of p.cases) {
      const doc = structuredClone(p.presentation);
      for (const op of c.patch ?? []) {
        const keys = op.path.split('/').slice(1);
        const last = keys.pop();
        const parent = keys.reduce((x: any, k: string) => x[k], doc);
        if (op.op === 'remove') delete parent[last];
        else parent[last] = structuredClone(op.value);
      }
      const options = { ...p.base.options, ...c.options };
      if (options.keyDocuments) options.keyDocuments = options.keyDocuments.map(resolveRef);
      const reason = decide(doc, options, { ...p.base.expectations, ...c.expectations }, c.nowMs ?? p.base.nowMs);
      expect(reason, c.name).toBe(c.reason === 'ok' || c.reason === 'invalid_proof' ? 'pairing' : c.reason);
    }
  });
});

// ---- Interoperation: the independent implementation's messages against the service's code ----

describe('interoperation', () => {
  let h: Harness;
  const id = (role: string) => docs['identity.json'].cases.find((k: any) => k.role === role);
  beforeAll(async () => {
    const poseidon = await buildPoseidon();
    H = (xs) => poseidon.F.toObject(poseidon(xs));
    h = await openHarness();
    for (const role of ['org-a', 'org-b']) await h.registry.register({ name: role, publicKey: id(role).publicKey });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  /** A submission of records for agents (roles) by `org`, made from the documents alone. */
  function submission(org: string, agents: string[], over: { nonce?: string; timestamp?: number } = {}) {
    const o = id(org);
    const records = agents.map((a, i) => {
      const r = { agent: id(a).did, epoch: Math.floor(T_MS / 86_400_000), kept: 5 + i, broken: 1, violations: 0, scope: 0, salt: String(1000n + BigInt(i)) };
      const commitment = H([2n, idOf(id(a).publicKey), idOf(o.publicKey), BigInt(r.epoch), BigInt(r.kept), BigInt(r.broken), 0n, 0n, BigInt(r.salt)]).toString();
      return { commitment, ...r };
    });
    const fields = { org: o.did, nonce: over.nonce ?? 'c0ffee'.repeat(4), timestamp: over.timestamp ?? T_MS / 1000 };
    const signature = edSign(o.secretKey, toSign('submission', { ...fields, commitments: records.map((r) => r.commitment) }));
    return { ...fields, records, signature };
  }

  it('the service accepts an independent submission; its receipt, tree head and inclusion proofs verify independently', async () => {
    const sent = submission('org-a', ['agent-1', 'agent-2', 'agent-3']);
    const receipt: any = await atTime(T_MS, () => h.ingestion.submit(JSON.parse(JSON.stringify(sent))));
    const aggregator = id('aggregator');
    expect(receipt.signer).toBe(aggregator.did);
    expect(edVerify(aggregator.publicKey, toSign('receipt', receipt.body), receipt.signature)).toBe(true);
    expect(receipt.body).toMatchObject({ org: sent.org, firstIndex: 0, count: 3, deadline: T_MS + 3_600_000, treeHead: { size: 3, timestamp: T_MS } });
    const head: any = h.ingestion.treeHead();
    expect(edVerify(aggregator.publicKey, toSign('tree-head', head.body), head.signature)).toBe(true);
    const orgIndex = h.registry.list().find((o) => o.did === sent.org)!.index;
    sent.records.forEach((r, k) => {
      const leaf = leafOf(utf8(canon({ commitment: r.commitment, org: sent.org, orgIndex, submission: `${sent.org}/${sent.nonce}` })));
      const proof = h.ingestion.inclusionProof(k, head.body.size);
      expect(proof.leafHash).toBe(hexOf(leaf));
      expect(inclusionHolds(leaf, k, head.body.size, proof.path.map(bytesOf), bytesOf(head.body.root))).toBe(true);
    });
  });

  it('the service refuses the documented mistakes of an independent client', async () => {
    const submit = (x: unknown) => atTime(T_MS + 1_000, () => outcome(() => h.ingestion.submit(JSON.parse(JSON.stringify(x)))));
    const ok = submission('org-b', ['agent-1'], { nonce: 'b'.repeat(32), timestamp: T_MS / 1000 });
    const altered = { ...ok, records: [{ ...ok.records[0]!, commitment: (BigInt(ok.records[0]!.commitment) + 1n).toString() }] };
    expect(await submit(altered)).toBe('invalid_signature');
    expect(await submit(submission('org-b', ['agent-1'], { nonce: 'b'.repeat(32), timestamp: T_MS }))).toBe('out_of_range');
    expect(await submit(submission('org-b', ['agent-1'], { nonce: 'b'.repeat(32), timestamp: 2 ** 40 + 1 }))).toBe('out_of_range');
    expect(await submit(submission('org-b', ['agent-1'], { nonce: 'b'.repeat(32), timestamp: 2 ** 40 }))).toBe('out_of_range');
    expect(await submit(submission('org-b', ['agent-1'], { nonce: 'b'.repeat(32), timestamp: 2 ** 40 - 1 }))).toBe('stale_timestamp');
    expect(await submit(submission('org-b', ['agent-1'], { nonce: 'B'.repeat(32) }))).toBe('malformed');
    expect(await submit(ok)).toBe('accepted');
    expect(await submit(ok)).toBe('replayed_nonce');
  });

  it('the service takes an independent threshold request signed with its optional fields as 0, and refuses one signed without them', async () => {
    const agent = id('agent-1');
    await atTime(T_MS, async () => {
      const request = async () => {
        const { challenge } = h.presenter.challenge({ agent: agent.did });
        const context = { hash: contextHashOf({ nonce: 'n-1', audience: 'https://v.example', expiry: T_MS / 1000 + 60 }).toString(), expiry: T_MS / 1000 + 60 };
        return { agent: agent.did, minScore: 500, context, challenge };
      };
      // Signed as the documents say: signature and challenge accepted; this service has no proven state yet.
      const good = await request();
      const goodCode = await outcome(() => h.presenter.presentThreshold({ ...good, signature: edSign(agent.secretKey, toSign('threshold-request', { ...good, minRecords: 0, minOrgs: 0 })) }));
      expect(goodCode).toBe('not_found');
      const naive = await request();
      expect(await outcome(() => h.presenter.presentThreshold({ ...naive, signature: edSign(agent.secretKey, toSign('threshold-request', naive)) }))).toBe('invalid_signature');
      const ms = await request();
      ms.context.expiry *= 1000;
      expect(await outcome(() => h.presenter.presentThreshold({ ...ms, signature: edSign(agent.secretKey, toSign('threshold-request', { ...ms, minRecords: 0, minOrgs: 0 })) }))).toBe('out_of_range');
    });
  });
});
