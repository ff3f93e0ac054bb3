/**
 * LayerNorm over the last dimension: y = (x − mean)/√(var + eps)·γ + β per row, with the biased variance
 * (as PyTorch's nn.LayerNorm). `addLayerNorm` fuses the residual add of a post-norm sublayer,
 * LN(x + residual), and also returns the sum x + residual.
 *
 * The forward/backward pair below (layerNormForward → saved state → layerNormBackward) is what autograd
 * calls; `naive` selects the reference loops instead of the SIMD kernels.
 *
 * @example
 * const y = ops.layerNorm(x, gamma, beta);                       // x [B, L, 512], gamma/beta [512]
 * const { out, sum } = ops.addLayerNorm(x, sublayerOut, gamma, beta);
 */
import { checkNumber, checkShapeIs, rowsOf } from '../check.js';
import { native } from '../native/binding.js';
import { record } from '../autograd/tape.js';
import { allocate, allocateOutput, data, deviceOf, Tensor } from '../tensor/tensor.js';

/** What the forward saves: the output, per-row mean and 1/√(var + eps), and x + residual if fused. */
export interface LayerNormState {
  y: Tensor;
  /** [...leading dims] */
  mean: Tensor;
  /** [...leading dims] */
  rstd: Tensor;
  /** x + residual, or null without a residual. */
  sum: Tensor | null;
}

export interface LayerNormGrads {
  /** ∂L/∂x (and ∂L/∂residual: the same tensor's values). */
  dx: Tensor;
  dgamma: Tensor;
  dbeta: Tensor;
}

/** y = LN(x (+ residual)) with the state backward needs. */
export function layerNormForward(
  x: Tensor, gamma: Tensor, beta: Tensor, eps: number, residual: Tensor | null, naive: boolean,
): LayerNormState {
  const xd = data(x, 'x', 'float32');
  const gd = data(gamma, 'gamma', 'float32');
  const bd = data(beta, 'beta', 'float32');
  const rd = residual === null ? null : data(residual, 'residual', 'float32');
  const device = deviceOf(residual === null ? 'layerNorm' : 'addLayerNorm', { x, residual, gamma, beta });
  checkNumber(eps, 'eps', 0);
  const { n, c } = rowsOf(x.shape, 'x');
  checkShapeIs(gamma.shape, [c], 'gamma');
  checkShapeIs(beta.shape, [c], 'beta');
  if (residual !== null) checkShapeIs(residual.shape, x.shape, 'residual');
  const rows = Object.freeze(x.shape.slice(0, -1));
  const y = allocateOutput(n * c, x.shape, device);
  const sum = rd === null ? null : allocateOutput(n * c, x.shape, device);
  const mean = allocate('float32', n, rows, device), rstd = allocate('float32', n, rows, device);
  const nb = native();
  (naive ? nb.layerNormForwardNaive : nb.layerNormForward)(y, sum, mean, rstd, xd, rd, gd, bd, n, c, eps);
  const state: LayerNormState = {
    y: new Tensor(y, x.shape),
    mean: new Tensor(mean, rows),
    rstd: new Tensor(rstd, rows),
    sum: sum === null ? null : new Tensor(sum, x.shape),
  };
  const grads = (g: Tensor) => layerNormBackward(g, state.sum ?? x, gamma, state.mean, state.rstd, naive);
  if (residual === null) {
    record(state.y, [x, gamma, beta], (g) => {
      const r = grads(g);
      return [r.dx, r.dgamma, r.dbeta];
    }, 'layerNorm');
  } else {
    record(state.y, [x, residual, gamma, beta], (g) => {
      const r = grads(g);
      return [r.dx, r.dx, r.dgamma, r.dbeta];
    }, 'addLayerNorm');
    record(state.sum!, [x, residual], (g) => [g, g], 'add');
  }
  return state;
}

/**
 * Gradients of LN given dy and the forward's state: `s` is the forward's x, or its `sum` when it had a
 * residual (then ∂L/∂residual = dx too).
 */
export function layerNormBackward(
  dy: Tensor, s: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor, naive: boolean,
): LayerNormGrads {
  const dyd = data(dy, 'dy', 'float32');
  const sd = data(s, 's', 'float32');
  const gd = data(gamma, 'gamma', 'float32');
  const md = data(mean, 'mean', 'float32');
  const rd = data(rstd, 'rstd', 'float32');
  const device = deviceOf('layerNormBackward', { dy, s, gamma, mean, rstd });
  const { n, c } = rowsOf(s.shape, 's');
  checkShapeIs(dy.shape, s.shape, 'dy');
  checkShapeIs(gamma.shape, [c], 'gamma');
  checkShapeIs(mean.shape, s.shape.slice(0, -1), 'mean');
  checkShapeIs(rstd.shape, s.shape.slice(0, -1), 'rstd');
  const dx = allocateOutput(n * c, s.shape, device);
  const dgamma = allocate('float32', c, gamma.shape, device), dbeta = allocate('float32', c, gamma.shape, device);
  const nb = native();
  (naive ? nb.layerNormBackwardNaive : nb.layerNormBackward)(dx, dgamma, dbeta, dyd, sd, gd, md, rd, n, c);
  return { dx: new Tensor(dx, s.shape), dgamma: new Tensor(dgamma, gamma.shape), dbeta: new Tensor(dbeta, gamma.shape) };
}

/** LayerNorm over the last dimension of x with weight γ and bias β (both [C]); SIMD, multi-threaded. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return layerNormForward(x, gamma, beta, eps, null, false).y;
}

/** The same by the reference loops (one thread): the baseline of the benches. */
export function layerNormNaive(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return layerNormForward(x, gamma, beta, eps, null, true).y;
}

/**
 * The residual connection and LayerNorm of a post-norm sublayer in one pass: `out` = LN(x + residual),
 * `sum` = x + residual (the residual stream a pre-norm block carries on).
 */
export function addLayerNorm(x: Tensor, residual: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): { out: Tensor; sum: Tensor } {
  const s = layerNormForward(x, gamma, beta, eps, residual, false);
  return { out: s.y, sum: s.sum as Tensor };
}

/** addLayerNorm by the reference loops. */
export function addLayerNormNaive(x: Tensor, residual: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): { out: Tensor; sum: Tensor } {
  const s = layerNormForward(x, gamma, beta, eps, residual, true);
  return { out: s.y, sum: s.sum as Tensor };
}
