/**
 * Constraints per record, pinned for both configurations (scripts/lib/slot-costs.ts compiles
 * the slot templates alone at the configuration's sizes): a known agent's record, a new agent's
 * and the batch average stay within the bounds of issue 12 in production (at most 11,000,
 * 18,000 and 15,000; policy v1 paid 19,848 for every record). A larger number here is a
 * regression to explain in review.
 */
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/prover/artifacts.ts';
import { slotCosts } from '../../scripts/lib/slot-costs.ts';

const batchOf = (config: string) => readManifest().configurations[config]!.circuits['batch-update']!.constraints;

describe('constraints per record', () => {
  it('test configuration', async () => {
    expect(await slotCosts('test', batchOf('test'))).toEqual({
      update: 4_396, insert: 7_303, perPosition: 353, knownRecord: 4_749, newRecord: 7_656, average: 5_912, batch: 29_561, records: 5,
    });
  });

  it('production configuration, within the bounds', async () => {
    const c = await slotCosts('production', batchOf('production'));
    expect(c).toEqual({
      update: 9_841, insert: 16_379, perPosition: 370, knownRecord: 10_211, newRecord: 16_749, average: 10_756, batch: 129_066, records: 12,
    });
    expect(c.knownRecord).toBeLessThanOrEqual(11_000);
    expect(c.newRecord).toBeLessThanOrEqual(18_000);
    expect(c.average).toBeLessThanOrEqual(15_000);
  });
});
