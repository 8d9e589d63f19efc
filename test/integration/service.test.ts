/**
 * The aggregator end to end: a real express server on 127.0.0.1, a real LevelDB, real
 * Groth16 proofs in the test configuration. Three organisations report on twenty agents;
 * batches are proven; agents obtain presentations that verify; hostile submissions are
 * refused with the right status and store nothing, among them every record policy v2's batch
 * circuit would refuse (a second record for an epoch, an earlier epoch, a record over the cap,
 * an epoch in the future), before a receipt is signed; a restart keeps state, nonces and the log.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingBytes } from '../../src/crypto/canonical.ts';
import { contextHash } from '../../src/crypto/context.ts';
import { generateKeyPair, publicKeyOf, sign, verifyStrict } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey, identityField, publicKeyFromDid } from '../../src/crypto/identity.ts';
import { epochOf } from '../../src/crypto/epoch.ts';
import { POLICY_V2, cappedEvidence, evidenceScore, policyHash, weightedTrials } from '../../src/crypto/score-policy.ts';
import { buildSubmission, buildThresholdRequest } from '../../src/client/submission.ts';
import { verifyConsistency } from '../../src/log/merkle-log.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { verifyGroth16 } from '../../src/verifier/groth16.ts';
import { DEV_KEYS } from '../helpers/keys.ts';

let dir: string;
let svc: RunningService;
const orgs = Array.from({ length: 3 }, () => generateKeyPair());
const agents = Array.from({ length: 20 }, () => generateKeyPair());
const agentDid = (i: number) => didFromPublicKey(agents[i]!.publicKey);
// Each agent's raw totals per organisation, for the capped score.
const totals = new Map<number, Map<number, { kept: bigint; broken: bigint; violations: bigint }>>();
const cappedScore = (a: number) => evidenceScore(cappedEvidence([...totals.get(a)!.values()].map((t) => ({ successes: t.kept, trials: weightedTrials(t, POLICY_V2) }))), POLICY_V2);
const TODAY = epochOf(Date.now(), POLICY_V2);

function config() {
  return { ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), batchMaxWaitMs: 200, adminToken: 'test-admin-token' };
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; type: string }> {
  const res = await fetch(svc.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, type: res.headers.get('content-type') ?? '' };
}
const admin = { authorization: 'Bearer test-admin-token' };
const logSize = async () => (await call('GET', '/v1/log/head')).json.body.size as number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-service-'));
  svc = await startService(config(), () => {});
  for (const [i, o] of orgs.entries()) {
    const r = await call('POST', '/v1/admin/orgs', { name: `org ${i}`, publicKey: Buffer.from(o.publicKey).toString('hex') }, admin);
    expect(r.status).toBe(201);
    expect(r.json.index).toBe(i);
  }
}, 120_000);

afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('aggregator service', () => {
  it('ingests signed submissions from 3 organisations about 20 agents and proves every batch', async () => {
    let expectedFirst = 0;
    const receipts: Array<{ firstIndex: number; count: number; deadline: number }> = [];
    for (let round = 0; round < 2; round++) {
      for (const [o, org] of orgs.entries()) {
        const records = agents.map((_, a) => a).filter((a) => (a + o + round) % 3 !== 0).slice(0, 5 + o).map((a) => {
          const r = { agent: agentDid(a), epoch: 100 + round, kept: (a % 5) * 3 + o, broken: a % 3, violations: a === 7 ? 1 : 0 };
          const byOrg = totals.get(a) ?? new Map();
          const t = byOrg.get(o) ?? { kept: 0n, broken: 0n, violations: 0n };
          byOrg.set(o, { kept: t.kept + BigInt(r.kept), broken: t.broken + BigInt(r.broken), violations: t.violations + BigInt(r.violations) });
          totals.set(a, byOrg);
          return r;
        });
        const res = await call('POST', '/v1/records', buildSubmission(org.secretKey, records));
        expect(res.status).toBe(201);
        receipts.push(res.json.body);
        expect(res.json.body.firstIndex).toBe(expectedFirst);
        expect(res.json.body.count).toBe(records.length);
        expectedFirst += records.length;
        // The receipt is signed by the aggregator.
        expect(verifyStrict(Uint8Array.from(Buffer.from(res.json.signature, 'hex')), signingBytes('receipt', res.json.body), publicKeyFromDid(res.json.signer))).toBe(true);
      }
    }
    await svc.aggregator.drain(180_000);
    const cp = await call('GET', '/v1/checkpoints/latest');
    expect(cp.status).toBe(200);
    expect(cp.json.body.logSize).toBe(expectedFirst);
    const batch = await call('GET', `/v1/batches/${cp.json.body.sequence}`);
    const keys = (await call('GET', '/v1/keys')).json;
    expect(batch.json.checkpoint.body).toMatchObject({ keySetHash: keys.keySetHash, keyMode: 'dev' });
    expect(await verifyGroth16(keys.circuits['batch-update'].vkey, batch.json.publicSignals, batch.json.proof)).toBe(true);
    // Every receipt's entries are in a batch whose checkpoint was signed before the receipt's deadline.
    const checkpoints = [];
    for (let seq = 1; seq <= cp.json.body.sequence; seq++) checkpoints.push((await call('GET', `/v1/checkpoints/${seq}`)).json.body);
    for (const r of receipts) {
      const covering = checkpoints.find((c) => c.logSize >= r.firstIndex + r.count)!;
      expect(covering.time).toBeLessThanOrEqual(r.deadline);
    }
  }, 300_000);

  it('serves presentations that verify, and refuses a statement above the score', async () => {
    const keys = (await call('GET', '/v1/keys')).json;
    for (const a of [...totals.keys()].slice(0, 3)) {
      const s = Number(cappedScore(a));
      const context = { nonce: `n-${a}`, audience: 'https://gateway.example', expiry: Math.floor(Date.now() / 1000) + 600 };
      const ch = await call('POST', '/v1/agents/challenge', { agent: agentDid(a) });
      expect(ch.status).toBe(201);
      const res = await call('POST', '/v1/proofs/threshold', buildThresholdRequest(agents[a]!.secretKey, ch.json.challenge, { minScore: s, minRecords: 1, context }));
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      const p = res.json;
      expect(await verifyGroth16(keys.circuits.threshold.vkey, p.publicSignals, p.proof)).toBe(true);
      expect(p.verificationKey).toEqual(keys.circuits.threshold.vkey);
      expect(p.checkpoint.body.keySetHash).toBe(keys.keySetHash);
      const [root, agent, minScore, , , ph, ctx] = p.publicSignals.map(BigInt);
      expect(root).toBe(BigInt(p.checkpoint.body.stateRoot));
      expect(agent).toBe(identityField(agents[a]!.publicKey));
      expect(minScore).toBe(BigInt(s));
      expect(ph).toBe(policyHash(POLICY_V2));
      expect(ctx).toBe(contextHash(context));
      expect(verifyStrict(Uint8Array.from(Buffer.from(p.checkpoint.signature, 'hex')), signingBytes('checkpoint', p.checkpoint.body), publicKeyFromDid(keys.aggregator))).toBe(true);
      // One above the score: a clear refusal, no proof.
      const ch2 = await call('POST', '/v1/agents/challenge', { agent: agentDid(a) });
      const above = await call('POST', '/v1/proofs/threshold', buildThresholdRequest(agents[a]!.secretKey, ch2.json.challenge, { minScore: s + 1, context }));
      expect(above.status).toBe(422);
      expect(above.json.code).toBe('predicate_false');
    }
  }, 120_000);

  it('refuses a threshold request not signed by the agent, and a reused challenge', async () => {
    const context = { nonce: 'x', audience: 'y', expiry: Math.floor(Date.now() / 1000) + 60 };
    const ch = await call('POST', '/v1/agents/challenge', { agent: agentDid(1) });
    const forged = { ...buildThresholdRequest(agents[2]!.secretKey, ch.json.challenge, { minScore: 0, context }), agent: agentDid(1) };
    const r = await call('POST', '/v1/proofs/threshold', forged);
    expect(r.status).toBe(401);
    expect(r.json.code).toBe('invalid_signature');
    const ok = buildThresholdRequest(agents[1]!.secretKey, ch.json.challenge, { minScore: 0, context });
    expect((await call('POST', '/v1/proofs/threshold', ok)).status).toBe(200);
    expect((await call('POST', '/v1/proofs/threshold', ok)).status).toBe(403);
  }, 60_000);

  describe('hostile submissions: the right status and nothing stored', () => {
    const org = () => orgs[0]!;
    // Agent 3 has records of epochs 100 and 101 from the first test.
    const rec = (epoch = 1000, kept = 1, violations = 0) => [{ agent: agentDid(3), epoch, kept, broken: 0, violations }];
    const cases: Array<[string, () => unknown | Promise<unknown>, number, string]> = [
      ['a forged signature', () => {
        const s = buildSubmission(org().secretKey, rec());
        return { ...s, signature: (s.signature[0] === 'a' ? 'b' : 'a') + s.signature.slice(1) };
      }, 401, 'invalid_signature'],
      ['a signature by another key', () => ({ ...buildSubmission(generateKeyPair().secretKey, rec()), org: didFromPublicKey(org().publicKey) }), 401, 'invalid_signature'],
      ['a signature with S + L', () => {
        const s = buildSubmission(org().secretKey, rec());
        const sig = Buffer.from(s.signature, 'hex');
        let x = 0n;
        for (let i = 63; i >= 32; i--) x = (x << 8n) | BigInt(sig[i]!);
        x += 2n ** 252n + 27742317777372353535851937790883648493n;
        for (let i = 0; i < 32; i++) sig[32 + i] = Number((x >> BigInt(8 * i)) & 0xffn);
        return { ...s, signature: sig.toString('hex') };
      }, 401, 'invalid_signature'],
      ['an unregistered organisation', () => buildSubmission(generateKeyPair().secretKey, rec()), 403, 'unknown_org'],
      ['a stale timestamp', () => buildSubmission(org().secretKey, rec(), { timestamp: Math.floor(Date.now() / 1000) - 600 }), 400, 'stale_timestamp'],
      ['a commitment that does not match its opening', () => {
        const s = buildSubmission(org().secretKey, rec());
        // Re-sign so that only the opening is wrong.
        const records = s.records.map((r) => ({ ...r, kept: r.kept + 1 }));
        return resign({ ...s, records });
      }, 400, 'commitment_mismatch'],
      ['an out-of-range counter', () => resign({ ...buildSubmission(org().secretKey, rec()), records: [{ ...buildSubmission(org().secretKey, rec()).records[0]!, kept: 2 ** 32 }] }), 400, 'out_of_range'],
      ['a salt >= r', () => resign({ ...buildSubmission(org().secretKey, rec()), records: [{ ...buildSubmission(org().secretKey, rec()).records[0]!, salt: '21888242871839275222246405745257275088548364400416034343698204186575808495617' }] }), 400, 'out_of_range'],
      ['an unknown field', () => ({ ...buildSubmission(org().secretKey, rec()), extra: 1 }), 400, 'malformed'],
      ['an unknown record field', () => resign({ ...buildSubmission(org().secretKey, rec()), records: [{ ...buildSubmission(org().secretKey, rec()).records[0]!, bonus: 5 } as never] }), 400, 'malformed'],
      ['malformed JSON', () => '{"org": "did:key:z', 400, 'malformed'],
      ['an oversize body', () => JSON.stringify({ pad: 'x'.repeat(1_100_000) }), 413, 'payload_too_large'],
      ['too many records', () => buildSubmission(org().secretKey, Array.from({ length: 1001 }, () => rec()[0]!)), 413, 'payload_too_large'],
      // Policy v2 (invariant 9): refused before a receipt, since no batch could prove them.
      ['a record over the cap', () => buildSubmission(org().secretKey, rec(1500, 996, 1)), 422, 'record_over_cap'],
      ['an epoch after tomorrow', () => buildSubmission(org().secretKey, rec(TODAY + 2)), 422, 'future_epoch'],
      ['the same epoch twice in one submission', () => buildSubmission(org().secretKey, [...rec(1500), ...rec(1500)]), 409, 'duplicate_record'],
      ['an earlier epoch after a later one in one submission', () => buildSubmission(org().secretKey, [...rec(1501), ...rec(1500)]), 409, 'stale_epoch'],
      ['an epoch before one accepted', () => buildSubmission(org().secretKey, rec(99)), 409, 'stale_epoch'],
    ];
    function resign(s: ReturnType<typeof buildSubmission>) {
      const signature = Buffer.from(sign(signingBytes('submission', { org: s.org, nonce: s.nonce, timestamp: s.timestamp, commitments: s.records.map((r) => r.commitment) }), org().secretKey)).toString('hex');
      return { ...s, signature };
    }

    it.each(cases)('%s', async (_name, make, status, code) => {
      const before = await logSize();
      const r = await call('POST', '/v1/records', await make());
      expect(r.status).toBe(status);
      expect(r.json.code).toBe(code);
      expect(r.type).toMatch(/application\/problem\+json/);
      expect(JSON.stringify(r.json)).not.toMatch(/at .*\.ts:\d+/);
      expect(await logSize()).toBe(before);
    });

    it('a small-order or malformed organisation key is refused at registration', async () => {
      const identity = '01' + '00'.repeat(31);
      for (const publicKey of [identity, 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'zz', '00']) {
        const r = await call('POST', '/v1/admin/orgs', { name: 'bad', publicKey }, admin);
        expect([400]).toContain(r.status);
      }
      expect((await call('POST', '/v1/admin/orgs', { name: 'x', publicKey: '11'.repeat(32) })).status).toBe(401);
    });

    it('a suspended organisation is refused, and accepted again once reactivated', async () => {
      const did = didFromPublicKey(orgs[2]!.publicKey);
      expect((await call('POST', `/v1/admin/orgs/${did}/suspend`, {}, admin)).status).toBe(200);
      const before = await logSize();
      const r = await call('POST', '/v1/records', buildSubmission(orgs[2]!.secretKey, rec()));
      expect([r.status, r.json.code]).toEqual([403, 'org_suspended']);
      expect(await logSize()).toBe(before);
      expect((await call('POST', `/v1/admin/orgs/${did}/activate`, {}, admin)).status).toBe(200);
    });

    it('a replayed nonce is refused, before and after a restart', async () => {
      const s = buildSubmission(org().secretKey, rec());
      expect((await call('POST', '/v1/records', s)).status).toBe(201);
      const again = await call('POST', '/v1/records', s);
      expect([again.status, again.json.code]).toEqual([409, 'replayed_nonce']);
      await svc.aggregator.drain(60_000);
      const headBefore = (await call('GET', '/v1/log/head')).json.body;
      const rootBefore = (await call('GET', '/v1/checkpoints/latest')).json.body.stateRoot;
      await svc.close();
      svc = await startService(config(), () => {});
      const afterRestart = await call('POST', '/v1/records', s);
      expect([afterRestart.status, afterRestart.json.code]).toEqual([409, 'replayed_nonce']);
      expect((await call('GET', '/v1/checkpoints/latest')).json.body.stateRoot).toBe(rootBefore);
      // The log grows consistently across the restart.
      expect((await call('POST', '/v1/records', buildSubmission(org().secretKey, rec(1001)))).status).toBe(201);
      const headAfter = (await call('GET', '/v1/log/head')).json.body;
      const proof = (await call('GET', `/v1/log/consistency?first=${headBefore.size}&second=${headAfter.size}`)).json.proof.map((h: string) => Uint8Array.from(Buffer.from(h, 'hex')));
      expect(verifyConsistency(headBefore.size, headAfter.size, Buffer.from(headBefore.root, 'hex'), Buffer.from(headAfter.root, 'hex'), proof)).toBe(true);
    }, 120_000);
  });

  describe('policy v2 at ingestion: one record per (agent, organisation, epoch), epochs increasing', () => {
    const submit = (o: number, records: Array<{ agent: string; epoch: number; kept: number; broken: number; violations: number }>) => call('POST', '/v1/records', buildSubmission(orgs[o]!.secretKey, records));
    const r = (a: number, epoch: number) => ({ agent: agentDid(a), epoch, kept: 2, broken: 0, violations: 0 });

    it('refuses a second record for an accepted epoch and an earlier epoch, proven or not, with 409 and nothing stored', async () => {
      expect((await submit(0, [r(11, 200)])).status).toBe(201);
      // Not yet proven: the projection of accepted entries refuses.
      for (const [epoch, code] of [[200, 'duplicate_record'], [199, 'stale_epoch']] as const) {
        const before = await logSize();
        const res = await submit(0, [r(12, 300), r(11, epoch)]);
        expect([res.status, res.json.code]).toEqual([409, code]);
        expect(res.json.detail).toMatch(/records\[1\]/);
        expect(await logSize()).toBe(before);
      }
      // Proven: the same, from the state.
      await svc.aggregator.drain(60_000);
      expect([(await submit(0, [r(11, 200)])).json.code, (await submit(0, [r(11, 150)])).json.code]).toEqual(['duplicate_record', 'stale_epoch']);
      // Another organisation, a later epoch, another agent: accepted.
      expect((await submit(1, [r(11, 200)])).status).toBe(201);
      expect((await submit(0, [r(11, 201), r(12, 200)])).status).toBe(201);
      // Today plus the skew is not the future.
      expect((await submit(0, [r(11, TODAY + 1)])).status).toBe(201);
    }, 120_000);

    it('of two submissions racing with the same record, exactly one gets a receipt', async () => {
      const before = await logSize();
      const both = await Promise.all([submit(2, [r(13, 300)]), submit(2, [r(13, 300)])]);
      expect(both.map((b) => b.status).sort()).toEqual([201, 409]);
      expect(both.find((b) => b.status === 409)!.json.code).toBe('duplicate_record');
      expect(await logSize()).toBe(before + 1);
    });

    it('after a restart the projection is rebuilt from the state and the unproven entries', async () => {
      expect((await submit(2, [r(14, 400)])).status).toBe(201);
      await svc.close();
      svc = await startService(config(), () => {});
      expect((await submit(2, [r(14, 400)])).json.code).toBe('duplicate_record');
      expect((await submit(2, [r(13, 300)])).json.code).toBe('duplicate_record');
      expect((await submit(2, [r(14, 401)])).status).toBe(201);
    }, 120_000);
  });

  it('clients: OrgClient checks its receipt and inclusion; AgentClient obtains a presentation', async () => {
    const { OrgClient, ClientError } = await import('../../src/client/org-client.ts');
    const { AgentClient } = await import('../../src/client/agent-client.ts');
    const org = new OrgClient(orgs[1]!.secretKey, svc.url, svc.aggregator.did);
    const sub = await org.submit([{ agent: agentDid(5), epoch: 2000, kept: 4, broken: 0, violations: 0 }]);
    expect(await org.checkInclusion(sub)).toBe(true);
    expect(await org.checkInclusion({ ...sub, commitments: ['1'] })).toBe(false);
    const pinnedWrong = new OrgClient(orgs[1]!.secretKey, svc.url, didFromPublicKey(generateKeyPair().publicKey));
    await expect(pinnedWrong.submit([{ agent: agentDid(5), epoch: 2001, kept: 1, broken: 0, violations: 0 }])).rejects.toThrow(/pinned aggregator/);
    await svc.aggregator.drain(60_000);
    const agent = new AgentClient(agents[5]!.secretKey, svc.url);
    const context = { nonce: 'client', audience: 'a', expiry: Math.floor(Date.now() / 1000) + 300 };
    const p = (await agent.present({ minScore: 0, context })) as { publicSignals: string[] };
    expect(p.publicSignals).toHaveLength(7);
    await expect(agent.present({ minScore: 900, context })).rejects.toMatchObject({ code: 'predicate_false', status: 422 });
    // By default the client proves tier boundaries only: asking for 999 tells the verifier more than a tier.
    await expect(agent.present({ minScore: 999, context })).rejects.toThrow(/not a tier boundary/);
    await expect(new AgentClient(agents[5]!.secretKey, svc.url, { policy: 'any' }).present({ minScore: 999, context })).rejects.toMatchObject({ code: 'predicate_false', status: 422 });
    expect(ClientError).toBeDefined();
  }, 120_000);

  it('serves health, metrics and an OpenAPI document; unknown routes are problem+json 404s', async () => {
    expect((await call('GET', '/v1/health')).json.status).toBe('ok');
    const m = await fetch(svc.url + '/metrics').then((r) => r.text());
    expect(m).toMatch(/zktrust_records_accepted_total \d+/);
    const doc = (await call('GET', '/openapi.json')).json;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/records', '/v1/proofs/threshold', '/v1/log/inclusion', '/metrics']));
    const nf = await call('GET', '/v1/nope');
    expect([nf.status, nf.json.code]).toEqual([404, 'not_found']);
    void publicKeyOf;
  });
});
