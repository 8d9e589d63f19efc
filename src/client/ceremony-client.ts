/**
 * CeremonyClient: what an organisation runs to take part in its aggregator's ceremony. For
 * each circuit it downloads the latest key, checks it is the one the ceremony's public state
 * names, adds a contribution with its own randomness (src/keys/phase2.ts: OS randomness,
 * mixed with optional text; the secret never leaves this process), signs a statement naming
 * the ceremony, the circuit, the step, the sha256 of the key it builds on and of the new key,
 * and uploads the new key with it. If another organisation contributed meanwhile (409), it
 * starts again from the new latest key.
 * @module
 */
import { createHash } from 'node:crypto';
import { signingBytes } from '../crypto/canonical.ts';
import { publicKeyOf, sign } from '../crypto/ed25519.ts';
import { didFromPublicKey } from '../crypto/identity.ts';
import { contribute } from '../keys/phase2.ts';
import type { CeremonyState, CeremonyStep, ContributionStatement } from '../service/ceremony.ts';
import { ClientError } from './org-client.ts';

export interface ContributionResult {
  circuit: string;
  step: number;
  contributionHash: string;
  /** Time spent adding the contribution, and uploading it until the aggregator accepted it. */
  contributeMs: number;
  uploadMs: number;
}

export class CeremonyClient {
  readonly did: string;
  constructor(
    private readonly secretKey: Uint8Array,
    readonly url: string,
  ) {
    this.did = didFromPublicKey(publicKeyOf(secretKey));
  }

  private async json<T>(res: Response): Promise<T> {
    const body = (await res.json().catch(() => undefined)) as { code?: string; detail?: string } | undefined;
    if (!res.ok) throw ClientError.of(res, body);
    return body as T;
  }

  /** The ceremony's public state. */
  async status(): Promise<CeremonyState> {
    return this.json(await fetch(`${this.url}/v1/ceremony`));
  }

  /**
   * Contributes once to each circuit of the open ceremony that this organisation has not
   * contributed to yet.
   * @throws ClientError with the aggregator's code when it refuses (after `attempts` tries on conflicts).
   */
  async contribute(opts: { name?: string; entropy?: string; attempts?: number; onStep?: (circuit: string, what: string) => void } = {}): Promise<ContributionResult[]> {
    const name = (opts.name ?? this.did).slice(0, 64);
    const results: ContributionResult[] = [];
    const state = await this.status();
    if (state.status !== 'open') throw new ClientError(409, 'conflict', `the ceremony is ${state.status}, not open for contributions`);
    for (const [circuit, steps] of Object.entries(state.circuits)) {
      // One contribution per organisation and circuit: a run that stopped half-way resumes.
      if (steps.some((st) => st.org === this.did)) {
        opts.onStep?.(circuit, 'already contributed; skipped');
        continue;
      }
      for (let attempt = 1; ; attempt++) {
        try {
          results.push(await this.contributeTo(state.id, circuit, name, opts));
          break;
        } catch (e) {
          if (!(e instanceof ClientError) || e.status !== 409 || attempt >= (opts.attempts ?? 5) || /already contributed|not open|another ceremony/.test(e.message)) throw e;
          opts.onStep?.(circuit, `another contribution came first; starting again (${e.message})`);
        }
      }
    }
    return results;
  }

  private async contributeTo(ceremony: string, circuit: string, name: string, opts: { entropy?: string; onStep?: (circuit: string, what: string) => void }): Promise<ContributionResult> {
    opts.onStep?.(circuit, 'downloading the latest key');
    const res = await fetch(`${this.url}/v1/ceremony/${circuit}/latest.zkey`);
    if (!res.ok) await this.json(res);
    const prev = new Uint8Array(await res.arrayBuffer());
    const step = Number(res.headers.get('zktrust-step'));
    const previous = createHash('sha256').update(prev).digest('hex');
    const steps = (await this.status()).circuits[circuit] as CeremonyStep[] | undefined;
    if (!steps || steps.length !== step + 1 || steps[step]!.zkey !== previous) throw new ClientError(409, 'conflict', 'the downloaded key is not the latest step of the public transcript');
    opts.onStep?.(circuit, 'adding a contribution');
    const t0 = performance.now();
    const { bytes, contributionHash } = await contribute(prev, { name, entropy: opts.entropy });
    const contributeMs = performance.now() - t0;
    const statement: ContributionStatement = {
      ceremony,
      circuit,
      index: step + 1,
      previous,
      next: createHash('sha256').update(bytes).digest('hex'),
      contributionHash,
      org: this.did,
      name,
      time: Math.floor(Date.now() / 1000),
    };
    const signature = Buffer.from(sign(signingBytes('ceremony-contribution', statement), this.secretKey)).toString('hex');
    opts.onStep?.(circuit, 'uploading');
    const t1 = performance.now();
    const up = await fetch(`${this.url}/v1/ceremony/${circuit}/contributions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'zktrust-statement': Buffer.from(JSON.stringify(statement)).toString('base64url'),
        'zktrust-signature': signature,
      },
      body: new Blob([bytes as Uint8Array<ArrayBuffer>]),
    });
    const accepted = await this.json<CeremonyStep>(up);
    if (accepted.contributionHash !== contributionHash || accepted.index !== statement.index) throw new ClientError(502, 'bad_response', 'the aggregator accepted another contribution than ours');
    return { circuit, step: accepted.index, contributionHash, contributeMs, uploadMs: performance.now() - t1 };
  }
}
