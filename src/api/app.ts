/**
 * The HTTP API (express): bounds and validates requests, calls the service, maps errors to
 * RFC 9457 problem+json. No business rule lives here. The endpoints are declared once in
 * routes.ts (their schemas in src/protocol/schemas.ts), which also generates /openapi.json.
 * Beside the API, `/` serves the observatory, a read-only page of public data (observatory.ts).
 *
 * Every request, in order: a request id and a log line (pino-http: method, route, status,
 * time; never a header or a body); the per-address rate limit (except probes and metrics);
 * the admin token where required; 503 while the service starts; the body parser (bounded);
 * the route's path and query schemas; the service. Every failure is a problem+json with a
 * stable code, including the body parser's, a malformed percent-encoding and an unknown
 * route; an unexpected error is logged with the request id and answered with a generic 500.
 * @module
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger as Pino } from 'pino';
import { ZkTrustError, toProblem } from '../errors.ts';
import { parseOrThrow } from '../protocol/schemas.ts';
import { addressKey, type RateLimits } from '../service/limits.ts';
import type { ServiceHandle } from '../service/handle.ts';
import { observatoryAssets } from '../observatory/assets.ts';
import { mountObservatory } from './observatory.ts';
import { openApiDocument } from './openapi.ts';
import { routes, type Route } from './routes.ts';

export interface ApiOptions {
  adminToken: string;
  /** Largest accepted JSON body, in bytes. */
  bodyLimit: number;
  limits: RateLimits;
  /** express's `trust proxy` setting (docs/api.md). */
  trustProxy: boolean | number | string;
  pino: Pino;
}

/** Builds the express application for the service behind `service`. */
export function createApp(service: ServiceHandle, opts: ApiOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', opts.trustProxy);
  const table = routes(service.config.maxRecordsPerSubmission);
  const document = openApiDocument(table);
  const telemetry = service.telemetry;

  app.use(
    pinoHttp({
      logger: opts.pino,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // What a request log line holds: no header (the admin token, signatures), no body.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.slice(0, 200) }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
      // A readiness probe answering 503 reports a state (logged by the service), not a failure;
      // any other 503 is backpressure (a warning), not a fault.
      customLogLevel: (req, res, err) => (req.url?.startsWith('/v1/ready') ? 'debug' : res.statusCode === 503 ? 'warn' : err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug'),
      customSuccessMessage: () => 'request',
      customErrorMessage: () => 'request failed',
    }),
  );
  app.use((req, res, next) => {
    const t0 = performance.now();
    res.on('finish', () => {
      const labels = { method: req.method, route: (req.route?.path as string | undefined) ?? 'unmatched', status: String(res.statusCode) };
      telemetry.httpRequests.inc(labels);
      telemetry.httpDuration.observe(labels, (performance.now() - t0) / 1000);
    });
    next();
  });

  const admin = (req: Request) => {
    const h = req.get('authorization') ?? '';
    const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7) : '');
    const want = Buffer.from(opts.adminToken);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new ZkTrustError('unauthorized', 'a valid admin token is required');
  };
  const json = express.json({ limit: opts.bodyLimit, strict: true, type: ['application/json', 'application/*+json'] });

  for (const r of table) {
    const steps: express.RequestHandler[] = [];
    // The per-address limit comes first: before authentication, before any parsing.
    if ((r.limit ?? 'address') !== 'none') steps.push(rateLimit(opts.limits, r.limit === 'download' ? 'download' : 'address'));
    if (r.admin) steps.push((req, _res, next) => next(tryCatch(() => admin(req))));
    if (!r.always) {
      steps.push((_req, _res, next) => next(service.aggregator ? undefined : new ZkTrustError('unavailable', `the service is starting (${service.progress().step})`, { retryAfterS: 5 })));
    }
    if (r.body?.contentType === 'application/json') steps.push(json);
    steps.push(handler(r, service));
    app[r.method](r.path, ...steps);
  }

  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  // The observatory: a read-only page of public data (src/observatory/), served before the
  // service is ready too (it shows the start).
  mountObservatory(app, rateLimit(opts.limits, 'address'), observatoryAssets);
  app.use((req, _res, next) => next(new ZkTrustError('not_found', `no route for ${req.method} ${req.path.slice(0, 200)}`)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = asZkTrustError(err, opts.bodyLimit);
    // A bug: logged with the request id, never shown to the client.
    if (!e) req.log?.error({ err, route: req.route?.path }, 'internal error');
    const problem = toProblem(e ?? err, req.path.slice(0, 200));
    const retry = e?.retry;
    if (retry?.retryAfterS !== undefined) res.set('retry-after', String(retry.retryAfterS));
    else if (problem.status === 429 || problem.status === 503) res.set('retry-after', '5');
    if (retry?.rateLimit) res.set({ 'ratelimit-limit': String(retry.rateLimit.limit), 'ratelimit-remaining': '0', 'ratelimit-reset': String(retry.rateLimit.resetS) });
    if (res.headersSent) return res.end();
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  });
  return app;
}

/** The per-address (or download) rate limit as a request step, with the RateLimit-* headers. */
function rateLimit(limits: RateLimits, kind: 'address' | 'download'): express.RequestHandler {
  return async (req, res, next) => {
    try {
      const state = await limits.take(kind, addressKey(req.ip));
      res.set({ 'ratelimit-limit': String(state.limit), 'ratelimit-remaining': String(state.remaining), 'ratelimit-reset': String(state.resetS) });
      next();
    } catch (e) {
      next(e);
    }
  };
}

function tryCatch(fn: () => void): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** The route's parameters, query and headers checked against its schemas, then the service. */
function handler(r: Route, service: ServiceHandle): express.RequestHandler {
  return async (req, res, next) => {
    try {
      const params = r.params ? parseOrThrow(r.params, req.params, 'path') : req.params;
      const query = r.query ? parseOrThrow(r.query, req.query, 'query') : {};
      if (r.headers) parseOrThrow(r.headers, { 'zktrust-statement': req.get('zktrust-statement'), 'zktrust-signature': req.get('zktrust-signature') }, 'headers');
      if (r.body?.contentType === 'application/octet-stream' && !req.is('application/octet-stream')) throw new ZkTrustError('malformed', `the body must be ${r.body.contentType}`);
      const out = await r.handle({ agg: service.aggregator!, service, params, query, body: req.body, req, res });
      if (res.headersSent) return;
      if (out === undefined) return void res.end();
      if (res.statusCode === 200) res.status(r.ok.status);
      res.json(out);
    } catch (e) {
      next(e);
    }
  };
}

/**
 * The stable error a client sees for what went wrong, or undefined for a bug. The body
 * parser's and the router's own errors carry a 4xx status and a type; they keep their
 * meaning and lose their message.
 */
function asZkTrustError(err: unknown, bodyLimit: number): ZkTrustError | undefined {
  if (err instanceof ZkTrustError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number } | undefined;
  switch (e?.type) {
    case 'entity.too.large':
      return new ZkTrustError('payload_too_large', `the body exceeds ${bodyLimit} bytes`);
    case 'entity.parse.failed':
      return new ZkTrustError('malformed', 'the body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ZkTrustError('malformed', 'the body has an unsupported encoding or charset');
    case 'request.aborted':
    case 'stream.not.readable':
    case 'request.size.invalid':
      return new ZkTrustError('malformed', 'the body could not be read');
    case 'parameters.too.many':
      return new ZkTrustError('malformed', 'too many parameters');
  }
  const status = e?.status ?? e?.statusCode;
  if (err instanceof URIError || (typeof status === 'number' && status >= 400 && status < 500)) return new ZkTrustError('malformed', 'the request could not be decoded (path, query or body)');
  return undefined;
}
