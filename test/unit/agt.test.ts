/**
 * The Agent Governance Toolkit adapters (src/interop/agt.ts) with real threshold proofs (test
 * configuration, local keys): tiers named and bounded as AgentMesh's are, at every score; the
 * trust provider's getTrustScore / verifyIdentity / evaluateTrust and the policy backend on
 * honest, missing, foreign, stale and development-key presentations, in both forms; and the
 * example policy of docs/integrations.md, read from the document, decides as it says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { TIERS, tier } from '../../src/crypto/score-policy.ts';
import { AGT_TIERS, agtTier, createAgtPolicyBackend, createAgtTrustProvider, createVerifier, toVerifiablePresentation, type AgtTrustEvaluation, type AgtTrustProviderOptions } from '../../src/verifier/index.ts';
import { ROOT } from '../helpers/circuit.ts';
import { junk } from '../helpers/hostile.ts';
import { proveFor } from '../helpers/interop.ts';
import { T0, aggregatorDid, agentDid, provePresentations } from '../helpers/presentations.ts';

const GATEWAY = { nonce: 'session-41', audience: 'https://governance.example' };
const stranger = didFromPublicKey(generateKeyPair().publicKey);

/**
 * AgentMesh's trust_level_for_score (agent-governance-python/agent-mesh/src/agentmesh/trust/
 * levels.py) with its constants TIER_*_THRESHOLD = 900, 700, 500, 300.
 */
function agentMeshLevel(score: number): string {
  if (score >= 900) return 'verified_partner';
  if (score >= 700) return 'trusted';
  if (score >= 500) return 'standard';
  if (score >= 300) return 'probationary';
  return 'untrusted';
}

let shown: Map<string, unknown>;
let dev: any;

/** Provider options: the presentations agents showed this gateway, its context and freshness. */
const providerOptions = (): AgtTrustProviderOptions => ({
  verifier: createVerifier({ aggregatorKeys: [aggregatorDid], now: () => T0 }),
  presentationOf: (agent, context) => (context && Object.hasOwn(context, 'zktrust_presentation') ? context.zktrust_presentation : shown.get(agent)),
  expectationsFor: () => ({ context: GATEWAY, maxAgeS: 3600 }),
});

beforeAll(async () => {
  ({ dev } = await provePresentations());
  shown = new Map([[agentDid, await proveFor({ ...GATEWAY, expiry: T0 / 1000 + 600 }, 700)]]);
}, 180_000);

describe('tiers', () => {
  it('are AgentMesh\'s names and bounds, at every score from 0 to 1000', () => {
    expect(AGT_TIERS).toEqual([
      { tier: 'verified_partner', min: 900 },
      { tier: 'trusted', min: 700 },
      { tier: 'standard', min: 500 },
      { tier: 'probationary', min: 300 },
      { tier: 'untrusted', min: 0 },
    ]);
    for (let s = 0; s <= 1000; s++) expect(agtTier(tier(BigInt(s)))).toBe(agentMeshLevel(s));
    expect(TIERS.map((t) => agtTier(t.tier))).toEqual(AGT_TIERS.map((t) => t.tier));
    expect(() => agtTier('gold' as never)).toThrow(RangeError);
  });
});

describe('createAgtTrustProvider', () => {
  it('scores a proven agent on 0..1 and evaluates it as AGT policies read it', async () => {
    const provider = createAgtTrustProvider(providerOptions());
    expect(provider.name).toBe('zktrust');
    expect(await provider.getTrustScore(agentDid)).toBe(0.7);
    expect(await provider.evaluateTrust(agentDid)).toEqual({ agent_did: agentDid, trust_score: 700, score: 0.7, trust_tier: 'trusted', zktrust_verified: true, zktrust_reason: 'ok', zktrust_key_mode: 'local' } satisfies AgtTrustEvaluation);
  });

  it('gives 0 and the reason to an agent without a valid presentation, never a middling default', async () => {
    const provider = createAgtTrustProvider(providerOptions());
    expect(await provider.evaluateTrust(stranger)).toMatchObject({ trust_score: 0, score: 0, trust_tier: 'untrusted', zktrust_verified: false, zktrust_reason: 'no_presentation' });
    expect(await provider.evaluateTrust('did:mesh:research-agent')).toMatchObject({ trust_score: 0, zktrust_reason: 'not_a_did_key' });
    // The agent's presentation shown for another agent; stale; under development keys; for another gateway.
    const other = createAgtTrustProvider({ ...providerOptions(), presentationOf: () => shown.get(agentDid) });
    expect(await other.evaluateTrust(stranger)).toMatchObject({ trust_score: 0, zktrust_reason: 'agent_mismatch', zktrust_key_mode: 'local' });
    const stale = createAgtTrustProvider({ ...providerOptions(), expectationsFor: () => ({ context: GATEWAY, maxAgeS: 10 }) });
    expect(await stale.evaluateTrust(agentDid)).toMatchObject({ trust_score: 0, zktrust_reason: 'stale_checkpoint' });
    const insecure = createAgtTrustProvider({ ...providerOptions(), presentationOf: () => dev });
    expect(await insecure.evaluateTrust(agentDid)).toMatchObject({ trust_score: 0, zktrust_reason: 'insecure_keys', zktrust_key_mode: 'dev' });
    const elsewhere = createAgtTrustProvider({ ...providerOptions(), expectationsFor: () => ({ context: { ...GATEWAY, audience: 'https://elsewhere.example' }, maxAgeS: 3600 }) });
    expect(await elsewhere.getTrustScore(agentDid)).toBe(0);
    // A stricter minimum than proven.
    const strict = createAgtTrustProvider({ ...providerOptions(), expectationsFor: () => ({ context: GATEWAY, maxAgeS: 3600, minScore: 900 }) });
    expect(await strict.evaluateTrust(agentDid)).toMatchObject({ trust_score: 0, zktrust_reason: 'score_below_expected' });
  });

  it('verifyIdentity: true for the agent\'s own presentation in either form, false otherwise, never a throw', async () => {
    const provider = createAgtTrustProvider(providerOptions());
    const p = shown.get(agentDid);
    expect(await provider.verifyIdentity(agentDid, p)).toBe(true);
    expect(await provider.verifyIdentity(agentDid, { presentation: p })).toBe(true);
    expect(await provider.verifyIdentity(agentDid, toVerifiablePresentation(p as never))).toBe(true);
    expect(await provider.verifyIdentity(stranger, p)).toBe(false);
    expect(await provider.verifyIdentity('not-a-did', p)).toBe(false);
    for (const junk of [null, undefined, 'x', 42, {}, [], { presentation: null }, { '@context': [] }]) expect(await provider.verifyIdentity(agentDid, junk)).toBe(false);
    // The shared table of hostile values, for the credentials and for the agent id.
    await fc.assert(
      fc.asyncProperty(junk, fc.oneof(junk, fc.constant(agentDid)), async (credentials, agent) => {
        expect(await provider.verifyIdentity(agentDid, credentials)).toBe(false);
        const e = await provider.evaluateTrust(agent as string, { zktrust_presentation: credentials });
        expect(e).toMatchObject({ trust_score: 0, zktrust_verified: false });
      }),
      { numRuns: 200 },
    );
  });

  it('throws for the caller\'s own malformed options and expectations only', async () => {
    expect(() => createAgtTrustProvider({ ...providerOptions(), presentationOf: 1 as never })).toThrow(TypeError);
    expect(() => createAgtTrustProvider({ ...providerOptions(), verifier: {} as never })).toThrow(TypeError);
    const bad = createAgtTrustProvider({ ...providerOptions(), expectationsFor: () => ({ context: { nonce: '', audience: 'a' }, maxAgeS: 1 }) });
    await expect(bad.getTrustScore(agentDid)).rejects.toThrow(/nonce must not be empty/);
  });
});

describe('createAgtPolicyBackend', () => {
  it('is an ExternalPolicyBackend: allows a proven tier, denies below it or without proof, with a reason', async () => {
    const trusted = createAgtPolicyBackend({ ...providerOptions(), tier: 'trusted' });
    expect(trusted.name).toBe('zktrust');
    expect(await trusted.evaluatePolicy(agentDid, {})).toEqual({ backend: 'zktrust', decision: 'allow', reason: 'zktrust: proven score >= 700 (trusted)' });
    expect(await trusted.evaluatePolicy(stranger, {})).toEqual({ backend: 'zktrust', decision: 'deny', reason: 'zktrust: no_presentation' });
    // The presentation may travel in the policy context.
    expect(await trusted.evaluatePolicy(stranger, { zktrust_presentation: shown.get(agentDid) })).toMatchObject({ decision: 'deny', reason: 'zktrust: agent_mismatch' });
    expect(await trusted.evaluatePolicy(agentDid, { zktrust_presentation: toVerifiablePresentation(shown.get(agentDid) as never) })).toMatchObject({ decision: 'allow' });
    for (const t of ['verified partner', 'verified_partner'] as const) expect(await createAgtPolicyBackend({ ...providerOptions(), tier: t }).evaluatePolicy(agentDid, {})).toEqual({ backend: 'zktrust', decision: 'deny', reason: 'zktrust: proven score 700 is below 900' });
    expect(await createAgtPolicyBackend({ ...providerOptions(), minScore: 650 }).evaluatePolicy(agentDid, {})).toMatchObject({ decision: 'allow' });
    expect(() => createAgtPolicyBackend({ ...providerOptions(), tier: 'gold' as never })).toThrow(RangeError);
    expect(() => createAgtPolicyBackend({ ...providerOptions(), minScore: 1001 })).toThrow(RangeError);
  });
});

/**
 * The part of AGT's condition language the example policy uses (agent-governance-typescript
 * src/policy.ts, evaluateExpression): `a and b`, `path in ['x', 'y']`, `path == 'x'`,
 * `path == true|false`, `path < n`, `path >= n`; rules resolved by priority, first match
 * (the engine's default), else `default_action`.
 */
function decide(policy: { default_action: string; rules: Array<{ name: string; condition: string; action: string; priority: number }> }, context: Record<string, unknown>): { action: string; rule?: string } {
  const holds = (expr: string): boolean => {
    if (expr.includes(' and ')) return expr.split(' and ').every((p) => holds(p.trim()));
    let m = /^(\w+) in \[([^\]]*)\]$/.exec(expr);
    if (m) return m[2]!.split(',').map((s) => s.trim().replace(/^'|'$/g, '')).includes(String(context[m[1]!]));
    m = /^(\w+) == '([^']*)'$/.exec(expr);
    if (m) return context[m[1]!] === m[2];
    m = /^(\w+) == (true|false)$/.exec(expr);
    if (m) return context[m[1]!] === (m[2] === 'true');
    m = /^(\w+) (<|>=) (\d+)$/.exec(expr);
    if (m) return m[2] === '<' ? Number(context[m[1]!]) < Number(m[3]) : Number(context[m[1]!]) >= Number(m[3]);
    throw new Error(`the example policy uses a condition this test does not read: ${expr}`);
  };
  const rule = [...policy.rules].sort((a, b) => b.priority - a.priority).find((r) => holds(r.condition));
  return rule ? { action: rule.action, rule: rule.name } : { action: policy.default_action };
}

describe('the example policy of docs/integrations.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/integrations.md'), 'utf8');
  const block = /<!-- agt-policy -->\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1];

  it('is an AGT policy document whose conditions read only what evaluateTrust gives (and the tool name)', async () => {
    expect(block).toBeDefined();
    const policy = parse(block!);
    expect(policy).toMatchObject({ apiVersion: 'governance.toolkit/v1', name: expect.any(String), default_action: 'deny' });
    const evaluation = await createAgtTrustProvider(providerOptions()).evaluateTrust(agentDid);
    const known = new Set([...Object.keys(evaluation), 'tool_name']);
    for (const rule of policy.rules) {
      expect(Object.keys(rule).sort()).toEqual(expect.arrayContaining(['action', 'condition', 'name', 'priority']));
      expect(['allow', 'deny', 'require_approval', 'warn', 'log']).toContain(rule.action);
      const identifiers = [...rule.condition.replace(/'[^']*'/g, '').matchAll(/\b([a-z_]+)\b/g)].map((m) => m[1]).filter((w) => !['and', 'in', 'true', 'false'].includes(w));
      expect(identifiers.filter((w) => !known.has(w))).toEqual([]);
    }
  });

  it('decides as the document says, on real evaluations', async () => {
    const policy = parse(block!);
    const provider = createAgtTrustProvider(providerOptions());
    const proven = await provider.evaluateTrust(agentDid); // 700, trusted
    const unproven = await provider.evaluateTrust(stranger);
    const verifiedPartner = { ...proven, trust_score: 900, score: 0.9, trust_tier: 'verified_partner' };
    expect(decide(policy, { ...unproven, tool_name: 'search' })).toMatchObject({ action: 'deny', rule: 'deny-unproven' });
    expect(decide(policy, { ...proven, tool_name: 'search' })).toMatchObject({ action: 'allow' });
    expect(decide(policy, { ...proven, tool_name: 'send_email' })).toMatchObject({ action: 'allow' });
    expect(decide(policy, { ...proven, tool_name: 'transfer_funds' })).toMatchObject({ action: 'require_approval', rule: 'payments-need-verified-partner' });
    expect(decide(policy, { ...verifiedPartner, tool_name: 'transfer_funds' })).toMatchObject({ action: 'allow' });
    const standard = { ...proven, trust_score: 500, score: 0.5, trust_tier: 'standard' };
    expect(decide(policy, { ...standard, tool_name: 'send_email' })).toMatchObject({ action: 'deny', rule: 'writes-need-trusted' });
    expect(decide(policy, { ...standard, tool_name: 'search' })).toMatchObject({ action: 'allow' });
    const probationary = { ...proven, trust_score: 300, score: 0.3, trust_tier: 'probationary' };
    expect(decide(policy, { ...probationary, tool_name: 'search' })).toMatchObject({ action: 'deny' });
  });
});
