/**
 * Serves the observatory (src/observatory/): a read-only page at `/` that shows what the
 * aggregator has proven, from the public API only, and checks presentations in the browser.
 *
 * Every file is sent with its content type, `Cache-Control: no-cache` and a strong ETag (a
 * matching If-None-Match gets 304), gzipped when the client accepts it, under a strict
 * Content-Security-Policy: only this origin's script, style, images and API; WebAssembly
 * (the verifier's pairing) but no eval; no inline script or style; no plugin, no frame, no
 * form submission; and Trusted Types with no policy, so that the browser itself refuses any
 * HTML string written into the page.
 * @module
 */
import type express from 'express';
import { ZkTrustError } from '../errors.ts';
import type { ObservatoryAssets } from '../observatory/assets.ts';

/** The page's Content-Security-Policy. */
export const OBSERVATORY_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': OBSERVATORY_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
  vary: 'Accept-Encoding',
};

/** The paths of the page's files. */
const PATHS: ReadonlyArray<[path: string, file: string]> = [
  ['/', 'index.html'],
  ['/observatory.js', 'observatory.js'],
  ['/observatory.css', 'observatory.css'],
  ['/icon.svg', 'icon.svg'],
];

/**
 * Registers the page's routes on `app`, each behind `limit` (the per-address rate limit).
 * `assets` is called on each request (it caches): in a checkout the first request waits for
 * the bundle (about 0.1 s); where the page was never built the answer is a 404 problem.
 */
export function mountObservatory(app: express.Express, limit: express.RequestHandler, assets: () => Promise<ObservatoryAssets>): void {
  for (const [path, file] of PATHS) {
    app.get(path, limit, async (req, res, next) => {
      let a;
      try {
        a = (await assets()).files.get(file)!;
      } catch (e) {
        req.log?.error({ err: e }, 'observatory unavailable');
        return next(new ZkTrustError('not_found', 'the observatory page is not built here (npm run build)'));
      }
      const gzip = /\bgzip\b/i.test(req.get('accept-encoding') ?? '') && req.acceptsEncodings('gzip') === 'gzip';
      res.set(HEADERS).set({ 'content-type': a.type, etag: gzip ? a.gzipEtag : a.etag });
      // req.fresh compares If-None-Match with the ETag just set.
      if (req.fresh) return void res.status(304).end();
      if (gzip) res.set('content-encoding', 'gzip');
      res.send(gzip ? a.gzip : a.body);
    });
  }
}
