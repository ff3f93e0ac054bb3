// Sampling: the frequencies of many seeded draws match the distribution computed here from the full
// decoder's logits (temperature, then top-k, then top-p, each renormalised) by a chi-square test at
// p = 0.001 (the seeds are fixed, so the test is deterministic); a token outside the kept set is never
// drawn. A seed gives the same text whatever the batch.
import { describe, expect, it } from 'vitest';

import { resolveOptions } from '../../lib/decode/options.js';
import { searchSync } from '../../lib/decode/search.js';
import { type GenerateOptions, noGrad, type Transformer } from '../../lib/index.js';
import { EOS, randomModel, seq, teacherLogProbs } from './helpers.js';

const V = 13;
const model = randomModel({ srcVocabSize: 11, tgtVocabSize: V, dModel: 16, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 16, maxLength: 32 }, 41, 0.5);
const SRC = seq(3, 4, 5, 6);

function sample(m: Transformer, src: Int32Array[], opts: GenerateOptions): number[][] {
  const { ids, lengths } = m.srcBatch(src);
  const o = resolveOptions({ strategy: 'sample', ...opts }, { maxPositions: m.config.maxLength, tgtVocabSize: m.config.tgtVocabSize }, lengths);
  return noGrad(() => searchSync(m, ids, lengths, o)).map((h) => h[0]!.ids);
}

/** The first token's distribution after the warpers, from the full decoder, in float64. */
function expected(o: { temperature: number; topK: number; topP: number }): Float64Array {
  const lp = teacherLogProbs(model, SRC, []).subarray(0, V);
  const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => lp[b]! - lp[a]! || a - b);
  const p = new Float64Array(V);
  const kept = o.topK > 0 ? order.slice(0, o.topK) : order;
  let z = 0;
  for (const j of kept) z += (p[j] = Math.exp(lp[j]! / o.temperature));
  for (const j of kept) p[j]! /= z;
  if (o.topP < 1) {
    let before = 0;
    for (const j of kept) {
      if (before >= o.topP) p[j] = 0;
      before += Math.exp(lp[j]! / o.temperature) / z;
    }
    const z2 = p.reduce((a, b) => a + b, 0);
    for (let j = 0; j < V; j++) p[j]! /= z2;
  }
  return p;
}

/** Upper 0.1% point of chi-square with `df` degrees of freedom (Wilson–Hilferty). */
const chi2Critical = (df: number) => df * (1 - 2 / (9 * df) + 3.09 * Math.sqrt(2 / (9 * df))) ** 3;

describe('sampling', () => {
  const cases = [
    { temperature: 1, topK: 0, topP: 1 },
    { temperature: 0.7, topK: 5, topP: 1 },
    { temperature: 1, topK: 0, topP: 0.8 },
    { temperature: 1.6, topK: 8, topP: 0.9 },
  ];
  it.each(cases)('first-token frequencies match the renormalised distribution (%o)', (o) => {
    const draws = 3000;
    const counts = new Float64Array(V);
    for (let seed = 0; seed < draws; seed++) {
      const [ids] = sample(model, [SRC], { ...o, seed, maxLength: 1 });
      counts[ids!.length === 0 ? EOS : ids![0]!]!++;
    }
    const p = expected(o);
    let chi2 = 0, df = -1;
    for (let j = 0; j < V; j++) {
      if (p[j] === 0) {
        expect(counts[j], `token ${j} is outside the kept set`).toBe(0);
        continue;
      }
      const e = draws * p[j]!;
      chi2 += (counts[j]! - e) ** 2 / e;
      df++;
    }
    expect(df).toBeGreaterThanOrEqual(2); // a distribution with something to test
    expect(chi2).toBeLessThan(chi2Critical(df));
  });

  it('topK 1 equals greedy', () => {
    const srcs = [SRC, seq(7, 8), seq(9, 10, 3, 4, 5)];
    const greedy = (() => {
      const { ids, lengths } = model.srcBatch(srcs);
      const o = resolveOptions({ maxLength: 10 }, { maxPositions: 32, tgtVocabSize: V }, lengths);
      return noGrad(() => searchSync(model, ids, lengths, o)).map((h) => h[0]!.ids);
    })();
    for (const seed of [0, 1, 2]) expect(sample(model, srcs, { topK: 1, seed, maxLength: 10 })).toEqual(greedy);
  });

  it('a seed gives the same text whatever the batch; other seeds give other texts', () => {
    const srcs = [SRC, seq(7, 8), seq(9, 10, 3, 4, 5)];
    const all = sample(model, srcs, { seed: 9, maxLength: 12, minLength: 12 });
    expect(sample(model, [srcs[2]!], { seed: 9, maxLength: 12, minLength: 12 })).toEqual([all[2]]);
    expect(sample(model, [srcs[1]!, srcs[0]!], { seed: 9, maxLength: 12, minLength: 12 })).toEqual([all[1], all[0]]);
    const others = [10, 11, 12].map((seed) => sample(model, [srcs[0]!], { seed, maxLength: 12, minLength: 12 })[0]!.join());
    expect(others.some((t) => t !== all[0]!.join())).toBe(true);
  });
});
