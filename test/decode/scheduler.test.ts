// Continuous batching: requests that join a running batch at any step, with their own options, get
// exactly (bit for bit: ids, logProb, score) what decoding each alone gives, whatever the interleaving;
// cancelled ones leave without disturbing the others. On this thread (BatchSearch) and through the
// model's decoding worker (concurrent generate calls).
import { describe, expect, it } from 'vitest';

import { resolveOptions } from '../../lib/decode/options.js';
import { decodeStats } from '../../lib/decode/runner.js';
import { BatchSearch, type Hypothesis, searchSync } from '../../lib/decode/search.js';
import { type GenerateOptions, noGrad, type Transformer } from '../../lib/index.js';
import { Rng } from '../../lib/tensor/random.js';
import { randomModel, seq } from './helpers.js';

const model = randomModel({ srcVocabSize: 30, tgtVocabSize: 40, dModel: 32, heads: 4, encoderLayers: 2, decoderLayers: 2, ffnDim: 48, maxLength: 64 }, 61, 0.3, 0.6);

interface Call {
  src: Int32Array[];
  opts: GenerateOptions;
}

// Greedy and sampling requests (one row per source) with every per-request option, sources of many lengths.
const ONE_ROW: Call[] = [
  { src: [seq(3, 4, 5, 6, 7)], opts: {} },
  { src: [seq(8, 9)], opts: { maxLength: 7 } },
  { src: [seq(10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)], opts: { strategy: 'sample', seed: 5, topK: 8 } },
  { src: [seq(4, 4), seq(22, 23, 24)], opts: { strategy: 'sample', seed: 9, temperature: 0.8, topP: 0.9 } },
  { src: [seq(25, 26, 27)], opts: { repetitionPenalty: 1.3, noRepeatNgram: 2, minLength: 4 } },
  { src: [seq(6, 5, 4, 3)], opts: { prefix: [[7, 8, 9]], maxLength: 30 } },
  { src: [seq(13)], opts: { strategy: 'sample', seed: 1 } },
];
// Beam requests share a batch of beamSize rows per source.
const BEAM: Call[] = [
  { src: [seq(3, 4, 5, 6, 7)], opts: { strategy: 'beam', beamSize: 3 } },
  { src: [seq(9, 10), seq(11, 12, 13, 14, 15, 16)], opts: { strategy: 'beam', beamSize: 3, lengthPenalty: 0.6, nBest: 2 } },
  { src: [seq(17, 18, 19)], opts: { strategy: 'beam', beamSize: 3, noRepeatNgram: 2, maxLength: 9 } },
  { src: [seq(20, 21, 22, 23)], opts: { strategy: 'beam', beamSize: 3, beamStop: 'exact', minLength: 3 } },
];

function prepare(m: Transformer, c: Call) {
  const { ids, lengths } = m.srcBatch(c.src);
  const o = resolveOptions({ ...c.opts, returnScores: true }, { maxPositions: m.config.maxLength, tgtVocabSize: m.config.tgtVocabSize }, lengths);
  return { ids, lengths, o };
}

const alone = (c: Call): Hypothesis[][] => {
  const { ids, lengths, o } = prepare(model, c);
  return noGrad(() => searchSync(model, ids, lengths, o));
};

/** Decodes the calls in one BatchSearch, call i joining at step joinAt[i]; the results by call. */
function interleaved(calls: Call[], joinAt: number[], cancel: Map<number, number> = new Map()): Array<Hypothesis[][] | 'cancelled'> {
  const search = new BatchSearch(model, prepare(model, calls[0]!).o.beamSize, 0);
  const out = new Array<Hypothesis[][] | 'cancelled'>(calls.length);
  let left = calls.length;
  let maxRows = 0;
  noGrad(() => {
    for (let t = 0; left > 0; t++) {
      calls.forEach((c, i) => {
        if (joinAt[i] !== t) return;
        const { ids, lengths, o } = prepare(model, c);
        search.add(i, ids, lengths, o);
      });
      for (const [i, at] of cancel) {
        if (at === t && search.remove(i)) {
          out[i] = 'cancelled';
          left--;
        }
      }
      maxRows = Math.max(maxRows, search.rows);
      if (search.size === 0) continue;
      for (const done of search.step()) {
        out[done.id] = done.result;
        left--;
      }
    }
  });
  search.dispose();
  expect(maxRows).toBeGreaterThan(prepare(model, calls[0]!).o.beamSize); // the requests did share steps
  return out;
}

describe('BatchSearch (continuous batching)', () => {
  for (const [name, calls] of [['greedy and sampling', ONE_ROW], ['beam search', BEAM]] as const) {
    it(`gives each ${name} request exactly what decoding it alone gives, whatever step it joins at`, () => {
      const want = calls.map(alone);
      const rng = new Rng(11);
      const schedules = [calls.map(() => 0), calls.map((_, i) => 2 * i), calls.map((_, i) => calls.length - i)];
      for (let s = 0; s < 3; s++) schedules.push(calls.map(() => Math.floor(rng.uniform() * 12)));
      for (const joinAt of schedules) expect(interleaved(calls, joinAt)).toEqual(want);
    });
  }

  it('drops a cancelled request at once and the others finish as if it had never been there', () => {
    const want = ONE_ROW.map(alone);
    const got = interleaved(ONE_ROW, ONE_ROW.map((_, i) => i), new Map([[0, 3], [3, 4]]));
    expect(got[0]).toBe('cancelled');
    expect(got[3]).toBe('cancelled');
    got.forEach((g, i) => {
      if (i !== 0 && i !== 3) expect(g).toEqual(want[i]);
    });
  });
});

describe('generate calls in flight together', () => {
  it('decode in one batch in the worker and each gets what it gets alone, whatever the arrival order', async () => {
    const calls = [...ONE_ROW, ...BEAM];
    const want = calls.map(alone);
    const before = decodeStats(model)?.batchRows.counts ?? [];
    const rng = new Rng(3);
    for (let round = 0; round < 3; round++) {
      const pending = calls.map(async (c, i) => {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(rng.uniform() * 8)));
        return [i, await model.generate(c.src, { ...c.opts, returnScores: true })] as const;
      });
      for (const [i, got] of await Promise.all(pending)) expect(got).toEqual(want[i]);
    }
    // Some steps ran more than one source's rows: the calls were batched, not queued.
    const stats = decodeStats(model)!;
    const multi = stats.batchRows.counts.slice(1).reduce((a, b) => a + b, 0) - before.slice(1).reduce((a, b) => a + b, 0);
    expect(multi).toBeGreaterThan(0);
    expect(stats.batchRows.sum / stats.batchRows.count).toBeGreaterThan(1);
  });
});
