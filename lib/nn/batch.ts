/**
 * Batches of token sequences: arrays of unequal length become one padded [B, L] int32 tensor plus the
 * real length of each row (what every attention masks its keys with).
 */
import { describe, fail, formatShape } from '../check.js';
import { OutOfRangeError, ShapeError } from '../errors.js';
import type { Device } from '../backend.js';
import { cpuData, data, onDevice, Tensor } from '../tensor/tensor.js';

/** Sequences of token ids: arrays (padded here) or an already padded [B, L] int32 tensor. */
export type TokenBatch = ReadonlyArray<Int32Array | readonly number[]> | Tensor;

export interface PaddedBatch {
  /** [B, L] int32, padded with padId. */
  ids: Tensor;
  /** The real length of each row. */
  lengths: Int32Array;
}

/**
 * Pads `batch` to its longest sequence with `padId`, checking every id is in [0, vocabSize) and every
 * sequence has 1 to maxLength tokens. A tensor's row length is the position after its last non-pad id.
 * The ids are placed on `device` (the model's).
 */
export function padBatch(
  batch: TokenBatch, padId: number, vocabSize: number, maxLength: number, name: string, device: Device,
): PaddedBatch {
  let rows: Array<ArrayLike<number>>;
  if (batch instanceof Tensor) {
    data(batch, name, 'int32');
    const ids = batch.device === 'cpu' ? cpuData(batch, name, 'int32') : batch.toInt32Array();
    if (batch.rank !== 2) throw new ShapeError(`Expected a [B, L] int32 tensor for ${name} but received ${formatShape(batch.shape)}`);
    const [b, l] = batch.shape as [number, number];
    rows = Array.from({ length: b }, (_, i) => {
      let len = l;
      while (len > 0 && ids[i * l + len - 1] === padId) len--;
      return ids.subarray(i * l, i * l + len);
    });
  } else {
    if (!Array.isArray(batch)) fail('an array of token sequences or a [B, L] int32 tensor', name, batch);
    rows = batch as Array<ArrayLike<number>>;
  }
  if (rows.length === 0) throw new ShapeError(`Expected at least one sequence in ${name} but received none`);
  let longest = 0;
  rows.forEach((r, i) => {
    if (!(r instanceof Int32Array) && !Array.isArray(r)) fail('an Int32Array or an array of token ids', `${name}[${i}]`, r);
    if (r.length === 0) throw new ShapeError(`Expected a non-empty sequence for ${name}[${i}] but it has no tokens`);
    if (r.length > maxLength) {
      throw new OutOfRangeError(`Expected at most maxLength ${maxLength} tokens in ${name}[${i}] but it has ${r.length}`);
    }
    longest = Math.max(longest, r.length);
  });
  const ids = new Int32Array(rows.length * longest).fill(padId);
  const lengths = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    for (let j = 0; j < r.length; j++) {
      const id = r[j];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new OutOfRangeError(`Expected token ids in [0, ${vocabSize}) but ${name}[${i}][${j}] is ${typeof id === 'number' ? id : describe(id)}`);
      }
      ids[i * longest + j] = id;
    }
    lengths[i] = r.length;
  });
  return { ids: new Tensor(onDevice(ids, device), Object.freeze([rows.length, longest])), lengths };
}
