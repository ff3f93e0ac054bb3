/**
 * Batches by token budget, as fairseq and the paper make them ("each training batch contained a set of
 * sentence pairs containing approximately 25000 source tokens and 25000 target tokens", §5.1): pairs of
 * similar length together, so little of a batch is padding, and as many of them as the budget allows.
 *
 * 1. Shuffle the pairs (seeded), then stable-sort them by their longer side, then by source length: ties
 *    keep the shuffled order, so batch contents vary from seed to seed.
 * 2. Walk that order, adding pairs to the batch while rows × (longest side in the batch) stays within
 *    `batchTokens`: the budget counts padding, the tokens a padded [B, L] batch really costs.
 * 3. Shuffle the order of the batches (seeded), so an epoch does not go from short to long.
 *
 * A pair whose longer side alone exceeds the budget gets a batch of its own (so nothing is lost; filter
 * with `filterByLength` first to avoid it). Without `shuffle`, nothing is random: pairs of equal length keep
 * their input order and batches go from short to long.
 */
import { checkBoolean, checkInteger, checkOptions } from '../check.js';
import { InvalidArgumentError } from '../errors.js';
import { Rng } from '../tensor/random.js';
import { checkEncodedPairs, type EncodedPair } from './pairs.js';

export interface BatchByTokensOptions {
  /** The most padded tokens in a batch: rows × the longest source or target, whichever is longer. */
  batchTokens: number;
  /** Shuffle the pairs before sorting and the batches after. Default true. */
  shuffle?: boolean;
  /** Seed of the shuffles: the same seed gives the same batches. Default 0; vary it per epoch. */
  seed?: number;
  /** At most this many pairs per batch, whatever the budget. Default: no limit. */
  maxPairs?: number;
}

export interface PairBatch {
  /** Where each pair is in the input array. */
  indices: number[];
  /** The pairs themselves (the input's arrays, not copies), in the order of `indices`. */
  pairs: EncodedPair[];
  /** The longest source and the longest target in the batch. */
  srcLength: number;
  tgtLength: number;
  /** rows × max(srcLength, tgtLength): what the budget counts. */
  paddedTokens: number;
}

/**
 * The pairs in batches of at most `batchTokens` padded tokens; every pair is in exactly one batch.
 * Deterministic: the same pairs, options and seed give the same batches in the same order.
 *
 * @example
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const batch of data.batchByTokens(encoded, { batchTokens: 4000, seed: epoch })) { … }
 * }
 */
export function batchByTokens(pairs: readonly EncodedPair[], options: BatchByTokensOptions): PairBatch[] {
  checkEncodedPairs(pairs, 'batchByTokens pairs');
  const name = 'batchByTokens options';
  if (options === undefined) throw new InvalidArgumentError(`Expected an options object with batchTokens for ${name} but received undefined`);
  const o = checkOptions<BatchByTokensOptions>(options, name, ['batchTokens', 'shuffle', 'seed', 'maxPairs']);
  const batchTokens = checkInteger(o.batchTokens, `${name}.batchTokens`, 1);
  const shuffle = o.shuffle === undefined ? true : checkBoolean(o.shuffle, `${name}.shuffle`);
  const seed = o.seed === undefined ? 0 : checkInteger(o.seed, `${name}.seed`, 0, 2 ** 32 - 1);
  const maxPairs = o.maxPairs === undefined ? Infinity : checkInteger(o.maxPairs, `${name}.maxPairs`, 1);

  const n = pairs.length;
  const srcLen = new Int32Array(n), tgtLen = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const [src, tgt] = pairs[i]!;
    if (src.length === 0 || tgt.length === 0) {
      throw new InvalidArgumentError(
        `Expected non-empty sequences in batchByTokens pairs but pairs[${i}] has a ${src.length === 0 ? 'source' : 'target'} of no tokens (drop them with filterByLength)`,
      );
    }
    srcLen[i] = src.length;
    tgtLen[i] = tgt.length;
  }
  const rng = new Rng(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  if (shuffle) shuffleInPlace(order, rng);
  const longer = (i: number) => Math.max(srcLen[i]!, tgtLen[i]!);
  order.sort((a, b) => longer(a) - longer(b) || srcLen[a]! - srcLen[b]!); // stable: ties keep the shuffled order

  const batches: PairBatch[] = [];
  let start = 0;
  while (start < n) {
    // Sorted ascending, so the pair being added is the longest so far.
    let end = start + 1;
    while (end < n && end - start < maxPairs && (end - start + 1) * longer(order[end]!) <= batchTokens) end++;
    const indices = order.slice(start, end);
    let srcLength = 0, tgtLength = 0;
    for (const i of indices) {
      srcLength = Math.max(srcLength, srcLen[i]!);
      tgtLength = Math.max(tgtLength, tgtLen[i]!);
    }
    batches.push({ indices, pairs: indices.map((i) => pairs[i]!), srcLength, tgtLength, paddedTokens: indices.length * Math.max(srcLength, tgtLength) });
    start = end;
  }
  if (shuffle) shuffleInPlace(batches, rng);
  return batches;
}

/** Fisher–Yates with the seeded generator (53-bit uniform draws, so no index is noticeably favoured). */
function shuffleInPlace<T>(items: T[], rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}
