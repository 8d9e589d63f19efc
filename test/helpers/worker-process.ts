/**
 * `zktrust worker` as users run it: the CLI in a child process, its JSON log lines collected,
 * killed for real (tests and npm run bench -- --only workers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './circuit.ts';

export interface WorkerProcess {
  proc: ChildProcess;
  /** Every log line so far, parsed. */
  lines: Array<Record<string, unknown>>;
  /** The lines with this `msg` (and circuit). */
  said(msg: string, circuit?: string): Array<Record<string, unknown>>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

export interface WorkerProcessOptions {
  redisUrl: string;
  aggregatorUrl: string;
  /** ZKTRUST_REDIS_PREFIX; absent: the default. */
  prefix?: string;
  config: string;
  cacheDir: string;
  /** ZKTRUST_WORKER_LOCK_MS: how soon a dead worker's job is taken over. */
  lockMs?: number;
}

function withoutPrefix(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { ZKTRUST_REDIS_PREFIX: _p, ...rest } = env;
  return rest;
}

/** Starts a worker; resolves once it takes jobs. */
export function startWorkerProcess(o: WorkerProcessOptions): Promise<WorkerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'worker', '--redis', o.redisUrl, '--url', o.aggregatorUrl, '--circuits', o.config, '--cache', o.cacheDir], {
    cwd: ROOT,
    env: { ...withoutPrefix(process.env), ...(o.prefix ? { ZKTRUST_REDIS_PREFIX: o.prefix } : {}), ...(o.lockMs ? { ZKTRUST_WORKER_LOCK_MS: String(o.lockMs) } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const w: WorkerProcess = {
    proc,
    lines,
    said: (msg, circuit) => lines.filter((l) => l.msg === msg && (circuit === undefined || l.circuit === circuit)),
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
  let buf = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) {
        const entry = JSON.parse(l) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'worker ready') resolve(w);
      }
    });
    proc.once('exit', (code) => reject(new Error(`the worker exited (${code}):\n${err.slice(-2000)}`)));
  });
}
