/**
 * Metrics (prom-client), one registry per service, served at GET /metrics in the Prometheus
 * text format. The names, documented in docs/api.md:
 *
 *   zktrust_http_requests_total{method,route,status}            counter
 *   zktrust_http_request_duration_seconds{method,route,status}  histogram
 *   zktrust_records_accepted_total                              counter
 *   zktrust_log_writes_total                                    counter (synced group writes)
 *   zktrust_submissions_rejected_total{code}                    counter
 *   zktrust_batches_proven_total                                counter
 *   zktrust_prove_duration_seconds{circuit}                     histogram (witness and proof)
 *   zktrust_batch_lag_seconds                                   histogram (a batch's oldest entry: accepted to checkpoint signed)
 *   zktrust_pending_entries                                     gauge (accepted, not yet proven)
 *   zktrust_oldest_pending_seconds                              gauge (age of the oldest of them)
 *   zktrust_presentations_total{source}                         counter (proven | cache)
 *   zktrust_prover_restarts_total{prover}                       counter
 *   zktrust_prover_queue_depth{prover}                          gauge
 *   zktrust_rate_limited_total{scope}                           counter
 *   zktrust_process_*, zktrust_nodejs_*                         prom-client's process metrics
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const TIMES = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class Telemetry {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'zktrust_http_requests_total', help: 'HTTP requests by method, route and status.', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  readonly httpDuration = new Histogram({ name: 'zktrust_http_request_duration_seconds', help: 'HTTP request durations.', labelNames: ['method', 'route', 'status'], buckets: TIMES, registers: [this.registry] });
  readonly recordsAccepted = new Counter({ name: 'zktrust_records_accepted_total', help: 'Records appended to the log.', registers: [this.registry] });
  readonly logWriteDuration = new Histogram({ name: 'zktrust_log_write_duration_seconds', help: 'Synced log writes (one per group commit): time to durable.', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [this.registry] });
  readonly logWrites = new Counter({ name: 'zktrust_log_writes_total', help: 'Synced log writes (one per group of submissions appended together).', registers: [this.registry] });
  readonly submissionsRejected = new Counter({ name: 'zktrust_submissions_rejected_total', help: 'Submissions refused, by error code.', labelNames: ['code'], registers: [this.registry] });
  readonly batchFailures = new Counter({ name: 'zktrust_batch_failures_total', help: 'Batch proofs that failed and were retried (a prover that died, say).', registers: [this.registry] });
  readonly batchesProven = new Counter({ name: 'zktrust_batches_proven_total', help: 'Batch proofs completed and checkpointed.', registers: [this.registry] });
  readonly proveDuration = new Histogram({ name: 'zktrust_prove_duration_seconds', help: 'Time to prove (witness and Groth16), by circuit.', labelNames: ['circuit'], buckets: TIMES, registers: [this.registry] });
  readonly batchLag = new Histogram({ name: 'zktrust_batch_lag_seconds', help: "From the acceptance of a batch's oldest entry to its signed checkpoint.", buckets: TIMES, registers: [this.registry] });
  readonly presentations = new Counter({ name: 'zktrust_presentations_total', help: 'Threshold presentations served, proven or from the cache.', labelNames: ['source'], registers: [this.registry] });
  readonly proverRestarts = new Counter({ name: 'zktrust_prover_restarts_total', help: 'Prover child processes restarted after they died.', labelNames: ['prover'], registers: [this.registry] });
  readonly proverQueue = new Gauge({ name: 'zktrust_prover_queue_depth', help: 'Proofs queued or in progress, by prover.', labelNames: ['prover'], registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'zktrust_rate_limited_total', help: 'Requests refused by a rate limit, by scope.', labelNames: ['scope'], registers: [this.registry] });

  constructor(live: { pending: () => number; oldestPendingS: () => number }) {
    new Gauge({ name: 'zktrust_pending_entries', help: 'Log entries not yet in a proven batch.', registers: [this.registry], collect() { this.set(live.pending()); } });
    new Gauge({ name: 'zktrust_oldest_pending_seconds', help: 'Age of the oldest log entry not yet in a proven batch.', registers: [this.registry], collect() { this.set(live.oldestPendingS()); } });
    collectDefaultMetrics({ register: this.registry, prefix: 'zktrust_' });
  }
}
