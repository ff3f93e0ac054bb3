/**
 * Softmax over the last dimension, max-subtracted. As in PyTorch, a row whose entries are all −inf gives
 * NaN (there is no distribution to return), and −inf entries of any other row give exactly 0 (masking).
 *
 * softmaxForward / softmaxBackward are the pair autograd calls (the forward's output is all backward
 * needs); `naive` selects the reference loops.
 *
 * @example
 * const p = ops.softmax(scores);            // scores [B, H, L, L] → rows summing to 1
 */
import { checkShapeIs, rowsOf } from '../check.js';
import { native } from '../native/binding.js';
import { record } from '../autograd/tape.js';
import { allocateOutput, data, deviceOf, Tensor } from '../tensor/tensor.js';

export function softmaxForward(x: Tensor, naive: boolean): Tensor {
  const xd = data(x, 'x', 'float32');
  const { n, c } = rowsOf(x.shape, 'x');
  const y = allocateOutput(n * c, x.shape, x.device);
  (naive ? native().softmaxForwardNaive : native().softmaxForward)(y, xd, n, c);
  const out = new Tensor(y, x.shape);
  return record(out, [x], (g) => [softmaxBackward(out, g, naive)], 'softmax');
}

/** dx = y ∘ (dy − Σ dy∘y) over each row, given the forward's output y. */
export function softmaxBackward(y: Tensor, dy: Tensor, naive: boolean): Tensor {
  const yd = data(y, 'y', 'float32');
  const dyd = data(dy, 'dy', 'float32');
  const { n, c } = rowsOf(y.shape, 'y');
  checkShapeIs(dy.shape, y.shape, 'dy');
  const dx = allocateOutput(n * c, y.shape, deviceOf('softmaxBackward', { y, dy }));
  (naive ? native().softmaxBackwardNaive : native().softmaxBackward)(dx, dyd, yd, n, c);
  return new Tensor(dx, y.shape);
}

/** Softmax over the last dimension (SIMD, multi-threaded). */
export function softmax(x: Tensor): Tensor {
  return softmaxForward(x, false);
}

/** The same by the reference loops (std::exp, one thread). */
export function softmaxNaive(x: Tensor): Tensor {
  return softmaxForward(x, true);
}
