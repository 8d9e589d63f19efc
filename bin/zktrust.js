#!/usr/bin/env node
/**
 * The `zktrust` executable (package.json "bin", so `npx zktrust` in this repository): runs the
 * TypeScript CLI in src/cli/main.ts through tsx, resolved from this package's own
 * node_modules, so it works from any working directory.
 * @module
 */
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
