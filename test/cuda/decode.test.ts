// Decoding a model on the GPU (the same search, on the main thread with a turn of the event loop between
// steps) against the same model on the CPU (in its worker). Runs only where a GPU can be used.
import { beforeAll, describe, expect, it } from 'vitest';

import { backend, DeviceError, type GenerateOptions, Transformer } from '../../lib/index.js';
import { randomModel, seq } from '../decode/helpers.js';

const cuda = backend.info().cuda;
const LOGPROB_TOL = 1e-3; // exact-fp32 GEMMs on both devices, summed in other orders over ~20 tokens

const cpu = randomModel({ srcVocabSize: 30, tgtVocabSize: 40, dModel: 32, heads: 4, encoderLayers: 2, decoderLayers: 2, ffnDim: 48, maxLength: 64 }, 61, 0.3, 1);

it.skipIf(cuda.available)('without a GPU a model cannot move there to decode', () => {
  expect(() => new Transformer(cpu.config).to('cuda')).toThrow(DeviceError);
});

describe.skipIf(!cuda.available)('generate on the GPU', () => {
  let gpu: Transformer;
  beforeAll(() => {
    gpu = new Transformer(cpu.config).eval();
    gpu.loadStateDict(cpu.stateDict());
    gpu.to('cuda');
  });
  const src = [seq(3, 4, 5, 6, 7), seq(8, 9), seq(10, 11, 12, 13, 14, 15, 16, 17)];

  it.each([{}, { strategy: 'beam', beamSize: 3, nBest: 2 }, { strategy: 'sample', seed: 5, topK: 8 }] as GenerateOptions[])(
    'gives the CPU model’s hypotheses (%o)', async (opts) => {
      backend.setMatmulPrecision('highest');
      try {
        const want = await cpu.generate(src, { ...opts, maxLength: 20, returnScores: true });
        const got = await gpu.generate(src, { ...opts, maxLength: 20, returnScores: true });
        expect(got.map((h) => h.map((x) => x.ids))).toEqual(want.map((h) => h.map((x) => x.ids)));
        got.forEach((h, s) => h.forEach((x, j) => expect(Math.abs(x.logProb - want[s]![j]!.logProb)).toBeLessThanOrEqual(LOGPROB_TOL)));
        expect(gpu.training).toBe(false);
      } finally {
        backend.setMatmulPrecision('high');
      }
    });

  it('streams, and keeps the model’s training mode', async () => {
    gpu.train();
    const ids: number[] = [];
    for await (const id of gpu.stream([src[0]!], { maxLength: 10 })) ids.push(id);
    expect(ids).toEqual((await cpu.generate([src[0]!], { maxLength: 10 }))[0]);
    expect(gpu.training).toBe(true);
  });
});
