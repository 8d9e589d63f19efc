/**
 * The HTTP API (express): parses and bounds requests, calls the aggregator, maps errors to
 * RFC 9457 problem+json. No business rule lives here.
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ZkTrustError, toProblem } from '../errors.ts';
import type { Aggregator } from '../service/aggregator.ts';
import { openApiDocument } from './openapi.ts';

export interface ApiOptions {
  adminToken: string;
  /** Largest accepted JSON body, in bytes. */
  bodyLimit: number;
  /** Requests per second allowed per organisation (submissions) and per client address. */
  ratePerSecond: number;
  burst: number;
  log?: (entry: Record<string, unknown>) => void;
}

/** Token buckets by key; refuses with rate_limited when a key has no token left. */
class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}
  take(key: string): void {
    const now = Date.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    if (b.tokens < 1) throw new ZkTrustError('rate_limited', 'too many requests, slow down');
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > 100_000) this.buckets.clear();
  }
}

function intParam(v: unknown, name: string): number {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(v)) throw new ZkTrustError('malformed', `${name} must be a non-negative integer`);
  return Number(v);
}

function circuitParam(v: unknown): string {
  if (typeof v !== 'string' || !/^[a-z][a-z0-9-]{0,40}$/.test(v)) throw new ZkTrustError('malformed', 'circuit must be a circuit name');
  return v;
}

function hashParam(v: unknown): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) throw new ZkTrustError('malformed', 'a key set hash is 64 lower-case hex digits');
  return v;
}

/** Builds the express application for `agg`. */
export function createApp(agg: Aggregator, opts: ApiOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const limiter = new RateLimiter(opts.ratePerSecond, opts.burst);
  const started = Date.now();
  const counts = new Map<string, number>();

  app.use((req, res, next) => {
    const t0 = performance.now();
    res.on('finish', () => {
      const key = `${req.method} ${req.route?.path ?? 'unmatched'} ${res.statusCode}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      opts.log?.({ msg: 'request', method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - t0) });
    });
    next();
  });
  app.use(express.json({ limit: opts.bodyLimit, strict: true, type: ['application/json', 'application/*+json'] }));

  const wrap = (fn: (req: Request, res: Response) => Promise<unknown> | unknown, status = 200) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const out = await fn(req, res);
      if (!res.headersSent) res.status(status).json(out);
    } catch (e) {
      next(e);
    }
  };
  const admin = (req: Request) => {
    const h = req.get('authorization') ?? '';
    const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7) : '');
    const want = Buffer.from(opts.adminToken);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new ZkTrustError('unauthorized', 'a valid admin token is required');
  };
  const byAddress = (req: Request) => limiter.take(`ip:${req.ip}`);

  app.post('/v1/admin/orgs', wrap((req) => (admin(req), agg.registerOrg(req.body)), 201));
  app.post('/v1/admin/orgs/:did/suspend', wrap((req) => (admin(req), agg.setOrgStatus(String(req.params.did), 'suspended'))));
  app.post('/v1/admin/orgs/:did/activate', wrap((req) => (admin(req), agg.setOrgStatus(String(req.params.did), 'active'))));
  app.get('/v1/orgs', wrap(() => agg.orgs()));

  app.post(
    '/v1/records',
    wrap((req) => {
      const org = typeof req.body?.org === 'string' ? req.body.org : `ip:${req.ip}`;
      limiter.take(`org:${org}`);
      return agg.submit(req.body);
    }, 201),
  );

  app.get('/v1/log/head', wrap(() => agg.treeHead()));
  app.get('/v1/log/entries', wrap((req) => agg.logEntries(intParam(req.query.start, 'start'), intParam(req.query.end, 'end'))));
  app.get('/v1/log/submission', wrap((req) => agg.submission(String(req.query.id ?? ''))));
  app.get('/v1/log/inclusion', wrap((req) => agg.inclusionProof(intParam(req.query.index, 'index'), intParam(req.query.size, 'size'))));
  app.get('/v1/log/consistency', wrap((req) => agg.consistencyProof(intParam(req.query.first, 'first'), intParam(req.query.second, 'second'))));

  app.get(
    '/v1/checkpoints/latest',
    wrap(() => {
      const c = agg.latestCheckpoint();
      if (!c) throw new ZkTrustError('not_found', 'no checkpoint yet');
      return c;
    }),
  );
  app.get('/v1/checkpoints/:seq', wrap(async (req) => (await agg.batch(intParam(req.params.seq, 'seq'))).checkpoint));
  app.get('/v1/batches/:seq', wrap((req) => agg.batch(intParam(req.params.seq, 'seq'))));
  app.get('/v1/keys', wrap(() => agg.keyDocument()));
  app.get('/v1/keys/:hash', wrap((req) => agg.keyDocument(hashParam(req.params.hash))));
  app.get('/v1/keys/:hash/:circuit.zkey', (req, res, next) => {
    try {
      const path = agg.provingKeyPath(hashParam(req.params.hash), circuitParam(req.params.circuit));
      res.type('application/octet-stream');
      res.sendFile(path, { dotfiles: 'allow' }, (e) => e && next(e));
    } catch (e) {
      next(e);
    }
  });

  // The organisations' ceremony (src/service/ceremony.ts).
  app.post('/v1/admin/ceremony', wrap((req) => (admin(req), agg.ceremony.start(req.body)), 202));
  app.post('/v1/admin/ceremony/finalize', wrap((req) => (admin(req), agg.ceremony.finalize(req.body)), 202));
  app.get('/v1/ceremony', wrap(() => agg.ceremony.status()));
  app.get('/v1/ceremony/:circuit/:step.zkey', (req, res, next) => {
    try {
      const step = String(req.params.step);
      const { path, index, sha256 } = agg.ceremony.stepKeyPath(circuitParam(req.params.circuit), step === 'latest' ? undefined : intParam(step, 'step'));
      res.set({ 'zktrust-step': String(index), 'zktrust-sha256': sha256 }).type('application/octet-stream');
      res.sendFile(path, { dotfiles: 'allow' }, (e) => e && next(e));
    } catch (e) {
      next(e);
    }
  });
  app.post(
    '/v1/ceremony/:circuit/contributions',
    wrap((req) => {
      if (!req.is('application/octet-stream')) throw new ZkTrustError('malformed', 'a contribution is uploaded as application/octet-stream');
      return agg.ceremony.contribute(circuitParam(req.params.circuit), req.get('zktrust-statement'), req.get('zktrust-signature'), req);
    }, 201),
  );

  app.post('/v1/agents/challenge', wrap((req) => (byAddress(req), agg.challenge(req.body?.agent)), 201));
  app.post('/v1/proofs/threshold', wrap((req) => (byAddress(req), agg.presentThreshold(req.body))));

  app.get('/v1/health', wrap(() => {
    const keys = agg.keyDocument();
    return { status: 'ok', aggregator: agg.did, config: agg.config.circuits, keyMode: keys.mode, keySetHash: keys.keySetHash, pending: agg.pending, checkpoint: agg.latestCheckpoint()?.body.sequence ?? 0, uptimeS: Math.round((Date.now() - started) / 1000) };
  }));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.get('/metrics', (_req, res) => {
    const m = agg.metrics;
    const series: Array<[name: string, type: 'counter' | 'gauge', help: string, value: number | string]> = [
      ['zktrust_records_accepted_total', 'counter', 'Records appended to the log.', m.recordsAccepted],
      ['zktrust_log_writes_total', 'counter', 'Synced log writes (one per group of submissions appended together).', m.logWrites],
      ['zktrust_submissions_rejected_total', 'counter', 'Submissions refused.', m.submissionsRejected],
      ['zktrust_batches_proven_total', 'counter', 'Batch proofs completed.', m.batchesProven],
      ['zktrust_batch_prove_seconds_total', 'counter', 'Time spent building and proving batches.', (m.batchProveMs / 1000).toFixed(3)],
      ['zktrust_pending_entries', 'gauge', 'Log entries not yet in a proven batch.', agg.pending],
      ['zktrust_presentations_total', 'counter', 'Threshold presentations proven.', m.presentations],
      ['zktrust_presentation_cache_hits_total', 'counter', 'Presentations served from the cache.', m.presentationCacheHits],
    ];
    const lines = [
      ...series.flatMap(([name, type, help, value]) => [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`]),
      '# HELP zktrust_http_requests_total HTTP requests by method, route and status.',
      '# TYPE zktrust_http_requests_total counter',
      ...[...counts].map(([k, n]) => {
        const [method, route, status] = k.split(' ');
        return `zktrust_http_requests_total{method="${method}",route="${route}",status="${status}"} ${n}`;
      }),
    ];
    res.type('text/plain; version=0.0.4').send(lines.join('\n') + '\n');
  });

  app.use((req, _res, next) => next(new ZkTrustError('not_found', `no route for ${req.method} ${req.path}`)));
  // Errors: body-parser's own errors carry a type; everything else is a ZkTrustError or a bug.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let e = err;
    const type = (err as { type?: string })?.type;
    if (type === 'entity.too.large') e = new ZkTrustError('payload_too_large', `the body exceeds ${opts.bodyLimit} bytes`);
    else if (type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported') e = new ZkTrustError('malformed', 'the body is not valid JSON');
    if (!(e instanceof ZkTrustError)) opts.log?.({ msg: 'internal error', path: req.path, error: String((err as Error)?.stack ?? err) });
    const problem = toProblem(e, req.path);
    if (problem.status === 429 || problem.status === 503) res.set('retry-after', '5');
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  });
  return app;
}
