/**
 * The OpenAPI 3.1 description of every endpoint, served at /openapi.json.
 * @module
 */

const problem = { description: 'RFC 9457 problem details', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
const ok = (description: string, schema: object = { type: 'object' }) => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), problem]));
const intQuery = (name: string) => ({ name, in: 'query', required: true, schema: { type: 'integer', minimum: 0 } });

export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'zktrust aggregator', version: '0.1.0', description: 'Signed ingestion of outcome-record commitments, a transparency log, proven batches and threshold presentations.' },
    components: {
      securitySchemes: { admin: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, code: { type: 'string' }, instance: { type: 'string' } },
        },
        Submission: {
          type: 'object',
          additionalProperties: false,
          required: ['org', 'nonce', 'timestamp', 'records', 'signature'],
          properties: {
            org: { type: 'string', description: 'did:key of the organisation' },
            nonce: { type: 'string', pattern: '^[0-9a-f]{16,64}$' },
            timestamp: { type: 'integer', description: 'Unix seconds, within 5 minutes of the server clock' },
            records: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['commitment', 'agent', 'epoch', 'kept', 'broken', 'violations', 'scope', 'salt'],
                properties: {
                  commitment: { type: 'string', description: 'decimal field element' },
                  agent: { type: 'string', description: 'did:key of the agent' },
                  epoch: { type: 'integer', minimum: 0, maximum: 4294967295, description: 'days since 1970-01-01 UTC; at most today + 1 (422 future_epoch); strictly after the organisation\'s last epoch for this agent (409 duplicate_record, stale_epoch)' },
                  kept: { type: 'integer', minimum: 0, maximum: 4294967295, description: 'kept + broken + 5 * violations is at most the policy\'s record cap, 1,000 (422 record_over_cap)' },
                  broken: { type: 'integer', minimum: 0, maximum: 4294967295 },
                  violations: { type: 'integer', minimum: 0, maximum: 4294967295 },
                  scope: { type: 'integer', minimum: 0, maximum: 4294967295 },
                  salt: { type: 'string', description: 'decimal field element' },
                },
              },
            },
            signature: { type: 'string', description: 'Ed25519 over "zktrust/v1/submission\\n" + canonical JSON of {org, nonce, timestamp, commitments}, hex' },
          },
        },
        ThresholdRequest: {
          type: 'object',
          additionalProperties: false,
          required: ['agent', 'minScore', 'context', 'challenge', 'signature'],
          properties: {
            agent: { type: 'string' },
            minScore: { type: 'integer', minimum: 0, maximum: 1000 },
            minRecords: { type: 'integer', minimum: 0 },
            minOrgs: { type: 'integer', minimum: 0 },
            context: { type: 'object', required: ['nonce', 'audience', 'expiry'], properties: { nonce: { type: 'string' }, audience: { type: 'string' }, expiry: { type: 'integer' } } },
            challenge: { type: 'string', description: 'from POST /v1/agents/challenge' },
            signature: { type: 'string', description: 'Ed25519 by the agent over "zktrust/v1/threshold-request\\n" + canonical JSON of the other fields, hex' },
          },
        },
      },
    },
    paths: {
      '/v1/admin/orgs': { post: { summary: 'Register an organisation', security: [{ admin: [] }], responses: { '201': ok('The organisation with its registry index'), ...errors(400, 401, 409) } } },
      '/v1/admin/orgs/{did}/suspend': { post: { summary: 'Suspend an organisation', security: [{ admin: [] }], parameters: [{ name: 'did', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': ok('Updated'), ...errors(401, 404) } } },
      '/v1/admin/orgs/{did}/activate': { post: { summary: 'Reactivate an organisation', security: [{ admin: [] }], parameters: [{ name: 'did', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': ok('Updated'), ...errors(401, 404) } } },
      '/v1/orgs': { get: { summary: 'The public organisation registry', responses: { '200': ok('did, index, status, name', { type: 'array' }) } } },
      '/v1/records': {
        post: {
          summary: 'Submit signed record commitments with their openings',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Submission' } } } },
          responses: { '201': ok('Signed receipt: log index range, tree head, deadline'), ...errors(400, 401, 403, 409, 413, 422, 429, 503) },
        },
      },
      '/v1/log/head': { get: { summary: 'Signed tree head', responses: { '200': ok('Signed tree head') } } },
      '/v1/log/entries': { get: { summary: 'Public log entries [start, end)', parameters: [intQuery('start'), intQuery('end')], responses: { '200': ok('Entries', { type: 'array' }), ...errors(400) } } },
      '/v1/log/submission': { get: { summary: 'A signed submission by id', parameters: [{ name: 'id', in: 'query', required: true, schema: { type: 'string' } }], responses: { '200': ok('Submission'), ...errors(404) } } },
      '/v1/log/inclusion': { get: { summary: 'RFC 9162 inclusion proof', parameters: [intQuery('index'), intQuery('size')], responses: { '200': ok('Audit path'), ...errors(400) } } },
      '/v1/log/consistency': { get: { summary: 'RFC 9162 consistency proof', parameters: [intQuery('first'), intQuery('second')], responses: { '200': ok('Consistency proof'), ...errors(400) } } },
      '/v1/checkpoints/latest': { get: { summary: 'Latest signed checkpoint', responses: { '200': ok('Checkpoint'), ...errors(404) } } },
      '/v1/checkpoints/{seq}': { get: { summary: 'Checkpoint by sequence', parameters: [{ name: 'seq', in: 'path', required: true, schema: { type: 'integer' } }], responses: { '200': ok('Checkpoint'), ...errors(400, 404) } } },
      '/v1/batches/{seq}': { get: { summary: 'Batch proof by sequence', parameters: [{ name: 'seq', in: 'path', required: true, schema: { type: 'integer' } }], responses: { '200': ok('Batch with proof and checkpoint'), ...errors(400, 404) } } },
      '/v1/keys': { get: { summary: 'Aggregator key and circuit verification keys', responses: { '200': ok('Keys') } } },
      '/v1/agents/challenge': { post: { summary: 'A fresh challenge for an agent', responses: { '201': ok('Challenge'), ...errors(400, 429) } } },
      '/v1/proofs/threshold': {
        post: {
          summary: 'A threshold presentation, requested and signed by the agent',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ThresholdRequest' } } } },
          responses: { '200': ok('Presentation: proof, public signals, signed checkpoint'), ...errors(400, 401, 403, 404, 422, 429) },
        },
      },
      '/v1/health': { get: { summary: 'Liveness and progress', responses: { '200': ok('Health') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': ok('OpenAPI document') } } },
    },
  };
}
