/**
 * The affine map of a Linear layer, y = x·Wᵀ + b, over the last dimension: x [..., in], weight [out, in]
 * (PyTorch's layout), bias [out] or null. Fused: the GEMM adds the bias as it stores each tile of y, so
 * the bias costs no pass over y of its own. All of x's rows go through one GEMM. Backward: dx = g·W and dW = gᵀ·x (one GEMM each over all rows), db = Σ g.
 *
 * @example
 * const h = ops.linear(x, w, b);   // x [B, L, 512], w [2048, 512], b [2048] → [B, L, 2048]
 */
import { formatShape } from '../check.js';
import { ShapeError } from '../errors.js';
import { record } from '../autograd/tape.js';
import { native } from '../native/binding.js';
import { allocate, allocateOutput, data, deviceOf, Tensor } from '../tensor/tensor.js';
import { addBiasBackward, addBiasBackwardNaive } from './add.js';

function forward(naive: boolean, x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const xd = data(x, 'x', 'float32');
  const wd = data(weight, 'weight', 'float32');
  const bd = bias === null ? null : data(bias, 'bias', 'float32');
  const device = deviceOf('linear', { x, weight, bias });
  const inF = x.shape[x.rank - 1];
  if (x.rank === 0 || weight.rank !== 2 || weight.shape[1] !== inF) {
    throw new ShapeError(`Expected x [..., in] and weight [out, in] but received x ${formatShape(x.shape)} and weight ${formatShape(weight.shape)}`);
  }
  const [outF] = weight.shape as [number, number];
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError(`Expected bias [${outF}] for weight ${formatShape(weight.shape)} but received ${formatShape(bias.shape)}`);
  }
  const rows = x.size / inF!;
  const shape = Object.freeze([...x.shape.slice(0, -1), outF]);
  const y = allocateOutput(rows * outF, shape, device);
  if (rows > 0) (naive ? native().matmulForwardNaive : native().matmulForward)(y, xd, wd, rows, inF!, outF, false, true, false, 1, null, null, bd);
  const out = new Tensor(y, shape);
  return record(out, bias === null ? [x, weight] : [x, weight, bias], (g) => {
    const dx = x.requiresGrad ? allocate('float32', x.size, x.shape, device) : null;
    const dw = weight.requiresGrad ? allocate('float32', weight.size, weight.shape, device) : null;
    if (rows > 0 && (dx || dw)) {
      (naive ? native().matmulBackwardNaive : native().matmulBackward)(
        dx, dw, data(g, 'gradient', 'float32'), xd, wd, rows, inF!, outF, false, true, 1, null, null);
    }
    const grads = [dx && new Tensor(dx, x.shape), dw && new Tensor(dw, weight.shape)];
    if (bias !== null) grads.push(bias.requiresGrad ? (naive ? addBiasBackwardNaive : addBiasBackward)(g) : null);
    return grads;
  }, 'linear');
}

/** x·Wᵀ + b (b optional: pass null) with the bias fused into the GEMM; differentiable. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return forward(false, x, weight, bias);
}

/** {@link linear} by the reference triple loop. */
export function linearNaive(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return forward(true, x, weight, bias);
}
