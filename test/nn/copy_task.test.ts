// End to end: a 2+2-layer Transformer learns to copy random digit strings (lengths 1–6) to 100% greedy
// exact match in 500 Adam steps (about 5 s), proof that forward, backward, the optimiser and the masks
// fit together. Seeded, and the kernels are deterministic, so this run is the same every time on a given
// machine; the recipe was checked on five seeds (0 of 500 strings wrong with each), so it does not hang
// on one lucky initialisation.
import { describe, expect, it } from 'vitest';

import { noGrad, ops, optim, Transformer } from '../../lib/index.js';
import { Rng } from '../../lib/tensor/random.js';

const PAD = 0, BOS = 1, EOS = 2, VOCAB = 13; // digits are ids 3–12

/** Greedy decoding without a cache: re-decode the whole prefix at every step. */
function greedy(model: Transformer, src: number[][], maxSteps: number): number[][] {
  return noGrad(() => {
    const { ids, lengths } = model.srcBatch(src);
    const memory = model.encodeIds(ids, lengths);
    const out = src.map(() => [BOS]);
    const done = src.map(() => false);
    for (let step = 0; step < maxSteps && !done.every(Boolean); step++) {
      const logits = model.decode(out, memory, lengths).toFloat32Array();
      const length = out[0]!.length;
      out.forEach((o, b) => {
        const row = logits.subarray((b * length + length - 1) * VOCAB, (b * length + length) * VOCAB);
        let best = 0;
        for (let v = 1; v < VOCAB; v++) if (row[v]! > row[best]!) best = v;
        o.push(done[b] ? PAD : best);
        if (best === EOS) done[b] = true;
      });
    }
    return out.map((o) => o.slice(1, o.includes(EOS) ? o.indexOf(EOS) : undefined));
  });
}

describe('copy task', () => {
  it('learns to copy digit strings to 100% greedy exact match', () => {
    const rng = new Rng(8);
    const digits = () => Array.from({ length: 1 + (rng.nextUint32() % 6) }, () => 3 + (rng.nextUint32() % 10));
    const model = new Transformer({
      srcVocabSize: VOCAB, tgtVocabSize: VOCAB, dModel: 64, heads: 4, encoderLayers: 2, decoderLayers: 2, ffnDim: 128,
      dropout: 0, maxLength: 16, seed: 1, padId: PAD, bosId: BOS, eosId: EOS,
    });
    const adam = new optim.Adam(model.parameters(), { lr: 2e-3 });
    let loss = Infinity;
    for (let step = 1; step <= 500; step++) {
      // Warm up over 30 steps, then a tenth of the rate for the last 200.
      adam.lr = 2e-3 * Math.min(1, step / 30) * (step > 300 ? 0.1 : 1);
      const src = Array.from({ length: 32 }, digits);
      const tgtIn = src.map((s) => [BOS, ...s]);
      const length = Math.max(...tgtIn.map((t) => t.length));
      const targets = new Int32Array(32 * length); // PAD where a shorter sequence ends
      src.forEach((s, b) => [...s, EOS].forEach((t, j) => (targets[b * length + j] = t)));
      const l = ops.crossEntropy(model.forward(src, tgtIn).reshape([-1, VOCAB]), targets, { ignoreIndex: PAD });
      adam.zeroGrad();
      l.backward();
      optim.clipGradNorm(model.parameters(), 1);
      adam.step();
      loss = l.item();
    }
    expect(loss).toBeLessThan(0.05);
    const test = Array.from({ length: 200 }, digits);
    const predictions = greedy(model, test, 8);
    const wrong = test.filter((s, i) => predictions[i]!.join(' ') !== s.join(' '));
    expect(wrong, `${wrong.length} of 200 strings not copied exactly`).toEqual([]);
  });
});
