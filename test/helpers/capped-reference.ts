/**
 * An exact reference for policy v2's evidence of an agent, written from the rule's statement
 * rather than from the code under test: each organisation's records are summed; an
 * organisation with more than C weighted trials counts as C trials, and its successes as the
 * largest k units of 1/u trial with k / (C u) <= s / n (scaled down, rounded against the agent,
 * found by scanning); records without trials count for nothing. Evidence is in units.
 */
export interface ReferenceRecord {
  org: number;
  kept: bigint;
  broken: bigint;
  violations: bigint;
}

export function cappedReference(records: readonly ReferenceRecord[], cap: bigint, units: bigint, weight = 5n): { successes: bigint; trials: bigint; records: bigint; orgCount: bigint } {
  const byOrg = new Map<number, { s: bigint; n: bigint }>();
  let counted = 0n;
  for (const r of records) {
    const n = r.kept + r.broken + weight * r.violations;
    const t = byOrg.get(r.org) ?? { s: 0n, n: 0n };
    byOrg.set(r.org, { s: t.s + r.kept, n: t.n + n });
    if (n > 0n) counted++;
  }
  let successes = 0n;
  let trials = 0n;
  let orgs = 0n;
  for (const { s, n } of byOrg.values()) {
    if (n === 0n) continue;
    orgs++;
    if (n <= cap) {
      successes += s * units;
      trials += n * units;
      continue;
    }
    const full = cap * units;
    let k = full;
    while (k * n > s * full) k--; // k / full <= s / n
    successes += k;
    trials += full;
  }
  return { successes, trials, records: counted, orgCount: orgs };
}
