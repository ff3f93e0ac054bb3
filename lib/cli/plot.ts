/**
 * Training curves a person would rather look at than a log: train and validation loss and validation
 * BLEU, against steps and against minutes of training, as one SVG (written by hand: it is text) and the
 * same picture as PNG (rendered by resvg). Text uses the system's sans-serif font; where a machine has no
 * fonts at all the PNG still has its lines and axes.
 */
import { Resvg } from '@resvg/resvg-js';

import type { HistoryEntry } from '../train/trainer.js';

export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  /** Draw each point as a dot (sparse series, such as evaluations). */
  dots?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  series: Series[];
  /** A logarithmic x axis with ticks at these values (default: linear, round ticks). */
  logXTicks?: number[];
}

const WIDTH = 1200, HEIGHT = 800, MARGIN = { left: 70, right: 20, top: 40, bottom: 50 };
const TRAIN = '#1f77b4', VALID = '#d62728', BLEU = '#2ca02c';

/** The curves of a training history as an SVG document. */
export function curvesSvg(history: readonly HistoryEntry[], title: string): string {
  const steps = history.filter((e) => e.kind === 'step');
  const evals = history.filter((e) => e.kind === 'eval');
  const smooth = movingAverage(steps.map((e) => e.loss), Math.max(1, Math.round(steps.length / 100)));
  const trainBy = (x: (i: number) => number): Series =>
    ({ name: 'train loss (moving average)', color: TRAIN, points: steps.map((_, i) => [x(i), smooth[i]!]) });
  const minutes = (s: number) => s / 60;
  const panels: Panel[] = [
    { title: 'Loss against steps', xLabel: 'step', series: [trainBy((i) => steps[i]!.step), { name: 'validation loss', color: VALID, dots: true, points: evals.map((e) => [e.step, e.validLoss]) }] },
    { title: 'Loss against training time', xLabel: 'minutes', series: [trainBy((i) => minutes(steps[i]!.trainSeconds)), { name: 'validation loss', color: VALID, dots: true, points: evals.map((e) => [minutes(e.trainSeconds), e.validLoss]) }] },
    { title: 'Validation BLEU against steps', xLabel: 'step', series: [{ name: 'BLEU', color: BLEU, dots: true, points: evals.flatMap((e) => (e.bleu === null ? [] : [[e.step, e.bleu]])) }] },
    { title: 'Validation BLEU against training time', xLabel: 'minutes', series: [{ name: 'BLEU', color: BLEU, dots: true, points: evals.flatMap((e) => (e.bleu === null ? [] : [[minutes(e.trainSeconds), e.bleu]])) }] },
  ];
  const w = WIDTH / 2, h = (HEIGHT - 30) / 2;
  return svgDocument(title, panels.map((p, i) => panel(p, (i % 2) * w, 30 + Math.floor(i / 2) * h, w, h)).join('\n'));
}

/** A white `width`×`height` SVG document: the title on top, then `body` (panels drawn below y = 30). */
export function svgDocument(title: string, body: string, width = WIDTH, height = HEIGHT): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" font-size="18" text-anchor="middle">${escapeXml(title)}</text>`,
    body,
    '</svg>',
  ].join('\n');
}

/** The SVG rendered to PNG bytes. */
export function renderPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}

/** One panel of plots in the w×h box at (x0, y0): axes, ticks, the series' lines and a legend. */
export function panel(p: Panel, x0: number, y0: number, w: number, h: number): string {
  const left = x0 + MARGIN.left, right = x0 + w - MARGIN.right, top = y0 + MARGIN.top, bottom = y0 + h - MARGIN.bottom;
  const all = p.series.flatMap((s) => s.points);
  const out = [`<text x="${(left + right) / 2}" y="${y0 + 24}" font-size="15" text-anchor="middle">${escapeXml(p.title)}</text>`];
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#444"/>`);
  if (all.length === 0) {
    out.push(`<text x="${(left + right) / 2}" y="${(top + bottom) / 2}" font-size="13" text-anchor="middle" fill="#777">no data yet</text>`);
    return out.join('\n');
  }
  const xs = p.logXTicks ?? ticks(Math.min(...all.map((q) => q[0])), Math.max(...all.map((q) => q[0])));
  const ys = ticks(Math.min(...all.map((q) => q[1])), Math.max(...all.map((q) => q[1])));
  const fx = p.logXTicks === undefined ? (x: number) => x : Math.log;
  const sx = (x: number) => left + ((fx(x) - fx(xs[0]!)) / (fx(xs[xs.length - 1]!) - fx(xs[0]!))) * (right - left);
  const sy = (y: number) => bottom - ((y - ys[0]!) / (ys[ys.length - 1]! - ys[0]!)) * (bottom - top);
  for (const t of xs) {
    out.push(`<line x1="${sx(t)}" y1="${top}" x2="${sx(t)}" y2="${bottom}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t)}" y="${bottom + 16}" font-size="11" text-anchor="middle">${label(t)}</text>`);
  }
  for (const t of ys) {
    out.push(`<line x1="${left}" y1="${sy(t)}" x2="${right}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${sy(t) + 4}" font-size="11" text-anchor="end">${label(t)}</text>`);
  }
  out.push(`<text x="${(left + right) / 2}" y="${bottom + 36}" font-size="12" text-anchor="middle">${escapeXml(p.xLabel)}</text>`);
  p.series.forEach((s, i) => {
    if (s.points.length > 1) {
      const d = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
    }
    if (s.dots || s.points.length === 1) for (const [x, y] of s.points) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    out.push(`<rect x="${right - 200}" y="${top + 8 + i * 18}" width="12" height="3" fill="${s.color}"/>`);
    out.push(`<text x="${right - 182}" y="${top + 13 + i * 18}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  return out.join('\n');
}

/** About five round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
  const raw = (hi - lo) / 5, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.floor(lo / step) * step; t < hi + step * 0.999; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const label = (t: number) => (Math.abs(t) >= 1e4 || (t !== 0 && Math.abs(t) < 1e-2) ? t.toExponential(1) : String(Number(t.toPrecision(4))));

/** The mean of each value and the up to window − 1 before it. */
export function movingAverage(values: readonly number[], window: number): number[] {
  let sum = 0;
  return values.map((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window]!;
    return sum / Math.min(i + 1, window);
  });
}

/** Text as SVG character data (not for attribute values: quotes are left as they are). */
export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
