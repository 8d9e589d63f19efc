// Child process of fixed-base.ts: computes k_i * G for one chunk of scalars with a table of
// d * 256^j * G and mixed additions in ffjavascript's WebAssembly curve code.
import { buildBn128 } from 'ffjavascript';

process.once('message', async ({ group, scalars }) => {
  try {
    const curve = await buildBn128(true);
    const tm = curve.tm;
    const ex = tm.instance.exports;
    const g = group === 'G1' ? 'g1m' : 'g2m';
    const n8 = 32;
    const sA = group === 'G1' ? 2 * n8 : 4 * n8;
    const sJ = group === 'G1' ? 3 * n8 : 6 * n8;
    const n = scalars.length / 32;
    // batchToAffine works in scratch memory past the free pointer: leave room for it.
    const need = 32 * 256 * sA + 257 * sJ + n * (sJ + sA) + n * 4 * sJ + (1 << 20);
    const free = tm.u32[0];
    const have = tm.memory.buffer.byteLength - free;
    if (need > have) tm.memory.grow(Math.ceil((need - have) / 65536) + 1);
    tm.u8 = new Uint8Array(tm.memory.buffer);
    tm.u32 = new Uint32Array(tm.memory.buffer);
    const pTable = tm.alloc(32 * 256 * sA);
    const pRow = tm.alloc(256 * sJ);
    const pP = tm.alloc(sJ);
    ex[g + '_copy'](group === 'G1' ? tm.pG1gen : tm.pG2gen, pP);
    for (let j = 0; j < 32; j++) {
      ex[g + '_zero'](pRow);
      for (let d = 1; d < 256; d++) ex[g + '_add'](pRow + (d - 1) * sJ, pP, pRow + d * sJ);
      ex[g + '_batchToAffine'](pRow, 256, pTable + j * 256 * sA);
      for (let k = 0; k < 8; k++) ex[g + '_double'](pP, pP);
    }
    const pAcc = tm.alloc(n * sJ);
    const pOut = tm.alloc(n * sA);
    const addMixed = ex[g + '_addMixed'];
    const zero = ex[g + '_zero'];
    for (let i = 0; i < n; i++) {
      const acc = pAcc + i * sJ;
      zero(acc);
      const base = i * 32;
      for (let j = 0; j < 32; j++) {
        const d = scalars[base + j];
        if (d !== 0) addMixed(acc, pTable + (j * 256 + d) * sA, acc);
      }
      if ((i & 16383) === 16383) process.send({ progress: i + 1 });
    }
    ex[g + '_batchToAffine'](pAcc, n, pOut);
    process.send({ done: tm.u8.slice(pOut, pOut + n * sA) });
  } catch (e) {
    process.send({ error: String((e && e.stack) || e) });
  }
});
process.on('disconnect', () => process.exit(0));
