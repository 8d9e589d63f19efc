/**
 * A load generator for the service benchmarks, run as its own process so that the client's
 * work does not share the server's event loop: posts pre-built JSON bodies (a file holding a
 * JSON array of strings) to a URL with a given concurrency, in order, and prints
 * {"ms": elapsed, "cpuMs": the client's own CPU time, "statuses": {...}, "latencies": [...]} on stdout.
 *
 *   node --import tsx scripts/lib/load-client.ts <url> <bodies.json> <concurrency>
 */
import { readFile } from 'node:fs/promises';

const [url, file, conc] = process.argv.slice(2);
if (!url || !file) throw new Error('usage: load-client.ts <url> <bodies.json> <concurrency>');
const bodies = JSON.parse(await readFile(file, 'utf8')) as string[];
const statuses: Record<number, number> = {};
const latencies: number[] = [];
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: Math.max(1, Number(conc ?? 1)) }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const t = performance.now();
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  }),
);
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, statuses, latencies }) + '\n');
