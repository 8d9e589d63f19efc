/**
 * Starts the service: artifacts (built on first start), aggregator, HTTP server on
 * HOST:PORT, structured JSON logs on stdout, graceful shutdown on SIGINT/SIGTERM.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createApp } from '../api/app.ts';
import { Aggregator } from './aggregator.ts';
import type { ServiceConfig } from './config.ts';

export type Logger = (entry: Record<string, unknown>) => void;
export const jsonLogger: Logger = (entry) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');

export interface RunningService {
  aggregator: Aggregator;
  server: Server;
  url: string;
  adminToken: string;
  close(): Promise<void>;
}

async function adminTokenOf(config: ServiceConfig): Promise<string> {
  if (config.adminToken) return config.adminToken;
  const path = join(config.dataDir, 'admin.token');
  await mkdir(config.dataDir, { recursive: true });
  if (!existsSync(path)) await writeFile(path, randomBytes(24).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return (await readFile(path, 'utf8')).trim();
}

/** Starts the aggregator and its HTTP server; resolves once it listens. */
export async function startService(config: ServiceConfig, log: Logger = jsonLogger): Promise<RunningService> {
  // Key generation reports each phase at every quarter.
  const shown = new Map<string, number>();
  const onKeyProgress = (circuit: string, phase: string, done: number, total: number) => {
    const pct = Math.floor((100 * done) / Math.max(1, total));
    const key = `${circuit} ${phase}`;
    if (pct < (shown.get(key) ?? -25) + 25 && pct !== 100) return;
    if (shown.get(key) === 100) return;
    shown.set(key, pct);
    log({ level: 'info', msg: 'making local keys', circuit, phase, percent: pct });
  };
  const aggregator = await Aggregator.open(config, { log, onKeyProgress });
  aggregator.start();
  const adminToken = await adminTokenOf(config);
  const app = createApp(aggregator, { adminToken, bodyLimit: config.bodyLimit, ratePerSecond: config.ratePerSecond, burst: config.burst, log });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host}:${port}`;
  const keys = aggregator.keyDocument();
  log({ level: keys.mode === 'dev' ? 'warn' : 'info', msg: 'listening', url, aggregator: aggregator.did, circuits: config.circuits, dataDir: config.dataDir, commitmentCheck: aggregator.commitmentEngine, keyMode: keys.mode, keySetHash: keys.keySetHash, forgeableBy: keys.forgeableBy });
  let closing: Promise<void> | undefined;
  return {
    aggregator,
    server,
    url,
    adminToken,
    close() {
      closing ??= (async () => {
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        await aggregator.close();
        log({ msg: 'stopped' });
      })();
      return closing;
    },
  };
}
