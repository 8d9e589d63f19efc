/**
 * Poseidon for the service's hot paths, on circomlibjs's WebAssembly field arithmetic (about
 * twice the native BigInt version's speed, measured by `npm run bench -- --only poseidon`),
 * and a cache of identity field elements by DID. Outputs are identical to src/crypto (the
 * frozen vectors are checked against both).
 * @module
 */
import { buildPoseidon } from 'circomlibjs';
import { identityField, publicKeyFromDid } from '../crypto/identity.ts';
import { TAG_RECORD } from '../crypto/tags.ts';
import type { OutcomeRecord } from '../crypto/commitment.ts';

type Hasher = ((inputs: bigint[]) => Uint8Array) & { F: { toObject(x: Uint8Array): bigint } };
let hasher: Hasher | undefined;

/** Loads the WebAssembly hasher once per process. */
export async function initFastHash(): Promise<void> {
  hasher ??= (await buildPoseidon()) as Hasher;
}

/**
 * The record commitment (as recordCommitment) on the fast hasher. The caller has range-checked
 * every field.
 * @throws Error if initFastHash has not completed.
 */
export function fastCommitment(r: OutcomeRecord): bigint {
  if (!hasher) throw new Error('initFastHash() first');
  return hasher.F.toObject(hasher([TAG_RECORD, r.agent, r.org, r.epoch, r.kept, r.broken, r.violations, r.scope, r.salt]));
}

const ids = new Map<string, bigint>();
/** identityField(publicKeyFromDid(did)), cached (bounded). @throws as those two functions. */
export function identityOfDid(did: string): bigint {
  let id = ids.get(did);
  if (id === undefined) {
    id = identityField(publicKeyFromDid(did));
    if (ids.size >= 1_000_000) ids.clear();
    ids.set(did, id);
  }
  return id;
}
