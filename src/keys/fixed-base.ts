/**
 * Fast fixed-base scalar multiplication on BN254 G1 and G2: k_i * G for many scalars k_i and
 * the group generator G, as needed to turn the field values of a Groth16 key into points.
 *
 * ffjavascript's one-off `timesFr` costs about 100 us in G1 and 350 us in G2 here, through
 * its JavaScript wrapper. Here each worker thread builds a table of d * 256^j * G
 * (j < 32, d < 256) once, then computes each product as at most 32 mixed additions,
 * calling the WebAssembly curve code of ffjavascript directly on its memory, and converts
 * all results to affine form in one batch (one field inversion). Measured on this machine:
 * about 22 us per G1 product on one thread.
 * @module
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

const WORKER_FILE = fileURLToPath(new URL('./fixed-base-worker.mjs', import.meta.url));

export type Group = 'G1' | 'G2';

/** Size in bytes of an affine point in ffjavascript's little-endian Montgomery form. */
export const AFFINE_SIZE: Record<Group, number> = { G1: 64, G2: 128 };

/**
 * Computes k_i * G for every 32-byte little-endian scalar k_i in `scalars` (standard form,
 * below r), returning the affine points in little-endian Montgomery form, back to back (the
 * form of snarkjs .zkey sections). Zero scalars give the point at infinity.
 * @throws RangeError if `scalars` is not a whole number of 32-byte scalars.
 */
export async function fixedBaseMultiply(
  group: Group,
  scalars: Uint8Array,
  opts: { threads?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<Uint8Array> {
  if (scalars.length % 32 !== 0) throw new RangeError('scalars must be a whole number of 32-byte scalars');
  const n = scalars.length / 32;
  const out = new Uint8Array(n * AFFINE_SIZE[group]);
  if (n === 0) return out;
  const threads = Math.max(1, Math.min(opts.threads ?? cpus().length, Math.ceil(n / 4096)));
  const per = Math.ceil(n / threads);
  const progress = new Array<number>(threads).fill(0);
  const report = () => opts.onProgress?.(progress.reduce((x, y) => x + y, 0), n);
  // Child processes rather than worker threads: ffjavascript's web-worker shim misreads a
  // worker thread as one of its own workers.
  await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const from = t * per;
      const to = Math.min(n, from + per);
      const child = fork(WORKER_FILE, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      return new Promise<void>((resolve, reject) => {
        child.on('message', (m: { progress?: number; done?: Uint8Array; error?: string }) => {
          if (m.error) reject(new Error(m.error));
          else if (m.progress !== undefined) {
            progress[t] = m.progress;
            report();
          } else if (m.done) {
            out.set(m.done, from * AFFINE_SIZE[group]);
            progress[t] = to - from;
            report();
            child.disconnect();
            resolve();
          }
        });
        child.on('error', reject);
        child.on('exit', (code) => code && reject(new Error(`fixed-base worker exited with ${code}`)));
        child.send({ group, scalars: scalars.subarray(from * 32, to * 32) });
      });
    }),
  );
  return out;
}
