/**
 * Poseidon over BN254 for any input count with generated constants (poseidon-constants.ts):
 * the hasher for the service, the state's trees and the tests, which hash at every width.
 * Code that must bundle small (the verifier) imports the widths it uses from
 * poseidon-constants/ instead, since this module carries all their constants (poseidon-core.ts).
 * @module
 */
import { POSEIDON_HASHERS } from './poseidon-constants.ts';

export { PARTIAL_ROUNDS, setPoseidonBackend, type PoseidonBackend } from './poseidon-core.ts';

/**
 * Poseidon hash of 1..16 field elements (those with generated constants).
 * @throws TypeError / RangeError if an input is not a canonical field element, RangeError for
 *   an input count without constants.
 * @example poseidon([1n, 2n]) // circomlib Poseidon(2)
 */
export function poseidon(inputs: readonly bigint[]): bigint {
  if (!Array.isArray(inputs)) throw new TypeError('inputs must be an array of bigints');
  const hash = POSEIDON_HASHERS[inputs.length];
  if (!hash) throw new RangeError(`Poseidon with ${inputs.length} inputs is not supported (have ${Object.keys(POSEIDON_HASHERS).join(', ')})`);
  return hash(inputs);
}
