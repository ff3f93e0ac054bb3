/**
 * Gradient clipping by global norm, as PyTorch's torch.nn.utils.clip_grad_norm_: the L2 norm of all the
 * gradients together (computed in float64), and when it exceeds maxNorm every gradient is scaled in place
 * by maxNorm / (norm + 1e-6). Parameters whose `.grad` is null are skipped.
 *
 * One deliberate difference: when the norm is not finite (an inf or NaN gradient), the gradients are left
 * as they are and the norm is returned for the caller to act on (skip the step, lower the loss scale),
 * where PyTorch would scale them by NaN or 0 and so destroy the evidence.
 *
 * @example
 * loss.backward();
 * const norm = optim.clipGradNorm(model.parameters(), 1.0);
 * if (Number.isFinite(norm)) opt.step();
 */
import { checkNumber } from '../check.js';
import { native } from '../native/binding.js';
import { DeviceArray } from '../tensor/device_array.js';
import { data, type F32, type Tensor } from '../tensor/tensor.js';
import { checkParamList } from './params.js';

/** PyTorch's guard against dividing by a zero norm; it also keeps the clipped norm just under maxNorm. */
const EPS = 1e-6;

/** Clips the gradients of `params` to a total L2 norm of `maxNorm` in place; returns the norm before. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  const list = checkParamList(params, 'params');
  checkNumber(maxNorm, 'maxNorm', 0, Infinity);
  const grads = list.flatMap((p, i) => (p.grad === null ? [] : [data(p.grad, `params[${i}].grad`, 'float32')]));
  let sumSquares = 0;
  for (const g of grads) sumSquares += squares(g);
  const norm = Math.sqrt(sumSquares);
  if (norm > maxNorm && Number.isFinite(norm)) {
    const scale = maxNorm / (norm + EPS);
    for (const g of grads) {
      if (g instanceof DeviceArray) native().scaleForward(g, g, scale);
      else for (let j = 0; j < g.length; j++) g[j]! *= scale;
    }
  }
  return norm;
}

// Σ g² (the GPU sums in double; the loop here in float64 too).
function squares(g: F32): number {
  if (g instanceof DeviceArray) return native().sumSquares(g);
  let s = 0;
  for (let j = 0; j < g.length; j++) s += g[j]! * g[j]!;
  return s;
}
