/**
 * Ingestion's projection (typed arrays) against a Map of Maps under random seeds, submissions
 * accepted or refused, and group writes taken back newest first, as the aggregator's group
 * commit does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Projection, type ProjectedRecord, type ProjectionUndo } from '../../src/service/projection.ts';
import { ZkTrustError } from '../../src/errors.ts';

/** The plain projection: agent -> orgIndex -> next epoch. */
class PlainProjection {
  readonly next = new Map<bigint, Map<number, bigint>>();
  pendingInserts = 0;
  get(agent: bigint, orgIndex: number): bigint {
    return this.next.get(agent)?.get(orgIndex) ?? 0n;
  }
  set(agent: bigint, orgIndex: number, epoch: bigint): void {
    if (!this.next.has(agent)) this.next.set(agent, new Map());
    this.next.get(agent)!.set(orgIndex, epoch);
  }
}

const agents = [1n, 2n, 3n * 0x9e3779b97f4a7c15n, 2n ** 251n + 9n, 77n];
const record = fc.record({ agent: fc.constantFrom(...agents), orgIndex: fc.nat(5), epoch: fc.bigInt({ min: 0n, max: 12n }) });
const step = fc.oneof(
  fc.record({ seed: record }),
  fc.record({ submit: fc.array(record, { minLength: 1, maxLength: 4 }) }),
  fc.record({ undo: fc.nat(3) }),
);

describe('Projection', () => {
  it('accepts, refuses and takes back as a Map of Maps does', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const p = new Projection();
        const plain = new PlainProjection();
        const written: Array<[ProjectionUndo, PlainProjection['next'], number]> = [];
        const snapshot = () => new Map([...plain.next].map(([a, m]) => [a, new Map(m)]));
        for (const s of steps) {
          if ('seed' in s) {
            const { agent, orgIndex, epoch } = s.seed;
            p.seed(agent, orgIndex, epoch);
            if (!plain.next.has(agent)) plain.next.set(agent, new Map());
            if (epoch > plain.get(agent, orgIndex)) plain.set(agent, orgIndex, epoch);
            written.length = 0;
          } else if ('submit' in s) {
            const rs: ProjectedRecord[] = s.submit;
            const local = new Map<string, bigint>();
            const fresh = new Set(rs.filter((r) => !plain.next.has(r.agent)).map((r) => r.agent));
            const refusal = rs.findIndex((r) => {
              const k = `${r.agent}/${r.orgIndex}`;
              const bad = r.epoch < (local.get(k) ?? plain.get(r.agent, r.orgIndex));
              local.set(k, r.epoch + 1n);
              return bad;
            });
            if (refusal >= 0) {
              expect(() => p.check(rs)).toThrow(ZkTrustError);
              continue;
            }
            expect(p.check(rs)).toEqual({ inserts: fresh.size });
            const before = snapshot();
            written.push([p.add(rs), before, plain.pendingInserts]);
            for (const r of rs) plain.set(r.agent, r.orgIndex, r.epoch + 1n);
            plain.pendingInserts += fresh.size;
          } else {
            // The latest writes failed: taken back newest first.
            for (const [u, before, pending] of written.splice(Math.max(0, written.length - s.undo)).reverse()) {
              p.undo(u);
              plain.next.clear();
              before.forEach((m, a) => plain.next.set(a, m));
              plain.pendingInserts = pending;
            }
          }
          expect(p.agents).toBe(plain.next.size);
          expect(p.pendingInserts).toBe(plain.pendingInserts);
          for (const a of [...agents, 5n]) {
            expect(p.has(a)).toBe(plain.next.has(a));
            for (let o = 0; o < 6; o++) expect(p.nextEpoch(a, o)).toBe(plain.get(a, o));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('names a duplicate and a stale record, and refuses to take back anything but the latest add', () => {
    const p = new Projection();
    p.seed(1n, 0, 5n);
    expect(() => p.check([{ agent: 1n, orgIndex: 0, epoch: 4n }])).toThrow(/already reported epoch 4/);
    expect(() => p.check([{ agent: 1n, orgIndex: 0, epoch: 2n }])).toThrow(/not after this organisation's last epoch 4/);
    const first = p.add([{ agent: 2n, orgIndex: 1, epoch: 1n }]);
    p.add([{ agent: 3n, orgIndex: 1, epoch: 1n }]);
    expect(() => p.undo(first)).toThrow(/last/);
  });
});
