/**
 * Service configuration from environment variables, with documented defaults (README).
 * @module
 */
import { readFileSync } from 'node:fs';
import { configuration } from '../build/build-circuits.ts';
import type { AggregatorConfig } from './aggregator.ts';
import type { LimitsConfig } from './limits.ts';

/** The service's settings: the aggregator's, the rate limits (src/service/limits.ts), and these. */
export interface ServiceConfig extends AggregatorConfig, LimitsConfig {
  host: string;
  port: number;
  adminToken?: string;
  bodyLimit: number;
  /**
   * express's `trust proxy` setting: false (the default: the client address is the socket's),
   * true, a number of hops, or addresses and subnets (e.g. "loopback, 10.0.0.0/8").
   */
  trustProxy: boolean | number | string;
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  logLevel: string;
  /** With a redis:// URL, proofs go to `zktrust worker` processes through BullMQ (src/prover/queue-provers.ts). */
  redisUrl?: string;
  /** The Redis key prefix of the proving queue (default "zktrust"). */
  redisPrefix?: string;
}

function num(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
  return n;
}

/** Every setting, by its environment variable name (also the keys of a configuration file). */
export const SETTINGS = [
  'HOST', 'PORT', 'ZKTRUST_DATA_DIR', 'ZKTRUST_CIRCUITS', 'ZKTRUST_BATCH_MAX_WAIT_MS', 'ZKTRUST_RECEIPT_DEADLINE_MS',
  'ZKTRUST_TIMESTAMP_WINDOW_MS', 'ZKTRUST_MAX_RECORDS', 'ZKTRUST_CHALLENGE_TTL_MS', 'ZKTRUST_MAX_CONTEXT_LIFETIME_S',
  'ZKTRUST_EXPECTED_MS_PER_RECORD', 'ZKTRUST_SNAPSHOT_EVERY', 'ZKTRUST_ADMIN_TOKEN', 'ZKTRUST_BODY_LIMIT', 'ZKTRUST_RATE_PER_SECOND', 'ZKTRUST_RATE_BURST',
  'ZKTRUST_ADDRESS_RATE_PER_SECOND', 'ZKTRUST_ADDRESS_BURST',
  'ZKTRUST_INSECURE_DEV_KEYS', 'ZKTRUST_KEY_SET', 'ZKTRUST_MAX_QUEUED_PRESENTATIONS', 'ZKTRUST_BATCH_PROVERS', 'ZKTRUST_DOWNLOADS_PER_MINUTE',
  'ZKTRUST_PRESENTATIONS_PER_MINUTE', 'ZKTRUST_TRUST_PROXY', 'ZKTRUST_LOG_LEVEL', 'ZKTRUST_REDIS_URL', 'ZKTRUST_REDIS_PREFIX',
] as const;

function trustProxy(v: string | undefined): boolean | number | string {
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true') return true;
  if (/^[1-9][0-9]?$/.test(v)) return Number(v);
  if (!/^[0-9a-zA-Z.:/,\s]+$/.test(v)) throw new Error(`ZKTRUST_TRUST_PROXY must be true, false, a hop count or addresses, got ${v}`);
  return v;
}

function logLevel(v: string | undefined): string {
  if (v === undefined || v === '') return 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v)) throw new Error(`ZKTRUST_LOG_LEVEL must be fatal, error, warn, info, debug, trace or silent, got ${v}`);
  return v;
}

/** A flag that must be spelled exactly: unset, '0' or '1'. */
function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const v = env[name];
  if (v === undefined || v === '' || v === '0') return false;
  if (v === '1') return true;
  throw new Error(`${name} must be 1 or 0, got ${v}`);
}

/**
 * Settings from the JSON file named by ZKTRUST_CONFIG (keys as in SETTINGS, values strings or
 * numbers), under the environment: a variable set in the environment wins over the file.
 * @throws Error naming the file and key for an unreadable file, an unknown key or a bad value.
 */
function withFile(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const path = env.ZKTRUST_CONFIG;
  if (!path) return env;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`ZKTRUST_CONFIG ${path}: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`ZKTRUST_CONFIG ${path}: must hold a JSON object`);
  const fromFile: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (!(SETTINGS as readonly string[]).includes(k)) throw new Error(`ZKTRUST_CONFIG ${path}: unknown setting ${k}`);
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`ZKTRUST_CONFIG ${path}: ${k} must be a string or a number`);
    fromFile[k] = String(v);
  }
  return { ...fromFile, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) };
}

/**
 * Reads the configuration from the environment and, if ZKTRUST_CONFIG names one, a JSON file.
 * @throws Error naming the variable for an invalid value.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const env = withFile(environment);
  const circuits = env.ZKTRUST_CIRCUITS || 'production';
  const { config } = configuration(circuits);
  return {
    host: env.HOST || '127.0.0.1',
    port: num(env, 'PORT', 8080),
    dataDir: env.ZKTRUST_DATA_DIR || './data',
    circuits,
    agentDepth: config.agentDepth,
    orgDepth: config.orgDepth,
    insertSlots: config.insertSlots,
    updateSlots: config.updateSlots,
    batchMaxWaitMs: num(env, 'ZKTRUST_BATCH_MAX_WAIT_MS', 10_000),
    receiptDeadlineMs: num(env, 'ZKTRUST_RECEIPT_DEADLINE_MS', 3_600_000),
    timestampWindowMs: num(env, 'ZKTRUST_TIMESTAMP_WINDOW_MS', 300_000),
    maxRecordsPerSubmission: num(env, 'ZKTRUST_MAX_RECORDS', 1000),
    challengeTtlMs: num(env, 'ZKTRUST_CHALLENGE_TTL_MS', 120_000),
    maxContextLifetimeS: num(env, 'ZKTRUST_MAX_CONTEXT_LIFETIME_S', 86_400),
    // A production batch of 11 records proves in about 5 s on a 2-core machine
    // (docs/circuits.md): 1 s per record leaves a margin until batches are measured.
    expectedMsPerRecord: num(env, 'ZKTRUST_EXPECTED_MS_PER_RECORD', 1000),
    snapshotEveryBatches: num(env, 'ZKTRUST_SNAPSHOT_EVERY', 50),
    adminToken: env.ZKTRUST_ADMIN_TOKEN || undefined,
    bodyLimit: num(env, 'ZKTRUST_BODY_LIMIT', 1_048_576),
    ratePerSecond: num(env, 'ZKTRUST_RATE_PER_SECOND', 100),
    burst: num(env, 'ZKTRUST_RATE_BURST', 200),
    addressRatePerSecond: num(env, 'ZKTRUST_ADDRESS_RATE_PER_SECOND', 100),
    addressBurst: num(env, 'ZKTRUST_ADDRESS_BURST', 200),
    // Development keys have public secrets: only by explicit opt-in (tests, demo).
    insecureDevKeys: flag(env, 'ZKTRUST_INSECURE_DEV_KEYS'),
    keySetDir: env.ZKTRUST_KEY_SET || undefined,
    maxQueuedPresentations: num(env, 'ZKTRUST_MAX_QUEUED_PRESENTATIONS', 16),
    batchProvers: num(env, 'ZKTRUST_BATCH_PROVERS', 1),
    downloadsPerMinute: num(env, 'ZKTRUST_DOWNLOADS_PER_MINUTE', 10),
    presentationsPerMinute: num(env, 'ZKTRUST_PRESENTATIONS_PER_MINUTE', 30),
    trustProxy: trustProxy(env.ZKTRUST_TRUST_PROXY),
    logLevel: logLevel(env.ZKTRUST_LOG_LEVEL),
    redisUrl: env.ZKTRUST_REDIS_URL || undefined,
    redisPrefix: env.ZKTRUST_REDIS_PREFIX || undefined,
  };
}
