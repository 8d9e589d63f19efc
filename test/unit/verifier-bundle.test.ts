/**
 * The verifier's entry point (`zktrust/verifier`, src/verifier/index.ts) bundled for a browser
 * as an application would: it needs no Node built-in, and it stays small. Its size is mostly
 * ffjavascript (about 200 KB) and Poseidon's constants, which are per input count: it must
 * carry only the four counts it hashes (identity 3, context 4, policy v1 6 and v2 11), not all
 * seven, whose constants alone were 450 KB of the 715 KB it had when `poseidon` took them all.
 */
import { builtinModules } from 'node:module';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/circuit.ts';

/** Minified bytes: 569 KB now (16 KB of it src/interop: VC, A2A, AGT), 733 KB with every width's constants; about a 7% margin. */
const MAX_BYTES = 610_000;

describe('browser bundle', () => {
  it('bundles src/verifier for the browser without Node built-ins, with only its Poseidon widths', async () => {
    const r = await build({ entryPoints: [`${ROOT}/src/verifier/index.ts`], bundle: true, platform: 'browser', format: 'esm', minify: true, write: false, logLevel: 'silent', metafile: true });
    expect(r.errors).toEqual([]);
    const inputs = r.metafile.inputs;
    expect(Object.keys(inputs)).toContain('src/verifier/presentation.ts');
    const builtins = new Set(builtinModules);
    const nodeImports = Object.values(inputs).flatMap((f) => f.imports.map((i) => i.path)).filter((p) => p.startsWith('node:') || builtins.has(p));
    expect(nodeImports).toEqual([]);
    // Every module reached is parsed (metafile.inputs); the output keeps those it uses.
    const kept = Object.entries(Object.values(r.metafile.outputs)[0]!.inputs).filter(([, v]) => v.bytesInOutput > 0).map(([f]) => f);
    expect(kept.filter((f) => f.includes('poseidon-constants/')).sort()).toEqual(['src/crypto/poseidon-constants/inputs-11.ts', 'src/crypto/poseidon-constants/inputs-3.ts', 'src/crypto/poseidon-constants/inputs-4.ts', 'src/crypto/poseidon-constants/inputs-6.ts']);

    const js = r.outputFiles[0]!.contents;
    console.log(`verifier bundle: ${js.length} bytes minified, ${gzipSync(js, { level: 9 }).length} gzipped (bound ${MAX_BYTES})`);
    expect(js.length).toBeLessThan(MAX_BYTES);
  });
});
