/**
 * `zktrust audit`: runs src/audit/audit.ts against an aggregator with a progress bar per
 * counted step (entries fetched, entries checked against organisation signatures, batch
 * proofs verified) on stderr, and prints the report on stdout (JSON with --json).
 * @module
 */
import { audit, type AuditStep } from '../audit/audit.ts';
import { UsageError } from './errors.ts';
import { Progress } from './progress.ts';

export interface AuditCommandOptions {
  aggregator?: string;
  previousHead?: string;
  /** A powers-of-tau file: also run snarkjs zkey verify on ceremony keys, from the circuits built here. */
  ptau?: string;
  json?: boolean;
}

/** The r1cs of the audited configuration, compiled from this repository's sources and checked against the manifest. */
async function localR1cs(url: string): Promise<Record<string, { path: string; sha256: string }>> {
  const res = await fetch(`${url.replace(/\/$/, '')}/v1/keys`);
  const { config } = (await res.json()) as { config: string };
  const { ensureArtifacts } = await import('../build/ensure-artifacts.ts');
  const { compiledCircuits } = await import('../prover/artifacts.ts');
  await ensureArtifacts(config, { update: false, devKeys: false, onProgress: (m) => console.error(m) });
  return Object.fromEntries(Object.entries(compiledCircuits(config)).map(([n, c]) => [n, { path: c.r1csPath, sha256: c.r1cs }]));
}

const LABELS: Record<AuditStep, [label: string, unit: string]> = {
  entries: ['fetching entries', 'entries'],
  signatures: ['checking org signatures', 'entries'],
  batches: ['verifying batch proofs', 'batches'],
};

/**
 * Runs the audit and returns the exit code: 0 if it passed, 1 if anything failed.
 * @throws UsageError for a malformed --previous-head.
 */
export async function auditCommand(url: string, o: AuditCommandOptions): Promise<number> {
  const m = o.previousHead ? /^(\d+):([0-9a-f]{64})$/.exec(o.previousHead) : undefined;
  if (o.previousHead && !m) throw new UsageError('--previous-head must be <size>:<64 hex digits>');
  const previousHead = m ? { size: Number(m[1]), root: m[2]! } : undefined;
  let bar: Progress | undefined;
  let step: AuditStep | undefined;
  const onCount = (s: AuditStep, done: number, total: number) => {
    if (s !== step) {
      bar?.finish();
      step = s;
      bar = new Progress(LABELS[s][0], { total, unit: LABELS[s][1], enabled: !o.json });
    }
    bar!.update(done);
  };
  let report;
  try {
    report = await audit(url, {
      aggregator: o.aggregator,
      previousHead,
      ...(o.ptau ? { ceremonyFull: { ptau: o.ptau, r1cs: await localR1cs(url) } } : {}),
      onCount,
      onProgress: (msg) => {
        // A step's summary line replaces that step's bar.
        if (bar) bar.finish(msg);
        else if (!o.json) console.error(msg);
        bar = undefined;
        step = undefined;
      },
    });
  } finally {
    bar?.stop();
  }
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`aggregator ${report.aggregator}: ${report.organisations} organisations, ${report.entries} entries in ${report.submissions} submissions, ${report.batches} batches proving ${report.provenEntries} entries`);
    const who = { anyone: 'ANYONE could forge its proofs (development keys)', operator: "its operator could forge proofs (local keys)", 'colluding-participants': 'only all participants of a ceremony phase together could forge proofs' } as const;
    for (const k of report.keySets) {
      console.log(`key set ${k.keySetHash.slice(0, 16)}... (${k.mode}) from checkpoint ${k.fromSequence}: ${who[k.forgeableBy]}`);
      if (k.ceremony) {
        console.log(k.ceremony.publishedPhase1 ? '  phase 1: a published perpetual powers of tau' : '  phase 1: a powers-of-tau file that is not a published one: whoever made it could forge proofs');
        for (const [circuit, orgs] of Object.entries(k.ceremony.contributors)) console.log(`  ${circuit}: contributions by ${orgs.join(', ') || 'nobody'}`);
        console.log(k.ceremony.fullyVerified ? '  snarkjs zkey verify: the keys follow from the circuits and the powers of tau' : '  not checked against the powers of tau (pass --ptau FILE to run snarkjs zkey verify)');
      }
    }
    for (const f of report.failures) console.log(`FAIL ${f}`);
    console.log(report.ok ? 'audit passed' : `audit failed: ${report.failures.length} problem(s)`);
  }
  return report.ok ? 0 : 1;
}
