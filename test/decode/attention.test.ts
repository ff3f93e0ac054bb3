// returnAttention: each emitted token's cross-attention weights, per layer and head, equal a naive
// softmax(QKᵀ/√dₕ) in float64 of the queries and keys the model's own modules compute by teacher
// forcing over the hypothesis (post- and pre-norm; greedy, and every hypothesis of a beam, whose weights
// must follow the beams through their reorderings).
import { describe, expect, it } from 'vitest';

import { type Hypothesis, noGrad, type Transformer, type TransformerConfig } from '../../lib/index.js';
import { BOS, randomModel, seq } from './helpers.js';

const CONFIGS: Record<string, TransformerConfig> = {
  'post-norm': { srcVocabSize: 19, tgtVocabSize: 23, dModel: 16, heads: 4, encoderLayers: 2, decoderLayers: 2, ffnDim: 24, maxLength: 40 },
  'pre-norm': { srcVocabSize: 19, tgtVocabSize: 23, dModel: 24, heads: 3, encoderLayers: 1, decoderLayers: 3, ffnDim: 20, maxLength: 40, normFirst: true, activation: 'gelu' },
};

/** The reference weights [layers, heads, T, Ls] for emitting `ids` after `src`. */
function naiveAttention(model: Transformer, src: Int32Array, ids: number[]): Float64Array {
  const c = model.config, d = c.dModel, h = c.heads, dh = d / h, T = ids.length, Ls = src.length;
  const out = new Float64Array(c.decoderLayers * h * T * Ls);
  noGrad(() => {
    const memory = model.encode([src]);
    const mem = memory.toFloat32Array();
    const { ids: tgt } = model.tgtBatch([Int32Array.from([BOS, ...ids.slice(0, -1)])]);
    let x = model.positionalEncoding.forward(model.tgtEmbedding.forward(tgt));
    model.decoder.layers.items.forEach((layer, l) => {
      const h1 = layer.norm1.connect(x, (y) => layer.selfAttn.forward(y, null, { causal: true, kvLengths: Int32Array.of(T) }));
      // The cross-attention's input: the sublayer's own (post-norm: h1; pre-norm: LN(h1)).
      const qIn = (c.normFirst ? layer.norm2.forward(h1) : h1).toFloat32Array();
      const w = layer.crossAttn.inProjWeight.toFloat32Array(), b = layer.crossAttn.inProjBias.toFloat32Array();
      const project = (rows: Float32Array, n: number, first: number) => Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => {
        let s = b[first + j]!;
        for (let e = 0; e < d; e++) s += rows[i * d + e]! * w[(first + j) * d + e]!;
        return s;
      }));
      const Q = project(qIn, T, 0), K = project(mem, Ls, d);
      for (let head = 0; head < h; head++) {
        for (let t = 0; t < T; t++) {
          const scores = K.map((k) => {
            let s = 0;
            for (let e = head * dh; e < (head + 1) * dh; e++) s += Q[t]![e]! * k[e]!;
            return s / Math.sqrt(dh);
          });
          const m = Math.max(...scores);
          const z = scores.reduce((acc, s) => acc + Math.exp(s - m), 0);
          scores.forEach((s, j) => { out[((l * h + head) * T + t) * Ls + j] = Math.exp(s - m) / z; });
        }
      }
      x = layer.norm3.connect(layer.norm2.connect(h1, (y) => layer.crossAttn.forward(y, memory, { kvLengths: Int32Array.of(Ls) })), (y) => layer.ffn.forward(y));
    });
  });
  return out;
}

function expectMatches(model: Transformer, src: Int32Array, hyp: Hypothesis): void {
  const a = hyp.attention!;
  const c = model.config;
  expect([a.layers, a.heads, a.target, a.source]).toEqual([c.decoderLayers, c.heads, hyp.ids.length, src.length]);
  const want = naiveAttention(model, src, hyp.ids);
  let worst = 0;
  want.forEach((x, i) => { worst = Math.max(worst, Math.abs(x - a.weights[i]!)); });
  expect(worst).toBeLessThanOrEqual(2e-6);
}

describe.each(Object.entries(CONFIGS))('returnAttention (%s)', (_, config) => {
  const model = randomModel(config, 17, 0.35, 0.3);
  const sources = [seq(3, 4, 5, 6, 7, 8, 9), seq(10, 11), seq(12, 13, 14, 15)];

  it('greedy: every token\'s weights are softmax(QKᵀ/√d) of the model\'s own queries and keys, padded sources included', async () => {
    const hyps = await model.generate(sources, { returnAttention: true, maxLength: 12 });
    hyps.forEach((h, s) => {
      expect(h[0]!.ids.length).toBeGreaterThan(1);
      expectMatches(model, sources[s]!, h[0]!);
    });
    // Without it, nothing is computed or returned; the ids are the same.
    const plain = await model.generate(sources, { returnScores: true, maxLength: 12 });
    expect(plain.map((h) => h[0]!.ids)).toEqual(hyps.map((h) => h[0]!.ids));
    expect(plain[0]![0]!.attention).toBeUndefined();
  });

  it('beam search: each of the n best hypotheses carries the weights of its own tokens', async () => {
    const hyps = await model.generate(sources, { strategy: 'beam', beamSize: 3, nBest: 3, returnScores: true, returnAttention: true, maxLength: 10 });
    hyps.forEach((list, s) => {
      expect(list).toHaveLength(3);
      for (const h of list) expectMatches(model, sources[s]!, h);
    });
  });

  it('is refused where it cannot be returned', async () => {
    await expect(model.generate(sources, { returnAttention: 'yes' as never })).rejects.toThrow(/returnAttention/);
    await expect(model.stream([sources[0]!], { returnAttention: true }).next()).rejects.toThrow(/returnAttention/);
  });
});
