/**
 * What the page says, in plain words: each reason code of the verifier
 * (src/verifier/presentation.ts), each key mode and who could forge proofs under it.
 * @module
 */
import type { ReasonCode } from '../verifier/index.ts';

/** Each verifier reason code as a sentence a person can act on (every code: the type checks it). */
export const REASONS: Readonly<Record<ReasonCode, string>> = Object.freeze({
  ok: 'The presentation is valid.',
  malformed: 'This is not a well-formed presentation: a field is missing or has the wrong type or form, or it is larger than 1 MiB.',
  untrusted_aggregator: 'Its checkpoint is signed by an aggregator you do not trust (not the did:key given here).',
  bad_checkpoint_signature: "The aggregator's signature on its checkpoint does not verify: the checkpoint was altered.",
  unknown_configuration: 'It names a circuit configuration this verifier does not know, or its checkpoint names another one.',
  unknown_key_set: 'It does not carry its key set, and no signed key document for it was given.',
  key_set_mismatch: 'Its key set or verification key is not the one its checkpoint names.',
  insecure_keys: 'It was proven under development keys, whose secrets are public: anyone could have forged it.',
  key_mode_not_accepted: 'Its keys are of a weaker mode than the one required.',
  untrusted_key_set: 'Its key set is not one of those pinned.',
  unpublished_phase1: 'Its ceremony keys start from a powers-of-tau file that was not published.',
  agent_mismatch: 'It is about another agent than the one you expect.',
  root_mismatch: "Its proof is about another state than its signed checkpoint's.",
  score_below_expected: 'It proves a lower least score than the one you require.',
  records_below_expected: 'It proves fewer records than you require.',
  orgs_below_expected: 'It proves fewer distinct organisations than you require.',
  policy_mismatch: 'It was proven under a score policy this verifier does not accept, or not the one its checkpoint and keys name.',
  context_mismatch: 'It was made for another request: its nonce, audience or expiry is not the one you gave (a replay, or a presentation meant for another verifier).',
  expired: 'It has expired.',
  stale_checkpoint: 'Its checkpoint is older than the oldest you accept.',
  invalid_proof: 'The zero-knowledge proof does not verify: the presentation was tampered with.',
});

/** The sentence for a reason code, or undefined for a string that is not one. */
export function reasonInWords(code: unknown): string | undefined {
  return typeof code === 'string' && Object.hasOwn(REASONS, code) ? REASONS[code as ReasonCode] : undefined;
}

export interface KeyModeWords {
  name: string;
  forge: string;
}

/** Each key mode (docs/keys.md): its name and who could forge proofs under it. */
export const KEY_MODES: Readonly<Record<'dev' | 'local' | 'ceremony', KeyModeWords>> = Object.freeze({
  dev: {
    name: 'development keys',
    forge: 'Anyone can forge proofs: these keys come from a public seed. They are for tests and demos; verifiers refuse them by default.',
  },
  local: {
    name: 'local keys',
    forge: "This aggregator's operator could forge proofs: the keys were made from this deployment's own randomness, which only it saw. Nobody else can.",
  },
  ceremony: {
    name: 'ceremony keys',
    forge: 'Only all participants of the ceremony together could forge proofs (with a powers-of-tau file that was not published, its operator too).',
  },
});

/** The words for a key mode, or undefined for a string that is not one. */
export function keyModeInWords(mode: unknown): KeyModeWords | undefined {
  return typeof mode === 'string' && Object.hasOwn(KEY_MODES, mode) ? KEY_MODES[mode as keyof typeof KEY_MODES] : undefined;
}

/** Who could forge (the verifier's and /v1/keys's `forgeableBy`), in words. */
export const FORGEABLE_BY: Readonly<Record<'anyone' | 'operator' | 'colluding-participants', string>> = Object.freeze({
  anyone: 'anyone',
  operator: "the aggregator's operator",
  'colluding-participants': 'all ceremony participants together',
});

/** Who could forge, in words, or undefined for a string that is not one of them. */
export function forgeableInWords(who: unknown): string | undefined {
  return typeof who === 'string' && Object.hasOwn(FORGEABLE_BY, who) ? FORGEABLE_BY[who as keyof typeof FORGEABLE_BY] : undefined;
}
