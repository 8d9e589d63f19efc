/**
 * The observatory (`/`, src/observatory/) in a real browser against a real aggregator: the
 * service on 127.0.0.1 with the test configuration's shared local keys, records from two
 * organisations proven into several checkpoints, a presentation asked for by the agent through
 * AgentClient, and Debian's headless Chromium driven by playwright-core.
 *
 * It checks the files' headers (content types, a strict CSP, ETags and 304s, gzip); the new
 * GET /v1/checkpoints (order, signatures, acceptance times, bounds, refusals); that the page
 * loads with no console error and no failed request (but GET /v1/ceremony's 404 when none was started), shows what the API says, checks a real
 * presentation in the browser and refuses a tampered one and one for another audience with
 * the verifier's reason, as the in-process verifier does; that hostile input pasted into the
 * form never becomes markup or breaks the page; and that no admin or secret value reaches
 * the page. It prints the page's load time and the in-browser verification time (no timing
 * is asserted: `npm run bench -- --only observatory` compares them with Node).
 *
 * With ZKTRUST_OBSERVATORY_SCREENSHOT=docs/observatory.png it also writes the screenshot of
 * the README.
 */
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/client/agent-client.ts';
import { OrgClient } from '../../src/client/org-client.ts';
import { signingBytes } from '../../src/crypto/canonical.ts';
import { generateKeyPair, verifyStrict } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey, publicKeyFromDid } from '../../src/crypto/identity.ts';
import type { Presentation } from '../../src/protocol/wire.ts';
import { CheckpointListSchema } from '../../src/protocol/schemas.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { createVerifier } from '../../src/verifier/index.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { ROOT } from '../helpers/circuit.ts';
import { testLocalKeySetDir } from '../helpers/keys.ts';
import { registerOrgs } from '../helpers/service.ts';

const ADMIN = `observatory-admin-${randomUUID()}`;
const AUDIENCE = 'https://gateway.example';
let dir: string;
let svc: RunningService;
let browser: Browser;
let context: BrowserContext;
const orgs = [generateKeyPair(), generateKeyPair()];
const agent = generateKeyPair();
const agentDid = didFromPublicKey(agent.publicKey);
const others = [generateKeyPair(), generateKeyPair()].map((k) => didFromPublicKey(k.publicKey));
const nonce = randomUUID();
let presentation: Presentation;

/** What the page did: console messages, page errors, failed requests, responses. */
interface Watch {
  console: Array<{ type: string; text: string; url: string }>;
  errors: string[];
  failed: string[];
  responses: Array<{ method: string; path: string; status: number; authorization?: string }>;
}

function watch(page: Page): Watch {
  const w: Watch = { console: [], errors: [], failed: [], responses: [] };
  page.on('console', (m) => w.console.push({ type: m.type(), text: m.text(), url: m.location().url }));
  page.on('pageerror', (e) => w.errors.push(String(e)));
  page.on('requestfailed', (r) => w.failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    const u = new URL(r.url());
    w.responses.push({ method: r.request().method(), path: u.pathname + u.search, status: r.status(), authorization: r.request().headers().authorization });
  });
  return w;
}

/**
 * Problems in what the page did. The one 4xx allowed is GET /v1/ceremony's 404, the API's way
 * of saying that no ceremony was started, and the browser's console note of it.
 */
function problems(w: Watch): string[] {
  const ceremony404 = (path: string, status: number) => path === '/v1/ceremony' && status === 404;
  return [
    ...w.errors.map((e) => `page error: ${e}`),
    ...w.failed.map((f) => `failed request: ${f}`),
    ...w.responses.filter((r) => r.status >= 400 && !ceremony404(r.path, r.status)).map((r) => `HTTP ${r.status}: ${r.method} ${r.path}`),
    ...w.console.filter((m) => (m.type === 'error' || m.type === 'warning') && !(/status of 404/.test(m.text) && m.url.endsWith('/v1/ceremony'))).map((m) => `console ${m.type}: ${m.text} (${m.url})`),
  ];
}

/** Fills the form, presses the button and waits for the verdict. */
async function check(page: Page, text: string, e: { agent?: string; minScore?: string; nonce?: string; audience?: string } = {}): Promise<{ reason: string; ms?: number; text: string }> {
  await page.locator('#presentation').fill(text);
  await page.locator('#agent').fill(e.agent ?? agentDid);
  await page.locator('#min-score').fill(e.minScore ?? '700');
  await page.locator('#nonce').fill(e.nonce ?? nonce);
  await page.locator('#audience').fill(e.audience ?? AUDIENCE);
  await page.locator('#verify-button').click();
  await page.waitForFunction(() => document.getElementById('result')!.dataset.reason !== undefined && !(document.getElementById('verify-button') as HTMLButtonElement).disabled, undefined, { timeout: 30_000 });
  return page.$eval('#result', (el) => ({ reason: el.dataset.reason!, ms: el.dataset.ms === undefined ? undefined : Number(el.dataset.ms), text: el.textContent ?? '' }));
}

/** Opens the page and waits until it has rendered the API's data; returns how long that took. */
async function open(page: Page): Promise<number> {
  const t0 = performance.now();
  await page.goto(`${svc.url}/`);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
  return performance.now() - t0;
}

/** A GET with node:http: the body as sent (fetch would ask for gzip and decode it). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(svc.url + path, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-observatory-'));
  const starting = launchChromium();
  svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ZKTRUST_KEY_SET: testLocalKeySetDir() }), port: 0, dataDir: join(dir, 'data'), adminToken: ADMIN, batchMaxWaitMs: 100 }, () => {});
  await registerOrgs(svc.url, ADMIN, orgs);
  const clients = orgs.map((o) => new OrgClient(o.secretKey, svc.url, svc.aggregator.did));
  // Rounds of submissions, each proven before the next: a checkpoint or more each.
  const rounds: Array<[number, Array<{ agent: string; epoch: number; kept: number; broken: number; violations: number }>]> = [
    [0, [20400, 20401, 20402].map((epoch) => ({ agent: agentDid, epoch, kept: 12, broken: 0, violations: 0 }))],
    [1, [20400, 20401, 20402].map((epoch) => ({ agent: agentDid, epoch, kept: 12, broken: 0, violations: 0 }))],
    [0, others.map((a) => ({ agent: a, epoch: 20403, kept: 3, broken: 1, violations: 0 }))],
    [1, others.map((a) => ({ agent: a, epoch: 20404, kept: 5, broken: 0, violations: 0 }))],
  ];
  for (const [org, records] of rounds) {
    await clients[org]!.submit(records);
    await svc.aggregator.drain(60_000);
  }
  presentation = await new AgentClient(agent.secretKey, svc.url).present({ minScore: 700, context: { nonce, audience: AUDIENCE, expiry: Math.floor(Date.now() / 1000) + 600 } });
  browser = await starting;
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the observatory files', () => {
  it('are served with their content types, a strict Content-Security-Policy, strong ETags, 304s and gzip', async () => {
    const types: Record<string, RegExp> = { '/': /^text\/html; charset=utf-8$/, '/observatory.js': /^text\/javascript; charset=utf-8$/, '/observatory.css': /^text\/css; charset=utf-8$/, '/icon.svg': /^image\/svg\+xml$/ };
    for (const [path, type] of Object.entries(types)) {
      const { status, headers, body } = await get(path);
      expect(status, path).toBe(200);
      expect(headers['content-type'], path).toMatch(type);
      expect(headers['content-encoding']).toBeUndefined();
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['cache-control']).toBe('no-cache');
      const etag = headers.etag!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      const csp = headers['content-security-policy'] as string;
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
      expect(directives.get('default-src')).toEqual(["'self'"]);
      expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
      expect(directives.get('object-src')).toEqual(["'none'"]);
      expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
      expect(directives.get('require-trusted-types-for')).toEqual(["'script'"]);
      expect(csp).not.toMatch(/'unsafe-inline'|'unsafe-eval'|'unsafe-hashes'|\*|https?:|data:|blob:/);
      // The same ETag again: 304 without a body; another: the file.
      const again = await get(path, { 'if-none-match': etag });
      expect([again.status, again.body.length]).toEqual([304, 0]);
      expect((await get(path, { 'if-none-match': '"something-else"' })).status).toBe(200);
      // Gzipped for a client that accepts it, under its own ETag.
      const gz = await get(path, { 'accept-encoding': 'gzip, deflate' });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gz.headers.etag).not.toBe(etag);
      expect(gunzipSync(gz.body).equals(body)).toBe(true);
      expect(gz.headers.vary).toMatch(/accept-encoding/i);
      expect((await get(path, { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.etag! })).status).toBe(304);
    }
    // The page's HTML has no inline script, no inline style, and names nothing off this origin.
    const html = (await get('/')).body.toString('utf8');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|\s(?:src|href|action|srcset)="(?:[a-z]+:|\/\/)/i);
    expect(html).toMatch(/<script type="module" src="observatory.js"><\/script>/);
    // The bundle holds the verifier, built from this checkout's source.
    const js = (await get('/observatory.js')).body.toString('utf8');
    expect(js).toMatch(/invalid_proof/);
    expect(js.length).toBeLessThan(700_000);
    console.log(`observatory.js: ${js.length} bytes minified, ${(await get('/observatory.js', { 'accept-encoding': 'gzip' })).body.length} gzipped`);
  });
});

describe('GET /v1/checkpoints', () => {
  it('lists the signed checkpoints in order with their log ranges and acceptance times', async () => {
    const latest = svc.aggregator.latestCheckpoint()!.body.sequence;
    expect(latest).toBeGreaterThanOrEqual(4);
    const res = await fetch(`${svc.url}/v1/checkpoints?from=1&limit=500`);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).not.toBeNull();
    const list = CheckpointListSchema.parse(await res.json());
    expect(list.map((c) => c.checkpoint.body.sequence)).toEqual(Array.from({ length: latest }, (_, i) => i + 1));
    const key = publicKeyFromDid(svc.aggregator.did);
    let previous = 0;
    for (const c of list) {
      expect(c.checkpoint.signer).toBe(svc.aggregator.did);
      expect(verifyStrict(Buffer.from(c.checkpoint.signature, 'hex'), signingBytes('checkpoint', c.checkpoint.body), key)).toBe(true);
      expect(c.fromIndex).toBe(previous);
      expect(c.toIndex).toBe(c.checkpoint.body.logSize);
      previous = c.toIndex;
      if (c.toIndex > c.fromIndex) {
        expect(c.firstAcceptedAt).toBeLessThanOrEqual(c.lastAcceptedAt!);
        expect(c.lastAcceptedAt).toBeLessThanOrEqual(c.checkpoint.body.time);
      }
      // The same checkpoint as GET /v1/checkpoints/:seq.
      expect(await (await fetch(`${svc.url}/v1/checkpoints/${c.checkpoint.body.sequence}`)).json()).toEqual(c.checkpoint);
    }
    expect(previous).toBe((await (await fetch(`${svc.url}/v1/log/head`)).json()).body.size);
    // A page, the default, and past the end.
    expect((await (await fetch(`${svc.url}/v1/checkpoints?from=2&limit=1`)).json()).map((c: { checkpoint: { body: { sequence: number } } }) => c.checkpoint.body.sequence)).toEqual([2]);
    expect(await (await fetch(`${svc.url}/v1/checkpoints`)).json()).toEqual(list);
    expect(await (await fetch(`${svc.url}/v1/checkpoints?from=${latest + 1}`)).json()).toEqual([]);
    expect(await (await fetch(`${svc.url}/v1/checkpoints?from=9999999999999999&limit=500`)).json()).toEqual([]);
    // Beside it, one checkpoint or batch past the safe integers is not found (it was a 500).
    for (const path of ['/v1/checkpoints/9999999999999999', '/v1/batches/9999999999999999']) expect((await fetch(svc.url + path)).status, path).toBe(404);
  });

  it('refuses an unbounded or malformed query with a problem+json 400', async () => {
    const cases: Array<[string, string]> = [
      ['limit=501', 'out_of_range'],
      ['limit=0', 'out_of_range'],
      ['from=0', 'out_of_range'],
      ['from=abc', 'malformed'],
      ['limit=-1', 'malformed'],
      ['limit=1e3', 'malformed'],
      ['from=1&from=2', 'malformed'],
      ['from=1&extra=1', 'malformed'],
      ['limit=99999999999999999999', 'malformed'],
    ];
    for (const [query, code] of cases) {
      const res = await fetch(`${svc.url}/v1/checkpoints?${query}`);
      expect([query, res.status, res.headers.get('content-type')]).toEqual([query, 400, 'application/problem+json; charset=utf-8']);
      expect((await res.json()).code, query).toBe(code);
    }
  });
});

describe('the page in Chromium', () => {
  it("loads with no console error and no failed request but the API's 404 for 'no ceremony', and shows what the API says", async () => {
    const page = await context.newPage();
    const w = watch(page);
    const ms = await open(page);
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd };
    });
    console.log(`observatory page: ready (API data rendered) ${ms.toFixed(0)} ms after navigation started; DOMContentLoaded ${nav.domContentLoaded.toFixed(0)} ms, load ${nav.load.toFixed(0)} ms (first load: the bundle is built on this request)`);
    const second = await open(page);
    console.log(`observatory page, loaded again (304s): ready in ${second.toFixed(0)} ms`);

    const health = await (await fetch(`${svc.url}/v1/health`)).json();
    const head = await (await fetch(`${svc.url}/v1/log/head`)).json();
    const keys = await (await fetch(`${svc.url}/v1/keys`)).json();
    const field = (name: string) => page.$eval(`[data-field="${name}"]`, (el) => ({ value: (el as HTMLElement).dataset.value, text: el.textContent ?? '' }));
    expect((await field('checkpoint')).value).toBe(String(health.checkpoint));
    expect((await field('checkpoint')).text).toBe(`#${health.checkpoint}`);
    expect((await field('log-size')).value).toBe(String(head.body.size));
    expect((await field('log-size')).text).toBe(`${head.body.size} entries`);
    expect((await field('proven')).value).toBe(String(svc.aggregator.latestCheckpoint()!.body.logSize));
    expect(health.keyMode).toBe('local');
    expect(keys.mode).toBe('local');
    expect(await field('key-mode')).toEqual({ value: 'local', text: 'local keys' });
    expect((await field('keys-mode')).value).toBe(keys.mode);
    expect((await field('forgeable-by')).value).toBe(keys.forgeableBy);
    expect((await field('forgeable-by')).text).toBe("the aggregator's operator");
    expect(Number((await field('lag')).value)).toBeGreaterThan(0);
    expect(await page.$eval('#aggregator-did', (el) => el.textContent)).toBe(svc.aggregator.did);
    expect(await field('ceremony')).toMatchObject({ value: 'none' });
    // One row per checkpoint, newest first, every signature checked in the browser.
    const rows = await page.$$eval('table.checkpoints tbody tr', (trs) => trs.map((tr) => [Number((tr as HTMLElement).dataset.sequence), tr.querySelector('[data-field="signature"]')!.getAttribute('data-value')]));
    expect(rows).toEqual(Array.from({ length: health.checkpoint }, (_, i) => [health.checkpoint - i, 'verifies']));
    // The charts: a point per checkpoint on the proven line, a bar per batch.
    expect(await page.$$eval('#growth svg .proven circle', (c) => c.length)).toBe(health.checkpoint);
    expect(await page.$$eval('#lag svg rect.bar', (c) => c.length)).toBe(health.checkpoint);
    expect(await page.$eval('#growth svg', (s) => s.getAttribute('role'))).toBe('img');
    expect(problems(w)).toEqual([]);
    // Only public GETs of this origin, with no credentials.
    const allowed = /^\/(|observatory\.js|observatory\.css|icon\.svg|v1\/health|v1\/log\/head|v1\/keys|v1\/ceremony|v1\/checkpoints\?from=\d+&limit=\d+)$/;
    expect(w.responses.filter((r) => r.method !== 'GET' || !allowed.test(r.path) || r.authorization !== undefined)).toEqual([]);

    const shot = process.env.ZKTRUST_OBSERVATORY_SCREENSHOT;
    if (shot) {
      // The README's picture: the whole page, the verdict on a real presentation included, in
      // one viewport (a full-page capture leaves the textarea blank), at 75 % so that it stays
      // under 300 KB.
      const small = await browser.newContext({ viewport: { width: 1040, height: 900 }, deviceScaleFactor: 0.75 });
      const p = await small.newPage();
      await open(p);
      expect((await check(p, JSON.stringify(presentation, null, 2))).reason).toBe('ok');
      await p.$eval('#presentation', (el) => (el.scrollTop = 0));
      await p.setViewportSize({ width: 1040, height: await p.evaluate(() => document.documentElement.scrollHeight) });
      const png = await p.screenshot({ type: 'png' });
      await writeFile(resolve(ROOT, shot), png);
      console.log(`screenshot: ${shot}, ${png.length} bytes`);
      await small.close();
    }
    await page.close();
  });

  it('verifies a real presentation in the browser and refuses a tampered one and one for another audience, as the in-process verifier does', async () => {
    const page = await context.newPage();
    const w = watch(page);
    await open(page);
    const node = createVerifier({ aggregatorKeys: [svc.aggregator.did] });
    const expectations = (audience = AUDIENCE) => ({ agent: agentDid, minScore: 700, context: { nonce, audience }, maxAgeS: 86_400 });

    const good = await check(page, JSON.stringify(presentation));
    expect(good.reason).toBe('ok');
    expect(good.text).toContain("Valid: the agent's score is at least 700 (trusted).");
    expect(good.text).toContain("Proven under local keys: the aggregator's operator could forge proofs under them.");
    expect((await node.verifyPresentation(presentation, expectations())).reason).toBe('ok');
    const warm = await check(page, JSON.stringify(presentation));
    expect(warm.reason).toBe('ok');
    console.log(`in-browser verification: ${good.ms} ms the first time (WebAssembly curve built), ${warm.ms} ms the second (a fresh verifier each time: no cached decision)`);

    // A public signal changed (the proven least score, 700 -> 900): the proof no longer verifies.
    const tampered = structuredClone(presentation);
    tampered.publicSignals[2] = '900';
    const t = await check(page, JSON.stringify(tampered));
    expect(t.reason).toBe('invalid_proof');
    expect(t.text).toContain('Refused: The zero-knowledge proof does not verify: the presentation was tampered with.');
    expect((await node.verifyPresentation(tampered, expectations())).reason).toBe('invalid_proof');
    // The checkpoint altered: its signature no longer verifies.
    const moved = structuredClone(presentation);
    moved.checkpoint.body.logSize += 1;
    expect((await check(page, JSON.stringify(moved))).reason).toBe('bad_checkpoint_signature');
    // A presentation made for another verifier.
    const elsewhere = await check(page, JSON.stringify(presentation), { audience: 'https://another.example' });
    expect(elsewhere.reason).toBe('context_mismatch');
    expect(elsewhere.text).toContain('It was made for another request');
    expect((await node.verifyPresentation(presentation, expectations('https://another.example'))).reason).toBe('context_mismatch');
    // Another nonce, a higher requirement, another agent, another aggregator.
    expect((await check(page, JSON.stringify(presentation), { nonce: 'replayed' })).reason).toBe('context_mismatch');
    expect((await check(page, JSON.stringify(presentation), { minScore: '900' })).reason).toBe('score_below_expected');
    expect((await check(page, JSON.stringify(presentation), { agent: others[0] })).reason).toBe('agent_mismatch');
    await page.locator('#aggregator').fill(others[1]!);
    expect((await check(page, JSON.stringify(presentation))).reason).toBe('untrusted_aggregator');
    await page.locator('#aggregator').fill('');
    expect(problems(w)).toEqual([]);
    await page.close();
  });

  it('shows hostile input as text, never as markup, and keeps working', async () => {
    const page = await context.newPage();
    const w = watch(page);
    await open(page);
    const markup = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    // Not JSON: the parser's message quotes the input, as text.
    const notJson = await check(page, markup);
    expect(notJson.reason).toBe('not_json');
    expect(notJson.text).toContain('<img src=x');
    // JSON whose every string is markup, expectations that are markup, an agent that is not a did.
    const poisoned = JSON.parse(JSON.stringify(presentation, (_k, v) => (typeof v === 'string' ? markup : v)));
    expect((await check(page, JSON.stringify(poisoned))).reason).toBe('malformed');
    expect((await check(page, JSON.stringify(presentation), { nonce: markup, audience: markup })).reason).toBe('context_mismatch');
    const badAgent = await check(page, JSON.stringify(presentation), { agent: markup });
    expect(badAgent.reason).toBe('bad_expectations');
    expect((await check(page, JSON.stringify(presentation), { minScore: '1e3' })).reason).toBe('bad_expectations');
    expect((await check(page, JSON.stringify(presentation), { minScore: '' })).reason).toBe('bad_expectations');
    // Prototype keys, deep nesting, a huge paste, odd JSON values.
    expect((await check(page, '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}')).reason).toBe('malformed');
    expect((await check(page, '['.repeat(100_000) + ']'.repeat(100_000))).reason).toBe('malformed');
    expect((await check(page, `{"a":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`)).reason).toBe('malformed');
    expect((await check(page, 'null')).reason).toBe('malformed');
    expect((await check(page, '"a string"')).reason).toBe('malformed');
    expect((await check(page, JSON.stringify({ ...presentation, publicSignals: presentation.publicSignals.map(() => '1'.repeat(400)) }))).reason).toBe('malformed');
    await page.$eval('#presentation', (el) => ((el as HTMLTextAreaElement).value = 'x'.repeat(3 << 20)));
    await page.locator('#verify-button').click();
    await page.waitForFunction(() => document.getElementById('result')!.dataset.reason === 'too_large');
    // Nothing ran, nothing became an element, nothing was polluted, and the page still works.
    expect(await page.evaluate(() => [(window as { __pwned?: number }).__pwned, ({} as { polluted?: number }).polluted, document.querySelectorAll('img, main script, iframe, object').length])).toEqual([undefined, undefined, 0]);
    expect((await check(page, JSON.stringify(presentation))).reason).toBe('ok');
    expect(problems(w)).toEqual([]);
    await page.close();
  });

  it('shows a service that is starting, then one with no checkpoint yet, with no console error', async () => {
    // A second service, held before its aggregator opens (the server listens at once).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let url: string | undefined;
    const starting = startService(
      { ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ZKTRUST_KEY_SET: testLocalKeySetDir() }), port: 0, dataDir: join(dir, 'empty'), adminToken: ADMIN },
      (e) => void (e.msg === 'listening' && (url = String(e.url))),
      { prepare: async (step) => { step('held by the test'); await held; } },
    );
    const page = await context.newPage();
    const w = watch(page);
    let empty: RunningService | undefined;
    try {
      await expect.poll(() => url).toBeDefined();
      await page.goto(`${url}/`);
      await page.waitForSelector('body[data-state="starting"]');
      expect(await page.$eval('#status', (el) => el.textContent)).toMatch(/^The aggregator is starting \(test circuits, up \d+ s\)\./);
      release();
      empty = await starting;
      await page.locator('#refresh').click();
      await page.waitForSelector('body[data-state="ready"]');
      const field = (name: string) => page.$eval(`[data-field="${name}"]`, (el) => [(el as HTMLElement).dataset.value, el.textContent]);
      expect(await field('checkpoint')).toEqual(['0', 'none yet']);
      expect(await field('log-size')).toEqual(['0', '0 entries']);
      expect(await page.$eval('#checkpoints', (el) => el.textContent)).toBe('No batch has been proven yet.');
      expect(await page.$$eval('svg .empty', (els) => els.map((e) => e.textContent))).toEqual(['no data yet', 'no data yet']);
      expect(problems(w)).toEqual([]);
      // Only /v1/health while it started: no refusal of a route that was not open yet.
      expect(w.responses.filter((r) => r.status === 503)).toEqual([]);
    } finally {
      release();
      await page.close();
      await (empty ?? (await starting.catch(() => undefined)))?.close();
    }
  });

  it('carries no admin or secret value, and the browser refuses any HTML string sink (Trusted Types)', async () => {
    const page = await context.newPage();
    const w = watch(page);
    await open(page);
    const secretKey = (await readFile(join(dir, 'data', 'aggregator.key'), 'utf8')).trim();
    const rendered = await page.content();
    const files = await Promise.all(['/', '/observatory.js', '/observatory.css', '/icon.svg'].map(async (p) => (await get(p)).body.toString('utf8')));
    for (const text of [rendered, ...files]) {
      expect(text).not.toContain(ADMIN);
      expect(text).not.toContain(secretKey);
      for (const o of orgs) expect(text).not.toContain(Buffer.from(o.secretKey).toString('hex'));
      expect(text).not.toMatch(/\/v1\/admin/);
    }
    // The CSP's Trusted Types: an HTML string written into the page is refused by the browser.
    const sink = await page.evaluate(() => {
      try {
        document.body.insertAdjacentHTML('beforeend', '<b id="injected">x</b>');
        return 'written';
      } catch (e) {
        return (e as Error).name;
      }
    });
    expect(sink).toBe('TypeError');
    expect(await page.$('#injected')).toBeNull();
    // That refusal is reported on the console; nothing else is.
    expect(problems(w).filter((p) => !/requires 'TrustedHTML' assignment/.test(p))).toEqual([]);
    await page.close();
  });
});
