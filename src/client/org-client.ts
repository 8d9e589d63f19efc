/**
 * OrgClient: what an organisation runs. It holds the organisation's key, builds records with
 * fresh salts, signs submissions, submits them, and checks what comes back: the receipt's
 * signature by the pinned aggregator and, on request, the inclusion of its entries in a
 * signed tree head.
 * @module
 */
import { signingBytes } from '../crypto/canonical.ts';
import { publicKeyOf, verifyStrict } from '../crypto/ed25519.ts';
import { didFromPublicKey, publicKeyFromDid } from '../crypto/identity.ts';
import { canonicalJson } from '../crypto/canonical.ts';
import { leafHash, verifyInclusion } from '../log/merkle-log.ts';
import type { Checkpoint, Receipt } from '../protocol/wire.ts';
import { buildSubmission, type CommitmentFn, type RecordInput } from './submission.ts';

export type { Receipt } from '../protocol/wire.ts';
/** A checkpoint as served by GET /v1/checkpoints/latest, signed by the aggregator. */
export type SignedCheckpoint = Checkpoint;

export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds the server asked to wait before retrying (429 and 503 answers), if it said. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }

  /** The error of a refused response and its parsed problem+json body. */
  static of(res: Response, body: { code?: string; detail?: string } | undefined): ClientError {
    const retry = Number(res.headers.get('retry-after'));
    return new ClientError(res.status, body?.code ?? 'http_error', body?.detail ?? `HTTP ${res.status}`, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
}

const fromHex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

async function request<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw ClientError.of(res, body);
  return body as T;
}

export class OrgClient {
  readonly did: string;
  constructor(
    private readonly secretKey: Uint8Array,
    readonly url: string,
    /** The aggregator's did:key, pinned out of band. */
    readonly aggregator: string,
    private readonly opts: { commitments?: CommitmentFn } = {},
  ) {
    this.did = didFromPublicKey(publicKeyOf(secretKey));
  }

  /**
   * Signs and submits records; returns the receipt after checking its signature.
   * @throws ClientError with the server's problem code; Error if the receipt is not signed by the pinned aggregator.
   */
  async submit(records: readonly RecordInput[]): Promise<{ receipt: Receipt; commitments: string[]; nonce: string }> {
    const body = buildSubmission(this.secretKey, records, { commitments: this.opts.commitments });
    const receipt = await request<Receipt>(`${this.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (receipt.signer !== this.aggregator || !verifyStrict(fromHex(receipt.signature), signingBytes('receipt', receipt.body), publicKeyFromDid(this.aggregator))) {
      throw new Error('the receipt is not signed by the pinned aggregator');
    }
    if (receipt.body.org !== this.did || receipt.body.count !== records.length) throw new Error('the receipt does not acknowledge this submission');
    return { receipt, commitments: body.records.map((r) => r.commitment), nonce: body.nonce };
  }

  /**
   * Checks that the receipt's entries are in the log under a fresh signed tree head.
   * @param onEntry called after each entry checked, with the count so far and the total.
   * @returns true iff every entry's audit path verifies against the signed head.
   */
  async checkInclusion(submitted: { receipt: Receipt; commitments: string[]; nonce: string }, onEntry?: (done: number, total: number) => void): Promise<boolean> {
    const head = await request<{ body: { size: number; root: string }; signer: string; signature: string }>(`${this.url}/v1/log/head`);
    if (head.signer !== this.aggregator || !verifyStrict(fromHex(head.signature), signingBytes('tree-head', head.body), publicKeyFromDid(this.aggregator))) return false;
    const { firstIndex, count } = submitted.receipt.body;
    for (let k = 0; k < count; k++) {
      const index = firstIndex + k;
      const leaf = leafHash(new TextEncoder().encode(canonicalJson({ commitment: submitted.commitments[k], org: this.did, orgIndex: await this.orgIndex(), submission: `${this.did}/${submitted.nonce}` })));
      const proof = await request<{ path: string[] }>(`${this.url}/v1/log/inclusion?index=${index}&size=${head.body.size}`);
      if (!verifyInclusion(leaf, index, head.body.size, proof.path.map(fromHex), fromHex(head.body.root))) return false;
      onEntry?.(k + 1, count);
    }
    return true;
  }

  /**
   * Waits until the log entries before `logSize` (for example the last receipt's firstIndex +
   * count) are in a proven batch: polls the latest checkpoint, whose signature by the pinned
   * aggregator is checked, until its logSize reaches `logSize`.
   * @param onPoll called after each poll with the checkpoint's logSize (0 before the first batch).
   * @returns the signed checkpoint that covers the entries.
   * @throws Error on timeout or on a checkpoint not signed by the pinned aggregator.
   */
  async waitUntilProven(logSize: number, opts: { timeoutMs?: number; pollMs?: number; onPoll?: (provenSize: number) => void } = {}): Promise<SignedCheckpoint> {
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    for (;;) {
      const res = await fetch(`${this.url}/v1/checkpoints/latest`);
      let provenSize = 0;
      if (res.status !== 404) {
        if (!res.ok) throw new ClientError(res.status, 'http_error', `HTTP ${res.status} from /v1/checkpoints/latest`);
        const c = (await res.json()) as SignedCheckpoint;
        if (c.signer !== this.aggregator || !verifyStrict(fromHex(c.signature), signingBytes('checkpoint', c.body), publicKeyFromDid(this.aggregator))) {
          throw new Error('the checkpoint is not signed by the pinned aggregator');
        }
        provenSize = c.body.logSize;
        opts.onPoll?.(provenSize);
        if (provenSize >= logSize) return c;
      } else opts.onPoll?.(0);
      if (Date.now() >= deadline) throw new Error(`timed out waiting for a proven batch: ${provenSize} of ${logSize} log entries proven`);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    }
  }

  private index?: number;
  private async orgIndex(): Promise<number> {
    if (this.index === undefined) {
      const orgs = await request<Array<{ did: string; index: number }>>(`${this.url}/v1/orgs`);
      const me = orgs.find((o) => o.did === this.did);
      if (!me) throw new Error('this organisation is not registered');
      this.index = me.index;
    }
    return this.index;
  }
}
