// The strategies against references that share no code with lib/decode: greedy against a no-cache loop
// over the full decoder, beam search against exhaustive enumeration of every sequence of a tiny
// vocabulary, logProb against teacher forcing; the equivalences the contract states; every option.
import { describe, expect, it } from 'vitest';

import { type GenerateOptions, type Hypothesis, noGrad, type Transformer, type TransformerConfig } from '../../lib/index.js';
import { resolveOptions } from '../../lib/decode/options.js';
import { searchSync } from '../../lib/decode/search.js';
import { backend } from '../../lib/index.js';
import { EOS, greedyNoCache, randomModel, seq, sequenceLogProb, teacherLogProbs } from './helpers.js';

const LOGPROB_TOL = 1e-4; // a sum of up to ~20 float32 log-probabilities against float64 teacher forcing

/** Decodes on this thread (the worker runs the same loop; generate.test.ts covers the worker). */
function decode(model: Transformer, src: Int32Array[], opts: GenerateOptions): Hypothesis[][] {
  const { ids, lengths } = model.srcBatch(src);
  const o = resolveOptions({ ...opts, returnScores: true }, { maxPositions: model.config.maxLength, tgtVocabSize: model.config.tgtVocabSize }, lengths);
  return noGrad(() => searchSync(model, ids, lengths, o));
}
const best = (h: Hypothesis[][]) => h.map((x) => x[0]!.ids);

const CONFIG: TransformerConfig = { srcVocabSize: 21, tgtVocabSize: 17, dModel: 16, heads: 2, encoderLayers: 2, decoderLayers: 2, ffnDim: 32, maxLength: 48 };
const SOURCES = [seq(3, 4, 5, 6, 7, 8), seq(9, 10), seq(11, 12, 13, 14, 15, 16, 17, 18, 19), seq(20, 3, 5)];

describe('greedy', () => {
  for (const seed of [1, 2, 3]) {
    const model = randomModel(CONFIG, seed);
    it(`equals re-running the full decoder at every step, whatever the batch (model ${seed})`, () => {
      const got = decode(model, SOURCES, { maxLength: 14 });
      const want = SOURCES.map((s) => greedyNoCache(model, s, 14));
      expect(best(got)).toEqual(want);
      // Alone, or in another batch: the same ids.
      expect(best(decode(model, [SOURCES[2]!], { maxLength: 14 }))).toEqual([want[2]]);
      expect(best(decode(model, [SOURCES[3]!, SOURCES[0]!], { maxLength: 14 }))).toEqual([want[3], want[0]]);
    });
  }

  it('gives the same hypotheses on 1 and 2 threads', () => {
    const model = randomModel(CONFIG, 4);
    const before = backend.info().threads;
    try {
      backend.setThreads(1);
      const one = decode(model, SOURCES, { strategy: 'beam', beamSize: 3, maxLength: 10 });
      backend.setThreads(2);
      expect(decode(model, SOURCES, { strategy: 'beam', beamSize: 3, maxLength: 10 })).toEqual(one);
    } finally {
      backend.setThreads(before);
    }
  });

  it('reports logProb as teacher forcing does, EOS included when it ended with EOS, and score = logProb / n^α', () => {
    const model = randomModel(CONFIG, 5, 0.35, 2);
    const hyps = decode(model, SOURCES, { maxLength: 12, lengthPenalty: 0.6 });
    let ended = 0;
    hyps.forEach(([h], s) => {
      const eos = h!.ids.length < 12;
      ended += eos ? 1 : 0;
      const n = h!.ids.length + (eos ? 1 : 0);
      expect(Math.abs(h!.logProb - sequenceLogProb(model, SOURCES[s]!, h!.ids, eos))).toBeLessThanOrEqual(LOGPROB_TOL);
      expect(h!.score).toBeCloseTo(h!.logProb / n ** 0.6, 12);
    });
    expect(ended).toBeGreaterThan(0); // the EOS case was exercised
  });
});

/** Every finished hypothesis of a vocabulary of `v` tokens up to `maxLength` tokens, with the model's log-probability. */
function enumerate(model: Transformer, src: Int32Array, maxLength: number): Array<{ ids: number[]; logProb: number; n: number }> {
  const v = model.config.tgtVocabSize;
  const out: Array<{ ids: number[]; logProb: number; n: number }> = [];
  const walk = (ids: number[], logProb: number) => {
    const lp = teacherLogProbs(model, src, ids).subarray(ids.length * v);
    for (let tok = 0; tok < v; tok++) {
      const next = logProb + lp[tok]!;
      if (tok === EOS) out.push({ ids, logProb: next, n: ids.length + 1 });
      else if (ids.length + 1 === maxLength) out.push({ ids: [...ids, tok], logProb: next, n: maxLength });
      else walk([...ids, tok], next);
    }
  };
  walk([], 0);
  return out;
}

describe('beam search', () => {
  // 5 tokens (4 that are not EOS), up to 3 emitted: 1 + 4 + 16 + 64 = 85 finished sequences, at most 16 live.
  const tiny: TransformerConfig = { srcVocabSize: 9, tgtVocabSize: 5, dModel: 8, heads: 2, encoderLayers: 1, decoderLayers: 2, ffnDim: 16, maxLength: 16 };

  for (const [alpha, seed] of [[0, 11], [1, 12], [0.6, 13]] as const) {
    it(`as wide as the search space equals exhaustive search (α = ${alpha})`, () => {
      const model = randomModel(tiny, seed, 0.8);
      const src = [seq(3, 4, 5), seq(6, 7)];
      const got = decode(model, src, { strategy: 'beam', beamSize: 64, nBest: 5, maxLength: 3, lengthPenalty: alpha, beamStop: 'exact' });
      src.forEach((s, i) => {
        const all = enumerate(model, s, 3).map((h) => ({ ...h, score: h.logProb / h.n ** alpha })).sort((a, b) => b.score - a.score);
        expect(all).toHaveLength(85);
        expect(got[i]).toHaveLength(5);
        got[i]!.forEach((h, j) => {
          // The j-th best score; the ids may swap with another hypothesis only within rounding of a tie.
          expect(Math.abs(h.score - all[j]!.score)).toBeLessThanOrEqual(LOGPROB_TOL);
          const same = all.find((a) => a.ids.join() === h.ids.join() && a.n === h.ids.length + (h.ids.length < 3 ? 1 : 0))!;
          expect(Math.abs(same.score - all[j]!.score)).toBeLessThanOrEqual(LOGPROB_TOL);
          expect(Math.abs(h.logProb - same.logProb)).toBeLessThanOrEqual(LOGPROB_TOL);
        });
      });
    });
  }

  it('with beamSize 1 equals greedy, and its nBest are distinct and best first', () => {
    for (const seed of [21, 22]) {
      const model = randomModel(CONFIG, seed);
      expect(best(decode(model, SOURCES, { strategy: 'beam', beamSize: 1, maxLength: 12 }))).toEqual(best(decode(model, SOURCES, { maxLength: 12 })));
      const n = decode(model, SOURCES, { strategy: 'beam', beamSize: 5, nBest: 4, maxLength: 12 });
      for (const hyps of n) {
        expect(hyps).toHaveLength(4);
        expect(new Set(hyps.map((h) => h.ids.join())).size).toBe(4);
        for (let j = 1; j < hyps.length; j++) expect(hyps[j]!.score).toBeLessThanOrEqual(hyps[j - 1]!.score);
      }
      n.forEach((hyps, s) => hyps.forEach((h) => {
        const eos = h.ids.length < 12;
        expect(Math.abs(h.logProb - sequenceLogProb(model, SOURCES[s]!, h.ids, eos))).toBeLessThanOrEqual(LOGPROB_TOL);
      }));
    }
  });

  it('finds a hypothesis at least as likely as greedy, and does not depend on the batch', () => {
    const model = randomModel(CONFIG, 23);
    const opts: GenerateOptions = { strategy: 'beam', beamSize: 4, maxLength: 12, lengthPenalty: 0 };
    const beam = decode(model, SOURCES, opts);
    const greedy = decode(model, SOURCES, { maxLength: 12, lengthPenalty: 0 });
    beam.forEach((h, s) => expect(h[0]!.score).toBeGreaterThanOrEqual(greedy[s]![0]!.score - 1e-9));
    // Alone, the same hypotheses bit for bit: every kernel of the encoder pass and the steps computes each row on its own.
    const [alone] = decode(model, [SOURCES[1]!], opts);
    expect(alone).toEqual(beam[1]);
  });
});

describe('options', () => {
  const model = randomModel(CONFIG, 31, 0.35, 2);

  it('minLength forbids EOS until that many ids are out', () => {
    const eager = randomModel(CONFIG, 32, 0.35, 3); // EOS first, nearly always
    expect(Math.max(...decode(eager, SOURCES, { maxLength: 20 }).map(([h]) => h!.ids.length))).toBeLessThan(5);
    for (const strategy of ['greedy', 'beam', 'sample'] as const) {
      for (const [h] of decode(eager, SOURCES, { strategy, maxLength: 20, minLength: 5 })) expect(h!.ids.length).toBeGreaterThanOrEqual(5);
    }
  });

  it('noRepeatNgram leaves no n-gram twice in a hypothesis', () => {
    const repeats = (ids: number[], n: number) => {
      const seen = new Set<string>();
      for (let i = 0; i + n <= ids.length; i++) {
        const g = ids.slice(i, i + n).join();
        if (seen.has(g)) return true;
        seen.add(g);
      }
      return false;
    };
    const plain = decode(model, SOURCES, { maxLength: 30, minLength: 30 });
    expect(plain.some(([h]) => repeats(h!.ids, 2))).toBe(true); // the constraint has something to do
    for (const strategy of ['greedy', 'beam', 'sample'] as const) {
      for (const [h] of decode(model, SOURCES, { strategy, maxLength: 30, minLength: 30, noRepeatNgram: 2 })) expect(repeats(h!.ids, 2)).toBe(false);
    }
  });

  it('repetitionPenalty makes repeats rarer, and logProb stays the model’s own', () => {
    const count = (h: Hypothesis[][]) => h.reduce((a, [x]) => a + x!.ids.length - new Set(x!.ids).size, 0);
    const plain = decode(model, SOURCES, { maxLength: 25, minLength: 25 });
    const penalised = decode(model, SOURCES, { maxLength: 25, minLength: 25, repetitionPenalty: 3 });
    expect(count(penalised)).toBeLessThan(count(plain));
    penalised.forEach(([h], s) => expect(Math.abs(h!.logProb - sequenceLogProb(model, SOURCES[s]!, h!.ids, false))).toBeLessThanOrEqual(LOGPROB_TOL));
  });

  it('a prefix is forced, returned, and counted in logProb; decoding goes on from it', () => {
    const prefix = [[5, 6, 7], [], [8], [9, 9]];
    for (const strategy of ['greedy', 'beam'] as const) {
      const got = decode(model, SOURCES, { strategy, maxLength: 12, prefix });
      got.forEach(([h], s) => {
        expect(h!.ids.slice(0, prefix[s]!.length)).toEqual(prefix[s]);
        const eos = h!.ids.length < 12;
        expect(Math.abs(h!.logProb - sequenceLogProb(model, SOURCES[s]!, h!.ids, eos))).toBeLessThanOrEqual(LOGPROB_TOL);
      });
    }
    // Greedy after a prefix is the argmax continuation of it.
    const [h] = decode(model, [SOURCES[0]!], { maxLength: 5, minLength: 5, prefix: [[5, 6, 7]] })[0]!;
    const v = CONFIG.tgtVocabSize;
    const lp = teacherLogProbs(model, SOURCES[0]!, [5, 6, 7]).subarray(3 * v, 4 * v);
    const argmax = lp.indexOf(Math.max(...Array.from(lp).filter((_, j) => j !== EOS)));
    expect(h!.ids[3]).toBe(argmax);
  });

  it('maxLength caps every hypothesis, EOS counted', () => {
    for (const strategy of ['greedy', 'beam', 'sample'] as const) {
      for (const [h] of decode(model, SOURCES, { strategy, maxLength: 4 })) expect(h!.ids.length).toBeLessThanOrEqual(4);
    }
  });
});
