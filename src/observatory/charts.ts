/**
 * The observatory's two charts as inline SVG, drawn from numbers only (no library): a line
 * chart over time (the log's growth) and bars per checkpoint (the proving lag). Each is
 * an image with a title and a description for assistive technology; the page's table of
 * checkpoints holds the same numbers as text.
 * @module
 */
import { s } from './dom.ts';
import type { Point } from './series.ts';

const W = 720;
const H = 240;
const M = { left: 64, right: 16, top: 14, bottom: 40 };

/** About `count` round tick values covering [lo, hi]; whole numbers only if `integer`. */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const steps = (integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]).map((m) => m * mag).filter((st) => !integer || st >= 1);
  const step = steps.find((st) => st >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const SECOND = 1000;
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800].map((x) => x * SECOND);

/** Round times (ms) covering [lo, hi], at most 6. */
export function timeTicks(lo: number, hi: number): number[] {
  const step = TIME_STEPS.find((st) => (hi - lo) / st <= 5) ?? Math.ceil((hi - lo) / 5 / 86_400_000) * 86_400_000;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) out.push(t);
  return out;
}

/** A time tick's label in UTC: the time of day, or the date for spans over two days. */
function timeLabel(ms: number, span: number): string {
  const iso = new Date(ms).toISOString();
  return span > 2 * 86_400_000 ? iso.slice(5, 10) : iso.slice(11, 19);
}

const fmt = (x: number) => x.toFixed(1);

function frame(title: string, description: string, id: string): { svg: SVGSVGElement; plot: SVGGElement } {
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, class: 'chart', preserveAspectRatio: 'xMidYMid meet' });
  svg.append(s('title', { id: `${id}-title` }, title), s('desc', { id: `${id}-desc` }, description));
  const plot = s('g', {});
  svg.append(plot);
  return { svg, plot };
}

function axes(plot: SVGGElement, xTicks: Array<[number, string]>, yTicks: Array<[number, string]>, xLabel: string, yLabel: string): void {
  const x0 = M.left;
  const x1 = W - M.right;
  const y0 = H - M.bottom;
  const g = s('g', { class: 'axes' });
  for (const [y, label] of yTicks) {
    g.append(s('line', { x1: x0, x2: x1, y1: fmt(y), y2: fmt(y), class: 'grid' }));
    g.append(s('text', { x: x0 - 6, y: fmt(y + 4), 'text-anchor': 'end' }, label));
  }
  for (const [x, label] of xTicks) {
    g.append(s('line', { x1: fmt(x), x2: fmt(x), y1: y0, y2: y0 + 4, class: 'tick' }));
    g.append(s('text', { x: fmt(x), y: y0 + 16, 'text-anchor': 'middle' }, label));
  }
  g.append(s('line', { x1: x0, x2: x1, y1: y0, y2: y0, class: 'axis' }));
  g.append(s('line', { x1: x0, x2: x0, y1: M.top, y2: y0, class: 'axis' }));
  g.append(s('text', { x: (x0 + x1) / 2, y: H - 6, 'text-anchor': 'middle', class: 'label' }, xLabel));
  g.append(s('text', { x: 12, y: (M.top + y0) / 2, 'text-anchor': 'middle', class: 'label', transform: `rotate(-90 12 ${(M.top + y0) / 2})` }, yLabel));
  plot.append(g);
}

export interface LineSeries {
  name: string;
  /** A CSS class that colours it (observatory.css). */
  className: string;
  points: Point[];
}

/** Lines of whole numbers over time (x in ms) drawn as steps: each value holds until the next. */
export function timeChart(opts: { id: string; title: string; description: string; yLabel: string; series: LineSeries[]; formatY: (y: number) => string; pointTitle: (name: string, p: Point) => string }): SVGSVGElement {
  const { svg, plot } = frame(opts.title, opts.description, opts.id);
  const all = opts.series.flatMap((x) => x.points);
  if (all.length === 0) {
    plot.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'no data yet'));
    return svg;
  }
  let [xmin, xmax] = [Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x))];
  if (xmax - xmin < 10 * SECOND) [xmin, xmax] = [xmin - 5 * SECOND, xmax + 5 * SECOND];
  const ymaxRaw = Math.max(1, ...all.map((p) => p.y));
  const yt = niceTicks(0, ymaxRaw, 4, true);
  const ymax = Math.max(ymaxRaw, yt.at(-1)!);
  const X = (x: number) => M.left + ((x - xmin) / (xmax - xmin)) * (W - M.left - M.right);
  const Y = (y: number) => H - M.bottom - (y / ymax) * (H - M.top - M.bottom);
  axes(plot, timeTicks(xmin, xmax).map((t) => [X(t), timeLabel(t, xmax - xmin)]), yt.map((v) => [Y(v), opts.formatY(v)]), 'time (UTC)', opts.yLabel);
  for (const series of opts.series) {
    const pts = [...series.points].sort((a, b) => a.x - b.x);
    if (pts.length === 0) continue;
    let d = `M${fmt(X(pts[0]!.x))},${fmt(Y(pts[0]!.y))}`;
    for (const p of pts.slice(1)) d += `H${fmt(X(p.x))}V${fmt(Y(p.y))}`;
    const g = s('g', { class: `series ${series.className}` });
    g.append(s('path', { d, fill: 'none' }));
    for (const p of pts) g.append(s('circle', { cx: fmt(X(p.x)), cy: fmt(Y(p.y)), r: 3 }, s('title', {}, opts.pointTitle(series.name, p))));
    plot.append(g);
  }
  return svg;
}

export interface RangeBar {
  label: string;
  /** A mark inside the bar (the shortest wait). */
  low: number;
  /** The bar's height (the longest wait). */
  high: number;
  title: string;
}

/** One vertical bar per item from 0 to `high`, with a mark at `low`, in order. */
export function barChart(opts: { id: string; title: string; description: string; xLabel: string; yLabel: string; bars: RangeBar[]; formatY: (y: number) => string }): SVGSVGElement {
  const { svg, plot } = frame(opts.title, opts.description, opts.id);
  if (opts.bars.length === 0) {
    plot.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'no data yet'));
    return svg;
  }
  const ymaxRaw = Math.max(0.001, ...opts.bars.map((b) => b.high));
  const yt = niceTicks(0, ymaxRaw, 4);
  const ymax = Math.max(ymaxRaw, yt.at(-1)!);
  const band = (W - M.left - M.right) / opts.bars.length;
  const X = (i: number) => M.left + band * (i + 0.5);
  const Y = (y: number) => H - M.bottom - (y / ymax) * (H - M.top - M.bottom);
  const every = Math.ceil(opts.bars.length / 12);
  const xTicks = opts.bars.flatMap((b, i): Array<[number, string]> => (i % every === 0 || i === opts.bars.length - 1 ? [[X(i), b.label]] : []));
  axes(plot, xTicks, yt.map((v) => [Y(v), opts.formatY(v)]), opts.xLabel, opts.yLabel);
  const g = s('g', { class: 'series bars' });
  const width = Math.max(2, Math.min(28, band * 0.6));
  opts.bars.forEach((b, i) => {
    const top = Math.min(Y(b.high), H - M.bottom - 1);
    const x = X(i) - width / 2;
    g.append(
      s('g', {},
        s('title', {}, b.title),
        s('rect', { x: fmt(x), y: fmt(top), width: fmt(width), height: fmt(H - M.bottom - top), class: 'bar' }),
        s('line', { x1: fmt(x), x2: fmt(x + width), y1: fmt(Y(b.low)), y2: fmt(Y(b.low)), class: 'mark' }),
      ),
    );
  });
  plot.append(g);
  return svg;
}
