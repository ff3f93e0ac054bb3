/**
 * Cross-attention as a picture a person can read: one cell per (target token, source token), the source
 * tokens across the top, the target tokens down the left, darker where the decoder looked harder. The SVG
 * is written by hand and rendered to PNG by plot.ts's resvg renderer.
 */
import { ShapeError } from '../errors.js';
import type { AttentionMap } from '../translator.js';
import { UsageError } from './errors.js';
import { escapeXml } from './plot.js';

/** The PNG of an attention SVG, rendered as the training curves are. */
export { renderPng as attentionPng } from './plot.js';

/** The longer side of the grid aims at this many pixels: 60 tokens get 15-pixel cells. */
const GRID = 900;
const CELL_MIN = 10, CELL_MAX = 36;
/** Average glyph advance of the sans-serif font per pixel of font size, a little wide to be safe. */
const CHAR = 0.62;
/** Characters of a token shown; a longer one ends in "…" (a stray long token would otherwise eat the picture). */
const MAX_LABEL = 24;
const TITLE_HEIGHT = 34, PAD = 12, LEGEND_WIDTH = 200, LEGEND_HEIGHT = 12;
/** White → dark blue (matplotlib's "Blues" end points and middle), interpolated in sRGB as SVG gradients are. */
const STOPS: ReadonlyArray<readonly [number, readonly [number, number, number]]> = [
  [0, [255, 255, 255]],
  [0.5, [107, 174, 214]],
  [1, [8, 48, 107]],
];

/**
 * The [target, source] weights to draw: one head (`layer` and `head`), the mean of one layer's heads
 * (`layer` only), or the mean of every layer and head (neither). Both are 0-based; `head` alone is refused,
 * since head h of one layer has nothing to do with head h of another.
 */
export function selectAttention(map: AttentionMap, layer?: number, head?: number): Float32Array {
  const { layers, heads, target, source, weights } = map;
  const plane = target * source;
  if (weights.length !== layers * heads * plane) {
    throw new ShapeError(`Expected ${layers}×${heads}×${target}×${source} attention weights but got ${weights.length}`);
  }
  if (layer !== undefined && !inRange(layer, layers)) throw new UsageError(`--layer ${layer} is out of range: the model has ${layers} layers (0–${layers - 1})`);
  if (head !== undefined) {
    if (layer === undefined) throw new UsageError('--head needs --layer: heads of different layers are unrelated');
    if (!inRange(head, heads)) throw new UsageError(`--head ${head} is out of range: each layer has ${heads} heads (0–${heads - 1})`);
  }
  // The (layer, head) planes are contiguous in [layers, heads, target, source], so every selection is a run of them.
  const first = layer === undefined ? 0 : layer * heads + (head ?? 0);
  const count = layer === undefined ? layers * heads : head === undefined ? heads : 1;
  const sum = new Float64Array(plane);
  for (let p = first; p < first + count; p++) for (let i = 0; i < plane; i++) sum[i]! += weights[p * plane + i]!;
  return Float32Array.from(sum, (s) => s / count);
}

/**
 * A heatmap of `weights` ([target, source], row-major) as an SVG document. The colour scale runs from 0
 * (white) to the largest weight in the picture (dark blue), not to 1: means over heads are flat, and on a
 * 0–1 scale they would all be pale. The legend gives the numbers, and each cell's tooltip its exact weight.
 */
export function attentionSvg(sourceTokens: readonly string[], targetTokens: readonly string[], weights: Float32Array, title: string): string {
  const cols = sourceTokens.length, rows = targetTokens.length;
  if (weights.length !== rows * cols) throw new ShapeError(`Expected ${rows}×${cols} attention weights (target × source) but got ${weights.length}`);
  const src = sourceTokens.map(shown), tgt = targetTokens.map(shown);
  const cell = Math.min(CELL_MAX, Math.max(CELL_MIN, Math.floor(GRID / Math.max(rows, cols, 1))));
  const font = Math.min(13, Math.max(8, Math.round(cell * 0.7)));
  const textWidth = (s: string, size = font) => [...s].length * size * CHAR;
  // Room for the longest label on each axis, and at least for the axis names in the corner between them.
  const left = Math.ceil(PAD + Math.max(textWidth('target ↓'), ...tgt.map((t) => textWidth(t))) + 6);
  const top = Math.ceil(TITLE_HEIGHT + Math.max(2.8 * font, ...src.map((t) => textWidth(t))) + 6);
  const gridW = cols * cell, gridH = rows * cell;
  const max = weights.reduce((m, w) => Math.max(m, w), 0);
  const scale = max > 0 ? max : 1;
  const caption = `attention weight, 0 to ${max.toFixed(3)} (the largest shown)`;
  const width = Math.ceil(Math.max(left + gridW, left + LEGEND_WIDTH + 10 + textWidth(caption, 11), textWidth(title, 16)) + PAD);
  const legendY = top + gridH + 16;
  const height = Math.ceil(legendY + LEGEND_HEIGHT + 16 + PAD);

  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" font-size="16" text-anchor="middle">${escapeXml(title)}</text>`,
    `<text x="${left - 6}" y="${top - 6 - 1.4 * font}" font-size="${font}" text-anchor="end" font-style="italic" fill="#555">source →</text>`,
    `<text x="${left - 6}" y="${top - 6}" font-size="${font}" text-anchor="end" font-style="italic" fill="#555">target ↓</text>`,
  ];
  // Labels sit on the middle of their row or column: a baseline 0.35 em off centre puts the glyphs' middle there.
  src.forEach((t, j) => {
    const x = left + (j + 0.5) * cell + 0.35 * font;
    out.push(`<text transform="translate(${x.toFixed(1)},${top - 6}) rotate(-90)" font-size="${font}">${escapeXml(t)}</text>`);
  });
  tgt.forEach((t, i) => out.push(`<text x="${left - 6}" y="${(top + (i + 0.5) * cell + 0.35 * font).toFixed(1)}" font-size="${font}" text-anchor="end">${escapeXml(t)}</text>`));
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const w = weights[i * cols + j]!;
      out.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${colour(w / scale)}"><title>${escapeXml(`${tgt[i]} ← ${src[j]}: ${w.toFixed(3)}`)}</title></rect>`);
    }
  }
  // Faint lines between cells, so that near-white cells still read as a grid.
  const lines = [
    ...Array.from({ length: cols + 1 }, (_, j) => `M${left + j * cell},${top}v${gridH}`),
    ...Array.from({ length: rows + 1 }, (_, i) => `M${left},${top + i * cell}h${gridW}`),
  ];
  out.push(`<path d="${lines.join('')}" stroke="#ccc" stroke-width="0.5" fill="none"/>`);

  out.push(
    `<defs><linearGradient id="scale">${STOPS.map(([at, c]) => `<stop offset="${at}" stop-color="${hex(c)}"/>`).join('')}</linearGradient></defs>`,
    `<rect x="${left}" y="${legendY}" width="${LEGEND_WIDTH}" height="${LEGEND_HEIGHT}" fill="url(#scale)" stroke="#999" stroke-width="0.5"/>`,
    ...[0, 0.5, 1].map((f) => `<text x="${left + f * LEGEND_WIDTH}" y="${legendY + LEGEND_HEIGHT + 12}" font-size="10" text-anchor="middle">${(f * max).toFixed(2)}</text>`),
    `<text x="${left + LEGEND_WIDTH + 10}" y="${legendY + LEGEND_HEIGHT - 2}" font-size="11">${escapeXml(caption)}</text>`,
    '</svg>',
  );
  return out.join('\n');
}

const inRange = (i: number, n: number) => Number.isInteger(i) && i >= 0 && i < n;

/** A token as shown: control characters spelled out (XML forbids most of them even escaped), long ones cut short. */
function shown(token: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this spells out
  const chars = [...token.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)];
  return chars.length > MAX_LABEL ? `${chars.slice(0, MAX_LABEL - 1).join('')}…` : chars.join('');
}

/** The colour of v ∈ [0, 1] on the STOPS scale. */
function colour(v: number): string {
  const x = Math.min(1, Math.max(0, v));
  const k = Math.max(0, STOPS.findIndex(([at]) => at >= x) - 1);
  const [a, ca] = STOPS[k]!, [b, cb] = STOPS[k + 1]!;
  const t = (x - a) / (b - a);
  return hex([0, 1, 2].map((i) => ca[i]! + t * (cb[i]! - ca[i]!)));
}

const hex = (rgb: readonly number[]) => `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
