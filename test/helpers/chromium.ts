/**
 * A real headless Chromium for a test: Debian's package (installed by
 * scripts/ensure-debian.sh when missing), driven by playwright-core. Nothing is downloaded:
 * playwright-core brings no browser of its own, and the browser is told not to reach out
 * (no background networking, component updates, sync or first-run pages). Playwright starts
 * it with a fresh profile (user data directory) of its own, removed when it closes.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from './circuit.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** What headless Chromium needs here (root, no GPU, no network of its own). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Installs Debian's chromium when it is missing. */
export function ensureChromium(): void {
  execFileSync('bash', [join(ROOT, 'scripts/ensure-debian.sh'), '/usr/bin/chromium:chromium'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Starts headless Chromium (installing it first if needed). */
export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
