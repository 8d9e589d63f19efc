#!/usr/bin/env node
/**
 * The last step of `npm run build`, after tsc: bundles the observatory page (src/observatory,
 * with the verifier) into dist/observatory/, which the installed package serves at `/` (it has
 * neither src/ nor esbuild). It runs the built module that a checkout's service also bundles
 * with (dist/src/observatory/assets.js), so both serve the same files.
 */
import { writeObservatory, PREBUILT_DIR } from '../dist/src/observatory/assets.js';

const t0 = performance.now();
const files = await writeObservatory();
const list = files.map((f) => `${f.name} ${f.bytes} bytes`).join(', ');
console.log(`observatory: ${PREBUILT_DIR} (${list}) in ${Math.round(performance.now() - t0)} ms`);
