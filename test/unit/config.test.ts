/**
 * Service configuration: documented defaults, environment variables, a JSON file named by
 * ZKTRUST_CONFIG under the environment, and clear errors for bad values.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/service/config.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-config-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, dataDir: './data', circuits: 'production', agentDepth: 10, orgDepth: 4, insertSlots: 1, updateSlots: 11, receiptDeadlineMs: 3_600_000, timestampWindowMs: 300_000, maxRecordsPerSubmission: 1000 });
  });

  it('reads a file, with the environment winning', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ PORT: 9090, ZKTRUST_DATA_DIR: '/srv/zk', ZKTRUST_CIRCUITS: 'test' }));
    expect(loadConfig({ ZKTRUST_CONFIG: file })).toMatchObject({ port: 9090, dataDir: '/srv/zk', circuits: 'test', agentDepth: 3 });
    expect(loadConfig({ ZKTRUST_CONFIG: file, PORT: '7070' })).toMatchObject({ port: 7070, dataDir: '/srv/zk' });
  });

  it('refuses unknown settings, bad values and unreadable files, naming them', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ PROT: 1 }));
    expect(() => loadConfig({ ZKTRUST_CONFIG: file })).toThrow(/unknown setting PROT/);
    await writeFile(file, JSON.stringify({ PORT: [1] }));
    expect(() => loadConfig({ ZKTRUST_CONFIG: file })).toThrow(/PORT must be a string or a number/);
    expect(() => loadConfig({ ZKTRUST_CONFIG: join(dir, 'missing.json') })).toThrow(/ZKTRUST_CONFIG/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ ZKTRUST_CIRCUITS: 'huge' })).toThrow(/unknown circuit configuration/);
  });
});
