/**
 * The CLI's progress display against fake streams and a fake clock: the bar's contents on a
 * TTY, throttled redraws in place, the final line, plain lines without `\r` elsewhere, nothing
 * at all when disabled, and nothing ever on stdout.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Progress, formatDuration, withSpinner, type ProgressStream } from '../../src/cli/progress.ts';

const CLEAR = '\r\x1b[K';

function fakeStream(isTTY: boolean, columns = 80): ProgressStream & { out: string[]; text(): string } {
  const out: string[] = [];
  return { isTTY, columns, out, write: (s: string) => out.push(s), text: () => out.join('') };
}

function fakeClock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

afterEach(() => vi.restoreAllMocks());

describe('Progress on a TTY', () => {
  it('draws a bar with count/total, percentage, rate, ETA and detail, in place', () => {
    const s = fakeStream(true, 120);
    const clock = fakeClock();
    const p = new Progress('submit', { stream: s, total: 100, unit: 'records', now: clock.now });
    clock.advance(1000);
    p.update(50, 'entries 0..99');
    expect(s.out).toEqual([`${CLEAR}submit [###############---------------] 50/100 records 50%, 50/s, ETA 1.0s  entries 0..99`]);
  });

  it('redraws at most once per interval (10 per second by default), and the last step at once', () => {
    const s = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress('audit', { stream: s, total: 1000, now: clock.now });
    for (let i = 1; i <= 999; i++) {
      clock.advance(1); // 999 updates in 0.999 s
      p.update(i);
    }
    const draws = s.out.filter((w) => w.startsWith(CLEAR));
    expect(draws.length).toBe(10); // t = 1, 101, ..., 901 ms
    expect(draws[1]).toContain(' 101/1000 ');
    p.update(1000);
    expect(s.out.at(-1)).toContain('[##############################] 1000/1000 100%');
    p.update(1000);
    expect(s.out.filter((w) => w.startsWith(CLEAR)).length).toBe(11); // the complete bar only once
  });

  it('ends with a final line replacing the bar, once', () => {
    const s = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress('submit', { stream: s, total: 3, unit: 'records', now: clock.now });
    p.update(1);
    clock.advance(2000);
    p.finish();
    p.finish();
    expect(s.out.at(-1)).toBe(`${CLEAR}submit: 1/3 records in 2.0s\n`);
    p.update(3);
    expect(s.out.at(-1)).toBe(`${CLEAR}submit: 1/3 records in 2.0s\n`);
    const q = new Progress('x', { stream: s, total: 1, now: clock.now });
    q.update(1);
    q.finish('done: 1 thing');
    expect(s.out.at(-1)).toBe(`${CLEAR}done: 1 thing\n`);
  });

  it('prints messages above the bar and redraws it', () => {
    const s = fakeStream(true);
    const p = new Progress('x', { stream: s, total: 10, now: fakeClock().now });
    p.update(5);
    p.log('a message');
    expect(s.out.slice(1, 3)).toEqual([CLEAR, 'a message\n']);
    expect(s.out[3]).toMatch(/^\r\x1b\[Kx \[#+-+\] 5\/10 50%/);
  });

  it('shows no rate or ETA in the first second', () => {
    const s = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress('keys', { stream: s, total: 200_000, now: clock.now });
    clock.advance(5);
    p.update(16_384);
    expect(s.out[0]).toBe(`${CLEAR}keys [##----------------------------] 16384/200000 8%`);
  });

  it('never wraps: the line fits the terminal width', () => {
    const s = fakeStream(true, 40);
    const p = new Progress('a long label for a narrow terminal', { stream: s, total: 10, now: fakeClock().now });
    p.update(3, 'and a long detail that does not fit either');
    expect(s.out[0]!.length - CLEAR.length).toBeLessThan(40);
  });

  it('shows a spinner and the elapsed time when the total is unknown', () => {
    const s = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress('proving', { stream: s, now: clock.now });
    clock.advance(1500);
    p.update(0);
    expect(s.out[0]).toBe(`${CLEAR}proving | 1.5s`);
    clock.advance(100);
    p.update(0);
    expect(s.out[1]).toBe(`${CLEAR}proving / 1.6s`);
  });

  it('stop clears the bar without a summary (before an error message)', () => {
    const s = fakeStream(true);
    const p = new Progress('x', { stream: s, total: 2, now: fakeClock().now });
    p.update(1);
    p.stop();
    expect(s.out.at(-1)).toBe(CLEAR);
  });
});

describe('Progress elsewhere', () => {
  it('writes no carriage return: an occasional plain line, then the final line', () => {
    const s = fakeStream(false);
    const clock = fakeClock();
    const p = new Progress('submit', { stream: s, total: 10_000, unit: 'records', now: clock.now });
    for (let i = 1; i <= 10_000; i++) {
      clock.advance(2); // 20 s in all: one plain line per 5 s
      p.update(i);
    }
    p.finish();
    expect(s.text()).not.toContain('\r');
    expect(s.out).toEqual([
      'submit: 2500/10000 records, 500/s, ETA 15s\n',
      'submit: 5000/10000 records, 500/s, ETA 10s\n',
      'submit: 7500/10000 records, 500/s, ETA 5.0s\n',
      'submit: 10000/10000 records in 20s\n',
    ]);
  });

  it('writes only the final line for a short step, and nothing when disabled (--json)', () => {
    const s = fakeStream(false);
    const p = new Progress('audit', { stream: s, total: 5, now: fakeClock().now });
    for (let i = 1; i <= 5; i++) p.update(i);
    p.finish('audit: done');
    expect(s.out).toEqual(['audit: done\n']);

    const tty = fakeStream(true);
    const q = new Progress('audit', { stream: tty, total: 5, enabled: false });
    q.update(3);
    q.log('message');
    q.animate();
    q.finish();
    expect(tty.out).toEqual([]);
  });

  it('writes to stderr by default, never to stdout', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const p = new Progress('x', { total: 2 });
    p.update(1);
    p.log('m');
    p.finish();
    await withSpinner('y', async () => 1);
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr).toHaveBeenCalled();
  });
});

describe('withSpinner', () => {
  it('returns the task result with one line, and on failure rethrows without a summary', async () => {
    const s = fakeStream(false);
    await expect(withSpinner('proving', async () => 42, { stream: s })).resolves.toBe(42);
    expect(s.out).toHaveLength(1);
    expect(s.out[0]).toMatch(/^proving: done in \d+\.\ds\n$/);
    await expect(withSpinner('proving', async () => Promise.reject(new Error('refused')), { stream: s })).rejects.toThrow('refused');
    expect(s.out).toHaveLength(1);
  });

  it('animates on a TTY while waiting, then clears the spinner', async () => {
    const s = fakeStream(true);
    await withSpinner('proving', () => new Promise((r) => setTimeout(r, 350)), { stream: s, intervalMs: 50 });
    const draws = s.out.filter((w) => /^\r\x1b\[Kproving [|/\\-] /.test(w));
    expect(draws.length).toBeGreaterThanOrEqual(4);
    expect(s.out.at(-1)).toMatch(/^\r\x1b\[Kproving: done in 0\.\ds\n$/);
  });
});

describe('formatDuration', () => {
  it('formats seconds, minutes and hours', () => {
    expect([0, 9.94, 42.4, 187, 3720, -1, Infinity, NaN].map(formatDuration)).toEqual(['0.0s', '9.9s', '42s', '3m07s', '1h02m', '?', '?', '?']);
  });

  it('refuses a bad total', () => {
    expect(() => new Progress('x', { total: -1 })).toThrow(RangeError);
    expect(() => new Progress('x', { total: 1.5 })).toThrow(RangeError);
  });
});
