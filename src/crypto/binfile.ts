/**
 * The iden3 binary container shared by circom's and snarkjs's files (.r1cs, .zkey, .wtns):
 * a 4-byte magic, a u32 version, a u32 section count, then per section its id (u32), size
 * (u64) and bytes. One reader for every parser in zktrust.
 * @module
 */

/**
 * The sections of a file by id, as views into `bytes` (not copies).
 * @param required section ids that must be present.
 * @throws Error if the magic differs, a section runs past the end of the file or appears
 *   twice, or a required section is missing.
 */
export function readSections(bytes: Uint8Array, magic: string, required: readonly number[] = []): Map<number, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new Error(`not a valid ${magic} file: ${why}`);
  };
  if (bytes.byteLength < 12) fail('too short');
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== magic) fail('wrong magic');
  const count = view.getUint32(8, true);
  const sections = new Map<number, Uint8Array>();
  let p = 12;
  for (let i = 0; i < count; i++) {
    if (p + 12 > bytes.byteLength) fail(`section ${i} header past the end`);
    const id = view.getUint32(p, true);
    const size = Number(view.getBigUint64(p + 4, true));
    p += 12;
    if (p + size > bytes.byteLength) fail(`section ${id} past the end`);
    if (sections.has(id)) fail(`section ${id} twice`);
    sections.set(id, bytes.subarray(p, p + size));
    p += size;
  }
  for (const id of required) if (!sections.has(id)) fail(`section ${id} missing`);
  return sections;
}

/**
 * Checks the field header that .r1cs and .wtns header sections open with (n8 as u32, then
 * the prime in n8 little-endian bytes): 32-byte elements of the field of order `prime`.
 * @returns the offset just past the prime.
 * @throws Error(`${what} is not over the BN254 scalar field`) otherwise.
 */
export function checkFieldHeader(header: Uint8Array, prime: bigint, what: string): number {
  const n8 = header.byteLength >= 4 ? viewOf(header).getUint32(0, true) : 0;
  if (n8 !== 32 || header.byteLength < 36 || leBytesToBigint(header.subarray(4, 36)) !== prime) throw new Error(`${what} is not over the BN254 scalar field`);
  return 36;
}

/** A DataView over exactly `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The unsigned integer of little-endian bytes. */
export function leBytesToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}
