/**
 * zktrust/service: the aggregator, to run inside another Node program (`zktrust serve` does
 * the same from the command line). The configuration is read from the environment as the
 * command line reads it (README, "Configuration").
 * @module
 */
export { loadConfig, type ServiceConfig } from './config.ts';
export { startService, jsonLogger, type Health, type Logger, type Readiness, type RunningService, type ServiceHandle } from './server.ts';
export { ensureArtifacts, type EnsureOptions } from '../build/ensure-artifacts.ts';
