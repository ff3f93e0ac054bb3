/**
 * Additions: `add(a, b)` of two tensors of one shape (the residual connection) and `addBias(x, bias)`,
 * a bias [C] broadcast over the leading dimensions of x [..., C] (a Linear layer's bias). For autograd:
 * the backward of `add` hands dy to both inputs unchanged; the backward of `addBias` is dx = dy and
 * {@link addBiasBackward}(dy) for the bias.
 *
 * @example
 * const h = ops.add(x, ops.dropout(sublayer, { p: 0.1, seed }));   // residual: x + Dropout(sublayer(x))
 * const y = ops.addBias(ops.matmul(x, w, { transB: true }), b);    // x·wᵀ + b
 */
import { checkShapeIs, formatShape } from '../check.js';
import { ShapeError } from '../errors.js';
import { native, type NativeBinding } from '../native/binding.js';
import { record } from '../autograd/tape.js';
import { allocate, allocateOutput, data, deviceOf, Tensor } from '../tensor/tensor.js';

/** x [..., C] seen as a [rows, cols] matrix; a rank-0 tensor is one element. */
export function rowsCols(shape: readonly number[]): { rows: number; cols: number } {
  if (shape.length === 0) return { rows: 1, cols: 1 };
  return { rows: shape.slice(0, -1).reduce((a, b) => a * b, 1), cols: shape[shape.length - 1]! };
}

/** Checks that `bias` is a vector as long as the last dimension of x, and gives the [rows, cols] view of x. */
export function biasLayout(x: Tensor, bias: Tensor): { rows: number; cols: number } {
  const c = x.shape[x.shape.length - 1];
  if (c === undefined || bias.shape.length !== 1 || bias.shape[0] !== c) {
    throw new ShapeError(
      `Expected bias of shape [C] for x of shape [..., C] but received x ${formatShape(x.shape)} and bias ${formatShape(bias.shape)}`,
    );
  }
  return rowsCols(x.shape);
}

function addBiasWith(naive: boolean, x: Tensor, bias: Tensor): Tensor {
  const xd = data(x, 'x', 'float32');
  const bd = data(bias, 'bias', 'float32');
  const { rows, cols } = biasLayout(x, bias);
  const y = allocateOutput(xd.length, x.shape, deviceOf('addBias', { x, bias }));
  (naive ? native().addBiasForwardNaive : native().addBiasForward)(y, xd, bd, rows, cols);
  return record(new Tensor(y, x.shape), [x, bias], (g) => [g, naive ? addBiasBackwardNaive(g) : addBiasBackward(g)], 'addBias');
}

/** x + bias with bias [C] broadcast over the leading dimensions of x [..., C]; SIMD, multi-threaded. */
export function addBias(x: Tensor, bias: Tensor): Tensor {
  return addBiasWith(false, x, bias);
}

/** {@link addBias} by a plain loop. */
export function addBiasNaive(x: Tensor, bias: Tensor): Tensor {
  return addBiasWith(true, x, bias);
}

function addBiasBackwardWith(fn: NativeBinding['addBiasBackward'], dy: Tensor): Tensor {
  const dyd = data(dy, 'dy', 'float32');
  if (dy.shape.length === 0) throw new ShapeError('Expected dy of shape [..., C] for addBiasBackward but received a scalar');
  const { rows, cols } = rowsCols(dy.shape);
  const shape = Object.freeze([cols]);
  const db = allocate('float32', cols, shape, dy.device);
  fn(db, dyd, rows, cols);
  return new Tensor(db, shape);
}

/**
 * @internal The bias gradient of {@link addBias}: the sums of dy [..., C] over its leading dimensions, a
 * new [C] tensor (summed in fixed chunks, so the same bits with any thread count).
 */
export function addBiasBackward(dy: Tensor): Tensor {
  return addBiasBackwardWith(native().addBiasBackward, dy);
}

/** @internal {@link addBiasBackward} by a plain loop over the rows in order. */
export function addBiasBackwardNaive(dy: Tensor): Tensor {
  return addBiasBackwardWith(native().addBiasBackwardNaive, dy);
}

function addWith(fn: NativeBinding['addForward'], a: Tensor, b: Tensor): Tensor {
  const ad = data(a, 'a', 'float32');
  const bd = data(b, 'b', 'float32');
  checkShapeIs(b.shape, a.shape, 'b', 'a');
  const y = allocateOutput(ad.length, a.shape, deviceOf('add', { a, b }));
  fn(y, ad, bd, ad.length);
  return record(new Tensor(y, a.shape), [a, b], (g) => [g, g], 'add');
}

/** a + b for two tensors of the same shape (no broadcasting: use {@link addBias} for a bias). */
export function add(a: Tensor, b: Tensor): Tensor {
  return addWith(native().addForward, a, b);
}

/** {@link add} by a plain loop. */
export function addNaive(a: Tensor, b: Tensor): Tensor {
  return addWith(native().addForwardNaive, a, b);
}
