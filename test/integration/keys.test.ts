/**
 * Key modes through a running service (test configuration, real servers, real proofs):
 *   - the forgery that beta allows, as a regression: under development keys it yields a valid
 *     Groth16 proof of "score >= 999" for an agent the aggregator never saw, bound to a genuine
 *     signed checkpoint; the default verifier refuses it (insecure_keys). Under a service's own
 *     local keys the same construction fails (invalid_proof);
 *   - first start without opt-in makes local keys (never development keys), names them in
 *     the checkpoints, /v1/keys and presentations; a restart reuses them; a downgrade to
 *     development keys is refused; two deployments have different keys;
 *   - a data directory proven under development keys, restarted with a configured key set,
 *     switches from the next checkpoint; presentations wait for it; audit checks both.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDevSecrets } from '../../src/build/dev-zkey.ts';
import { DEV_SEED } from '../../src/build/ensure-artifacts.ts';
import { audit } from '../../src/audit/audit.ts';
import { AgentClient } from '../../src/client/agent-client.ts';
import { OrgClient } from '../../src/client/org-client.ts';
import { signingBytes } from '../../src/crypto/canonical.ts';
import { contextHash } from '../../src/crypto/context.ts';
import { generateKeyPair, verifyStrict } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey, identityField, publicKeyFromDid } from '../../src/crypto/identity.ts';
import { keySetHash, vkeyHash } from '../../src/crypto/key-set.ts';
import { CIRCUIT_POLICY, policyHash } from '../../src/crypto/score-policy.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { verifyGroth16 } from '../../src/verifier/groth16.ts';
import { createVerifier } from '../../src/verifier/presentation.ts';
import { forgeWithBeta } from '../helpers/forge.ts';
import { DEV_KEYS, testLocalKeySetDir } from '../helpers/keys.ts';
import { registerOrgs } from '../helpers/service.ts';

let dir: string;
const org = generateKeyPair();
const agent = generateKeyPair();
const agentDid = didFromPublicKey(agent.publicKey);
const DEV_BETA = deriveDevSecrets(DEV_SEED).beta;

const start = (dataDir: string, env: Record<string, string>, logs: Array<Record<string, unknown>> = [], onListening?: (url: string) => void) =>
  startService({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...env }), port: 0, dataDir: join(dir, dataDir), adminToken: 't', batchMaxWaitMs: 100 }, (e) => {
    logs.push(e);
    if (e.msg === 'listening') onListening?.(e.url as string);
  });

async function proveOneBatch(svc: RunningService, epoch: number): Promise<void> {
  await new OrgClient(org.secretKey, svc.url, svc.aggregator.did).submit([{ agent: agentDid, epoch, kept: 40, broken: 0, violations: 0 }]);
  await svc.aggregator.drain(120_000);
}

/** A presentation of "score >= 999" for a stranger, forged with the development beta, on the service's latest genuine checkpoint. */
async function forged(svc: RunningService, stranger: string) {
  const keys = (await (await fetch(`${svc.url}/v1/keys`)).json()) as any;
  const checkpoint = svc.aggregator.latestCheckpoint()!;
  const set = (await (await fetch(`${svc.url}/v1/keys/${checkpoint.body.keySetHash}`)).json()) as any;
  const context = { nonce: 'forged', audience: 'https://victim.example', expiry: Math.floor(Date.now() / 1000) + 600 };
  const signals = [BigInt(checkpoint.body.stateRoot), identityField(publicKeyFromDid(stranger)), 999n, 0n, 0n, policyHash(CIRCUIT_POLICY), contextHash(context)];
  const vkey = set.circuits.threshold.vkey;
  const proof = await forgeWithBeta(vkey, signals, DEV_BETA);
  const presentation = { version: 2, circuit: 'threshold', config: 'test', agent: stranger, proof, publicSignals: signals.map(String), context, checkpoint, keySet: set.document.body.descriptor, verificationKey: vkey };
  return { presentation, vkey, keys, expectations: { agent: stranger, minScore: 999, context: { nonce: 'forged', audience: 'https://victim.example' }, maxAgeS: 600 } };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-keys-'));
}, 10_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('development keys: the forgery, and the default verifier', () => {
  it('beta forges a valid proof of 999 for a stranger; only a verifier that allows insecure keys accepts it', async () => {
    const svc = await start('dev', DEV_KEYS);
    try {
      await registerOrgs(svc.url, 't', [org]);
      await proveOneBatch(svc, 1);
      const stranger = didFromPublicKey(generateKeyPair().publicKey);
      const { presentation, vkey, expectations } = await forged(svc, stranger);
      // The attack is real: the proof verifies under the development key.
      expect(await verifyGroth16(vkey, presentation.publicSignals, presentation.proof)).toBe(true);
      expect(await createVerifier({ aggregatorKeys: [svc.aggregator.did] }).verifyPresentation(presentation, expectations)).toMatchObject({ ok: false, reason: 'insecure_keys', keyMode: 'dev', forgeableBy: 'anyone' });
      expect(await createVerifier({ aggregatorKeys: [svc.aggregator.did], allowInsecureKeys: true }).verifyPresentation(presentation, expectations)).toMatchObject({ ok: true, provenMinScore: 999, tier: 'verified partner' });
    } finally {
      await svc.close();
    }
  }, 180_000);
});

describe('local keys', () => {
  let svc: RunningService;
  const logs: Array<Record<string, unknown>> = [];

  // What /v1/health and /v1/ready answer while the first start makes the keys.
  const probes: Array<{ path: string; status: number; body: any }> = [];
  let probing: Promise<void> | undefined;

  beforeAll(async () => {
    svc = await start('local', {}, logs, (url) => {
      probing = (async () => {
        while (!logs.some((l) => l.msg === 'ready')) {
          for (const path of ['/v1/health', '/v1/ready']) {
            const r = await fetch(url + path);
            probes.push({ path, status: r.status, body: await r.json() });
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
    });
    await probing;
    await registerOrgs(svc.url, 't', [org]);
    await proveOneBatch(svc, 1);
  }, 240_000);
  afterAll(async () => svc?.close());

  it('first start listens at once: health answers, readiness says 503 starting with the key-building progress, then ready', async () => {
    const starting = probes.filter((p) => p.path === '/v1/ready' && p.status === 503);
    // Key building takes seconds: many probes were answered before the service was ready.
    expect(starting.length).toBeGreaterThan(4);
    for (const p of starting) expect(p.body).toMatchObject({ status: 'starting', config: 'test', progress: { step: expect.any(String), percent: expect.any(Number) } });
    expect(starting.map((p) => p.body.progress.step).join('\n')).toMatch(/key/);
    // The percentage is that of the step named (each circuit's phases in turn): it only grows within a step.
    for (const [i, p] of starting.entries()) {
      const before = starting[i - 1];
      if (before && before.body.progress.step === p.body.progress.step) expect(p.body.progress.percent).toBeGreaterThanOrEqual(before.body.progress.percent);
    }
    expect(probes.filter((p) => p.path === '/v1/health').every((p) => p.status === 200)).toBe(true);
    expect(probes.find((p) => p.path === '/v1/health')!.body).toMatchObject({ status: 'ok', phase: expect.not.stringMatching(/^ready$/) });
    // Once ready, readiness says so with the key mode and every component.
    const ready = await (await fetch(svc.url + '/v1/ready')).json();
    expect(ready).toMatchObject({ status: 'ready', phase: 'ready', keyMode: 'local', components: { keys: { ok: true }, store: { ok: true }, sequencer: { ok: true } } });
  });

  it('first start makes local keys and names them everywhere: logs, /v1/keys (signed), checkpoints, presentations', async () => {
    expect(logs.some((l) => l.msg === 'making local keys (OS randomness; first start or replacing development keys)')).toBe(true);
    expect(logs.find((l) => l.msg === 'ready')).toMatchObject({ keyMode: 'local', forgeableBy: 'operator' });
    const keys = (await (await fetch(`${svc.url}/v1/keys`)).json()) as any;
    expect(keys).toMatchObject({ aggregator: svc.aggregator.did, config: 'test', mode: 'local', forgeableBy: 'operator', fromSequence: 1, phase1: { kind: 'local' } });
    expect(keys.history).toEqual([{ fromSequence: 1, keySetHash: keys.keySetHash, mode: 'local', forgeableBy: 'operator' }]);
    expect(keySetHash(keys.document.body.descriptor)).toBe(keys.keySetHash);
    for (const [name, c] of Object.entries<any>(keys.circuits)) expect(vkeyHash(c.vkey), name).toBe(keys.document.body.descriptor.circuits[name].vkey);
    expect(verifyStrict(Buffer.from(keys.document.signature, 'hex'), signingBytes('key-document', keys.document.body), publicKeyFromDid(svc.aggregator.did))).toBe(true);
    expect(svc.aggregator.latestCheckpoint()!.body).toMatchObject({ keySetHash: keys.keySetHash, keyMode: 'local' });
    // The proving key is served, and it is the one the key set names.
    const zkey = new Uint8Array(await (await fetch(`${svc.url}/v1/keys/${keys.keySetHash}/threshold.zkey`)).arrayBuffer());
    const { verificationKeyOf } = await import('../../src/keys/zkey-file.ts');
    expect(vkeyHash(await verificationKeyOf(zkey))).toBe(keys.circuits.threshold.vkeyHash);
    expect((await fetch(`${svc.url}/v1/keys/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await fetch(`${svc.url}/v1/keys/not-a-hash`)).status).toBe(400);
    // A genuine presentation: the default verifier accepts it, and says who could forge.
    const context = { nonce: 'n', audience: 'https://gw.example', expiry: Math.floor(Date.now() / 1000) + 600 };
    const p = (await new AgentClient(agent.secretKey, svc.url).present({ minScore: 500, context })) as any;
    expect(p.keySet).toEqual(keys.document.body.descriptor);
    const r = await createVerifier({ aggregatorKeys: [svc.aggregator.did] }).verifyPresentation(p, { agent: agentDid, minScore: 500, context: { nonce: 'n', audience: 'https://gw.example' }, maxAgeS: 600 });
    expect(r).toMatchObject({ ok: true, keyMode: 'local', keySetHash: keys.keySetHash, forgeableBy: 'operator' });
    // Also from the key document alone, the presentation stripped of its keys.
    const { keySet: _k, verificationKey: _v, ...bare } = p;
    expect(await createVerifier({ aggregatorKeys: [svc.aggregator.did], keyDocuments: [keys.document] }).verifyPresentation(bare, { agent: agentDid, minScore: 500, context: { nonce: 'n', audience: 'https://gw.example' }, maxAgeS: 600 })).toMatchObject({ ok: true });
  });

  it('the forgery with the development beta fails under local keys', async () => {
    const stranger = didFromPublicKey(generateKeyPair().publicKey);
    const { presentation, vkey, expectations } = await forged(svc, stranger);
    expect(await verifyGroth16(vkey, presentation.publicSignals, presentation.proof)).toBe(false);
    expect(await createVerifier({ aggregatorKeys: [svc.aggregator.did] }).verifyPresentation(presentation, expectations)).toMatchObject({ ok: false, reason: 'invalid_proof', keyMode: 'local' });
  });

  it('two deployments have different keys', async () => {
    const keys = (await (await fetch(`${svc.url}/v1/keys`)).json()) as any;
    const { readFile } = await import('node:fs/promises');
    const other = JSON.parse(await readFile(join(testLocalKeySetDir(), 'key-set.json'), 'utf8'));
    expect(other.keySetHash).not.toBe(keys.keySetHash);
    for (const k of ['vk_alpha_1', 'vk_beta_2', 'vk_delta_2']) expect(other.verificationKeys.threshold[k]).not.toEqual(keys.circuits.threshold.vkey[k]);
  });

  it('a restart reuses the keys; a restart with development keys is refused', async () => {
    const hash = svc.aggregator.keyDocument().keySetHash;
    await svc.close();
    const again: Array<Record<string, unknown>> = [];
    svc = await start('local', {}, again);
    expect(again.some((l) => String(l.msg).startsWith('making local keys'))).toBe(false);
    expect(svc.aggregator.keyDocument().keySetHash).toBe(hash);
    await svc.close();
    await expect(start('local', DEV_KEYS)).rejects.toThrow(/refusing to downgrade/);
    svc = await start('local', {});
  }, 120_000);
});

describe('from development keys to a configured key set', () => {
  it('switches from the next checkpoint; presentations wait for it; audit checks both key sets', async () => {
    let svc = await start('switch', DEV_KEYS);
    await registerOrgs(svc.url, 't', [org]);
    await proveOneBatch(svc, 1);
    const devHash = svc.aggregator.latestCheckpoint()!.body.keySetHash;
    await svc.close();
    svc = await start('switch', { ZKTRUST_KEY_SET: testLocalKeySetDir() });
    try {
      const keys = (await (await fetch(`${svc.url}/v1/keys`)).json()) as any;
      expect(keys.history.map((h: any) => [h.fromSequence, h.mode])).toEqual([[1, 'dev'], [2, 'local']]);
      expect(keys).toMatchObject({ mode: 'local', fromSequence: 2 });
      // The latest checkpoint is still under development keys: no presentation until the next.
      const context = { nonce: 'n', audience: 'a', expiry: Math.floor(Date.now() / 1000) + 600 };
      await expect(new AgentClient(agent.secretKey, svc.url).present({ minScore: 500, context })).rejects.toMatchObject({ status: 503 });
      await proveOneBatch(svc, 2);
      expect(svc.aggregator.latestCheckpoint()!.body).toMatchObject({ sequence: 2, keyMode: 'local', keySetHash: keys.keySetHash });
      const p = await new AgentClient(agent.secretKey, svc.url).present({ minScore: 500, context });
      expect(await createVerifier({ aggregatorKeys: [svc.aggregator.did] }).verifyPresentation(p, { agent: agentDid, minScore: 500, context: { nonce: 'n', audience: 'a' }, maxAgeS: 600 })).toMatchObject({ ok: true, keyMode: 'local' });
      const report = await audit(svc.url, { aggregator: svc.aggregator.did });
      expect(report.failures).toEqual([]);
      expect(report.keySets.map((k) => [k.keySetHash, k.mode, k.fromSequence])).toEqual([[devHash, 'dev', 1], [keys.keySetHash, 'local', 2]]);
      expect(report.batches).toBe(2);
    } finally {
      await svc.close();
    }
  }, 240_000);
});
