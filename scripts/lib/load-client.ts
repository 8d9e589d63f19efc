/**
 * A load generator for the service benchmarks, run as its own process so that the client's
 * work does not share the server's event loop: posts pre-built JSON bodies (a file holding a
 * JSON array of strings) to a URL with a given concurrency, in order, and prints
 * {"ms": elapsed, "cpuMs": the client's CPU time while posting, "statuses": {...}, "latencies": [...]} on stdout.
 *
 * It uses node:http with one keep-alive connection per concurrent client: the client shares
 * the machine's cores with the server, and fetch (undici) spent about twice the CPU per
 * request, which the server then lacked (set LOAD_CLIENT=fetch to compare).
 *
 *   node --import tsx scripts/lib/load-client.ts <url> <bodies.json> <concurrency>
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';

const [url, file, conc] = process.argv.slice(2);
if (!url || !file) throw new Error('usage: load-client.ts <url> <bodies.json> <concurrency>');
const texts = JSON.parse(await readFile(file, 'utf8')) as string[];
const bodies = texts.map((b) => Buffer.from(b));
const clients = Math.max(1, Number(conc ?? 1));
const agent = new Agent({ keepAlive: true, maxSockets: clients });
const target = new URL(url);

/** One POST; resolves with the status once the whole response has been read. */
function post(i: number): Promise<number> {
  const body = bodies[i]!;
  if (process.env.LOAD_CLIENT === 'fetch') {
    return fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: texts[i] }).then(async (res) => {
      await res.arrayBuffer();
      return res.status;
    });
  }
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const statuses: Record<number, number> = {};
const latencies: number[] = [];
let next = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (next < bodies.length) {
      const i = next++;
      const t = performance.now();
      const status = await post(i);
      latencies.push(performance.now() - t);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }),
);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
agent.destroy();
process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, statuses, latencies }) + '\n');
