#!/usr/bin/env node
/**
 * The `zktrust` executable (package.json "bin").
 *
 * - Installed, it runs the built command line, dist/src/cli/main.js: plain JavaScript, no tsx.
 * - In a checkout (src/ is there, and tsx, a development dependency) it runs the TypeScript
 *   source through tsx, so that what runs is what is in src/ now, never a stale build.
 * @module
 */
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/src/cli/main.js', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch {
    return undefined;
  }
}

const register = existsSync(source) ? await tsxRegister() : undefined;
if (register) {
  register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  console.error('zktrust: dist/src/cli/main.js is missing: run npm run build');
  process.exit(1);
}
