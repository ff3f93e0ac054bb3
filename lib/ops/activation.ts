/**
 * Activations of the feed-forward block: `relu(x)`, `gelu(x)` (the exact erf form, PyTorch's
 * `approximate='none'`), and `biasRelu(x, bias)` / `biasGelu(x, bias)`, which compute f(x + bias) with a
 * bias [C] broadcast over x [..., C] in the same pass (the FFN's first Linear, then its activation). Any
 * shape, float32; the result has x's shape.
 *
 * For autograd (issue 4): each forward saves only its inputs (x, and bias), and the backwards below
 * recompute f' from them: {@link reluBackward}, {@link geluBackward} give dx = dy·f'(x);
 * {@link biasReluBackward}, {@link biasGeluBackward} give dx = dy·f'(x + bias) and dBias = Σ dx over the
 * leading dimensions. Every function has a `…Naive` twin running the reference loops.
 *
 * @example
 * const h = ops.biasGelu(ops.matmul(x, w1, { transB: true }), b1);   // GELU(x·w1ᵀ + b1)
 * const r = ops.relu(tensor([-1, 0, 2], [3]));                         // [0, 0, 2]
 */
import { checkShapeIs } from '../check.js';
import { type ActivationKind, native, type NativeBinding } from '../native/binding.js';
import { record } from '../autograd/tape.js';
import { allocate, allocateOutput, data, deviceOf, Tensor } from '../tensor/tensor.js';
import { biasLayout, rowsCols } from './add.js';

interface Kernels {
  forward: NativeBinding['activationForward'];
  backward: NativeBinding['activationBackward'];
}

const kernels = (naive: boolean): Kernels => {
  const nb = native();
  return naive
    ? { forward: nb.activationForwardNaive, backward: nb.activationBackwardNaive }
    : { forward: nb.activationForward, backward: nb.activationBackward };
};

function forward(kind: ActivationKind, naive: boolean, x: Tensor, bias: Tensor | null): Tensor {
  const xd = data(x, 'x', 'float32');
  const bd = bias === null ? null : data(bias, 'bias', 'float32');
  const { rows, cols } = bias === null ? rowsCols(x.shape) : biasLayout(x, bias);
  const y = allocateOutput(xd.length, x.shape, deviceOf(kind, { x, bias }));
  kernels(naive).forward(y, xd, bd, rows, cols, kind);
  const out = new Tensor(y, x.shape);
  if (bias === null) return record(out, [x], (g) => [backward(kind, naive, x, null, g).dx], kind);
  return record(out, [x, bias], (g) => {
    const { dx, dBias } = backward(kind, naive, x, bias, g);
    return [dx, dBias];
  }, `bias${kind === 'relu' ? 'Relu' : 'Gelu'}`);
}

function backward(kind: ActivationKind, naive: boolean, x: Tensor, bias: null, dy: Tensor): { dx: Tensor; dBias: null };
function backward(kind: ActivationKind, naive: boolean, x: Tensor, bias: Tensor, dy: Tensor): { dx: Tensor; dBias: Tensor };
function backward(kind: ActivationKind, naive: boolean, x: Tensor, bias: Tensor | null, dy: Tensor): { dx: Tensor; dBias: Tensor | null } {
  const xd = data(x, 'x', 'float32');
  const bd = bias === null ? null : data(bias, 'bias', 'float32');
  const dyd = data(dy, 'dy', 'float32');
  const { rows, cols } = bias === null ? rowsCols(x.shape) : biasLayout(x, bias);
  checkShapeIs(dy.shape, x.shape, 'dy', 'x');
  const device = deviceOf(`${kind}Backward`, { x, bias, dy });
  const dx = allocateOutput(xd.length, x.shape, device);
  const db = bias === null ? null : allocate('float32', cols, bias.shape, device);
  kernels(naive).backward(dx, db, xd, bd, dyd, rows, cols, kind);
  return { dx: new Tensor(dx, x.shape), dBias: db === null ? null : new Tensor(db, bias!.shape) };
}

/** max(0, x), element-wise; SIMD, multi-threaded. */
export function relu(x: Tensor): Tensor {
  return forward('relu', false, x, null);
}

/** GELU(x) = x·Φ(x) = ½·x·erfc(−x/√2), exact (erf) form, with a small relative error even for x ≪ 0. */
export function gelu(x: Tensor): Tensor {
  return forward('gelu', false, x, null);
}

/** relu(x + bias), bias [C] broadcast over x [..., C], in one pass. */
export function biasRelu(x: Tensor, bias: Tensor): Tensor {
  return forward('relu', false, x, bias);
}

/** gelu(x + bias), bias [C] broadcast over x [..., C], in one pass. */
export function biasGelu(x: Tensor, bias: Tensor): Tensor {
  return forward('gelu', false, x, bias);
}

/** @internal dx = dy where x > 0, else 0 (0 at x = 0, as PyTorch). */
export function reluBackward(x: Tensor, dy: Tensor): Tensor {
  return backward('relu', false, x, null, dy).dx;
}

/** @internal dx = dy·(Φ(x) + x·φ(x)). */
export function geluBackward(x: Tensor, dy: Tensor): Tensor {
  return backward('gelu', false, x, null, dy).dx;
}

/** @internal The gradients of biasRelu(x, bias): dx = dy·relu'(x + bias), dBias = Σ dx over the leading dims. */
export function biasReluBackward(x: Tensor, bias: Tensor, dy: Tensor): { dx: Tensor; dBias: Tensor } {
  return backward('relu', false, x, bias, dy);
}

/** @internal The gradients of biasGelu(x, bias): dx = dy·gelu'(x + bias), dBias = Σ dx over the leading dims. */
export function biasGeluBackward(x: Tensor, bias: Tensor, dy: Tensor): { dx: Tensor; dBias: Tensor } {
  return backward('gelu', false, x, bias, dy);
}

// The reference twins: plain loops with std::erf / std::exp, one thread.
/** {@link relu} by a plain loop. */
export const reluNaive = (x: Tensor): Tensor => forward('relu', true, x, null);
/** {@link gelu} by the textbook ½·x·(1 + erf(x/√2)) (loses relative accuracy for x ≪ 0). */
export const geluNaive = (x: Tensor): Tensor => forward('gelu', true, x, null);
/** {@link biasRelu} by a plain loop. */
export const biasReluNaive = (x: Tensor, bias: Tensor): Tensor => forward('relu', true, x, bias);
/** {@link biasGelu} by a plain loop. */
export const biasGeluNaive = (x: Tensor, bias: Tensor): Tensor => forward('gelu', true, x, bias);
/** @internal {@link reluBackward} by a plain loop. */
export const reluBackwardNaive = (x: Tensor, dy: Tensor): Tensor => backward('relu', true, x, null, dy).dx;
/** @internal {@link geluBackward} by a plain loop. */
export const geluBackwardNaive = (x: Tensor, dy: Tensor): Tensor => backward('gelu', true, x, null, dy).dx;
/** @internal {@link biasReluBackward} by a plain loop. */
export const biasReluBackwardNaive = (x: Tensor, bias: Tensor, dy: Tensor): { dx: Tensor; dBias: Tensor } =>
  backward('relu', true, x, bias, dy);
/** @internal {@link biasGeluBackward} by a plain loop. */
export const biasGeluBackwardNaive = (x: Tensor, bias: Tensor, dy: Tensor): { dx: Tensor; dBias: Tensor } =>
  backward('gelu', true, x, bias, dy);
