// batchByTokens invariants on random inputs: every pair exactly once, the padded size within the budget (a
// pair over it alone), batches of similar lengths, reproducible for a seed and different across seeds.
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { data } from '../../lib/index.js';
import { Rng } from '../../lib/tensor/random.js';

/** `count` pairs with lengths 1 to `maxLength`, a few of them far longer when `outliers`. */
function randomPairs(seed: number, count: number, maxLength: number, outliers = 0): data.EncodedPair[] {
  const rng = new Rng(seed);
  const len = (n: number) => 1 + (rng.nextUint32() % n);
  const pairs = Array.from({ length: count }, (): data.EncodedPair => {
    const s = len(maxLength);
    const t = Math.max(1, Math.round(s * (0.7 + 0.6 * rng.uniform()))); // targets near their source's length
    return [Array(s).fill(5), Array(t).fill(6)];
  });
  for (let k = 0; k < outliers; k++) pairs[rng.nextUint32() % count] = [Array(len(3000)).fill(5), Array(len(3000)).fill(6)];
  return pairs;
}

const longer = ([s, t]: data.EncodedPair) => Math.max(s.length, t.length);

/** Checks every invariant of one call; returns the batches. */
function checkBatches(pairs: data.EncodedPair[], options: data.BatchByTokensOptions): data.PairBatch[] {
  const batches = data.batchByTokens(pairs, options);
  const seen = new Uint8Array(pairs.length);
  for (const b of batches) {
    expect(b.pairs.length).toBeGreaterThan(0);
    expect(b.pairs.length).toBe(b.indices.length);
    b.indices.forEach((i, r) => {
      expect(b.pairs[r]).toBe(pairs[i]);
      seen[i]!++;
    });
    const srcLength = Math.max(...b.pairs.map((p) => p[0].length));
    const tgtLength = Math.max(...b.pairs.map((p) => p[1].length));
    expect([b.srcLength, b.tgtLength, b.paddedTokens]).toEqual([srcLength, tgtLength, b.pairs.length * Math.max(srcLength, tgtLength)]);
    if (b.paddedTokens > options.batchTokens) {
      // Only a pair that alone is over the budget.
      expect(b.pairs.length).toBe(1);
      expect(longer(b.pairs[0]!)).toBeGreaterThan(options.batchTokens);
    }
    if (options.maxPairs !== undefined) expect(b.pairs.length).toBeLessThanOrEqual(options.maxPairs);
  }
  const counts = [...seen];
  expect(counts.filter((c) => c !== 1), 'pairs seen other than once').toEqual([]);
  // Similar lengths together: the batches' ranges of (longer side) lengths do not interleave.
  const ranges = batches.map((b) => [Math.min(...b.pairs.map(longer)), Math.max(...b.pairs.map(longer))] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  for (let k = 1; k < ranges.length; k++) expect(ranges[k]![0]).toBeGreaterThanOrEqual(ranges[k - 1]![1]);
  return batches;
}

const order = (batches: data.PairBatch[]) => batches.map((b) => b.indices.join(',')).join(' | ');

describe('batchByTokens', () => {
  it('holds every invariant on random inputs, budgets and seeds', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 60; trial++) {
      const pairs = randomPairs(trial, 1 + (rng.nextUint32() % 400), 1 + (rng.nextUint32() % 120), rng.nextUint32() % 4);
      const batchTokens = 1 + (rng.nextUint32() % 3000);
      const maxPairs = rng.nextUint32() % 3 === 0 ? 1 + (rng.nextUint32() % 50) : undefined;
      checkBatches(pairs, { batchTokens, seed: rng.nextUint32(), shuffle: rng.nextUint32() % 4 !== 0, ...(maxPairs && { maxPairs }) });
    }
  });

  it('fills batches close to the budget, with little padding', () => {
    const pairs = randomPairs(1, 20_000, 100);
    const batches = checkBatches(pairs, { batchTokens: 4000, seed: 0 });
    const real = pairs.reduce((n, p) => n + longer(p), 0);
    const padded = batches.reduce((n, b) => n + b.paddedTokens, 0);
    expect(real / padded).toBeGreaterThan(0.98); // what sorting by length buys (random batches: about 0.5)
    expect(padded / batches.length).toBeGreaterThan(0.95 * 4000);
  });

  it('the same seed gives the same batches; another seed, another order and other batches', () => {
    const pairs = randomPairs(2, 2000, 60);
    const a = checkBatches(pairs, { batchTokens: 1000, seed: 7 });
    expect(order(data.batchByTokens(pairs, { batchTokens: 1000, seed: 7 }))).toBe(order(a));
    const b = checkBatches(pairs, { batchTokens: 1000, seed: 8 });
    expect(order(b)).not.toBe(order(a));
    // Not only the batch order: ties in length are broken by the shuffle, so contents differ too.
    const contents = (bs: data.PairBatch[]) => bs.map((x) => [...x.indices].sort((i, j) => i - j).join(',')).sort();
    expect(contents(b)).not.toEqual(contents(a));
    // Batch order is shuffled: not sorted by length.
    const lengths = a.map((x) => x.srcLength);
    expect(lengths).not.toEqual([...lengths].sort((x, y) => x - y));
  });

  it('without shuffle: no randomness, shortest batches first, equal lengths in input order', () => {
    const pairs: data.EncodedPair[] = [[[1, 2, 3], [1, 2]], [[1], [1]], [[1, 2, 3], [1, 2, 3]], [[1, 2], [1]], [[1, 2, 3], [1]]];
    const batches = checkBatches(pairs, { batchTokens: 6, shuffle: false });
    expect(batches.map((b) => b.indices)).toEqual([[1, 3], [0, 2], [4]]);
    expect(order(data.batchByTokens(pairs, { batchTokens: 6, shuffle: false, seed: 99 }))).toBe(order(batches));
  });

  it('gives a pair over the budget a batch of its own', () => {
    const pairs: data.EncodedPair[] = [[[1, 2], [1, 2]], [Array(50).fill(1), [1]], [[1], [1, 2, 3]]];
    const batches = checkBatches(pairs, { batchTokens: 10, shuffle: false });
    expect(batches.map((b) => b.indices)).toEqual([[0, 2], [1]]);
    expect(batches[1]!.paddedTokens).toBe(50);
    expect(data.batchByTokens([], { batchTokens: 10 })).toEqual([]);
  });

  it('rejects bad arguments', () => {
    const pairs = randomPairs(3, 10, 5);
    const bad: Array<[unknown, unknown, string]> = [
      [pairs, undefined, 'Expected an options object with batchTokens for batchByTokens options but received undefined'],
      [pairs, {}, 'Expected an integer ≥ 1 for batchByTokens options.batchTokens but received undefined'],
      [pairs, { batchTokens: 100, seed: -1 }, 'batchByTokens options.seed'],
      [pairs, { batchTokens: 100, shuffle: 1 }, 'Expected a boolean for batchByTokens options.shuffle'],
      [pairs, { batchTokens: 100, maxPairs: 0 }, 'batchByTokens options.maxPairs'],
      [pairs, { batchTokens: 100, batchSize: 4 }, "Unknown option 'batchSize' in batchByTokens options"],
      [[[[1], []]], { batchTokens: 100 }, 'pairs[0] has a target of no tokens (drop them with filterByLength)'],
      [[[[1], [2]], 'x'], { batchTokens: 100 }, 'Expected a [source ids, target ids] pair for batchByTokens pairs[1]'],
    ];
    for (const [p, o, message] of bad) {
      expect(() => data.batchByTokens(p as data.EncodedPair[], o as data.BatchByTokensOptions), message).toThrow(InvalidArgumentError);
      expect(() => data.batchByTokens(p as data.EncodedPair[], o as data.BatchByTokensOptions)).toThrow(message);
    }
  });
});
