/**
 * Shape ops, differentiable: `reshape` (a view: the same storage, no copy), `transpose` / `permute` (a
 * contiguous copy by the native strided copy), `sliceRows` (a view of consecutive rows along dim 0) and
 * `detach` (a view without history).
 *
 * @example
 * const heads = x.reshape([B, L, H, D]).transpose(1, 2);   // [B, H, L, D]
 * const wq = sliceRows(inProjWeight, 0, dModel);           // the first dModel rows, no copy
 */
import { checkInteger, checkShape, fail, formatShape } from '../check.js';
import { ShapeError } from '../errors.js';
import { record } from '../autograd/tape.js';
import { allocate, data, type Storage, Tensor, writeAt } from '../tensor/tensor.js';
import { permute as permuteCopy } from './strided_copy.js';

function storage(x: Tensor, name: string): Storage {
  return x.dtype === 'float32' ? data(x, name, 'float32') : data(x, name, 'int32');
}

/** The same elements seen with `shape` (one entry may be −1: whatever makes the sizes agree). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const xd = storage(x, 'x');
  if (!Array.isArray(shape)) fail('an array of dimensions', 'shape', shape);
  const inferred = shape.indexOf(-1);
  if (inferred !== shape.lastIndexOf(-1)) throw new ShapeError(`Only one dimension of ${formatShape(shape)} can be −1`);
  let target = shape.slice();
  if (inferred >= 0) {
    const rest = shape.reduce((a, d, i) => (i === inferred ? a : a * d), 1);
    if (rest === 0 || x.size % rest !== 0) {
      throw new ShapeError(`Cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`);
    }
    target[inferred] = x.size / rest;
  }
  const { shape: s, size } = checkShape(target);
  target = s as number[];
  if (size !== x.size) throw new ShapeError(`Cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`);
  const out = new Tensor(xd, s);
  return record(out, [x], (g) => [reshape(g, x.shape)], 'reshape');
}

/** A contiguous copy with result.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const out = permuteCopy(x, perm);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return record(out, [x], (g) => [permuteCopy(g, inverse)], 'permute');
}

/** A contiguous copy with dimensions a and b swapped (negative counts from the end). */
export function transpose(x: Tensor, a: number, b: number): Tensor {
  const rank = x.rank;
  if (rank === 0) throw new ShapeError('transpose needs a tensor of rank ≥ 1 but received a scalar');
  const ia = checkInteger(a, 'a', -rank, rank - 1), ib = checkInteger(b, 'b', -rank, rank - 1);
  const perm = x.shape.map((_, i) => i);
  const pa = ia < 0 ? ia + rank : ia, pb = ib < 0 ? ib + rank : ib;
  perm[pa] = pb;
  perm[pb] = pa;
  return permute(x, perm);
}

/** Rows [start, start + count) of x along dim 0, as a view of x's storage. */
export function sliceRows(x: Tensor, start: number, count: number): Tensor {
  const xd = storage(x, 'x');
  if (x.rank === 0) throw new ShapeError('sliceRows needs a tensor of rank ≥ 1 but received a scalar');
  const rows = x.shape[0]!;
  checkInteger(start, 'start', 0, rows);
  checkInteger(count, 'count', 0, rows - start);
  const width = rows === 0 ? 0 : x.size / rows;
  const shape = Object.freeze([count, ...x.shape.slice(1)]);
  const out = new Tensor(xd.subarray(start * width, (start + count) * width), shape);
  return record(out, [x], (g) => {
    const dx = allocate('float32', x.size, x.shape, x.device);
    writeAt(dx, data(g, 'gradient', 'float32'), start * width);
    return [new Tensor(dx, x.shape)];
  }, 'sliceRows');
}

/** x's storage without its history: gradients stop here. */
export function detach(x: Tensor): Tensor {
  const xd = storage(x, 'x');
  if (x.gradFn === null && !x.requiresGrad) return x;
  return new Tensor(xd, x.shape);
}

