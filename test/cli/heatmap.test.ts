// Attention heatmaps in-process: which weights are drawn (means checked by hand), the SVG's cells, labels
// and legend, and its PNG.
import { describe, expect, it } from 'vitest';

import { attentionPng, attentionSvg, selectAttention } from '../../lib/cli/heatmap.js';
import { UsageError } from '../../lib/cli/errors.js';
import { ShapeError } from '../../lib/errors.js';

// 2 layers × 2 heads × 2 target × 3 source, every weight a multiple of 1/4 so that every mean is exact in float32.
const PLANES = [
  [0.5, 0.25, 0.25, 1, 0, 0], // layer 0, head 0
  [0, 0.5, 0.5, 0.25, 0.75, 0], // layer 0, head 1
  [1, 0, 0, 0, 0, 1], // layer 1, head 0
  [0.25, 0.25, 0.5, 0.5, 0.25, 0.25], // layer 1, head 1
];
const MAP = { layers: 2, heads: 2, target: 2, source: 3, weights: Float32Array.from(PLANES.flat()) };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const svgSize = (svg: string) => svg.match(/<svg[^>]* width="(\d+)" height="(\d+)"/)!.slice(1).map(Number);

describe('selectAttention', () => {
  it('is the mean over every layer and head by default', () => {
    // (0.5 + 0 + 1 + 0.25) / 4, (0.25 + 0.5 + 0 + 0.25) / 4, …
    expect([...selectAttention(MAP)]).toEqual([0.4375, 0.25, 0.3125, 0.4375, 0.25, 0.3125]);
  });

  it('is the mean over one layer\'s heads with a layer, and one head with both', () => {
    expect([...selectAttention(MAP, 1)]).toEqual([0.625, 0.125, 0.25, 0.25, 0.125, 0.625]);
    expect([...selectAttention(MAP, 0, 1)]).toEqual(PLANES[1]);
    expect([...selectAttention(MAP, 1, 1)]).toEqual(PLANES[3]);
  });

  it('refuses layers and heads out of range, and a head without its layer, with one line naming the flag', () => {
    expect(() => selectAttention(MAP, 2)).toThrow(new UsageError('--layer 2 is out of range: the model has 2 layers (0–1)'));
    expect(() => selectAttention(MAP, -1)).toThrow(UsageError);
    expect(() => selectAttention(MAP, 0, 2)).toThrow(new UsageError('--head 2 is out of range: each layer has 2 heads (0–1)'));
    expect(() => selectAttention(MAP, undefined, 0)).toThrow(/--head needs --layer/);
  });

  it('refuses weights that do not match the shape', () => {
    expect(() => selectAttention({ ...MAP, weights: new Float32Array(23) })).toThrow(ShapeError);
  });
});

describe('attentionSvg', () => {
  const source = ['<bos>', '▁the', '&', '"it\'s"', '<eos>'];
  const target = ['▁la', 'R&D', '<x>'];
  const weights = Float32Array.from({ length: 15 }, (_, i) => (i === 6 ? 0.5 : i % 5 === 0 ? 0 : 0.125));
  const svg = attentionSvg(source, target, weights, 'Cross-attention <test> & co');

  it('has one cell per (target, source) pair, white at 0 and dark blue at the largest weight', () => {
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(target.length * source.length);
    expect(svg).toContain('fill="#08306b"><title>R&amp;D ← ▁the: 0.500</title>');
    expect(svg).toContain('fill="#ffffff"><title>▁la ← &lt;bos&gt;: 0.000</title>');
  });

  it('XML-escapes the token labels and the title', () => {
    for (const label of ['&lt;bos&gt;', '▁the', '&amp;', '"it\'s"', '&lt;eos&gt;', '▁la', 'R&amp;D', '&lt;x&gt;', 'Cross-attention &lt;test&gt; &amp; co']) {
      expect(svg).toContain(`>${label}</text>`);
    }
    expect(svg).not.toMatch(/<(bos|eos|x|test)>/);
    // Control characters (not allowed in XML even as references) are spelled out.
    expect(attentionSvg(['a\nb'], ['\x01'], new Float32Array([1]), '')).toContain('>a\\x0ab</text>');
  });

  it('has a legend: the colour gradient and the numbers of its scale', () => {
    expect(svg).toMatch(/<linearGradient id="scale">.*stop-color="#ffffff".*stop-color="#08306b"/);
    expect(svg).toContain('fill="url(#scale)"');
    for (const tick of ['0.00', '0.25', '0.50']) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).toContain('>attention weight, 0 to 0.500 (the largest shown)</text>');
  });

  it('fits 60 × 60 tokens in a sensible picture, and keeps a few tokens big', () => {
    const tokens = Array.from({ length: 60 }, (_, i) => `▁token${i}`);
    const [w, h] = svgSize(attentionSvg(tokens, tokens, new Float32Array(3600).fill(1 / 60), 't'));
    expect(w).toBeLessThan(1400);
    expect(h).toBeLessThan(1400);
    expect(w).toBeGreaterThan(900);
    expect(svg).toContain('width="36" height="36"');
  });

  it('refuses weights that do not match the tokens', () => {
    expect(() => attentionSvg(source, target, new Float32Array(14), 't')).toThrow(ShapeError);
  });
});

describe('attentionPng', () => {
  it('renders the SVG (odd labels and all) as a PNG of its size', () => {
    const svg = attentionSvg(['<bos>', '&', '"', '<eos>'], ['▁a', 'b'], Float32Array.from([0.25, 0.25, 0.25, 0.25, 0, 1, 0, 0]), 'a & b');
    const png = attentionPng(svg);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(png.length).toBeGreaterThan(2000);
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual(svgSize(svg));
  });
});
