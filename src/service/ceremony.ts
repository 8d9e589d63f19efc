/**
 * The organisations' ceremony: the aggregator coordinates a phase-2 ceremony for the next key
 * set of its configuration, the registered organisations contribute, a public beacon
 * finishes it, and the result becomes a `ceremony` key set from a named checkpoint.
 *
 *   start      (operator) checks a powers-of-tau file (published hash, or one the operator
 *              declares), then makes each circuit's initial key (snarkjs zkey new)
 *   contribute (organisation) downloads the latest key of a circuit, adds a contribution with
 *              its own randomness (src/client/ceremony-client.ts) and uploads it with a
 *              signed statement naming the ceremony, the circuit, the step, the sha256 of the
 *              key it builds on and of the new key, and the contribution hash
 *   finalize   (operator) applies a beacon chosen in advance, checks every key with snarkjs
 *              zkey verify from its initial key, and schedules the key set
 *
 * An upload costs nothing until its statement is known to be signed by a registered, active
 * organisation and to extend the current key (checked from the headers, before the body is
 * read); then the body is bounded by the previous key's size, hashed while it streams to
 * disk, and checked (phase2.checkContribution, in a child process): the same circuit and
 * phase 1, exactly one more random contribution with a valid proof of knowledge, a delta
 * that changed, L and H divided by the same secret. A refused upload changes nothing; a
 * replayed statement names a step that is taken. Each organisation contributes at most once
 * per circuit. One upload per circuit at a time.
 *
 * Storage: `ceremony/current` (the state, public but for the ptau path) in the store, each
 * step's key in <dataDir>/ceremony/<id>/<circuit>/<index>.zkey (public: auditors may fetch
 * every step). A crash while preparing or finalising repeats that step on the next start.
 *
 * Phase 2 re-randomises delta only: alpha, beta and tau come from phase 1, so the result
 * deserves the name `ceremony` only when phase 1 is public, which the key set records.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { canonicalJson, signingBytes } from '../crypto/canonical.ts';
import { verifyStrict } from '../crypto/ed25519.ts';
import { vkeyHash, type KeySetDescriptor } from '../crypto/key-set.ts';
import { ZkTrustError } from '../errors.ts';
import { runCeremonyJob } from '../keys/ceremony-jobs.ts';
import { sha256OfFile, writeKeySetFile, zkeyContributions } from '../keys/key-set-dir.ts';
import { checkPtau } from '../keys/ptau.ts';
import { verificationKeyOf } from '../keys/zkey-file.ts';
import type { CompiledCircuitFiles } from '../prover/artifacts.ts';
import { CeremonyFinalizeBody, CeremonyStartBody, ContributionStatementSchema, parseOrThrow } from '../protocol/schemas.ts';
import type { Store } from '../store/db.ts';
import type { z } from 'zod';

/** What an organisation signs for one contribution (signingBytes('ceremony-contribution', ...)), docs/protocol.md. */
export type ContributionStatement = z.output<typeof ContributionStatementSchema>;

export interface CeremonyStep {
  index: number;
  kind: 'init' | 'contribution' | 'beacon';
  /** sha256 (hex) of the step's key. */
  zkey: string;
  contributionHash?: string;
  org?: string;
  name?: string;
  statement?: ContributionStatement;
  /** The organisation's Ed25519 signature over the statement (hex). */
  signature?: string;
  /** Milliseconds since the epoch. */
  at: number;
}

export type CeremonyStatus = 'preparing' | 'open' | 'finalizing' | 'finalized' | 'failed';

export interface CeremonyState {
  id: string;
  config: string;
  status: CeremonyStatus;
  phase1: { blake2b: string; power: number; published: boolean };
  createdAt: number;
  circuits: Record<string, CeremonyStep[]>;
  beacon?: { value: string; iterationsExp: number };
  /** The checkpoint from which the result is in force. */
  activateAt?: number;
  keySetHash?: string;
  error?: string;
}

interface StoredCeremony {
  state: CeremonyState;
  /** Where the ptau file is on the server (not public). */
  ptauPath: string;
}

export interface CeremonyDeps {
  store: Store;
  dataDir: string;
  config: string;
  policyHash: string;
  circuits: Record<string, CompiledCircuitFiles>;
  /** A registered organisation's public key and whether it may act. */
  org(did: string): { publicKey: Uint8Array; active: boolean } | undefined;
  /** Schedules a key set directory from a checkpoint (the key ring's scheduleDir). */
  schedule(dir: string, fromSequence: number): Promise<void>;
  /** The last signed checkpoint's sequence. */
  latestSequence(): number;
  log(entry: Record<string, unknown>): void;
}

const STATEMENT_WINDOW_S = 600;

const fail = (code: ConstructorParameters<typeof ZkTrustError>[0], detail: string): never => {
  throw new ZkTrustError(code, detail);
};

/** Parses the base64url statement header of an upload. @throws ZkTrustError malformed. */
export function parseStatement(encoded: unknown): ContributionStatement {
  if (typeof encoded !== 'string' || encoded.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(encoded)) fail('malformed', 'zktrust-statement must be base64url of a JSON statement');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(encoded as string, 'base64url').toString('utf8'));
  } catch {
    return fail('malformed', 'zktrust-statement is not base64url of JSON');
  }
  return parseOrThrow(ContributionStatementSchema, json, 'statement');
}

export class CeremonyCoordinator {
  private current?: StoredCeremony;
  private readonly uploading = new Set<string>();
  private work?: Promise<void>;
  // Aborted at close: kills the child process of the step in progress, which then runs again on the next start.
  private readonly stopping = new AbortController();

  private constructor(private readonly deps: CeremonyDeps) {}

  /** Loads the current ceremony; a step interrupted by a crash (preparing, finalising) runs again. */
  static async open(deps: CeremonyDeps): Promise<CeremonyCoordinator> {
    const c = new CeremonyCoordinator(deps);
    c.current = await deps.store.get<StoredCeremony>('ceremony', 'current');
    if (c.current?.state.status === 'preparing') c.work = c.prepare();
    if (c.current?.state.status === 'finalizing') c.work = c.finish();
    return c;
  }

  /** The public state of the current ceremony (none before the first). */
  status(): CeremonyState {
    if (!this.current) fail('not_found', 'no ceremony yet');
    return structuredClone(this.current!.state);
  }

  /** Resolves when the background step in progress (preparing, finalising) is done (tests, tools). */
  async settled(): Promise<void> {
    await this.work?.catch(() => undefined);
  }

  /** Stops the step in progress (it runs again on the next start) and refuses further work. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.settled();
  }

  private job<K extends Parameters<typeof runCeremonyJob>[0]['kind']>(job: Extract<Parameters<typeof runCeremonyJob>[0], { kind: K }>) {
    return runCeremonyJob<K>(job, { signal: this.stopping.signal });
  }

  private dir(id: string, circuit?: string): string {
    return circuit ? join(this.deps.dataDir, 'ceremony', id, circuit) : join(this.deps.dataDir, 'ceremony', id);
  }

  /** The file of one step's key (public). @throws ZkTrustError not_found. */
  stepKeyPath(circuit: string, index?: number): { path: string; index: number; sha256: string } {
    const steps = this.current?.state.circuits[circuit];
    if (!steps || steps.length === 0) return fail('not_found', 'no such circuit in the ceremony');
    const i = index ?? steps.length - 1;
    const step = steps[i];
    if (!step) return fail('not_found', 'no such step');
    return { path: join(this.dir(this.current!.state.id, circuit), `${i}.zkey`), index: i, sha256: step.zkey };
  }

  private async save(): Promise<void> {
    await this.deps.store.write([{ type: 'put', sub: 'ceremony', key: 'current', value: this.current }]);
  }

  /**
   * Starts a ceremony from a powers-of-tau file on the aggregator's machine.
   * @throws ZkTrustError conflict while another ceremony is under way; out_of_range for a
   *   ptau that is missing, not a BN254 ptau, or whose hash is neither published nor the one given.
   */
  async start(input: unknown): Promise<CeremonyState> {
    const body = parseOrThrow(CeremonyStartBody, input, 'body');
    const s = this.current?.state.status;
    if (s === 'preparing' || s === 'open' || s === 'finalizing') fail('conflict', `a ceremony is ${s}`);
    let phase1: { blake2b: string; power: number; published: boolean };
    try {
      phase1 = await checkPtau(body.ptau, body.ptauHash);
    } catch (e) {
      return fail('out_of_range', `the powers of tau: ${(e as Error).message}`);
    }
    const id = randomBytes(16).toString('hex');
    // The previous ceremony stays readable under its id.
    if (this.current) await this.deps.store.write([{ type: 'put', sub: 'ceremony', key: this.current.state.id, value: this.current }]);
    this.current = {
      ptauPath: body.ptau,
      state: { id, config: this.deps.config, status: 'preparing', phase1, createdAt: Date.now(), circuits: Object.fromEntries(Object.keys(this.deps.circuits).map((n) => [n, []])) },
    };
    await this.save();
    this.deps.log({ level: 'info', msg: 'ceremony started', ceremony: id, ptau: phase1.blake2b.slice(0, 16), power: phase1.power, published: phase1.published });
    this.work = this.prepare();
    return this.status();
  }

  // The initial key of every circuit, then open for contributions.
  private async prepare(): Promise<void> {
    const c = this.current!;
    try {
      for (const [name, files] of Object.entries(this.deps.circuits)) {
        const dir = this.dir(c.state.id, name);
        await mkdir(dir, { recursive: true });
        const tmp = join(dir, '0.zkey.tmp');
        const t0 = performance.now();
        await this.job({ kind: 'zkey-new', r1cs: files.r1csPath, ptau: c.ptauPath, out: tmp });
        await rename(tmp, join(dir, '0.zkey'));
        c.state.circuits[name] = [{ index: 0, kind: 'init', zkey: await sha256OfFile(join(dir, '0.zkey')), at: Date.now() }];
        this.deps.log({ level: 'info', msg: 'ceremony: initial key', ceremony: c.state.id, circuit: name, seconds: Math.round((performance.now() - t0) / 100) / 10 });
      }
      c.state.status = 'open';
    } catch (e) {
      if (this.stopping.signal.aborted) return;
      this.failed(c, 'preparing', e);
    }
    await this.save();
  }

  /**
   * Accepts one organisation's contribution to one circuit (see the module comment).
   * @param statementHeader the zktrust-statement header (base64url JSON)
   * @param signatureHeader the zktrust-signature header (hex)
   * @param body the uploaded key
   * @returns the accepted step.
   * @throws ZkTrustError: malformed, unknown_org, org_suspended, invalid_signature, stale_timestamp,
   *   conflict (not open, a taken step, a stale previous key, a second contribution, an upload in
   *   progress), payload_too_large, out_of_range (the key is not a valid contribution).
   */
  async contribute(circuit: string, statementHeader: unknown, signatureHeader: unknown, body: Readable): Promise<CeremonyStep> {
    const st = parseStatement(statementHeader);
    if (typeof signatureHeader !== 'string' || !/^[0-9a-f]{128}$/.test(signatureHeader)) fail('malformed', 'zktrust-signature must be 64 bytes of lower-case hex');
    if (st.circuit !== circuit) fail('malformed', 'the statement names another circuit than the path');
    // Authenticate first: nothing is read before the organisation and its signature check out.
    const org = this.deps.org(st.org);
    if (!org) fail('unknown_org', 'the organisation is not registered');
    if (!org!.active) fail('org_suspended', 'the organisation is suspended');
    if (!verifyStrict(Buffer.from(signatureHeader as string, 'hex'), signingBytes('ceremony-contribution', st), org!.publicKey)) fail('invalid_signature', 'the statement is not signed by the organisation');
    if (Math.abs(Date.now() / 1000 - st.time) > STATEMENT_WINDOW_S) fail('stale_timestamp', 'the statement time is outside the accepted window');
    const c = this.current;
    if (this.stopping.signal.aborted) fail('unavailable', 'the aggregator is shutting down');
    if (!c || c.state.status !== 'open') return fail('conflict', 'no ceremony is open for contributions');
    if (st.ceremony !== c.state.id) fail('conflict', 'the statement names another ceremony');
    const steps = c.state.circuits[circuit];
    if (!steps) return fail('not_found', 'no such circuit in the ceremony');
    if (steps.some((s) => s.org === st.org)) fail('conflict', 'this organisation has already contributed to this circuit');
    if (st.index !== steps.length || st.previous !== steps.at(-1)!.zkey) fail('conflict', `the statement does not extend the latest key (step ${steps.length - 1}); download it and contribute again`);
    if (this.uploading.has(circuit)) fail('conflict', 'another contribution to this circuit is being checked; try again shortly');
    this.uploading.add(circuit);
    const dir = this.dir(c.state.id, circuit);
    const prevPath = join(dir, `${steps.length - 1}.zkey`);
    const tmp = join(dir, `.upload-${randomBytes(6).toString('hex')}`);
    try {
      // A contribution adds one record (about 500 bytes) to the previous key and changes nothing else in size.
      const limit = (await stat(prevPath)).size + 4096;
      const hash = createHash('sha256');
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > limit) return done(new ZkTrustError('payload_too_large', `a contribution to ${circuit} is at most ${limit} bytes`));
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(body, meter, createWriteStream(tmp, { flags: 'wx' }));
      } catch (e) {
        if (e instanceof ZkTrustError) throw e;
        fail('malformed', 'the upload was interrupted');
      }
      if (hash.digest('hex') !== st.next) fail('out_of_range', 'the uploaded key does not have the sha256 the statement signs');
      const t0 = performance.now();
      const check = await this.job({ kind: 'check', prev: prevPath, next: tmp });
      if (!check.ok) fail('out_of_range', `not a valid contribution: ${check.reason}`);
      if (check.ok && check.contributionHash !== st.contributionHash) fail('out_of_range', 'the key\'s contribution hash is not the one the statement signs');
      // Still the latest? (Nothing else can append to this circuit while its upload lock is held.)
      if (this.current !== c || c.state.status !== 'open') fail('conflict', 'the ceremony closed during the upload');
      await rename(tmp, join(dir, `${st.index}.zkey`));
      const step: CeremonyStep = { index: st.index, kind: 'contribution', zkey: st.next, contributionHash: st.contributionHash, org: st.org, name: st.name, statement: st, signature: signatureHeader as string, at: Date.now() };
      steps.push(step);
      await this.save();
      this.deps.log({ level: 'info', msg: 'ceremony: contribution accepted', ceremony: c.state.id, circuit, index: st.index, org: st.org, checkSeconds: Math.round((performance.now() - t0) / 100) / 10 });
      return step;
    } finally {
      this.uploading.delete(circuit);
      await rm(tmp, { force: true });
    }
  }

  /**
   * Finishes the ceremony with a public beacon chosen in advance (see the module comment).
   * @throws ZkTrustError conflict if the ceremony is not open, a circuit has no organisation's
   *   contribution yet, or an upload is being checked; malformed for a bad beacon or checkpoint.
   */
  async finalize(input: unknown): Promise<CeremonyState> {
    const body = parseOrThrow(CeremonyFinalizeBody, input, 'body');
    const beacon = body.beacon;
    const iterationsExp = body.iterations ?? 10;
    const latest = this.deps.latestSequence();
    const activateAt = body.activateAt ?? latest + 1;
    if (activateAt <= latest) fail('malformed', `activateAt must be a checkpoint after the latest (${latest})`);
    const c = this.current;
    if (!c || c.state.status !== 'open') return fail('conflict', 'no ceremony is open');
    if (this.uploading.size > 0) fail('conflict', 'a contribution is being checked; try again shortly');
    for (const [name, steps] of Object.entries(c.state.circuits)) {
      if (!steps.some((s) => s.kind === 'contribution')) fail('conflict', `${name} has no organisation's contribution yet`);
    }
    c.state.status = 'finalizing';
    c.state.beacon = { value: beacon, iterationsExp };
    c.state.activateAt = activateAt;
    await this.save();
    this.work = this.finish();
    return this.status();
  }

  // Beacon, verification from the initial keys, key set, schedule.
  private async finish(): Promise<void> {
    const c = this.current!;
    const beacon = c.state.beacon!;
    try {
      const keyDir = join(this.deps.dataDir, 'keys', `.ceremony-${c.state.id}`);
      await rm(keyDir, { recursive: true, force: true });
      await mkdir(keyDir, { recursive: true });
      const circuits: KeySetDescriptor['circuits'] = {};
      const verificationKeys: Record<string, never> = {};
      const zkeys: Record<string, string> = {};
      for (const [name, all] of Object.entries(c.state.circuits)) {
        const steps = all.filter((s) => s.kind !== 'beacon');
        const dir = this.dir(c.state.id, name);
        const last = join(dir, `${steps.length - 1}.zkey`);
        const finalPath = join(dir, `${steps.length}.zkey`);
        const { contributionHash } = await this.job({ kind: 'beacon', prev: last, out: `${finalPath}.tmp`, name: 'zktrust ceremony beacon', beacon: beacon.value, iterationsExp: beacon.iterationsExp });
        await rename(`${finalPath}.tmp`, finalPath);
        const { ok } = await this.job({ kind: 'verify-init', init: join(dir, '0.zkey'), ptau: c.ptauPath, key: finalPath });
        if (!ok) throw new Error(`${name}: the final key does not verify from its initial key and the powers of tau`);
        const bytes = new Uint8Array(await readFile(finalPath));
        const sha = createHash('sha256').update(bytes).digest('hex');
        const { hashes: records } = await zkeyContributions(bytes);
        const expected = [...steps.filter((s) => s.kind === 'contribution').map((s) => s.contributionHash!), contributionHash];
        if (canonicalJson(records) !== canonicalJson(expected)) throw new Error(`${name}: the final key's records are not the transcript's`);
        const vkey = await verificationKeyOf(bytes);
        c.state.circuits[name] = [...steps, { index: steps.length, kind: 'beacon', zkey: sha, contributionHash, at: Date.now() }];
        await copyFile(finalPath, join(keyDir, `${name}.zkey`));
        verificationKeys[name] = vkey as never;
        zkeys[name] = sha;
        circuits[name] = { r1cs: this.deps.circuits[name]!.r1cs, vkey: vkeyHash(vkey), contributions: records };
      }
      const descriptor: KeySetDescriptor = {
        version: 1,
        config: this.deps.config,
        mode: 'ceremony',
        policyHash: this.deps.policyHash,
        phase1: { kind: 'ptau', blake2b: c.state.phase1.blake2b, power: c.state.phase1.power },
        circuits,
      };
      const transcript = { ceremony: c.state.id, config: c.state.config, phase1: c.state.phase1, beacon, circuits: c.state.circuits };
      const file = await writeKeySetFile(keyDir, { descriptor, verificationKeys, zkeys, createdAt: Date.now(), transcript });
      const target = join(this.deps.dataDir, 'keys', file.keySetHash);
      if (!existsSync(target)) await rename(keyDir, target);
      else await rm(keyDir, { recursive: true, force: true });
      const latest = this.deps.latestSequence();
      const from = Math.max(c.state.activateAt ?? latest + 1, latest + 1);
      await this.deps.schedule(target, from);
      c.state.activateAt = from;
      c.state.keySetHash = file.keySetHash;
      c.state.status = 'finalized';
      this.deps.log({ level: 'info', msg: 'ceremony finalized', ceremony: c.state.id, keySetHash: file.keySetHash, fromCheckpoint: from });
    } catch (e) {
      if (this.stopping.signal.aborted) return;
      this.failed(c, 'finalizing', e);
    }
    await this.save();
  }

  // A step that went wrong ends the ceremony, saying where and why (the caller saves it).
  private failed(c: { state: { id: string; status: string; error?: string } }, phase: string, e: unknown): void {
    c.state.status = 'failed';
    // The cause (paths, a child's message) stays in the log: the state is public (GET /v1/ceremony).
    c.state.error = `${phase} failed; the aggregator's log says why`;
    this.deps.log({ level: 'error', msg: 'ceremony failed', ceremony: c.state.id, phase, error: (e as Error).message });
  }
}
