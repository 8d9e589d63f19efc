/**
 * Progress for long CLI steps, without dependencies. On a terminal (stderr is a TTY) it
 * redraws one line in place with `\r`: a bar, count/total, rate and ETA, at most every
 * `intervalMs`; elsewhere (a pipe, a log file, CI) it writes a plain line now and then and a
 * final line, never a `\r`. It writes only to its stream (stderr by default), never to
 * stdout, which is for results and `--json`; disabled (for `--json`), it writes nothing.
 * @module
 */

/** What a progress display writes to: process.stderr, or a fake in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

export interface ProgressOptions {
  /** Where to draw; process.stderr by default. */
  stream?: ProgressStream;
  /** False writes nothing at all (for `--json`). Default true. */
  enabled?: boolean;
  /** Items to do; omitted for a wait of unknown length (elapsed time and a spinner). */
  total?: number;
  /** Name of the counted items, e.g. "records". */
  unit?: string;
  /** Least time between two redraws on a TTY, in ms. Default 100 (10 redraws per second). */
  intervalMs?: number;
  /** Least time between two plain lines when the stream is not a TTY, in ms. Default 5000. */
  plainIntervalMs?: number;
  /** Clock in ms (tests). Default performance.now. */
  now?: () => number;
}

const SPINNER = ['|', '/', '-', '\\'];
const CLEAR_LINE = '\r\x1b[K';

/** Seconds as "42s", "3m07s" or "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * One progress line for one step.
 * @example
 * const p = new Progress('submit', { total: records.length, unit: 'records' });
 * for (...) p.update(done, `entries ${first}..${last}`);
 * p.finish(`submitted ${records.length} records`);
 */
export class Progress {
  private readonly stream: ProgressStream;
  private readonly enabled: boolean;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly plainIntervalMs: number;
  private readonly started: number;
  private total: number | undefined;
  private done = 0;
  private detail = '';
  private lastDraw = -Infinity;
  private lastDrawnDone = -1;
  private lastPlain: number;
  private frame = 0;
  private drawn = false;
  private finished = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  /** @throws RangeError if total is negative or not an integer. */
  constructor(
    readonly label: string,
    private readonly opts: ProgressOptions = {},
  ) {
    if (opts.total !== undefined && (!Number.isSafeInteger(opts.total) || opts.total < 0)) throw new RangeError(`total must be a non-negative integer, got ${opts.total}`);
    this.stream = opts.stream ?? process.stderr;
    this.enabled = opts.enabled ?? true;
    this.tty = this.stream.isTTY === true;
    this.now = opts.now ?? (() => performance.now());
    this.intervalMs = opts.intervalMs ?? 100;
    this.plainIntervalMs = opts.plainIntervalMs ?? 5000;
    this.total = opts.total;
    this.started = this.now();
    this.lastPlain = this.started;
  }

  /** Sets the count (and optionally a short detail such as the current item) and redraws if due. */
  update(done: number, detail?: string): void {
    this.done = Math.max(0, done);
    if (detail !== undefined) this.detail = detail;
    this.render(false);
  }

  /** Adds `n` to the count. */
  tick(n = 1, detail?: string): void {
    this.update(this.done + n, detail);
  }

  /**
   * Redraws on a timer as well (a TTY only), for waits with no updates in between, so that the
   * spinner and the elapsed time move. The timer does not keep the process alive.
   */
  animate(): this {
    if (this.enabled && this.tty && !this.timer) {
      this.timer = setInterval(() => this.render(false), this.intervalMs);
      this.timer.unref?.();
    }
    this.render(true);
    return this;
  }

  /** Prints a message on its own line (above the bar on a TTY), whatever the throttle. */
  log(message: string): void {
    if (!this.enabled) return;
    if (this.tty && this.drawn) this.stream.write(CLEAR_LINE);
    this.stream.write(message + '\n');
    this.drawn = false;
    if (this.tty && !this.finished) this.render(true);
  }

  /** Seconds since the step started. */
  elapsedSeconds(): number {
    return (this.now() - this.started) / 1000;
  }

  /** Ends the line: the final count and elapsed time, or `message` when given. Idempotent. */
  finish(message?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    if (!this.enabled) return;
    const line = message ?? `${this.label}: ${this.counts() || 'done'} in ${formatDuration(this.elapsedSeconds())}`;
    this.stream.write((this.tty && this.drawn ? CLEAR_LINE : '') + line + '\n');
    this.drawn = false;
  }

  /** Ends the line without a summary (after a failure, before the error is printed). */
  stop(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    if (this.enabled && this.tty && this.drawn) this.stream.write(CLEAR_LINE);
    this.drawn = false;
  }

  private counts(): string {
    const unit = this.opts.unit ? ` ${this.opts.unit}` : '';
    if (this.total === undefined) return this.done === 0 && !unit ? '' : `${this.done}${unit}`;
    return `${this.done}/${this.total}${unit}`;
  }

  private render(force: boolean): void {
    if (!this.enabled || this.finished) return;
    const t = this.now();
    const complete = this.total !== undefined && this.done >= this.total;
    if (!this.tty) {
      // Plain lines: at most one per plainIntervalMs; the final line comes from finish().
      if (t - this.lastPlain < this.plainIntervalMs || complete) return;
      this.lastPlain = t;
      const counts = this.counts();
      this.stream.write(`${this.label}: ${counts || 'running'}${this.rateAndEta(t)}${this.detail ? ` (${this.detail})` : ''}\n`);
      return;
    }
    // The last step (done = total) is drawn at once, and once.
    const due = complete ? this.lastDrawnDone !== this.done : t - this.lastDraw >= this.intervalMs;
    if (!force && !due) return;
    this.lastDraw = t;
    this.lastDrawnDone = this.done;
    this.stream.write(CLEAR_LINE + this.line(t));
    this.drawn = true;
  }

  private rateAndEta(t: number): string {
    const elapsed = (t - this.started) / 1000;
    if (this.total === undefined) return `, ${formatDuration(elapsed)} elapsed`;
    // Under a second a rate means little (a first update may already count thousands).
    if (elapsed < 1 || this.done === 0) return '';
    const rate = this.done / elapsed;
    const eta = this.done >= this.total ? '' : `, ETA ${formatDuration((this.total - this.done) / rate)}`;
    return `, ${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s${eta}`;
  }

  private line(t: number): string {
    const columns = this.stream.columns || 80;
    const detail = this.detail ? `  ${this.detail}` : '';
    let line: string;
    if (this.total === undefined) {
      const counts = this.counts();
      line = `${this.label} ${SPINNER[this.frame++ % SPINNER.length]}${counts ? ` ${counts}` : ''} ${formatDuration(this.elapsedSeconds())}${detail}`;
    } else {
      const fraction = this.total === 0 ? 1 : Math.min(1, this.done / this.total);
      const rest = ` ${this.counts()} ${Math.floor(fraction * 100)}%${this.rateAndEta(t)}`;
      // The bar takes what the label and the numbers leave, 10 to 30 characters; the detail comes last.
      const width = Math.max(10, Math.min(30, columns - 1 - this.label.length - 3 - rest.length));
      const filled = Math.round(fraction * width);
      line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${rest}${detail}`;
    }
    // Never wrap: a wrapped line cannot be redrawn in place.
    return line.length < columns ? line : line.slice(0, Math.max(0, columns - 1));
  }
}

/**
 * Runs `task` under a spinner with the elapsed time (a wait of unknown length, e.g. a proof).
 * @example await withSpinner('proving', () => client.present(ask), { enabled: !json });
 */
export async function withSpinner<T>(label: string, task: () => Promise<T>, opts: ProgressOptions = {}): Promise<T> {
  const p = new Progress(label, { ...opts, total: undefined }).animate();
  try {
    const out = await task();
    p.finish(`${label}: done in ${formatDuration(p.elapsedSeconds())}`);
    return out;
  } catch (e) {
    p.stop();
    throw e;
  }
}
