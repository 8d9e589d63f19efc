/**
 * What the HTTP layer (src/api) sees of the service from its first second on: health,
 * readiness, progress, and the aggregator once it is open. Types only, so that the HTTP layer
 * and the server that starts it do not import each other.
 * @module
 */
import type { Aggregator } from './aggregator.ts';
import type { ServiceConfig } from './config.ts';
import type { Telemetry } from './telemetry.ts';

export interface Health {
  status: 'ok';
  phase: 'starting' | 'ready' | 'failed' | 'stopping';
  aggregator?: string;
  config: string;
  keyMode?: string;
  keySetHash?: string;
  pending?: number;
  checkpoint?: number;
  uptimeS: number;
}

export interface Readiness {
  status: 'ready' | 'starting' | 'degraded';
  aggregator?: string;
  config: string;
  phase: string;
  progress?: { step: string; percent: number };
  keyMode?: 'dev' | 'local' | 'ceremony';
  keySetHash?: string;
  checkpoint?: number;
  pending?: number;
  oldestPendingS?: number;
  components: Record<string, { ok: boolean; detail?: string }>;
}

/** What the HTTP layer sees of the service, from its first second on. */
export interface ServiceHandle {
  config: ServiceConfig;
  telemetry: Telemetry;
  /** The aggregator once it is open; undefined while the service starts. */
  aggregator?: Aggregator;
  progress(): { step: string; percent?: number };
  health(): Health;
  readiness(): Readiness;
}

