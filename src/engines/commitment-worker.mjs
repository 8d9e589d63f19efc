// Child process of commitment-pool.ts: computes record commitments with circomlibjs's
// WebAssembly Poseidon. Each message is { id, inputs: bigint[][] } (9 inputs per record,
// the domain tag first); the answer is { id, out: bigint[] }.
import { buildPoseidon } from 'circomlibjs';

const poseidon = await buildPoseidon();
process.on('message', ({ id, inputs }) => {
  try {
    process.send({ id, out: inputs.map((x) => poseidon.F.toObject(poseidon(x))) });
  } catch (e) {
    process.send({ id, error: String((e && e.message) || e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
