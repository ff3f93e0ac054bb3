/**
 * Token embedding: `embedding(weight, ids)` gathers rows of a table weight [V, C] for int32 ids of any
 * shape [...S] and returns [...S, C]. Every id is checked: one outside [0, V) is an OutOfRangeError naming
 * its position and value.
 *
 * For autograd (issue 4): the forward saves ids; {@link embeddingBackward}(dWeight, ids, dOut, paddingIdx?)
 * adds dOut's rows into dWeight in place (dWeight[ids[i]] += dOut[i]), in the order of the ids whatever the
 * thread count, and leaves the row of `paddingIdx` without gradient (PyTorch's padding_idx).
 *
 * @example
 * const tokens = tensor(new Int32Array([5, 9, 2, 0]), [2, 2]);
 * const e = ops.embedding(table, tokens);   // table [V, 512] → e [2, 2, 512]
 */
import { checkInteger, checkShapeIs, formatShape } from '../check.js';
import { OutOfRangeError, ShapeError } from '../errors.js';
import { native, type NativeBinding } from '../native/binding.js';
import { record } from '../autograd/tape.js';
import { deviceClone } from '../tensor/device_array.js';
import { allocate, allocateOutput, data, deviceOf, type I32, Tensor } from '../tensor/tensor.js';

/** The table's [V, C], after checking that it is a matrix and every id lies in [0, V). */
// Ids on the GPU are checked by the kernel, which reports the first bad position.
function checkTable(weight: Tensor, name: string, ids: Tensor, idData: I32): { vocab: number; cols: number } {
  if (weight.shape.length !== 2) {
    throw new ShapeError(`Expected a matrix [V, C] for ${name} but received shape ${formatShape(weight.shape)}`);
  }
  const [vocab, cols] = weight.shape as [number, number];
  if (!(idData instanceof Int32Array)) return { vocab, cols };
  for (let i = 0; i < idData.length; i++) {
    const id = idData[i]!;
    if (id < 0 || id >= vocab) {
      const at = ids.shape.length > 1 ? ` (at ${formatShape(unravel(i, ids.shape))})` : '';
      throw new OutOfRangeError(`Expected ids in [0, ${vocab}) for a vocabulary of ${vocab} but ids[${i}]${at} is ${id}`);
    }
  }
  return { vocab, cols };
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out = shape.map(() => 0);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = index % shape[d]!;
    index = Math.floor(index / shape[d]!);
  }
  return out;
}

function forward(naive: boolean, weight: Tensor, ids: Tensor): Tensor {
  const wd = data(weight, 'weight', 'float32');
  const idd = data(ids, 'ids', 'int32');
  const device = deviceOf('embedding', { weight, ids });
  const { vocab, cols } = checkTable(weight, 'weight', ids, idd);
  const shape = Object.freeze([...ids.shape, cols]);
  const out = allocateOutput(idd.length * cols, shape, device);
  (naive ? native().embeddingForwardNaive : native().embeddingForward)(out, wd, idd, vocab, cols);
  // The ids are copied so that a caller reusing its array cannot change what backward scatters to.
  const idsAtForward = new Tensor(idd instanceof Int32Array ? idd.slice() : deviceClone(idd), ids.shape);
  return record(new Tensor(out, shape), [weight], (g) => {
    const dWeight = new Tensor(allocate('float32', weight.size, weight.shape, device), weight.shape);
    (naive ? embeddingBackwardNaive : embeddingBackward)(dWeight, idsAtForward, g);
    return [dWeight];
  }, 'embedding');
}

/** The rows of weight [V, C] at ids [...S] (int32): a new [...S, C] tensor. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  return forward(false, weight, ids);
}

/** {@link embedding} element by element. */
export function embeddingNaive(weight: Tensor, ids: Tensor): Tensor {
  return forward(true, weight, ids);
}

function backward(fn: NativeBinding['embeddingBackward'], dWeight: Tensor, ids: Tensor, dOut: Tensor, paddingIdx: number | undefined): void {
  const dwd = data(dWeight, 'dWeight', 'float32');
  const idd = data(ids, 'ids', 'int32');
  const dod = data(dOut, 'dOut', 'float32');
  deviceOf('embeddingBackward', { dWeight, ids, dOut });
  const { vocab, cols } = checkTable(dWeight, 'dWeight', ids, idd);
  checkShapeIs(dOut.shape, [...ids.shape, cols], 'dOut', `ids ${formatShape(ids.shape)} by the ${cols} columns of dWeight`);
  const pad = paddingIdx === undefined ? null : checkInteger(paddingIdx, 'paddingIdx', 0, vocab - 1);
  fn(dwd, idd, dod, vocab, cols, pad);
}

/**
 * @internal dWeight[ids[i], :] += dOut[i, :] in place, skipping ids equal to `paddingIdx`. dWeight is
 * [V, C] and dOut [...ids.shape, C]; the sum follows the order of the ids, so the result does not depend on
 * the thread count.
 */
export function embeddingBackward(dWeight: Tensor, ids: Tensor, dOut: Tensor, paddingIdx?: number): void {
  backward(native().embeddingBackward, dWeight, ids, dOut, paddingIdx);
}

/** @internal {@link embeddingBackward} element by element. */
export function embeddingBackwardNaive(dWeight: Tensor, ids: Tensor, dOut: Tensor, paddingIdx?: number): void {
  backward(native().embeddingBackwardNaive, dWeight, ids, dOut, paddingIdx);
}
