/**
 * Starts the service: the HTTP server listens at once (probes answer within seconds of a
 * first start), then the circuits are prepared, the aggregator opens (making local keys on a
 * first start, which /v1/ready reports step by step), the sequencer starts, and every route
 * opens. Structured logs (pino) on stdout, metrics (prom-client), rate limits, graceful
 * shutdown.
 * @module
 */
import type { ProverFactory } from '../prover/prover.ts';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { pino, type Logger as Pino } from 'pino';
import { createApp } from '../api/app.ts';
import { ERROR_STATUS, ZkTrustError, toProblem, type ErrorCode } from '../errors.ts';
import { QueueProverPool } from '../prover/queue-provers.ts';
import { Aggregator } from './aggregator.ts';
import type { ServiceConfig } from './config.ts';
import { RateLimits } from './limits.ts';
import type { Health, Readiness, ServiceHandle } from './handle.ts';
import { Telemetry } from './telemetry.ts';
export type { Health, Readiness, ServiceHandle } from './handle.ts';

/** A structured log entry: `msg`, an optional `level` (default info) and any fields. */
export type Logger = (entry: Record<string, unknown>) => void;

/** Writes each entry as a JSON line on stdout (the CLI's sink). */
export const jsonLogger: Logger = (entry) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');

export interface RunningService {
  aggregator: Aggregator;
  server: Server;
  url: string;
  adminToken: string;
  handle: ServiceHandle;
  close(): Promise<void>;
}

async function adminTokenOf(config: ServiceConfig): Promise<string> {
  if (config.adminToken) return config.adminToken;
  const path = join(config.dataDir, 'admin.token');
  await mkdir(config.dataDir, { recursive: true });
  if (!existsSync(path)) await writeFile(path, randomBytes(24).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return (await readFile(path, 'utf8')).trim();
}

/** pino writing to `sink` (one JSON line per entry), with string levels and ISO times. */
function pinoFor(level: string, sink: (line: string) => void): Pino {
  return pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => sink(line) },
  );
}

/** The entry-style logger of the service's modules, written through pino. */
function entryLogger(p: Pino): Logger {
  return (entry) => {
    const { level, msg, ...rest } = entry;
    const l = typeof level === 'string' && level in p.levels.values ? level : 'info';
    (p as unknown as Record<string, (o: object, m?: string) => void>)[l]!(rest, typeof msg === 'string' ? msg : undefined);
  };
}

/**
 * Starts the service; resolves once it is ready (the server listens from the start).
 * @param log where log entries go: by default JSON lines on stdout.
 * @param opts.prepare work before the aggregator opens (the CLI compiles the circuits there).
 * @throws the error that stopped the start (the server is closed again).
 */
export async function startService(config: ServiceConfig, log?: Logger, opts: { prepare?: (step: (s: string) => void) => Promise<void>; provers?: ProverFactory } = {}): Promise<RunningService> {
  const sink = log ? (line: string) => log(JSON.parse(line) as Record<string, unknown>) : (line: string) => process.stdout.write(line);
  const logger = pinoFor(config.logLevel, sink);
  const logEntry = entryLogger(logger);
  const started = Date.now();
  let phase: Health['phase'] = 'starting';
  let step = 'starting';
  let percent = 0;
  let failure: string | undefined;
  const handle: ServiceHandle = {
    config,
    telemetry: undefined as unknown as Telemetry,
    progress: () => ({ step, percent }),
    health() {
      const a = handle.aggregator;
      const keys = a?.currentKeys();
      return {
        status: 'ok',
        phase,
        ...(a ? { aggregator: a.did, keyMode: keys!.mode, keySetHash: keys!.keySetHash, pending: a.pending, checkpoint: a.latestCheckpoint()?.body.sequence ?? 0 } : {}),
        config: config.circuits,
        uptimeS: Math.round((Date.now() - started) / 1000),
      };
    },
    readiness() {
      const a = handle.aggregator;
      if (!a) {
        return { status: 'starting', config: config.circuits, phase, progress: { step: failure ? `failed: ${failure}` : step, percent }, components: { keys: { ok: false, detail: step } } };
      }
      const keys = a.currentKeys();
      const lag = a.oldestPendingS();
      const components: Readiness['components'] = {
        keys: { ok: true, detail: `${keys.mode} key set ${keys.keySetHash.slice(0, 16)}` },
        store: a.storeHealthy ? { ok: true } : { ok: false, detail: 'the last write failed' },
        sequencer: a.sequencing && lag * 1000 < 0.8 * config.receiptDeadlineMs ? { ok: true, detail: `${a.pending} pending, oldest ${lag.toFixed(1)} s` } : { ok: false, detail: a.sequencing ? `the oldest pending entry is ${lag.toFixed(0)} s old: receipts are at risk` : 'stopped' },
      };
      for (const p of a.proverStatus()) components[`prover ${p.name}`] = { ok: p.state === 'ready' || p.state === 'idle' || p.state === 'starting', detail: `${p.state}, ${p.queue} queued, ${p.restarts} restarts${p.lastError ? `, last: ${p.lastError}` : ''}` };
      const ok = phase === 'ready' && Object.values(components).every((c) => c.ok);
      return {
        status: ok ? 'ready' : 'degraded',
        aggregator: a.did,
        config: config.circuits,
        phase,
        keyMode: keys.mode,
        keySetHash: keys.keySetHash,
        checkpoint: a.latestCheckpoint()?.body.sequence ?? 0,
        pending: a.pending,
        oldestPendingS: Math.round(lag * 10) / 10,
        components,
      };
    },
  };
  handle.telemetry = new Telemetry({ pending: () => handle.aggregator?.pending ?? 0, oldestPendingS: () => handle.aggregator?.oldestPendingS() ?? 0 });
  const limits = new RateLimits(
    { ratePerSecond: config.ratePerSecond, burst: config.burst, addressRatePerSecond: config.addressRatePerSecond, addressBurst: config.addressBurst, downloadsPerMinute: config.downloadsPerMinute, presentationsPerMinute: config.presentationsPerMinute },
    (scope) => handle.telemetry.rateLimited.inc({ scope }),
  );
  const adminToken = await adminTokenOf(config);
  const app = createApp(handle, { adminToken, bodyLimit: config.bodyLimit, limits, trustProxy: config.trustProxy, pino: logger });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  // A slow client must not hold a connection for ever (headers, then the whole request).
  server.headersTimeout = 20_000;
  server.requestTimeout = 300_000;
  // Idle keep-alive connections outlive clients' own idle timeouts (undici's is 4 s), so that a
  // client never sends a request on a connection the server is closing at that moment.
  server.keepAliveTimeout = 65_000;
  // Requests node's HTTP parser refuses before express sees them (headers over 16 KiB, a
  // malformed request line, a request too slow): answered in problem+json like every refusal.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket & { _httpMessage?: { headersSent?: boolean } }) => {
    logEntry({ level: 'info', msg: 'client error', code: err.code, error: err.message });
    // As node's own handler: never write into a response already under way.
    if (!socket.writable || err.code === 'ECONNRESET' || socket._httpMessage?.headersSent) return void socket.destroy();
    const [code, detail]: [ErrorCode, string] =
      err.code === 'HPE_HEADER_OVERFLOW' ? ['headers_too_large', 'the request line and headers exceed 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? ['request_timeout', 'the request was not received in time']
      : ['malformed', 'the request is not valid HTTP/1.1'];
    const body = JSON.stringify(toProblem(new ZkTrustError(code, detail)));
    socket.end(`HTTP/1.1 ${ERROR_STATUS[code]} ${STATUS_CODES[ERROR_STATUS[code]]}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host}:${port}`;
  logEntry({ msg: 'listening', url, circuits: config.circuits, dataDir: config.dataDir, phase: 'starting' });

  let aggregator: Aggregator;
  let queue: QueueProverPool | undefined;
  try {
    if (opts.prepare) {
      step = 'preparing the circuits';
      await opts.prepare((s) => (step = s));
    }
    step = 'opening the aggregator';
    const shown = new Map<string, number>();
    // With Redis, proofs go to `zktrust worker` processes; else to child processes here.
    if (config.redisUrl && !opts.provers) {
      queue = new QueueProverPool(config.redisUrl, { prefix: config.redisPrefix });
      await queue.start();
      logEntry({ level: 'info', msg: 'proving through the Redis queue', workers: queue.workerCount });
    }
    aggregator = await Aggregator.open(config, {
      log: logEntry,
      telemetry: handle.telemetry,
      limits,
      provers: opts.provers ?? queue?.factory,
      onKeyProgress: (circuit, phaseName, done, total) => {
        percent = Math.floor((100 * done) / Math.max(1, total));
        step = `making local keys: ${circuit}, ${phaseName}`;
        // Each phase at every quarter in the log.
        const key = `${circuit} ${phaseName}`;
        const last = shown.get(key);
        if (last === 100 || (last !== undefined && percent < last + 25 && percent !== 100)) return;
        shown.set(key, percent);
        logEntry({ level: 'info', msg: 'making local keys', circuit, phase: phaseName, percent });
      },
    });
  } catch (e) {
    phase = 'failed';
    failure = (e as Error).message;
    logEntry({ level: 'fatal', msg: 'start failed', error: failure });
    await queue?.close();
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
    throw e;
  }
  aggregator.start();
  handle.aggregator = aggregator;
  phase = 'ready';
  step = 'ready';
  percent = 100;
  const keys = aggregator.keyDocument();
  logEntry({
    level: keys.mode === 'dev' ? 'warn' : 'info', msg: 'ready', url, aggregator: aggregator.did, circuits: config.circuits, commitmentCheck: aggregator.commitmentEngine, stateHashing: aggregator.stateHashing,
    keyMode: keys.mode, keySetHash: keys.keySetHash, forgeableBy: keys.forgeableBy, startupS: Math.round((Date.now() - started) / 100) / 10,
  });
  let closing: Promise<void> | undefined;
  return {
    aggregator,
    server,
    url,
    adminToken,
    handle,
    close() {
      closing ??= (async () => {
        phase = 'stopping';
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        await aggregator.close();
        await queue?.close();
        logEntry({ msg: 'stopped' });
        logger.flush();
      })();
      return closing;
    },
  };
}
