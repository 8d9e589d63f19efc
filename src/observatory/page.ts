/**
 * The observatory page's script (bundled for the browser with the verifier: assets.ts). It
 * reads only public GET endpoints of its own origin (relative URLs, so that it works behind a
 * proxy under a path): /v1/health, /v1/log/head, /v1/keys, /v1/checkpoints, /v1/ceremony;
 * renders the checkpoints over time, the log's growth, each batch's proving lag, the keys in
 * force and who could forge under them, and the ceremony; and checks a pasted presentation
 * with createVerifier (src/verifier) in the browser, against this aggregator's did:key unless
 * the visitor names another. Nothing is sent anywhere when a presentation is checked.
 *
 * Every value from the API or the visitor reaches the page as a text node or an attribute
 * value (dom.ts), never as markup. `document.body.dataset.state` says where the page is:
 * loading, starting (the service is starting), ready, or error.
 * @module
 */
import { signingBytes } from '../crypto/canonical.ts';
import { verifyStrict } from '../crypto/ed25519.ts';
import { publicKeyFromDid } from '../crypto/identity.ts';
import { createVerifier, type Expectations, type VerificationResult } from '../verifier/index.ts';
import { barChart, timeChart } from './charts.ts';
import { byId, fill, h, type Child } from './dom.ts';
import { formatCount, formatSeconds, formatTime, growth, lags, median, num, obj, readBatches, str, type Batch } from './series.ts';
import { forgeableInWords, keyModeInWords, reasonInWords } from './words.ts';

/** Checkpoints read for the charts, and rows shown in the table. */
const HISTORY = 200;
const TABLE_ROWS = 25;
/** Pasted presentations over this many characters are refused before parsing (the verifier reads at most 1 MiB). */
const MAX_PASTE = 2 << 20;
const REFRESH_MS = 15_000;

/** GET a JSON document of this origin; undefined for a 404. @throws Error for anything else that is not 200. */
async function getJson(path: string): Promise<unknown> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

const short = (x: string, n = 16) => (x.length > n + 1 ? `${x.slice(0, n)}…` : x);
const code = (x: string) => h('code', {}, x);
const hex = (s: string) => Uint8Array.from(s.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);

/** The aggregator's did:key as /v1/health reports it (what the page checks signatures against). */
let aggregatorDid: string | undefined;

function setState(state: 'loading' | 'starting' | 'ready' | 'error'): void {
  document.body.dataset.state = state;
}

function status(text: string): void {
  byId('status').textContent = text;
}

// ---- the summary ----

function tile(field: string, label: string, value: string, machine: string | number | undefined, ...sub: Child[]): HTMLElement {
  return h('div', { class: 'tile' }, h('dt', {}, label), h('dd', { class: 'value', 'data-field': field, 'data-value': machine === undefined ? undefined : String(machine) }, value), sub.some(Boolean) ? h('dd', { class: 'sub' }, ...sub) : null);
}

function renderSummary(health: Record<string, unknown>, head: Record<string, unknown> | undefined, batches: Batch[]): void {
  const latest = batches.at(-1);
  const sequence = latest?.sequence ?? num(health.checkpoint) ?? 0;
  const size = num(head?.size);
  const waits = lags(batches.slice(-50)).map((l) => l.longestS);
  const med = median(waits);
  const mode = str(health.keyMode);
  const words = keyModeInWords(mode);
  fill(byId('summary'),
    tile('checkpoint', 'Latest checkpoint', sequence ? `#${formatCount(sequence)}` : 'none yet', sequence, latest ? `signed ${formatTime(latest.time)}` : 'no batch proven yet'),
    tile('log-size', 'Log size', size === undefined ? 'unknown' : `${formatCount(size)} entries`, size, head ? `tree head signed ${formatTime(num(obj(head)?.timestamp) ?? 0)}` : null),
    tile('proven', 'Proven entries', latest ? formatCount(latest.logSize) : '0', latest?.logSize ?? 0, `${formatCount(num(health.pending) ?? 0)} waiting for a batch`),
    tile('lag', 'Proving lag', med === undefined ? 'no batch yet' : formatSeconds(med), med === undefined ? undefined : med.toFixed(3), med === undefined ? null : `median longest wait, last ${waits.length} batches`),
    tile('key-mode', 'Keys in force', words?.name ?? 'unknown', mode, words ? forgeLine(mode!) : null),
  );
}

function forgeLine(mode: string): string {
  return mode === 'dev' ? 'anyone can forge' : mode === 'local' ? 'the operator could forge' : mode === 'ceremony' ? 'only all participants together could forge' : '';
}

// ---- keys ----

function phase1InWords(p: Record<string, unknown> | undefined): Child[] {
  switch (p?.kind) {
    case 'seed':
      return ['a public seed (', code(short(str(p.seed) ?? '', 48)), ')'];
    case 'local':
      return ["this deployment's own randomness"];
    case 'ptau':
      return ['a powers-of-tau file of power ', String(num(p.power) ?? '?'), ', blake2b ', code(short(str(p.blake2b) ?? '', 24))];
    default:
      return ['unknown'];
  }
}

function renderKeys(keys: Record<string, unknown> | undefined): void {
  if (!keys) return void fill(byId('keys'), h('p', {}, 'The key set is not available.'));
  const mode = str(keys.mode);
  const words = keyModeInWords(mode);
  const history = Array.isArray(keys.history) ? keys.history.map(obj).filter((x): x is Record<string, unknown> => !!x) : [];
  const circuits = Object.entries(obj(keys.circuits) ?? {});
  fill(byId('keys'),
    h('p', { class: `mode mode-${mode ?? 'unknown'}`, 'data-field': 'keys-mode', 'data-value': mode }, h('strong', {}, words ? `${words.name[0]!.toUpperCase()}${words.name.slice(1)}.` : 'Unknown keys.'), ' ', words?.forge ?? ''),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Who could forge'), h('dd', { 'data-field': 'forgeable-by', 'data-value': str(keys.forgeableBy) }, forgeableInWords(keys.forgeableBy) ?? 'unknown'),
      h('dt', {}, 'Key set'), h('dd', {}, code(str(keys.keySetHash) ?? '')),
      h('dt', {}, 'In force from'), h('dd', {}, `checkpoint #${num(keys.fromSequence) ?? '?'}`),
      h('dt', {}, 'Phase 1 from'), h('dd', {}, ...phase1InWords(obj(keys.phase1))),
      h('dt', {}, 'Circuits'), h('dd', {}, ...circuits.flatMap(([name, c], i) => [i ? ', ' : '', code(name), ` (verification key ${short(str(obj(c)?.vkeyHash) ?? '', 12)}, ${(obj(c)?.contributions as unknown[] | undefined)?.length ?? 0} contributions)`])),
      h('dt', {}, 'Configuration'), h('dd', {}, str(keys.config) ?? ''),
    ),
    history.length > 1
      ? h('table', {},
          h('caption', {}, 'Key sets of this aggregator, oldest first'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'From checkpoint'), h('th', { scope: 'col' }, 'Mode'), h('th', { scope: 'col' }, 'Key set'))),
          h('tbody', {}, ...history.map((k) => h('tr', {}, h('td', {}, `#${num(k.fromSequence) ?? '?'}`), h('td', {}, keyModeInWords(k.mode)?.name ?? 'unknown'), h('td', {}, code(short(str(k.keySetHash) ?? '', 24)))))),
        )
      : null,
  );
}

// ---- charts and the table ----

function renderCharts(batches: Batch[], head: Record<string, unknown> | undefined): void {
  const size = num(head?.size);
  const timestamp = num(head?.timestamp);
  const { accepted, proven } = growth(batches, size !== undefined && timestamp !== undefined ? { size, timestamp } : undefined);
  const first = batches[0]?.sequence;
  const range = first === undefined ? 'no checkpoint yet' : `checkpoints #${first} to #${batches.at(-1)!.sequence}`;
  fill(byId('growth'),
    timeChart({
      id: 'growth-chart',
      title: 'Log entries accepted and proven over time',
      description: `Accepted entries (each batch's last entry when it was accepted, then the current tree head: ${size ?? 'unknown'} entries) and proven entries (each checkpoint's log size when it was signed), ${range}.`,
      yLabel: 'log entries',
      series: [
        { name: 'accepted', className: 'accepted', points: accepted },
        { name: 'proven', className: 'proven', points: proven },
      ],
      formatY: formatCount,
      pointTitle: (name, p) => `${formatCount(p.y)} entries ${name} by ${formatTime(p.x)}`,
    }),
    h('figcaption', {}, h('span', { class: 'key accepted' }, 'accepted'), ' ', h('span', { class: 'key proven' }, 'proven by a signed checkpoint'), `. ${range}; the gap between the two lines is the proving lag.`),
  );
  const ls = lags(batches);
  fill(byId('lag'),
    barChart({
      id: 'lag-chart',
      title: 'How long entries waited for their proof, per checkpoint',
      description: `For each checkpoint, the longest wait of its batch's entries (its oldest entry) as a bar and the shortest (its newest entry) as a mark, in seconds from acceptance to the signed checkpoint, ${range}.`,
      xLabel: 'checkpoint',
      yLabel: 'seconds waited',
      bars: ls.map((l) => ({ label: `#${l.sequence}`, low: l.shortestS, high: l.longestS, title: `checkpoint #${l.sequence}: entries waited ${formatSeconds(l.shortestS)} to ${formatSeconds(l.longestS)}` })),
      formatY: (y) => (y >= 100 ? y.toFixed(0) : y >= 10 ? y.toFixed(1) : y.toFixed(2)),
    }),
    h('figcaption', {}, "Each bar is one batch's longest wait (its oldest entry), the mark across it the shortest (its newest entry), by the aggregator's clock."),
  );
}

/** Whether the aggregator's signature on a checkpoint verifies (against /v1/health's did:key). */
function signatureVerifies(b: Batch): boolean {
  try {
    if (!aggregatorDid || b.signed.signer !== aggregatorDid || !/^[0-9a-f]{128}$/.test(b.signed.signature)) return false;
    return verifyStrict(hex(b.signed.signature), signingBytes('checkpoint', b.signed.body), publicKeyFromDid(aggregatorDid));
  } catch {
    return false;
  }
}

function renderTable(batches: Batch[]): void {
  const rows = batches.slice(-TABLE_ROWS).reverse();
  fill(byId('checkpoints'),
    rows.length === 0
      ? h('p', {}, 'No batch has been proven yet.')
      : h('table', { class: 'checkpoints' },
          h('caption', {}, `The latest ${rows.length} of ${formatCount(batches.at(-1)!.sequence)} checkpoints, newest first. Signatures are checked in this browser against the aggregator's did:key.`),
          h('thead', {}, h('tr', {}, ...['Checkpoint', 'Signed (UTC)', 'Log size', 'Entries', 'Entries waited', 'Keys', 'Signature'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...rows.map((b) => {
            const ok = signatureVerifies(b);
            const wait = b.firstAcceptedAt !== undefined && b.lastAcceptedAt !== undefined ? `${formatSeconds(Math.max(0, (b.time - b.lastAcceptedAt) / 1000))} to ${formatSeconds(Math.max(0, (b.time - b.firstAcceptedAt) / 1000))}` : '—';
            return h('tr', { 'data-sequence': b.sequence },
              h('th', { scope: 'row' }, `#${formatCount(b.sequence)}`),
              h('td', {}, formatTime(b.time).replace(' UTC', '')),
              h('td', { class: 'num' }, formatCount(b.logSize)),
              h('td', { class: 'num' }, formatCount(b.toIndex - b.fromIndex)),
              h('td', {}, wait),
              h('td', {}, keyModeInWords(b.keyMode)?.name ?? 'unknown'),
              h('td', { class: ok ? 'good' : 'bad', 'data-field': 'signature', 'data-value': ok ? 'verifies' : 'fails' }, ok ? '✓ verifies' : '✗ does not verify'),
            );
          })),
        ),
  );
}

// ---- the ceremony ----

function renderCeremony(c: Record<string, unknown> | undefined, keys: Record<string, unknown> | undefined): void {
  if (!c) {
    fill(byId('ceremony'),
      h('p', { 'data-field': 'ceremony', 'data-value': 'none' }, 'No ceremony has been started on this aggregator.', keys?.mode === 'ceremony' ? '' : ' Its keys were not made by one: see "Keys in force" for who could forge proofs.'),
    );
    return;
  }
  const p1 = obj(c.phase1);
  const beacon = obj(c.beacon);
  const circuits = Object.entries(obj(c.circuits) ?? {});
  fill(byId('ceremony'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Status'), h('dd', { 'data-field': 'ceremony', 'data-value': str(c.status) }, str(c.status) ?? 'unknown'),
      h('dt', {}, 'Ceremony'), h('dd', {}, code(str(c.id) ?? ''), `, started ${formatTime(num(c.createdAt) ?? 0)}`),
      h('dt', {}, 'Phase 1'), h('dd', {}, `power ${num(p1?.power) ?? '?'}, blake2b `, code(short(str(p1?.blake2b) ?? '', 24)), p1?.published === true ? ' (a published file)' : ' (not a published file: its operator could know its secrets)'),
      beacon ? h('dt', {}, 'Beacon') : null, beacon ? h('dd', {}, code(short(str(beacon.value) ?? '', 32)), `, 2^${num(beacon.iterationsExp) ?? '?'} iterations`) : null,
      num(c.activateAt) !== undefined ? h('dt', {}, 'In force from') : null, num(c.activateAt) !== undefined ? h('dd', {}, `checkpoint #${num(c.activateAt)}`) : null,
      str(c.keySetHash) ? h('dt', {}, 'Key set') : null, str(c.keySetHash) ? h('dd', {}, code(str(c.keySetHash)!)) : null,
      str(c.error) ? h('dt', {}, 'Error') : null, str(c.error) ? h('dd', {}, str(c.error)!) : null,
    ),
    ...circuits.map(([name, steps]) => {
      const list = Array.isArray(steps) ? steps.map(obj).filter((x): x is Record<string, unknown> => !!x) : [];
      return h('section', { class: 'transcript' },
        h('h3', {}, 'Transcript of ', code(name), ` (${list.length} steps)`),
        h('ol', { start: 0 }, ...list.map((st) => h('li', {},
          h('strong', {}, str(st.kind) ?? 'step'),
          st.kind === 'contribution' ? [' by ', str(st.name) ? `“${str(st.name)}” ` : '', code(short(str(st.org) ?? '', 28))] : null,
          str(st.contributionHash) ? [', contribution ', code(short(str(st.contributionHash)!, 16))] : null,
          ', key ', code(short(str(st.zkey) ?? '', 16)), `, ${formatTime(num(st.at) ?? 0)}`,
        ))),
      );
    }),
  );
}

// ---- loading ----

let loading = false;

async function load(): Promise<void> {
  if (loading) return;
  loading = true;
  try {
    const health = obj(await getJson('v1/health'));
    if (!health) throw new Error('v1/health: no answer');
    if (health.phase !== 'ready') {
      status(`The aggregator is ${str(health.phase) ?? 'starting'} (${str(health.config) ?? ''} circuits, up ${num(health.uptimeS) ?? 0} s). This page fills in once it is ready.`);
      if (document.body.dataset.state !== 'ready') setState('starting');
      return;
    }
    aggregatorDid = str(health.aggregator);
    const sequence = num(health.checkpoint) ?? 0;
    const from = Math.max(1, sequence - HISTORY + 1);
    const [head, keys, list, ceremony] = await Promise.all([
      getJson('v1/log/head'),
      getJson('v1/keys'),
      sequence > 0 ? getJson(`v1/checkpoints?from=${from}&limit=${HISTORY}`) : Promise.resolve([]),
      getJson('v1/ceremony'),
    ]);
    const batches = readBatches(list);
    const headBody = obj(obj(head)?.body);
    renderSummary(health, headBody, batches);
    renderKeys(obj(keys));
    renderCharts(batches, headBody);
    renderTable(batches);
    renderCeremony(obj(ceremony), obj(keys));
    const agg = byId<HTMLInputElement>('aggregator');
    agg.placeholder = aggregatorDid ?? '';
    fill(byId('aggregator-did'), code(aggregatorDid ?? 'unknown'));
    status(`Live: ${str(health.config) ?? ''} circuits, up ${formatSeconds(num(health.uptimeS) ?? 0, 0)}.`);
    byId('updated').textContent = `Updated ${formatTime(Date.now())}.`;
    setState('ready');
  } catch (e) {
    status(`Could not read the aggregator's API: ${(e as Error).message}. Retrying.`);
    if (document.body.dataset.state !== 'ready') setState('error');
  } finally {
    loading = false;
  }
}

// ---- checking a presentation ----

function result(kind: 'good' | 'bad' | 'error', heading: string, ...body: Child[]): HTMLElement {
  const box = byId('result');
  box.className = `result ${kind}`;
  fill(box, h('p', { class: 'verdict' }, heading), ...body);
  return box;
}

/** An optional whole number from a form field: undefined when blank, NaN when not a whole number. */
function intField(id: string): number | undefined {
  const v = byId<HTMLInputElement>(id).value.trim();
  if (v === '') return undefined;
  return /^\d{1,15}$/.test(v) ? Number(v) : Number.NaN;
}

async function verify(): Promise<void> {
  const box = byId('result');
  delete box.dataset.reason;
  delete box.dataset.ms;
  const text = byId<HTMLTextAreaElement>('presentation').value;
  if (text.length > MAX_PASTE) return void (result('bad', 'Refused: too large.', `The text is ${formatCount(text.length)} characters; a presentation is a few kilobytes (at most 1 MiB).`).dataset.reason = 'too_large');
  let presentation: unknown;
  try {
    presentation = JSON.parse(text);
  } catch (e) {
    return void (result('bad', 'Refused: this is not JSON.', `Paste the presentation exactly as the agent gave it (${(e as Error).message.slice(0, 200)}).`).dataset.reason = 'not_json');
  }
  const field = (id: string) => byId<HTMLInputElement>(id).value.trim();
  const expectations: Expectations = {
    agent: field('agent'),
    minScore: intField('min-score') ?? Number.NaN,
    context: { nonce: byId<HTMLInputElement>('nonce').value, audience: byId<HTMLInputElement>('audience').value },
    maxAgeS: intField('max-age') ?? 86_400,
  };
  const minRecords = intField('min-records');
  const minOrgs = intField('min-orgs');
  if (minRecords !== undefined) expectations.minRecords = minRecords;
  if (minOrgs !== undefined) expectations.minOrgs = minOrgs;
  const trusted = field('aggregator') || aggregatorDid;
  if (!trusted) return void (result('error', 'The aggregator key is unknown.', 'Give the did:key of the aggregator you trust.').dataset.reason = 'no_aggregator');
  const started = performance.now();
  let r: VerificationResult;
  try {
    const verifier = createVerifier({ aggregatorKeys: [trusted], allowInsecureKeys: byId<HTMLInputElement>('allow-dev').checked });
    r = await verifier.verifyPresentation(presentation, expectations);
  } catch (e) {
    // The verifier throws only for the caller's own mistakes: the expectations or the key.
    const message = e instanceof Error ? e.message : String(e);
    return void (result('error', 'Check what you expect.', `The verifier refused the expectations or the aggregator key: ${message.slice(0, 300)}.`).dataset.reason = 'bad_expectations');
  }
  const ms = performance.now() - started;
  const took = h('p', { class: 'timing' }, `Checked in ${ms.toFixed(0)} ms in this browser; nothing was sent anywhere.`);
  const keys = r.keyMode ? h('p', {}, `Proven under ${keyModeInWords(r.keyMode)?.name ?? r.keyMode}: ${forgeableInWords(r.forgeableBy) ?? 'unknown'} could forge proofs under them.`) : null;
  const box2 = r.ok
    ? result('good', `Valid: the agent's score is at least ${r.provenMinScore} (${r.tier}).`,
        h('p', {}, `Checkpoint #${r.checkpoint?.sequence ?? '?'}, signed ${formatTime(r.checkpoint?.time ?? 0)} by `, code(short(r.checkpoint?.signer ?? '', 28)), '.'),
        keys, took)
    : result('bad', `Refused: ${reasonInWords(r.reason) ?? 'unknown reason.'}`, h('p', {}, 'Reason code ', code(r.reason), '.'), keys,
        r.reason === 'insecure_keys' ? h('p', {}, 'Tick "Accept development keys" to check it all the same (tests and demos only).') : null, took);
  box2.dataset.reason = r.reason;
  box2.dataset.ms = ms.toFixed(1);
}

function start(): void {
  byId('verify-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const button = byId<HTMLButtonElement>('verify-button');
    button.disabled = true;
    result('error', 'Checking…');
    byId('result').className = 'result pending';
    verify()
      .catch((e: unknown) => void (result('error', 'The check failed unexpectedly.', String((e as Error)?.message ?? e).slice(0, 300)).dataset.reason = 'error'))
      .finally(() => (button.disabled = false));
  });
  byId('refresh').addEventListener('click', () => void load());
  setInterval(() => {
    if (document.visibilityState === 'visible') void load();
  }, REFRESH_MS);
  void load();
}

start();
