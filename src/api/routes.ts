/**
 * Every endpoint of the API, declared once: method, path, operation id, the schemas of its
 * parameters, body and responses (src/protocol/schemas.ts), and the call into the service.
 * The express application (app.ts) registers these routes and validates what they declare;
 * the OpenAPI document (openapi.ts) is generated from the same table.
 *
 * Bodies are validated by the service methods with the schemas declared here (the service is
 * where "authenticate first" decides what to check when); path and query parameters are
 * validated here before the service is called.
 * @module
 */
import { ZkTrustError } from '../errors.ts';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Aggregator } from '../service/aggregator.ts';
import type { ServiceHandle } from '../service/handle.ts';
import * as S from '../protocol/schemas.ts';

export type Limit = 'address' | 'download' | 'none';

export interface RouteContext<P, Q> {
  /** The aggregator (for routes that are not `always`, it is open). */
  agg: Aggregator;
  service: ServiceHandle;
  params: P;
  query: Q;
  body: unknown;
  req: Request;
  res: Response;
}

export interface Route<P = unknown, Q = unknown> {
  method: 'get' | 'post';
  /** express path syntax (`:name`). */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  admin?: boolean;
  /** The per-address limiter (default), the download limiter, or none (probes). */
  limit?: Limit;
  /** Works before the aggregator is open (probes, metrics, this document). */
  always?: boolean;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  headers?: z.ZodType;
  body?: { schema: z.ZodType; contentType: 'application/json' | 'application/octet-stream' };
  /** The success response: status, description, and its schema (JSON) or content type. */
  ok: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** The error statuses this endpoint answers with (problem+json). */
  errors: number[];
  /**
   * The call into the service. Returns the response body; a handler that writes the response
   * itself (a file) returns undefined.
   */
  handle(ctx: RouteContext<P, Q>): unknown;
}

const route = <P, Q>(r: Route<P, Q>) => r as Route;

/** The route table, in the order the OpenAPI document lists it. */
export function routes(maxRecords: number): Route[] {
  return [
    // ---- registry ----
    route({
      method: 'post', path: '/v1/admin/orgs', operationId: 'registerOrg', summary: 'Register an organisation (admin)', tag: 'registry', admin: true,
      body: { schema: S.RegisterOrgBody, contentType: 'application/json' },
      ok: { status: 201, description: 'The organisation and its registry index', schema: S.OrgSchema }, errors: [400, 401, 409, 413, 429],
      handle: ({ agg, body }) => agg.registerOrg(body),
    }),
    route({
      method: 'post', path: '/v1/admin/orgs/:did/suspend', operationId: 'suspendOrg', summary: 'Suspend an organisation (admin)', tag: 'registry', admin: true, params: S.DidParams,
      ok: { status: 200, description: 'The organisation', schema: S.OrgSchema }, errors: [400, 401, 404, 429],
      handle: ({ agg, params }) => agg.setOrgStatus(params.did, 'suspended'),
    }),
    route({
      method: 'post', path: '/v1/admin/orgs/:did/activate', operationId: 'activateOrg', summary: 'Reactivate an organisation (admin)', tag: 'registry', admin: true, params: S.DidParams,
      ok: { status: 200, description: 'The organisation', schema: S.OrgSchema }, errors: [400, 401, 404, 429],
      handle: ({ agg, params }) => agg.setOrgStatus(params.did, 'active'),
    }),
    route({
      method: 'get', path: '/v1/orgs', operationId: 'listOrgs', summary: 'The public organisation registry', tag: 'registry',
      ok: { status: 200, description: 'did, index, status and name of every organisation', schema: S.OrgListSchema }, errors: [429],
      handle: ({ agg }) => agg.orgs(),
    }),
    // ---- ingestion and the log ----
    route({
      method: 'post', path: '/v1/records', operationId: 'submitRecords', summary: 'Submit signed record commitments with their openings', tag: 'ingestion',
      body: { schema: S.submissionBody(maxRecords), contentType: 'application/json' },
      ok: { status: 201, description: 'A receipt signed by the aggregator: log index range, tree head, deadline', schema: S.ReceiptSchema },
      errors: [400, 401, 403, 409, 413, 429, 503],
      handle: ({ agg, body }) => agg.submit(body),
    }),
    route({
      method: 'get', path: '/v1/log/head', operationId: 'getTreeHead', summary: 'The signed tree head of the log', tag: 'log',
      ok: { status: 200, description: 'Signed tree head', schema: S.TreeHeadSchema }, errors: [429],
      handle: ({ agg }) => agg.treeHead(),
    }),
    route({
      method: 'get', path: '/v1/log/entries', operationId: 'getLogEntries', summary: 'Public log entries [start, end), at most 1,000', tag: 'log', query: S.RangeQuery,
      ok: { status: 200, description: 'Entries (never openings)', schema: S.LogEntriesSchema }, errors: [400, 429],
      handle: ({ agg, query }) => agg.logEntries(query.start, query.end),
    }),
    route({
      method: 'get', path: '/v1/log/submission', operationId: 'getSubmission', summary: 'The organisation-signed submission an entry came from', tag: 'log', query: S.SubmissionQuery,
      ok: { status: 200, description: 'Submission', schema: S.PublicSubmissionSchema }, errors: [400, 404, 429],
      handle: ({ agg, query }) => agg.submission(query.id),
    }),
    route({
      method: 'get', path: '/v1/log/inclusion', operationId: 'getInclusionProof', summary: 'RFC 9162 inclusion proof', tag: 'log', query: S.InclusionQuery,
      ok: { status: 200, description: 'Audit path', schema: S.InclusionProofSchema }, errors: [400, 429],
      handle: ({ agg, query }) => agg.inclusionProof(query.index, query.size),
    }),
    route({
      method: 'get', path: '/v1/log/consistency', operationId: 'getConsistencyProof', summary: 'RFC 9162 consistency proof', tag: 'log', query: S.ConsistencyQuery,
      ok: { status: 200, description: 'Consistency proof', schema: S.ConsistencyProofSchema }, errors: [400, 429],
      handle: ({ agg, query }) => agg.consistencyProof(query.first, query.second),
    }),
    // ---- batches and keys ----
    route({
      method: 'get', path: '/v1/checkpoints/latest', operationId: 'getLatestCheckpoint', summary: 'The latest signed checkpoint', tag: 'batches',
      ok: { status: 200, description: 'Checkpoint', schema: S.CheckpointSchema }, errors: [404, 429],
      handle: ({ agg }) => agg.latestCheckpointOrThrow(),
    }),
    route({
      method: 'get', path: '/v1/checkpoints', operationId: 'listCheckpoints', tag: 'batches', query: S.CheckpointRangeQuery,
      summary: `Signed checkpoints [from, from + limit) in order, at most ${S.MAX_CHECKPOINTS_PER_PAGE}, each with its batch's log range and when its first and last entries were accepted`,
      ok: { status: 200, description: 'Checkpoints (an empty array past the latest)', schema: S.CheckpointListSchema }, errors: [400, 429],
      handle: ({ agg, query }) => agg.checkpoints(query.from ?? 1, query.limit ?? 100),
    }),
    route({
      method: 'get', path: '/v1/checkpoints/:seq', operationId: 'getCheckpoint', summary: 'A checkpoint by sequence', tag: 'batches', params: S.SeqParams,
      ok: { status: 200, description: 'Checkpoint', schema: S.CheckpointSchema }, errors: [400, 404, 429],
      handle: async ({ agg, params }) => (await agg.batch(params.seq)).checkpoint,
    }),
    route({
      method: 'get', path: '/v1/batches/:seq', operationId: 'getBatch', summary: 'A batch proof with its public signals and checkpoint', tag: 'batches', params: S.SeqParams,
      ok: { status: 200, description: 'Batch', schema: S.BatchSchema }, errors: [400, 404, 429],
      handle: ({ agg, params }) => agg.batch(params.seq),
    }),
    route({
      method: 'get', path: '/v1/keys', operationId: 'getKeys', summary: 'The key set in force: mode, who can forge, verification keys, the signed key document, the history (docs/keys.md)', tag: 'keys',
      ok: { status: 200, description: 'Keys', schema: S.KeyViewSchema }, errors: [429],
      handle: ({ agg }) => agg.keyDocument(),
    }),
    route({
      method: 'get', path: '/v1/keys/:hash', operationId: 'getKeySet', summary: "A key set of this aggregator by its hash (with a ceremony's transcript)", tag: 'keys', params: S.HashParams,
      ok: { status: 200, description: 'Keys', schema: S.KeyViewSchema }, errors: [400, 404, 429],
      handle: ({ agg, params }) => agg.keyDocument(params.hash),
    }),
    route({
      method: 'get', path: '/v1/keys/:hash/:circuit.zkey', operationId: 'getProvingKey', summary: 'A proving key of a key set', tag: 'keys', params: S.HashCircuitParams, limit: 'download',
      ok: { status: 200, description: 'snarkjs zkey', contentType: 'application/octet-stream' }, errors: [400, 404, 429],
      handle: ({ agg, params, res }) => sendFile(res, agg.provingKeyPath(params.hash, params.circuit)),
    }),
    // ---- agents ----
    route({
      method: 'post', path: '/v1/agents/challenge', operationId: 'createChallenge', summary: 'A fresh challenge for an agent (stateless: nothing is stored)', tag: 'agents',
      body: { schema: S.ChallengeBody, contentType: 'application/json' },
      ok: { status: 201, description: 'Challenge', schema: S.ChallengeSchema }, errors: [400, 413, 429],
      handle: ({ agg, body }) => agg.challenge(body),
    }),
    route({
      method: 'post', path: '/v1/proofs/threshold', operationId: 'proveThreshold', summary: "A threshold presentation, requested and signed by the agent for its verifier's context hash", tag: 'agents',
      body: { schema: S.ThresholdRequestBody, contentType: 'application/json' },
      ok: { status: 200, description: 'The proof, public signals, signed checkpoint and key set (the agent adds the verifier nonce and audience)', schema: S.ProofResponseSchema },
      errors: [400, 401, 403, 404, 413, 422, 429, 503],
      handle: ({ agg, body }) => agg.presentThreshold(body),
    }),
    // ---- the ceremony ----
    route({
      method: 'post', path: '/v1/admin/ceremony', operationId: 'startCeremony', summary: 'Start a ceremony from a powers-of-tau file on the aggregator machine (admin)', tag: 'ceremony', admin: true,
      body: { schema: S.CeremonyStartBody, contentType: 'application/json' },
      ok: { status: 202, description: 'The ceremony (preparing)', schema: S.CeremonyStateSchema }, errors: [400, 401, 409, 413, 429],
      handle: ({ agg, body }) => agg.ceremony.start(body),
    }),
    route({
      method: 'post', path: '/v1/admin/ceremony/finalize', operationId: 'finalizeCeremony', summary: 'Finish the ceremony with a public beacon and schedule the key set (admin)', tag: 'ceremony', admin: true,
      body: { schema: S.CeremonyFinalizeBody, contentType: 'application/json' },
      ok: { status: 202, description: 'The ceremony (finalizing)', schema: S.CeremonyStateSchema }, errors: [400, 401, 409, 413, 429],
      handle: ({ agg, body }) => agg.ceremony.finalize(body),
    }),
    route({
      method: 'get', path: '/v1/ceremony', operationId: 'getCeremony', summary: "The organisations' ceremony: public state and transcript", tag: 'ceremony',
      ok: { status: 200, description: 'Ceremony', schema: S.CeremonyStateSchema }, errors: [404, 429],
      handle: ({ agg }) => agg.ceremony.status(),
    }),
    route({
      method: 'get', path: '/v1/ceremony/:circuit/:step.zkey', operationId: 'getCeremonyKey', summary: "A step's key (a number, or latest); headers zktrust-step and zktrust-sha256", tag: 'ceremony', params: S.CeremonyStepParams, limit: 'download',
      ok: { status: 200, description: 'snarkjs zkey', contentType: 'application/octet-stream' }, errors: [400, 404, 429],
      handle: ({ agg, params, res }) => {
        const { path, index, sha256 } = agg.ceremony.stepKeyPath(params.circuit, params.step === 'latest' ? undefined : params.step);
        res.set({ 'zktrust-step': String(index), 'zktrust-sha256': sha256 });
        return sendFile(res, path);
      },
    }),
    route({
      method: 'post', path: '/v1/ceremony/:circuit/contributions', operationId: 'contributeToCeremony', summary: "An organisation's contribution: the new key as the body, its signed statement in headers", tag: 'ceremony',
      params: S.CircuitParams, headers: S.ContributionHeaders,
      body: { schema: z.string().describe('binary: a snarkjs zkey'), contentType: 'application/octet-stream' },
      ok: { status: 201, description: 'The accepted step', schema: S.CeremonyStepSchema }, errors: [400, 401, 403, 404, 409, 413, 429, 503],
      handle: ({ agg, params, req }) => agg.ceremony.contribute(params.circuit, req.get('zktrust-statement'), req.get('zktrust-signature'), req),
    }),
    // ---- operations ----
    route({
      method: 'get', path: '/v1/health', operationId: 'getHealth', summary: 'Liveness: the process answers (200 even while it starts; readiness is /v1/ready)', tag: 'operations', limit: 'none', always: true,
      ok: { status: 200, description: 'Health', schema: S.HealthSchema }, errors: [],
      handle: ({ service }) => service.health(),
    }),
    route({
      method: 'get', path: '/v1/ready', operationId: 'getReadiness', summary: 'Readiness: store, provers, sequencer lag, keys; 503 while starting or degraded', tag: 'operations', limit: 'none', always: true,
      ok: { status: 200, description: 'Ready (503 with the same body when not)', schema: S.ReadySchema }, errors: [],
      handle: ({ service, res }) => {
        const r = service.readiness();
        if (r.status !== 'ready') res.status(503).set('retry-after', '5');
        return r;
      },
    }),
    route({
      method: 'get', path: '/metrics', operationId: 'getMetrics', summary: 'Prometheus metrics (docs/api.md lists them)', tag: 'operations', limit: 'none', always: true,
      ok: { status: 200, description: 'Prometheus text exposition format', contentType: 'text/plain' }, errors: [],
      handle: async ({ service, res }) => {
        res.type(service.telemetry.registry.contentType).send(await service.telemetry.registry.metrics());
        return undefined;
      },
    }),
  ];
}

function sendFile(res: Response, path: string): Promise<undefined> {
  return new Promise((resolve, reject) => {
    res.type('application/octet-stream');
    res.sendFile(path, { dotfiles: 'allow' }, (e?: Error & { code?: string; status?: number }) => {
      if (!e) return resolve(undefined);
      // A client that went away mid-download: nothing to answer, nothing wrong here.
      if (e.code === 'ECONNABORTED' || e.code === 'ECONNRESET' || res.headersSent) return resolve(undefined);
      if (e.code === 'ENOENT' || e.status === 404) return reject(new ZkTrustError('not_found', 'no such file'));
      reject(e);
    });
  });
}
