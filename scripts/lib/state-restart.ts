/**
 * The aggregator's restart from a state snapshot (scripts/bench.ts, `--only state`), in a
 * process of its own so that its memory is that of the restarted state alone: reads the file,
 * restores the committed state, seeds ingestion's projection from it and makes the working copy,
 * in the order of recover() in src/service/aggregator.ts, measuring the time of each step and
 * the process's memory after it (after a full garbage collection). Prints a RestartReport as
 * JSON on stdout.
 *
 *   node --expose-gc --import tsx scripts/lib/state-restart.ts <snapshot> <agentDepth> <orgDepth>
 */
import { readFile } from 'node:fs/promises';
import { Projection } from '../../src/service/projection.ts';
import { AgentState } from '../../src/state/agent-state.ts';

export interface Memory {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
}

export interface RestartReport {
  /** Milliseconds of each step. */
  ms: { read: number; restore: number; seed: number; clone: number };
  /** The process's memory before the read and after each step. */
  memory: { before: Memory; restored: Memory; seeded: Memory; cloned: Memory };
  root: string;
}

// After a full collection, and a pause for the memory of freed array buffers to be released
// (which V8 does in the background).
async function memory(): Promise<Memory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 2; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { rss, heapUsed, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, arrayBuffers };
}

async function timed<T>(fn: () => T | Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
}

const [file, agentDepth, orgDepth] = process.argv.slice(2);
const shape = { agentDepth: Number(agentDepth), orgDepth: Number(orgDepth) };
const before = await memory();
let bytes: Uint8Array | undefined;
const [, read] = await timed(async () => {
  bytes = await readFile(file!);
});
const [committed, restore] = await timed(() => AgentState.fromSnapshot(shape, bytes!));
bytes = undefined;
const restored = await memory();
const projection = new Projection();
const [, seed] = await timed(() => {
  for (const { agent, orgIndex, nextEpoch } of committed.orgEpochs()) projection.seed(agent, orgIndex, nextEpoch);
});
const seeded = await memory();
const [working, clone] = await timed(() => committed.clone());
const cloned = await memory();
if (working.root !== committed.root || projection.agents !== committed.agentCount) throw new Error('the restart is not what it restored');
const report: RestartReport = { ms: { read, restore, seed, clone }, memory: { before, restored, seeded, cloned }, root: committed.root.toString() };
process.stdout.write(JSON.stringify(report));
