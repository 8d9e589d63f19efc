/**
 * Where an installed or checked-out zktrust keeps its compiled circuits and addons
 * (src/package-root.ts, chooseBuildDir): the package's build/ when it is there or can be made,
 * a per-user cache when the package sits where its user cannot write (a global install), and
 * ZKTRUST_BUILD_DIR over both.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_DIR, PACKAGE_ROOT, PACKAGE_VERSION, chooseBuildDir } from '../../src/package-root.ts';

const ROOT = '/usr/lib/node_modules/zktrust';
const fs = (exists: string[], writable: string[]) => ({ exists: (p: string) => exists.includes(p), writable: (p: string) => writable.includes(p) });

describe('the build folder', () => {
  it("is the package's build/ in a checkout", () => {
    expect(BUILD_DIR).toBe(process.env.ZKTRUST_BUILD_DIR ? resolve(process.env.ZKTRUST_BUILD_DIR) : join(PACKAGE_ROOT, 'build'));
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("is the package's build/ when it exists (a prebuilt image) or the package folder is writable", () => {
    expect(chooseBuildDir({}, ROOT, '1.2.3', fs([`${ROOT}/build`], []), '/home/u')).toBe(`${ROOT}/build`);
    expect(chooseBuildDir({}, ROOT, '1.2.3', fs([], [ROOT]), '/home/u')).toBe(`${ROOT}/build`);
  });

  it('is a per-user cache, by version, when the package cannot be written (a global install)', () => {
    expect(chooseBuildDir({}, ROOT, '1.2.3', fs([], []), '/home/u')).toBe('/home/u/.cache/zktrust/1.2.3/build');
    expect(chooseBuildDir({ XDG_CACHE_HOME: '/var/cache/u' }, ROOT, '1.2.3', fs([], []), '/home/u')).toBe('/var/cache/u/zktrust/1.2.3/build');
  });

  it('is ZKTRUST_BUILD_DIR whenever it is set, resolved from the working directory', () => {
    expect(chooseBuildDir({ ZKTRUST_BUILD_DIR: '/srv/zktrust-build' }, ROOT, '1.2.3', fs([`${ROOT}/build`], [ROOT]), '/home/u')).toBe('/srv/zktrust-build');
    expect(chooseBuildDir({ ZKTRUST_BUILD_DIR: 'b' }, ROOT, '1.2.3', fs([], []), '/home/u')).toBe(join(process.cwd(), 'b'));
  });
});
