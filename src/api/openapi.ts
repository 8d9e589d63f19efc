/**
 * The OpenAPI 3.1 document, generated from the route table (routes.ts) and its zod schemas
 * (src/protocol/schemas.ts): the same schemas validate the requests, so the document cannot
 * drift from what the service accepts and answers. Served at /openapi.json.
 * @module
 */
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../errors.ts';
import * as S from '../protocol/schemas.ts';
import type { Route } from './routes.ts';

/** Extra keywords (descriptions) for properties of an object schema, by property name. */
type Notes = Record<string, Record<string, unknown>>;

const MS = 'milliseconds since 1970-01-01T00:00:00Z';
const SECONDS = 'Unix time in seconds (not milliseconds)';

/**
 * What the wire schemas leave implicit, for readers of the document: units, encodings and what
 * is signed (docs/protocol.md, "Encodings and units" and "Signed messages"). By object schema,
 * then property; documentation only, validation is the schemas' alone.
 */
const SCHEMA_NOTES = new Map<z.ZodType, Notes>([
  [S.RecordSchema, {
    commitment: { description: 'Poseidon(2, agent id, org id, epoch, kept, broken, violations, scope, salt), decimal (docs/protocol.md, "Records"); the signature covers it' },
    agent: { description: 'the agent\'s did:key' },
    epoch: { description: 'the day of the record: whole days since 1970-01-01 UTC (floor(Unix seconds / 86,400)); at most the server\'s day + 1' },
    kept: { description: 'promises kept in this epoch' },
    broken: { description: 'promises broken in this epoch' },
    violations: { description: 'violations in this epoch (weight 5 in the record cap)' },
    scope: { description: 'category tag, 0 = general' },
    salt: { description: 'the random field element that hides the record, decimal below r' },
  }],
  [S.ReceiptSchema.shape.body, {
    firstIndex: { description: 'the submission\'s entries are log entries [firstIndex, firstIndex + count), in record order' },
    count: { description: 'the number of records of the submission' },
    treeHead: { description: 'the log right after the write that holds the entries (size >= firstIndex + count); covered by the receipt\'s signature' },
    deadline: { description: `${MS}: the time by which the entries will be in a proven batch (a checkpoint with logSize >= firstIndex + count)` },
  }],
  [S.TreeHeadBodySchema, {
    size: { description: 'the number of log entries the head covers' },
    root: { description: 'RFC 9162 Merkle tree head (SHA-256) of log entries [0, size), lower-case hex' },
    timestamp: { description: `${MS}: when the head was signed` },
  }],
  [S.LogEntrySchema, {
    index: { description: 'the entry\'s position in the log, from 0' },
    commitment: { description: 'the record commitment as the organisation signed it' },
    orgIndex: { description: 'the organisation\'s registry index (GET /v1/orgs), a JSON number' },
    submission: { description: 'the id of the submission the entry came from: <org did:key>/<nonce> (GET /v1/log/submission?id=)', pattern: '^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}/[0-9a-f]{16,64}$' },
  }],
  [S.PublicSubmissionSchema, {
    timestamp: { description: `${SECONDS}, as signed` },
    commitments: { description: 'the records\' commitments in record order, as signed (signingBytes("submission", {org, nonce, timestamp, commitments}))' },
    signature: { description: 'the organisation\'s Ed25519 signature over signingBytes("submission", {org, nonce, timestamp, commitments}), lower-case hex' },
    firstIndex: { description: 'the log index of its first entry' },
  }],
  [S.InclusionProofSchema, {
    leafHash: { description: 'SHA-256(0x00 || canonical JSON of {commitment, org, orgIndex, submission}): recompute it from the entry rather than trust it' },
    path: { description: 'the RFC 9162 audit path of entry `index` in the tree of `size` entries (section 2.1.3.1), in its order: verify with section 2.1.3.2 against a signed tree head of that size' },
  }],
  [S.ConsistencyProofSchema, { proof: { description: 'the RFC 9162 consistency proof between the trees of `first` and `second` entries (section 2.1.4.1); empty when they are equal' } }],
  [S.CheckpointBodySchema, {
    sequence: { description: 'the batch number, consecutive from 1' },
    config: { description: 'the circuit configuration the batch was proven in' },
    stateRoot: { description: 'the agent state root after log entries [0, logSize), decimal' },
    chain: { description: 'the log hash chain after log entries [0, logSize), decimal (docs/protocol.md)' },
    logSize: { description: 'log entries [0, logSize) are proven: this batch applied those after the previous checkpoint\'s logSize' },
    policyHash: { description: 'the score policy hash, decimal' },
    time: { description: `${MS}: when the checkpoint was signed, after its proof` },
    keySetHash: { description: 'the key set the batch was proven under (hex SHA-256 of signingBytes("key-set", descriptor))' },
  }],
  [S.BatchSchema, {
    fromIndex: { description: 'the batch applied log entries [fromIndex, toIndex)' },
    toIndex: { description: 'one past its last entry: its checkpoint\'s logSize' },
    publicSignals: { description: 'BatchUpdate\'s public signals in order: oldRoot, newRoot, oldChain, newChain, policyHash, maxEpoch (decimal)' },
  }],
  [S.ThresholdRequestBody, {
    minRecords: { description: 'at least this many records; signed as 0 when left out' },
    minOrgs: { description: 'at least this many organisations; signed as 0 when left out' },
    challenge: { description: 'a challenge from POST /v1/agents/challenge (opaque, usable once, by this agent)' },
  }],
  [S.ThresholdRequestBody.shape.context, {
    hash: { description: 'contextHash = Poseidon(6, sha256(nonce) mod 2^248, sha256(audience) mod 2^248, expiry) of the verifier\'s nonce and audience (UTF-8)' },
    expiry: { description: `${SECONDS}, below 2^40; in the future and at most ZKTRUST_MAX_CONTEXT_LIFETIME_S (a day) away` },
  }],
  [S.ProofResponseSchema.shape.context, {
    hash: { description: 'the context hash of the request' },
    expiry: { description: `${SECONDS}, below 2^40` },
  }],
  [S.ChallengeSchema, { expires: { description: `${MS}: the challenge is refused after it` } }],
  [S.OrgSchema, { index: { description: 'the registry index: orgIndex in log entries' }, registeredAt: { description: MS } }],
  [S.CeremonyStepSchema, { at: { description: MS } }],
  [S.CeremonyStateSchema, { createdAt: { description: MS } }],
  [S.ContributionStatementSchema, { time: { description: `${SECONDS}, within 10 minutes of the server's clock` } }],
  [S.ContributionHeaders, {
    'zktrust-statement': { description: 'base64url (RFC 4648 section 5, no padding) of the JSON statement {ceremony, circuit, index, previous, next, contributionHash, org, name, time}' },
    'zktrust-signature': { description: 'the organisation\'s Ed25519 signature over signingBytes("ceremony-contribution", statement), lower-case hex' },
  }],
]);

/** The same for the request bodies that the route table makes (by operation id). */
const BODY_NOTES: Record<string, Notes> = {
  submitRecords: {
    nonce: { description: '16 to 64 lower-case hex digits, never used before by this organisation (upper case is refused)' },
    timestamp: { description: `${SECONDS}: within ZKTRUST_TIMESTAMP_WINDOW_MS (5 minutes) of the server's clock` },
    records: { description: 'the records; the signature covers their commitment fields, in this order' },
  },
};

/** JSON Schema 2020-12 of a zod schema, without its $schema line (OpenAPI 3.1 embeds it), with the notes above. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', bodyNotes?: Notes): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema: js }) => {
      const zs = zodSchema as unknown as z.ZodType;
      const notes = zs === schema && bodyNotes ? bodyNotes : SCHEMA_NOTES.get(zs);
      const properties = (js as { properties?: Record<string, Record<string, unknown>> }).properties;
      if (!notes || !properties) return;
      // A property's schema can be shared with other places: replace it, never change it.
      for (const [name, extra] of Object.entries(notes)) if (properties[name]) properties[name] = { ...properties[name], ...extra };
    },
  }) as Record<string, unknown>;
  return rest;
}

/** The error codes a status can carry (docs/api.md). */
const codesOf = (status: number) => (Object.entries(ERROR_STATUS) as Array<[ErrorCode, number]>).filter(([, s]) => s === status).map(([c]) => c);

function parameters(r: Route): unknown[] {
  const out: unknown[] = [];
  const add = (schema: z.ZodType | undefined, where: 'path' | 'query' | 'header') => {
    if (!schema) return;
    const s = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, prop] of Object.entries(s.properties ?? {})) out.push({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: prop });
  };
  add(r.params, 'path');
  add(r.query, 'query');
  add(r.headers, 'header');
  return out;
}

/** The OpenAPI document of `table`. */
export function openApiDocument(table: readonly Route[]): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of table) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const responses: Record<string, unknown> = {
      [String(r.ok.status)]: r.ok.schema
        ? { description: r.ok.description, content: { 'application/json': { schema: jsonSchema(r.ok.schema, 'output') } } }
        : { description: r.ok.description, content: { [r.ok.contentType ?? 'application/octet-stream']: {} } },
    };
    for (const status of r.errors) responses[String(status)] = { description: `problem+json, code ${codesOf(status).join(' | ')}`, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    if (!r.always && !responses['503']) responses['503'] = { description: 'problem+json, code unavailable: the service is starting', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    const operation: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      ...(r.admin ? { security: [{ admin: [] }] } : {}),
      ...(parameters(r).length ? { parameters: parameters(r) } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { [r.body.contentType]: { schema: r.body.contentType === 'application/json' ? jsonSchema(r.body.schema, 'input', BODY_NOTES[r.operationId]) : { type: 'string', format: 'binary' } } },
            },
          }
        : {}),
      responses,
    };
    (paths[path] ??= {})[r.method] = operation;
  }
  paths['/openapi.json'] = { get: { operationId: 'getOpenApi', summary: 'This document', tags: ['operations'], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } };
  return {
    openapi: '3.1.0',
    info: { title: 'zktrust aggregator', version: '0.1.0', description: 'Signed ingestion of outcome-record commitments, a transparency log, proven batches, threshold presentations, key sets and the organisations\' ceremony (docs/api.md). What is signed, byte for byte, every unit and the log\'s hashes: docs/protocol.md, with conformance vectors in conformance/.' },
    components: {
      securitySchemes: { admin: { type: 'http', scheme: 'bearer' } },
      schemas: { Problem: jsonSchema(S.ProblemSchema, 'output') },
    },
    paths,
  };
}
