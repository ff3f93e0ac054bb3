// The decode's source encoder: its memory equals the model's own encoder (the Module path) within 1e-5
// for post- and pre-norm models, and a source's memory is the same bits whichever sources are encoded
// with it (tokens end to end, packed GEMMs, attention per source): what lets requests join a batch
// without changing their results.
import { describe, expect, it } from 'vitest';

import { SourceEncoder } from '../../lib/decode/encode.js';
import { noGrad, type TransformerConfig } from '../../lib/index.js';
import { randomModel, seq } from './helpers.js';

const CONFIGS: Record<string, TransformerConfig> = {
  'post-norm relu': { srcVocabSize: 19, tgtVocabSize: 23, dModel: 16, heads: 4, encoderLayers: 2, decoderLayers: 1, ffnDim: 24, maxLength: 40 },
  'pre-norm gelu': { srcVocabSize: 19, tgtVocabSize: 23, dModel: 24, heads: 3, encoderLayers: 3, decoderLayers: 1, ffnDim: 20, maxLength: 40, normFirst: true, activation: 'gelu' },
};

describe.each(Object.entries(CONFIGS))('SourceEncoder (%s)', (_, config) => {
  const model = randomModel(config, 23);
  const sources = [seq(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 3, 4, 5, 6), seq(10, 11), seq(12, 13, 14, 15), seq(7)];
  const d = config.dModel!;

  it('gives the model\'s own encoder output, row by row, with no padding', () => {
    noGrad(() => {
      const encoder = new SourceEncoder(model, 0);
      const tokens = Int32Array.from(sources.flatMap((s) => [...s]));
      const lengths = Int32Array.from(sources, (s) => s.length);
      const got = encoder.encode(tokens, lengths).toFloat32Array();
      const padded = model.encode(sources).toFloat32Array();
      const width = Math.max(...lengths);
      let worst = 0;
      for (let i = 0, row = 0; i < sources.length; i++) {
        for (let p = 0; p < lengths[i]!; p++, row++) {
          for (let j = 0; j < d; j++) worst = Math.max(worst, Math.abs(got[row * d + j]! - padded[(i * width + p) * d + j]!));
        }
      }
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  });

  it('encodes a source to the same bits alone or beside others', () => {
    noGrad(() => {
      const encoder = new SourceEncoder(model, 0);
      const alone = sources.map((s) => encoder.encode(s, Int32Array.of(s.length)).toFloat32Array());
      for (const order of [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3]]) {
        const together = encoder.encode(Int32Array.from(order.flatMap((i) => [...sources[i]!])), Int32Array.from(order, (i) => sources[i]!.length)).toFloat32Array();
        let at = 0;
        for (const i of order) {
          expect(together.subarray(at, at + alone[i]!.length)).toEqual(alone[i]);
          at += alone[i]!.length;
        }
      }
    });
  });
});
