/**
 * A batch of encoded pairs as the training step consumes it: padded row-major [rows, length] int32 ids.
 * Teacher forcing splits each target `<bos> y1 … yn <eos>` into the decoder's input `<bos> y1 … yn` and the
 * tokens it learns to predict, `y1 … yn <eos>`; padding is `padId` in both, so a loss with
 * `ignoreIndex: padId` skips it.
 */
import { checkInteger, checkOptions, describe, fail } from '../check.js';
import { InvalidArgumentError, OutOfRangeError } from '../errors.js';
import type { PairBatch } from './batch.js';

export interface PrepareBatchOptions {
  /** Default 0, this package's `<pad>` (the Transformer's default `padId`). */
  padId?: number;
}

export interface PreparedBatch {
  /** Where each row's pair is in the array given to `batchByTokens`. */
  indices: number[];
  rows: number;
  /** [rows, srcShape[1]] source ids, padded with padId. */
  src: Int32Array;
  srcShape: [rows: number, length: number];
  /** The real length of each source. */
  srcLengths: Int32Array;
  /** [rows, tgtShape[1]] decoder input: each target without its last token, padded. */
  tgtIn: Int32Array;
  /** [rows, tgtShape[1]] the ids to predict: each target without its first token, padded with padId. */
  tgtOut: Int32Array;
  /** Longest target minus one. */
  tgtShape: [rows: number, length: number];
  /** The real length of each decoder input (each target's length minus one). */
  tgtLengths: Int32Array;
  /** Tokens predicted in this batch (Σ tgtLengths): what a per-token loss averages over. */
  targetTokens: number;
}

/**
 * The padded id arrays of `batch` (a few microseconds per thousand tokens). Each target needs at least two
 * tokens (something to predict); ids must be non-negative integers (the model checks their range).
 *
 * @example
 * const b = data.prepareBatch(batch);
 * const logits = model.forward(tensor(b.src, b.srcShape), tensor(b.tgtIn, b.tgtShape));
 * const loss = ops.crossEntropy(logits.reshape([-1, vocab]), b.tgtOut, { ignoreIndex: 0 });
 */
export function prepareBatch(batch: PairBatch, options: PrepareBatchOptions = {}): PreparedBatch {
  const o = checkOptions<PrepareBatchOptions>(options, 'prepareBatch options', ['padId']);
  const padId = o.padId === undefined ? 0 : checkInteger(o.padId, 'prepareBatch options.padId', 0, 2 ** 31 - 1);
  if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.pairs) || !Array.isArray(batch.indices)) {
    fail('a batch from batchByTokens', 'prepareBatch batch', batch);
  }
  const { pairs, indices } = batch;
  const rows = pairs.length;
  if (rows === 0) throw new InvalidArgumentError('Expected a batch of at least one pair for prepareBatch batch but received none');
  let srcLength = 0, tgtLength = 0;
  pairs.forEach(([src, tgt], r) => {
    if (src.length === 0) throw new InvalidArgumentError(`Expected a non-empty source in row ${r} of prepareBatch batch (pair ${indices[r]}) but it has no tokens`);
    if (tgt.length < 2) {
      throw new InvalidArgumentError(
        `Expected a target of at least 2 tokens (<bos> … <eos>) in row ${r} of prepareBatch batch (pair ${indices[r]}) but received ${tgt.length}`,
      );
    }
    srcLength = Math.max(srcLength, src.length);
    tgtLength = Math.max(tgtLength, tgt.length - 1);
  });
  const src = new Int32Array(rows * srcLength).fill(padId);
  const tgtIn = new Int32Array(rows * tgtLength).fill(padId);
  const tgtOut = new Int32Array(rows * tgtLength).fill(padId);
  const srcLengths = new Int32Array(rows), tgtLengths = new Int32Array(rows);
  let targetTokens = 0;
  for (let r = 0; r < rows; r++) {
    const [s, t] = pairs[r]!;
    copyIds(s, src, r * srcLength, 0, s.length, r, indices[r], 'source');
    copyIds(t, tgtIn, r * tgtLength, 0, t.length - 1, r, indices[r], 'target');
    copyIds(t, tgtOut, r * tgtLength, 1, t.length, r, indices[r], 'target');
    srcLengths[r] = s.length;
    tgtLengths[r] = t.length - 1;
    targetTokens += t.length - 1;
  }
  return {
    indices: indices.slice(), rows, src, srcShape: [rows, srcLength], srcLengths,
    tgtIn, tgtOut, tgtShape: [rows, tgtLength], tgtLengths, targetTokens,
  };
}

function copyIds(
  ids: readonly number[], out: Int32Array, at: number, from: number, to: number, row: number, pair: number | undefined, side: string,
): void {
  for (let j = from; j < to; j++) {
    const id = ids[j]!;
    // `(id | 0) === id` is true exactly for integers in [-2^31, 2^31): with id ≥ 0, an int32 token id.
    if ((id | 0) !== id || id < 0) {
      throw new OutOfRangeError(`Expected token ids that are non-negative integers but the ${side} of pair ${pair} (row ${row}) holds ${describe(id)} at ${j}`);
    }
    out[at + j - from] = id;
  }
}
