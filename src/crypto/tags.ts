/**
 * Domain tags: the first input of every Poseidon hash, one per role (docs/protocol.md, "Hash").
 * @module
 */
export const TAG_IDENTITY = 1n;
export const TAG_RECORD = 2n;
export const TAG_CHAIN = 3n;
export const TAG_LEAF = 4n;
export const TAG_POLICY = 5n;
export const TAG_CONTEXT = 6n;

/** Bits of an identity field element (ids are reduced mod 2^252). */
export const ID_BITS = 252;
/** Bits of each per-record counter and of epoch and scope. */
export const COUNTER_BITS = 32;
/** Bits of every running total in an agent leaf. */
export const TALLY_BITS = 48;
