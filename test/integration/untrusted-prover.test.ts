/**
 * Provers are not trusted (test configuration, real proofs): whatever runs the proofs (here
 * the local child processes behind a factory that can be told to lie), the aggregator signs a
 * checkpoint and serves a presentation only for a proof of exactly the statement it asked
 * for that verifies under the key set. A lying prover gets no checkpoint and no presentation
 * out; the batch is retried, and proven once the prover is honest again, every receipt kept.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/client/agent-client.ts';
import { ClientError, OrgClient } from '../../src/client/org-client.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import type { ProofResult } from '../../src/prover/groth16-prover.ts';
import { wrapProver, type Prover } from '../../src/prover/prover.ts';
import { localProvers } from '../../src/prover/supervised-prover.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { createVerifier } from '../../src/verifier/presentation.ts';
import { DEV_KEYS } from '../helpers/keys.ts';
import { registerOrgs } from '../helpers/service.ts';

type Lie = (honest: ProofResult<string>, first: ProofResult<string> | undefined) => ProofResult<string>;

/** The lies a compromised or broken prover could tell, each on top of the honest answer. */
const LIES: Record<string, Lie> = {
  // A public signal changed (say, another new root), the proof kept.
  'an altered public signal': (h) => ({ ...h, publicSignals: h.publicSignals.map((s, i) => (i === 1 ? (BigInt(s) + 1n).toString() : s)) }),
  // The statement asked for, with a proof that is not one of it.
  'a corrupted proof': (h) => {
    const proof = structuredClone(h.proof) as { pi_a: string[] };
    proof.pi_a = [...proof.pi_a];
    proof.pi_a[0] = (BigInt(proof.pi_a[0]!) + 1n).toString();
    return { ...h, proof: proof as never };
  },
  // A genuine proof it made before, of another statement (its first one).
  'a replayed earlier proof': (h, first) => {
    if (!first || first.publicSignals.join() === h.publicSignals.join()) throw new Error('the test needs an earlier proof of another statement');
    return first;
  },
  // The statement truncated: a signal missing.
  'a missing public signal': (h) => ({ ...h, publicSignals: h.publicSignals.slice(0, -1) }),
  // Not a proof at all.
  'a malformed proof': (h) => ({ ...h, proof: { pi_a: ['x'], protocol: 'groth16' } as never }),
};

let dir: string;
let svc: RunningService;
const logs: Array<Record<string, unknown>> = [];
const org = generateKeyPair();
const agents = Array.from({ length: 4 }, () => generateKeyPair());
// What the provers do: honest, or one of the lies.
const mode: { batch?: Lie; threshold?: Lie } = {};
const calls = { batch: 0, threshold: 0 };

/** The default local provers, behind a wrapper that tells the lie of the moment. */
function lyingProvers(spec: Parameters<typeof localProvers>[0]): Prover {
  const inner = localProvers(spec);
  const kind = spec.circuits[0]!.circuit === 'batch-update' ? 'batch' : 'threshold';
  let first: ProofResult<string> | undefined;
  return wrapProver(inner, async (circuit, input) => {
    calls[kind]++;
    const honest = await inner.prove(circuit, input);
    const lie = mode[kind];
    first ??= honest;
    return lie ? lie(honest, first) : honest;
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-untrusted-prover-'));
  svc = await startService(
    { ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), adminToken: 't', batchMaxWaitMs: 100, receiptDeadlineMs: 300_000 },
    (e) => logs.push(e),
    { provers: lyingProvers },
  );
  await registerOrgs(svc.url, 't', [org]);
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

const sequence = () => svc.aggregator.latestCheckpoint()?.body.sequence ?? 0;
const until = async (what: string, ok: () => boolean, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('provers are not trusted', () => {
  it('a first honest batch, so that a replayed proof exists', async () => {
    const client = new OrgClient(org.secretKey, svc.url, svc.aggregator.did);
    await client.submit([{ agent: didFromPublicKey(agents[0]!.publicKey), epoch: 1, kept: 20, broken: 1, violations: 0 }]);
    await svc.aggregator.drain(60_000);
    expect(sequence()).toBe(1);
  }, 90_000);

  it.each(Object.keys(LIES))('batch: %s gets no checkpoint; the batch is proven once the prover is honest', async (name) => {
    const client = new OrgClient(org.secretKey, svc.url, svc.aggregator.did);
    const before = sequence();
    const failures = logs.filter((l) => l.msg === 'batch proof failed; retrying').length;
    mode.batch = LIES[name];
    const agent = agents[1 + (Object.keys(LIES).indexOf(name) % 3)]!;
    const epoch = 2 + Object.keys(LIES).indexOf(name);
    const { receipt } = await client.submit([{ agent: didFromPublicKey(agent.publicKey), epoch, kept: 5, broken: 0, violations: 0 }]);
    // The lie is told at least twice (the batch is retried), and nothing is signed meanwhile.
    await until('two refused batch proofs', () => logs.filter((l) => l.msg === 'batch proof failed; retrying').length >= failures + 2);
    expect(sequence()).toBe(before);
    const refusal = logs.filter((l) => l.msg === 'batch proof failed; retrying').at(-1)!;
    expect(String(refusal.error)).toMatch(/not of the transition asked for|does not verify/);
    // Honest again: the same entries are proven under a checkpoint that covers the receipt.
    mode.batch = undefined;
    await svc.aggregator.drain(60_000);
    expect(sequence()).toBe(before + 1);
    expect(svc.aggregator.latestCheckpoint()!.body.logSize).toBeGreaterThanOrEqual(receipt.body.firstIndex + receipt.body.count);
  }, 120_000);

  it.each(Object.keys(LIES))('presentation: %s is never served (503), nothing cached; honest again, it verifies', async (name) => {
    mode.threshold = LIES[name];
    const agent = agents[0]!;
    const context = { nonce: `n-${name}`, audience: 'https://verifier.example', expiry: Math.floor(Date.now() / 1000) + 600 };
    const before = calls.threshold;
    const refusals = () => logs.filter((l) => l.msg === 'a prover returned a presentation proof that does not verify').length;
    const refusedBefore = refusals();
    const refused = await new AgentClient(agent.secretKey, svc.url).present({ minScore: 0, context }).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(ClientError);
    expect((refused as ClientError).status).toBe(503);
    expect(calls.threshold).toBe(before + 1);
    // Refused by the aggregator's own check of this answer (not by a prover that threw).
    expect(refusals()).toBe(refusedBefore + 1);
    mode.threshold = undefined;
    // The same request again is proven anew (the lie was not cached), and it verifies.
    const presentation = await new AgentClient(agent.secretKey, svc.url).present({ minScore: 0, context });
    expect(calls.threshold).toBe(before + 2);
    const verifier = createVerifier({ aggregatorKeys: [svc.aggregator.did], allowInsecureKeys: true });
    expect(await verifier.verifyPresentation(presentation, { agent: didFromPublicKey(agent.publicKey), minScore: 0, context: { nonce: context.nonce, audience: context.audience }, maxAgeS: 600 })).toMatchObject({ ok: true });
  }, 60_000);
});
