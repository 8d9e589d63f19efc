/**
 * `zktrust submit`: signs and submits an organisation's records from a JSON-lines file in
 * submissions of up to 1000, checks each receipt, optionally the inclusion of every entry
 * under a signed tree head, and optionally waits until every entry is in a proven batch.
 * Progress (records done out of the total, rate, ETA) on stderr; receipts on stdout with --json.
 * @module
 */
import { OrgClient, type Receipt } from '../client/org-client.ts';
import type { RecordInput } from '../client/submission.ts';
import { loadNativePoseidon } from '../engines/native-poseidon.ts';
import { Progress } from './progress.ts';
import { readJsonLines, secretKeyOf } from './options.ts';

export interface SubmitOptions {
  key?: string;
  keyFile?: string;
  aggregator: string;
  url: string;
  checkInclusion?: boolean;
  wait?: boolean;
  timeout: number;
  json?: boolean;
}

/** Records per signed submission (the service's default ZKTRUST_MAX_RECORDS). */
const CHUNK = 1000;
/** From this many records on, commitments are computed with the native Poseidon. */
const NATIVE_FROM = 100;

/**
 * Runs `submit` and returns the exit code: 0, or 1 if an inclusion check failed.
 * @throws Error for an unreadable file, a refused submission or a bad receipt; UsageError for a missing key.
 */
export async function submitCommand(file: string, o: SubmitOptions): Promise<number> {
  const secretKey = await secretKeyOf(o);
  const records = (await readJsonLines(file)) as RecordInput[];
  // Commitments with the native Poseidon where its addon builds (the same hash, over ten
  // times as fast), else with src/crypto's.
  const native = records.length >= NATIVE_FROM ? await loadNativePoseidon() : undefined;
  const client = new OrgClient(secretKey, o.url, o.aggregator, { commitments: native && ((rs) => native.recordCommitments(rs)) });
  const bar = new Progress('submit', { total: records.length, unit: 'records', enabled: !o.json });
  const receipts: Array<Receipt['body'] & { included?: boolean }> = [];
  let failed = false;
  try {
    for (let i = 0; i < records.length; i += CHUNK) {
      const chunk = records.slice(i, i + CHUNK);
      bar.update(i, `submitting ${i + 1}..${i + chunk.length}`);
      const sub = await client.submit(chunk);
      const { firstIndex, count } = sub.receipt.body;
      let included: boolean | undefined;
      if (o.checkInclusion) {
        included = await client.checkInclusion(sub, (done) => bar.update(i + done, `checking inclusion of entries ${firstIndex}..${firstIndex + count - 1}`));
        if (!included) {
          bar.log(`zktrust: INCLUSION FAILED for entries ${firstIndex}..${firstIndex + count - 1}: not under the aggregator's signed tree head`);
          failed = true;
        }
      }
      bar.update(i + chunk.length);
      receipts.push({ ...sub.receipt.body, ...(included === undefined ? {} : { included }) });
    }
  } catch (e) {
    bar.stop();
    throw e;
  }
  const first = receipts[0]!.firstIndex;
  const last = receipts.at(-1)!;
  bar.finish(`submitted ${records.length} records (log entries ${first}..${last.firstIndex + last.count - 1}, ${receipts.length} signed receipt${receipts.length === 1 ? '' : 's'})${o.checkInclusion ? (failed ? ', INCLUSION FAILED' : ', inclusion verified') : ''} in ${bar.elapsedSeconds().toFixed(1)} s`);

  let checkpoint: number | undefined;
  if (o.wait && !failed) checkpoint = await waitForProof(client, receipts, o);
  if (o.json) console.log(JSON.stringify(checkpoint === undefined ? receipts : { receipts, checkpoint }, null, 2));
  return failed ? 1 : 0;
}

/** Waits until every receipt's entries are in a proven batch; returns the covering checkpoint's sequence. */
async function waitForProof(client: OrgClient, receipts: Array<{ firstIndex: number; count: number }>, o: SubmitOptions): Promise<number> {
  const total = receipts.reduce((n, r) => n + r.count, 0);
  const end = Math.max(...receipts.map((r) => r.firstIndex + r.count));
  const bar = new Progress('waiting for a proven batch', { total, unit: 'records', enabled: !o.json });
  const provenOfMine = (size: number) => receipts.reduce((n, r) => n + Math.max(0, Math.min(r.count, size - r.firstIndex)), 0);
  try {
    bar.animate();
    const c = await client.waitUntilProven(end, { timeoutMs: o.timeout * 1000, onPoll: (size) => bar.update(provenOfMine(size), `log entries proven: ${size}`) });
    bar.finish(`proven: every record is in a proven batch (checkpoint ${c.body.sequence}, log size ${c.body.logSize}) after ${bar.elapsedSeconds().toFixed(1)} s`);
    return c.body.sequence;
  } catch (e) {
    bar.stop();
    throw e;
  }
}
