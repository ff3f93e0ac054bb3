// model.generate / model.stream: the worker thread gives what the same search gives on this thread; the
// event loop keeps turning during a long decode; concurrent calls are safe; abort and leaving a stream
// stop the work and leave the model usable; weights changed on this thread reach the worker; bad
// input is a typed error before any work.
import { describe, expect, it } from 'vitest';

import { resolveOptions } from '../../lib/decode/options.js';
import { decodeStats } from '../../lib/decode/runner.js';
import { searchSync } from '../../lib/decode/search.js';
import {
  AbortError, type GenerateOptions, InvalidArgumentError, noGrad, ops, optim, OutOfRangeError, ShapeError, type Transformer,
} from '../../lib/index.js';
import { randomModel, seq } from './helpers.js';

const small = randomModel({ srcVocabSize: 30, tgtVocabSize: 40, dModel: 32, heads: 4, encoderLayers: 2, decoderLayers: 2, ffnDim: 48, maxLength: 64 }, 51, 0.3, 1);
// Decodes of LONG (2000 steps) are cancelled after a few; the worker reports the steps each one ran.
const big = randomModel({ srcVocabSize: 300, tgtVocabSize: 3000, dModel: 128, heads: 4, encoderLayers: 2, decoderLayers: 3, ffnDim: 512, maxLength: 2048 }, 52, 0.05);
const LONG: GenerateOptions = { maxLength: 2000, minLength: 2000 };
const SOURCES = [seq(3, 4, 5, 6, 7), seq(8, 9), seq(10, 11, 12, 13, 14, 15, 16, 17)];

function onThisThread(model: Transformer, src: Int32Array[], opts: GenerateOptions) {
  const { ids, lengths } = model.srcBatch(src);
  const o = resolveOptions(opts, { maxPositions: model.config.maxLength, tgtVocabSize: model.config.tgtVocabSize }, lengths);
  return noGrad(() => searchSync(model, ids, lengths, o));
}

describe('generate', () => {
  it('gives what the search gives on this thread, for every strategy', async () => {
    for (const opts of [{}, { strategy: 'beam', beamSize: 3 }, { strategy: 'sample', seed: 3, topK: 10 }] as GenerateOptions[]) {
      const want = onThisThread(small, SOURCES, { ...opts, maxLength: 20, returnScores: true });
      expect(await small.generate(SOURCES, { ...opts, maxLength: 20, returnScores: true })).toEqual(want);
      expect(await small.generate(SOURCES, { ...opts, maxLength: 20 })).toEqual(want.map((h) => h[0]!.ids));
    }
    const nBest = await small.generate(SOURCES, { strategy: 'beam', beamSize: 4, nBest: 3, returnScores: true });
    for (const hyps of nBest) expect(hyps).toHaveLength(3);
  });

  it('keeps the event loop turning during a long decode', async () => {
    let turns = 0;
    let running = true;
    const spin = () => { if (running) { turns++; setImmediate(spin); } };
    spin();
    const [ids] = await big.generate([seq(5, 6, 7)], { maxLength: 300, minLength: 300 });
    running = false;
    expect(ids).toHaveLength(300);
    // On the main thread the loop could not turn once during the decode; off it, it turns throughout.
    expect(turns).toBeGreaterThan(100);
  });

  it('runs concurrent calls on one model safely', async () => {
    const calls = SOURCES.map((s, i) => ({ src: [s], opts: { strategy: i === 1 ? 'beam' : 'greedy', maxLength: 15 } as GenerateOptions }));
    const want = calls.map((c) => onThisThread(small, c.src, c.opts).map((h) => h[0]!.ids));
    expect(await Promise.all(calls.map((c) => small.generate(c.src, c.opts)))).toEqual(want);
  });

  it('an abort rejects with an AbortError, stops the work and leaves the model usable', async () => {
    const want = await big.generate([seq(9, 8)], { maxLength: 5 });
    const ac = new AbortController();
    const long = big.generate([seq(5, 6, 7)], { ...LONG, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const err = await long.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as Error).name).toBe('AbortError');
    // Queued behind the aborted decode in the worker, so the worker has reported on it by then.
    expect(await big.generate([seq(9, 8)], { maxLength: 5 })).toEqual(want);
    expect(decodeStats(big)!.lastCancelledSteps).toBeGreaterThanOrEqual(0);
    expect(decodeStats(big)!.lastCancelledSteps).toBeLessThan(1000);
    await expect(big.generate([seq(9, 8)], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  });

  it('sees weights changed on this thread', async () => {
    const other = randomModel(small.config, 53, 0.3, 1);
    const model = randomModel(small.config, 51, 0.3, 1);
    const before = await model.generate(SOURCES, { maxLength: 12, returnScores: true });
    model.loadStateDict(other.stateDict());
    const after = await model.generate(SOURCES, { maxLength: 12, returnScores: true });
    expect(after).toEqual(onThisThread(other, SOURCES, { maxLength: 12, returnScores: true }));
    expect(after).not.toEqual(before);
  });

  it('sees an optimiser step taken on this thread (its packed weights are rebuilt)', async () => {
    const model = randomModel(small.config, 54, 0.3, 1);
    const before = await model.generate(SOURCES, { maxLength: 12, returnScores: true });
    const adam = new optim.Adam(model.parameters(), { lr: 0.05 });
    const v = model.config.tgtVocabSize;
    const loss = ops.crossEntropy(model.forward(SOURCES, SOURCES.map((s) => seq(1, ...s))).reshape([-1, v]), Int32Array.from({ length: 3 * 9 }, (_, i) => 3 + (i % 20)));
    loss.backward();
    adam.step();
    model.eval();
    const after = await model.generate(SOURCES, { maxLength: 12, returnScores: true });
    expect(after).toEqual(onThisThread(model, SOURCES, { maxLength: 12, returnScores: true }));
    expect(after[0]![0]!.logProb).not.toBe(before[0]![0]!.logProb);
  });
});

describe('stream', () => {
  it('yields the ids generate returns, greedy and sampled', async () => {
    for (const opts of [{ maxLength: 20 }, { strategy: 'sample', seed: 4, topP: 0.9, maxLength: 20 }] as GenerateOptions[]) {
      const got: number[] = [];
      for await (const id of small.stream([SOURCES[0]!], opts)) got.push(id);
      expect(got).toEqual((await small.generate([SOURCES[0]!], opts))[0]);
    }
  });

  it('leaving the loop stops the work', async () => {
    const want = await big.generate([seq(9, 8)], { maxLength: 5 });
    const got: number[] = [];
    for await (const id of big.stream([seq(5, 6, 7)], LONG)) {
      got.push(id);
      if (got.length === 3) break;
    }
    expect(got).toHaveLength(3);
    const cancelled = decodeStats(big)!.cancelled;
    expect(await big.generate([seq(9, 8)], { maxLength: 5 })).toEqual(want);
    expect(decodeStats(big)!.cancelled).toBe(cancelled + 1);
    expect(decodeStats(big)!.lastCancelledSteps).toBeLessThan(1000);
  });

  it('an abort ends the loop with an AbortError', async () => {
    const ac = new AbortController();
    const got: number[] = [];
    const run = async () => {
      for await (const id of big.stream([seq(5, 6, 7)], { ...LONG, signal: ac.signal })) {
        got.push(id);
        if (got.length === 2) ac.abort();
      }
    };
    await expect(run()).rejects.toBeInstanceOf(AbortError);
    expect(got).toHaveLength(2);
  });
});

describe('errors before any work', () => {
  const cases: Array<[string, () => Promise<unknown>, new (...a: never[]) => Error, RegExp]> = [
    ['an id outside the vocabulary', () => small.generate([seq(3, 30)]), OutOfRangeError, /\[0, 30\).*src\[0\]\[1\] is 30/],
    ['an empty source', () => small.generate([seq()]), ShapeError, /non-empty sequence/],
    ['beamSize 0', () => small.generate(SOURCES, { strategy: 'beam', beamSize: 0 }), InvalidArgumentError, /beamSize/],
    ['topP 0', () => small.generate(SOURCES, { strategy: 'sample', topP: 0 }), InvalidArgumentError, /topP/],
    ['topP above 1', () => small.generate(SOURCES, { strategy: 'sample', topP: 1.5 }), InvalidArgumentError, /topP/],
    ['minLength above maxLength', () => small.generate(SOURCES, { minLength: 9, maxLength: 8 }), InvalidArgumentError, /minLength/],
    ['an unknown strategy', () => small.generate(SOURCES, { strategy: 'nucleus' as 'sample' }), InvalidArgumentError, /strategy/],
    ['an unknown option', () => small.generate(SOURCES, { beamsize: 2 } as GenerateOptions), InvalidArgumentError, /Unknown option 'beamsize'/],
    ['an option of another strategy', () => small.generate(SOURCES, { topK: 5 }), InvalidArgumentError, /topK applies to strategy 'sample'/],
    ['nBest above beamSize', () => small.generate(SOURCES, { strategy: 'beam', beamSize: 2, nBest: 3, returnScores: true }), InvalidArgumentError, /nBest/],
    ['a prefix id outside the vocabulary', () => small.generate([SOURCES[0]!], { prefix: [[1, 40]] }), OutOfRangeError, /prefix\[0\]\[1\] is the number 40/],
    ['maxLength beyond the model', () => small.generate(SOURCES, { maxLength: 65 }), InvalidArgumentError, /maxLength/],
    ['a signal that is not one', () => small.generate(SOURCES, { signal: {} as AbortSignal }), InvalidArgumentError, /AbortSignal/],
    ['a stream of two sources', () => small.stream(SOURCES.slice(0, 2)).next(), InvalidArgumentError, /one source/],
    ['a beam stream', () => small.stream([SOURCES[0]!], { strategy: 'beam' }).next(), InvalidArgumentError, /greedy' or 'sample'/],
  ];
  it.each(cases)('%s', async (_, call, cls, message) => {
    const err = await call().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect((err as Error).message).toMatch(message);
  });
});
