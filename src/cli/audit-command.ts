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
  json?: boolean;
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
    for (const k of report.keySets) console.log(`key set ${k.keySetHash.slice(0, 16)}... (${k.mode}) from checkpoint ${k.fromSequence}: ${who[k.forgeableBy]}`);
    for (const f of report.failures) console.log(`FAIL ${f}`);
    console.log(report.ok ? 'audit passed' : `audit failed: ${report.failures.length} problem(s)`);
  }
  return report.ok ? 0 : 1;
}
