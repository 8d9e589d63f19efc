/**
 * Proving off the caller's process: a child process that holds one or more Groth16 provers
 * and answers prove requests, so that an HTTP server stays responsive while a batch proof
 * (tens of seconds in the production configuration) runs, and a crash while proving cannot
 * take the server down. Messages use Node's "advanced" IPC serialization (structured
 * clone), which carries bigints.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Groth16Prover, type ProofResult } from './groth16-prover.ts';
import { loaderArgsFor } from '../package-root.ts';

export interface CircuitFiles {
  circuit: string;
  wasmPath: string;
  zkeyPath: string;
  publicNames: readonly string[];
}

type Request = { id: number; circuit: string; input: Record<string, unknown> };
type Response = { id: number; ok: true; result: ProofResult<string> } | { id: number; ok: false; error: string };
// msmFallback: why the G1 and G2 multiexponentiations run in WebAssembly (absent when native).
type Hello = { ready: true; msmFallback?: string } | { ready: false; error: string };

const SELF = fileURLToPath(import.meta.url);

/**
 * A prover running in a child process. Requests are served one at a time in arrival order
 * (one proof already spreads over every core).
 */
/** The niceness of prover processes (0 is the default, 19 the lowest priority). */
export const PROVER_NICENESS = 10;

/**
 * util-linux's chrt, which starts the prover under SCHED_IDLE where it exists (Linux). A
 * thread that serves requests then preempts a prover the moment it wakes, on any core; at
 * niceness 10 alone, the kernel's fair scheduler still let a waking request wait behind
 * provers holding both cores (soak submission p99 286 to 320 ms on 2 cores, against the
 * figures of docs/api.md under SCHED_IDLE; npm run bench -- --only soak). SCHED_IDLE is
 * chosen at exec, so every thread the prover ever starts inherits it; lowering one's own
 * priority needs no privilege. `ZKTRUST_PROVER_SCHED=normal` keeps the niceness alone.
 */
const IDLE_LAUNCHER = process.platform === 'linux' && process.env.ZKTRUST_PROVER_SCHED !== 'normal' ? ['/usr/bin/chrt', '/bin/chrt'].find((p) => existsSync(p)) : undefined;

export class ProverProcess {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (r: ProofResult<string>) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;
  /** Why the child's G1 and G2 multiexponentiations run in WebAssembly; undefined when native. */
  readonly msmFallback?: string;
  private exitListeners: Array<(reason: string) => void> = [];

  private constructor(child: ChildProcess, msmFallback: string | undefined) {
    this.child = child;
    this.msmFallback = msmFallback;
    child.on('message', (m: Response) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    child.on('exit', (code, signal) => {
      const reason = `prover process exited (${signal ?? code})`;
      const unexpected = !this.closed;
      this.failAll(new Error(reason));
      if (unexpected) for (const l of this.exitListeners) l(reason);
    });
  }

  /** The child's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the child is running and accepts requests. */
  get alive(): boolean {
    return !this.closed;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Called once if the child exits without close() (a crash, a kill). */
  onUnexpectedExit(listener: (reason: string) => void): void {
    this.exitListeners.push(listener);
  }

  /** Starts a process that loads `circuits` (wasm and zkey into memory) and waits until it is ready. */
  static async start(circuits: readonly CircuitFiles[]): Promise<ProverProcess> {
    const nodeArgs = loaderArgsFor(SELF);
    const child = fork(SELF, [JSON.stringify(circuits)], {
      serialization: 'advanced',
      // chrt execs node in place: the child's pid, IPC channel and environment are node's.
      ...(IDLE_LAUNCHER ? { execPath: IDLE_LAUNCHER, execArgv: ['--idle', '0', process.execPath, ...nodeArgs] } : { execArgv: nodeArgs }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Proving is throughput work and answering requests latency work: the provers run at a
    // lower priority so that, where they take every core, requests never queue behind them
    // (measured by npm run bench -- --only soak). Raising one's own niceness needs no privilege.
    try {
      if (child.pid !== undefined) setPriority(child.pid, PROVER_NICENESS);
    } catch {
      // A platform without priorities: proving at the same priority is still correct.
    }
    const hello = await new Promise<Hello & { ready: true }>((resolve, reject) => {
      child.once('message', (m: Hello) => (m.ready ? resolve(m) : reject(new Error(m.error))));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`prover process exited with code ${code} before it was ready`)));
    });
    return new ProverProcess(child, hello.msmFallback);
  }

  /**
   * Proves `input` for `circuit` in the child process.
   * @throws Error with circom's message if the input does not satisfy the circuit, or if the
   *   process has stopped.
   */
  prove(circuit: string, input: Record<string, unknown>): Promise<ProofResult<string>> {
    if (this.closed) return Promise.reject(new Error('prover process is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, circuit, input } satisfies Request);
    });
  }

  /** Stops the process; pending proofs are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
    this.failAll(new Error('prover process closed'));
  }

  private failAll(e: Error): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

async function serve(): Promise<void> {
  const send = (m: Hello | Response) => process.send!(m);
  const provers = new Map<string, Groth16Prover>();
  let msmFallback: string | undefined;
  try {
    for (const c of JSON.parse(process.argv[2]!) as CircuitFiles[]) {
      provers.set(c.circuit, await Groth16Prover.fromFiles({ ...c, onNativeUnavailable: (r) => (msmFallback = r) }));
    }
  } catch (e) {
    send({ ready: false, error: (e as Error).message });
    process.exit(1);
  }
  let queue = Promise.resolve();
  process.on('message', (req: Request) => {
    queue = queue.then(async () => {
      const prover = provers.get(req.circuit);
      try {
        if (!prover) throw new Error(`unknown circuit ${req.circuit}`);
        send({ id: req.id, ok: true, result: await prover.prove(req.input) });
      } catch (e) {
        send({ id: req.id, ok: false, error: (e as Error).message });
      }
    });
  });
  process.on('disconnect', () => process.exit(0));
  send({ ready: true, msmFallback });
}

if (process.argv[1] === SELF && process.send) void serve();
