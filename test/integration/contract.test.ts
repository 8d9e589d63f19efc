/**
 * The API against its own document: an end-to-end run through every operation (successes and
 * refusals) records each response, then validates each against the OpenAPI 3.1 document the
 * service serves (ajv, JSON Schema 2020-12): the status must be documented for the operation,
 * and a JSON or problem+json body must match the documented schema. Every operation of the
 * document is exercised.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/client/agent-client.ts';
import { buildSubmission, buildThresholdRequest } from '../../src/client/submission.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { DEV_KEYS } from '../helpers/keys.ts';

let dir: string;
let svc: RunningService;
const admin = { authorization: 'Bearer contract-token' };
const [orgA, orgB, stranger] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
const agent = generateKeyPair();
const agentDid = didFromPublicKey(agent.publicKey);
interface Recorded { method: string; path: string; status: number; type: string; body: unknown }
const recorded: Recorded[] = [];

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Recorded> {
  const res = await fetch(svc.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' || body instanceof Blob ? body : JSON.stringify(body),
  });
  const type = res.headers.get('content-type') ?? '';
  const raw = new Uint8Array(await res.arrayBuffer());
  const r = { method, path: path.split('?')[0]!, status: res.status, type, body: /json/.test(type) ? JSON.parse(new TextDecoder().decode(raw)) : raw.length };
  recorded.push(r);
  return r;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-contract-'));
  svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), adminToken: 'contract-token', batchMaxWaitMs: 100 }, () => {});
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the API against its OpenAPI document', () => {
  it('every response of an end-to-end run matches the served document', async () => {
    // Operations and the registry.
    await call('GET', '/v1/health');
    await call('GET', '/v1/ready');
    await call('GET', '/metrics');
    for (const o of [orgA, orgB]) expect((await call('POST', '/v1/admin/orgs', { name: 'o', publicKey: Buffer.from(o.publicKey).toString('hex') }, admin)).status).toBe(201);
    await call('POST', '/v1/admin/orgs', { name: 'o', publicKey: Buffer.from(orgA.publicKey).toString('hex') }, admin); // 409
    await call('POST', '/v1/admin/orgs', { name: 'o' }, admin); // 400
    await call('POST', '/v1/admin/orgs', { name: 'o', did: didFromPublicKey(stranger.publicKey) }); // 401
    await call('GET', '/v1/orgs');
    expect((await call('POST', `/v1/admin/orgs/${didFromPublicKey(orgB.publicKey)}/suspend`, undefined, admin)).status).toBe(200);
    expect((await call('POST', `/v1/admin/orgs/${didFromPublicKey(orgB.publicKey)}/activate`, undefined, admin)).status).toBe(200);
    await call('POST', `/v1/admin/orgs/${didFromPublicKey(stranger.publicKey)}/suspend`, undefined, admin); // 404
    // Ingestion.
    const sub = buildSubmission(orgA.secretKey, [{ agent: agentDid, epoch: 20_000, kept: 30, broken: 0, violations: 0 }]);
    expect((await call('POST', '/v1/records', sub)).status).toBe(201);
    expect((await call('POST', '/v1/records', sub)).status).toBe(409);
    await call('POST', '/v1/records', buildSubmission(stranger.secretKey, [{ agent: agentDid, epoch: 20_000, kept: 1, broken: 0, violations: 0 }])); // 403
    await call('POST', '/v1/records', { ...buildSubmission(orgB.secretKey, [{ agent: agentDid, epoch: 20_000, kept: 1, broken: 0, violations: 0 }]), signature: '00'.repeat(64) }); // 401
    await call('POST', '/v1/records', '{"org":'); // 400
    expect((await call('POST', '/v1/records', buildSubmission(orgB.secretKey, [{ agent: agentDid, epoch: 20_001, kept: 30, broken: 0, violations: 0 }]))).status).toBe(201);
    await svc.aggregator.drain(120_000);
    // The log, batches and keys.
    const head = (await call('GET', '/v1/log/head')).body as { body: { size: number } };
    const entries = (await call('GET', `/v1/log/entries?start=0&end=${head.body.size}`)).body as Array<{ submission: string }>;
    await call('GET', `/v1/log/submission?id=${encodeURIComponent(entries[0]!.submission)}`);
    await call('GET', '/v1/log/submission?id=nope'); // 400
    await call('GET', `/v1/log/inclusion?index=0&size=${head.body.size}`);
    await call('GET', `/v1/log/consistency?first=1&second=${head.body.size}`);
    await call('GET', '/v1/log/entries?start=5&end=1'); // 400
    await call('GET', '/v1/checkpoints/latest');
    await call('GET', '/v1/checkpoints/1');
    await call('GET', '/v1/checkpoints/999'); // 404
    await call('GET', '/v1/checkpoints?from=1&limit=10');
    await call('GET', '/v1/checkpoints?limit=501'); // 400
    await call('GET', '/v1/batches/1');
    await call('GET', '/v1/batches/x'); // 400
    const keys = (await call('GET', '/v1/keys')).body as { keySetHash: string };
    await call('GET', `/v1/keys/${keys.keySetHash}`);
    await call('GET', `/v1/keys/${'0'.repeat(64)}`); // 404
    await call('GET', `/v1/keys/${keys.keySetHash}/threshold.zkey`);
    await call('GET', `/v1/keys/${keys.keySetHash}/nothing.zkey`); // 404
    // Agents.
    const ch = (await call('POST', '/v1/agents/challenge', { agent: agentDid })).body as { challenge: string };
    const context = { nonce: 'n', audience: 'https://gw.example', expiry: Math.floor(Date.now() / 1000) + 600 };
    expect((await call('POST', '/v1/proofs/threshold', buildThresholdRequest(agent.secretKey, ch.challenge, { minScore: 300, context }))).status).toBe(200);
    await call('POST', '/v1/proofs/threshold', buildThresholdRequest(agent.secretKey, ch.challenge, { minScore: 300, context })); // 403: used
    const ch2 = (await call('POST', '/v1/agents/challenge', { agent: agentDid })).body as { challenge: string };
    await call('POST', '/v1/proofs/threshold', buildThresholdRequest(agent.secretKey, ch2.challenge, { minScore: 900, context })); // 422
    await call('POST', '/v1/agents/challenge', { agent: 'did:web:x' }); // 400
    expect(await new AgentClient(agent.secretKey, svc.url).present({ minScore: 300, context })).toMatchObject({ context: { nonce: 'n', audience: 'https://gw.example' } });
    // The ceremony, none yet.
    await call('GET', '/v1/ceremony'); // 404
    await call('GET', '/v1/ceremony/threshold/latest.zkey'); // 404
    await call('POST', '/v1/ceremony/threshold/contributions', new Blob([new Uint8Array(8)]), { 'content-type': 'application/octet-stream' }); // 400: no statement
    await call('POST', '/v1/admin/ceremony', { ptau: join(dir, 'missing.ptau'), ptauHash: 'ab'.repeat(64) }, admin); // 400
    await call('POST', '/v1/admin/ceremony/finalize', { beacon: 'ab'.repeat(32) }, admin); // 409
    await call('GET', '/v1/nowhere'); // 404, no operation

    // The document, and each response against it.
    const doc = (await (await fetch(`${svc.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    const inline = (s: unknown): unknown => (Array.isArray(s) ? s.map(inline) : s && typeof s === 'object' ? ('$ref' in s ? inline(doc.components.schemas[String((s as { $ref: string }).$ref).split('/').pop()!]) : Object.fromEntries(Object.entries(s).map(([k, v]) => [k, inline(v)]))) : s);
    const ajv = new Ajv2020({ strict: false, allErrors: false });
    const operations = Object.entries(doc.paths).flatMap(([template, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ template, method: method.toUpperCase(), op, re: new RegExp('^' + template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$') })),
    );
    const problems: string[] = [];
    const exercised = new Set<string>();
    for (const r of recorded) {
      const found = operations.find((o) => o.method === r.method && o.re.test(r.path));
      if (!found) {
        if (r.status !== 404) problems.push(`${r.method} ${r.path}: ${r.status} from an undocumented route`);
        continue;
      }
      exercised.add(found.op.operationId);
      const doc = found.op.responses[String(r.status)];
      if (!doc) {
        problems.push(`${found.op.operationId}: status ${r.status} is not documented`);
        continue;
      }
      const mediaType = Object.keys(doc.content ?? {})[0];
      if (mediaType && !r.type.startsWith(mediaType)) problems.push(`${found.op.operationId} ${r.status}: content type ${r.type}, documented ${mediaType}`);
      const schema = doc.content?.[mediaType ?? '']?.schema;
      if (schema && /json/.test(r.type)) {
        const validate = ajv.compile(inline(schema) as object);
        if (!validate(r.body)) problems.push(`${found.op.operationId} ${r.status}: ${ajv.errorsText(validate.errors)}`);
      }
    }
    expect(problems).toEqual([]);
    const documented = operations.map((o) => o.op.operationId as string).filter((id) => id !== 'getOpenApi');
    expect(documented.filter((id) => !exercised.has(id))).toEqual([]);
    console.log(`contract: ${recorded.length} responses of ${exercised.size} operations validated against /openapi.json`);
  }, 240_000);
});
