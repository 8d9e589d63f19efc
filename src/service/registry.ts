/**
 * The organisation registry: who may submit, under which key, at which organisation index
 * (the position of its slot in every agent's organisation set). Loaded at start and written
 * through (it is small); one change at a time keeps the indexes dense.
 * @module
 */
import { assertValidPublicKey } from '../crypto/ed25519.ts';
import { didFromPublicKey, publicKeyFromDid } from '../crypto/identity.ts';
import { verifierFor } from '../engines/fast-ed25519.ts';
import { ZkTrustError } from '../errors.ts';
import { RegisterOrgBody, parseOrThrow } from '../protocol/schemas.ts';
import type { Store } from '../store/db.ts';

export interface OrgRecord {
  did: string;
  publicKey: string;
  index: number;
  name: string;
  status: 'active' | 'suspended';
  registeredAt: number;
}

/** What the registry shows anyone (the audit checks orgIndex against it). */
export type PublicOrg = Pick<OrgRecord, 'did' | 'index' | 'status' | 'name'>;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A simple async mutex: one registry change at a time keeps organisation indexes dense. */
class Mutex {
  private tail = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export class Registry {
  private readonly orgs = new Map<string, OrgRecord>();
  private readonly verifiers = new Map<string, (signature: Uint8Array, message: Uint8Array) => boolean>();
  private readonly lock = new Mutex();

  /** @param orgDepth the depth of an agent's organisation set: 4^orgDepth organisations at most. */
  constructor(
    private readonly store: Store,
    private readonly orgDepth: number,
  ) {}

  /** Loads the stored registry (at start). */
  async load(): Promise<void> {
    for await (const [, o] of this.store.range<OrgRecord>('orgs')) this.orgs.set(o.did, o);
  }

  /** The organisation with this did:key, if registered. */
  get(did: string): OrgRecord | undefined {
    return this.orgs.get(did);
  }

  /** A strict node:crypto verifier of the organisation's key (src/engines/fast-ed25519.ts), made once. */
  verifier(org: OrgRecord): (signature: Uint8Array, message: Uint8Array) => boolean {
    let v = this.verifiers.get(org.did);
    if (!v) {
      v = verifierFor(Uint8Array.from(Buffer.from(org.publicKey, 'hex')));
      this.verifiers.set(org.did, v);
    }
    return v;
  }

  /**
   * Registers an organisation by its Ed25519 public key (hex) or did:key.
   * @throws ZkTrustError out_of_range for a malformed or small-order key, conflict if known.
   */
  async register(input: unknown): Promise<OrgRecord> {
    const body = parseOrThrow(RegisterOrgBody, input, 'body');
    let pk: Uint8Array;
    try {
      pk = body.did !== undefined ? publicKeyFromDid(body.did) : Uint8Array.from(Buffer.from(body.publicKey!, 'hex'));
      assertValidPublicKey(pk);
    } catch (e) {
      if (e instanceof ZkTrustError) throw e;
      throw new ZkTrustError('out_of_range', `unusable organisation key: ${(e as Error).message}`);
    }
    const did = didFromPublicKey(pk);
    return this.lock.run(async () => {
      if (this.orgs.has(did)) throw new ZkTrustError('conflict', 'organisation already registered');
      const count = this.orgs.size;
      if (count >= 4 ** this.orgDepth) throw new ZkTrustError('conflict', 'the organisation registry is full');
      const org: OrgRecord = { did, publicKey: hex(pk), index: count, name: body.name, status: 'active', registeredAt: Date.now() };
      await this.store.write([{ type: 'put', sub: 'orgs', key: did, value: org }]);
      this.orgs.set(did, org);
      return org;
    });
  }

  /**
   * Suspends (or reactivates) an organisation: its later submissions are refused, including
   * those already checked but not yet appended (ingestion looks again before the write).
   */
  async setStatus(did: string, status: 'active' | 'suspended'): Promise<OrgRecord> {
    return this.lock.run(async () => {
      const org = this.orgs.get(did);
      if (!org) throw new ZkTrustError('not_found', 'unknown organisation');
      const next = { ...org, status };
      await this.store.write([{ type: 'put', sub: 'orgs', key: did, value: next }]);
      this.orgs.set(did, next);
      return next;
    });
  }

  /** The public registry, by index. */
  list(): PublicOrg[] {
    return [...this.orgs.values()].map((o) => ({ did: o.did, index: o.index, status: o.status, name: o.name })).sort((a, b) => a.index - b.index);
  }
}
