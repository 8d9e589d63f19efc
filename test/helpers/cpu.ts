/**
 * Facts about the test machine's CPU that tests of the native addons depend on.
 * @module
 */
import { readFileSync } from 'node:fs';

/**
 * Whether this CPU has what the addons' assembly arithmetic needs (x86-64 with BMI2 and ADX),
 * from /proc/cpuinfo; undefined where that file cannot be read.
 */
export const cpuHasAsm: boolean | undefined = (() => {
  if (process.arch !== 'x64') return false;
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.split(/\s+/) ?? [];
    return flags.includes('bmi2') && flags.includes('adx');
  } catch {
    return undefined;
  }
})();
