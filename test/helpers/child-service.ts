/**
 * The service as users run it: `zktrust serve` in a child process (its own memory, its own
 * event loop), configured by environment variables, killed for real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './circuit.ts';

export interface ChildService {
  url: string;
  proc: ChildProcess;
  /** What the child wrote on stderr so far (for failure messages). */
  stderr(): string;
  /** Resident memory of the child, in MiB (Linux /proc). */
  rssMiB(): number;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

/**
 * Starts `zktrust serve` with `env` (over this process's) and resolves once its "ready" line is
 * out: this checkout's source by default, or `opts.bin` (an installed package's bin) in `opts.cwd`.
 */
export function startChildService(env: Record<string, string>, opts: { bin?: string; cwd?: string } = {}): Promise<ChildService> {
  const argv = opts.bin ? [opts.bin, 'serve'] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve'];
  const proc = spawn(process.execPath, argv, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const service = (url: string): ChildService => ({
    url,
    proc,
    stderr: () => err,
    rssMiB: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]) / 1024,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  });
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      // The server listens at once and opens its routes once ready: wait for the ready line.
      const line = out.split('\n').find((l) => l.includes('"msg":"ready"'));
      const m = line && /"url":"([^"]+)"/.exec(line);
      if (m) resolve(service(m[1]!));
      // Keep only the unfinished last line once ready.
      if (m) out = '';
    });
    proc.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready:\n${err.slice(-2000)}`)));
  });
}
