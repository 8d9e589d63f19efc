/**
 * The observatory (`npm run bench -- --only observatory [--config production] [--runs N]`):
 * a real aggregator with records from two organisations and a real presentation, then
 *   - the page's load time in headless Chromium (Debian's package, test/helpers/chromium.ts),
 *     each load in a fresh browser context (nothing cached), until the API's data is rendered;
 *   - the verification of that presentation in the page (the page's own timing around
 *     createVerifier and verifyPresentation, a fresh verifier each time) against the same
 *     calls in-process in a fresh Node process (scripts/lib/verify-timing.ts), in the same
 *     run: the first (which builds the curve's WebAssembly) and the median of the following.
 * The service proves with development keys (the page's "accept development keys" box is
 * ticked, and Node's verifier is told the same).
 */
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { AgentClient } from '../src/client/agent-client.ts';
import { OrgClient } from '../src/client/org-client.ts';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../src/crypto/identity.ts';
import { loadConfig } from '../src/service/config.ts';
import { startService } from '../src/service/server.ts';
import { launchChromium } from '../test/helpers/chromium.ts';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function benchObservatory(configName: string, runs: number, line: (s: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-observatory-'));
  const svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: configName, ZKTRUST_INSECURE_DEV_KEYS: '1' }), port: 0, dataDir: join(dir, 'data'), adminToken: 'bench', batchMaxWaitMs: 200, addressRatePerSecond: 1e9, addressBurst: 1e9 }, () => {});
  const browser = await launchChromium();
  try {
    const agent = generateKeyPair();
    const agentDid = didFromPublicKey(agent.publicKey);
    for (const name of ['Acme', 'Globex']) {
      const org = generateKeyPair();
      const res = await fetch(`${svc.url}/v1/admin/orgs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bench' }, body: JSON.stringify({ name, publicKey: Buffer.from(org.publicKey).toString('hex') }) });
      if (!res.ok) throw new Error(`org add: ${res.status}`);
      await new OrgClient(org.secretKey, svc.url, svc.aggregator.did).submit([20400, 20401, 20402].map((epoch) => ({ agent: agentDid, epoch, kept: 12, broken: 0, violations: 0 })));
      await svc.aggregator.drain(600_000);
    }
    const nonce = randomUUID();
    const audience = 'https://gateway.example';
    const presentation = await new AgentClient(agent.secretKey, svc.url).present({ minScore: 700, context: { nonce, audience, expiry: Math.floor(Date.now() / 1000) + 3600 } });
    const text = JSON.stringify(presentation);

    // Node, in-process in a fresh process (its first verification builds the curve, as the
    // page's does): what a verifier service runs.
    const file = join(dir, 'presentation.json');
    await writeFile(file, text);
    const node = JSON.parse(await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', 'scripts/lib/verify-timing.ts', file, svc.aggregator.did, agentDid, nonce, audience, String(runs)], (e, out) => (e ? reject(e) : resolve(out))),
    )) as number[];

    // The page's load, each in a fresh context (no cache), until it has rendered the API's data.
    const loads: number[] = [];
    const contentLoaded: number[] = [];
    const open = async (page: Page) => {
      const t0 = performance.now();
      await page.goto(`${svc.url}/`);
      await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
      return performance.now() - t0;
    };
    for (let i = 0; i <= runs; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const ms = await open(page);
      // The first load of the process builds the bundle (a checkout): not counted.
      if (i > 0) {
        loads.push(ms);
        contentLoaded.push(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventEnd));
      }
      await context.close();
    }

    // Verification in the page: the form, as a person uses it.
    const context = await browser.newContext();
    const page = await context.newPage();
    await open(page);
    await page.locator('#presentation').fill(text);
    await page.locator('#agent').fill(agentDid);
    await page.locator('#min-score').fill('700');
    await page.locator('#nonce').fill(nonce);
    await page.locator('#audience').fill(audience);
    await page.locator('#allow-dev').check();
    const browserMs: number[] = [];
    for (let i = 0; i <= runs; i++) {
      await page.locator('#verify-button').click();
      await page.waitForFunction(() => document.getElementById('result')!.dataset.ms !== undefined && !(document.getElementById('verify-button') as HTMLButtonElement).disabled);
      const { reason, ms } = await page.$eval('#result', (el) => ({ reason: el.dataset.reason, ms: Number(el.dataset.ms) }));
      if (reason !== 'ok') throw new Error(`the page refused the presentation: ${reason}`);
      browserMs.push(ms);
    }
    await context.close();

    const [nodeFirst, ...nodeRest] = node;
    const [browserFirst, ...browserRest] = browserMs;
    line(`\n## Observatory (${configName}, headless Chromium ${browser.version()}, ${runs} runs)`);
    line(`page load, fresh context each time, until the API's data is rendered: median ${median(loads).toFixed(0)} ms (DOMContentLoaded ${median(contentLoaded).toFixed(0)} ms); script ${(await (await fetch(`${svc.url}/observatory.js`)).arrayBuffer()).byteLength} bytes`);
    line('verifying one presentation (createVerifier + verifyPresentation) | first (builds the curve) | median of the next | ratio to Node');
    line(`in-process, Node ${process.version} (a fresh process) | ${nodeFirst!.toFixed(1)} ms | ${median(nodeRest).toFixed(1)} ms | 1.00`);
    line(`in the page, Chromium | ${browserFirst!.toFixed(1)} ms | ${median(browserRest).toFixed(1)} ms | ${(median(browserRest) / median(nodeRest)).toFixed(2)}`);
  } finally {
    await browser.close();
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  }
}
