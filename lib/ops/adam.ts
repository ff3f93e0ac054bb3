/**
 * One Adam or AdamW step, fused: `adamStep(param, grad, m, v, options)` updates param and its moment
 * buffers m and v **in place** (grad is only read) in one pass over memory, with exactly the formulas of
 * PyTorch's torch.optim.Adam / AdamW (single-tensor path, amsgrad off), t = options.step:
 *
 *   g = grad + weightDecay·param              (Adam: L2 decay, when decoupled is false)
 *   param ·= 1 − lr·weightDecay               (AdamW: decoupled decay, when decoupled is true)
 *   m = β1·m + (1 − β1)·g,   v = β2·v + (1 − β2)·g²
 *   param −= lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + eps)
 *
 * m and v start as zeros and belong to the parameter; `step` counts the steps taken, this one included
 * (1 on the first). The optimiser class of a later issue keeps them.
 *
 * @example
 * const m = zeros(w.shape), v = zeros(w.shape);
 * for (let t = 1; t <= 100; t++) ops.adamStep(w, grad(w), m, v, { lr: 1e-3, weightDecay: 0.01, decoupled: true, step: t });
 */
import { checkBoolean, checkInteger, checkNumber, checkOptions, checkShapeIs, fail } from '../check.js';
import { InvalidArgumentError } from '../errors.js';
import { native, type NativeBinding } from '../native/binding.js';
import { data, deviceOf, noteWrite, storageOf, type Tensor } from '../tensor/tensor.js';

export interface AdamStepOptions {
  /** Learning rate ≥ 0 (default 1e-3). */
  lr?: number;
  /** [β1, β2], each in [0, 1) (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator, ≥ 0 (default 1e-8). */
  eps?: number;
  /** Weight decay ≥ 0 (default 0). */
  weightDecay?: number;
  /** false: Adam's L2 decay added to the gradient; true: AdamW's decoupled decay (default false). */
  decoupled?: boolean;
  /** The step number t ≥ 1, this step included. */
  step: number;
}

function checkAdam(opts: unknown) {
  const o = checkOptions<AdamStepOptions>(opts, 'options', ['lr', 'betas', 'eps', 'weightDecay', 'decoupled', 'step']);
  const betas: unknown = o.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) fail('an array [beta1, beta2]', 'options.betas', betas);
  return {
    lr: o.lr === undefined ? 1e-3 : checkNumber(o.lr, 'options.lr', 0, Infinity),
    beta1: checkNumber(betas[0], 'options.betas[0]', 0, 1, true),
    beta2: checkNumber(betas[1], 'options.betas[1]', 0, 1, true),
    eps: o.eps === undefined ? 1e-8 : checkNumber(o.eps, 'options.eps', 0, Infinity),
    weightDecay: o.weightDecay === undefined ? 0 : checkNumber(o.weightDecay, 'options.weightDecay', 0, Infinity),
    decoupled: o.decoupled === undefined ? false : checkBoolean(o.decoupled, 'options.decoupled'),
    step: checkInteger(o.step, 'options.step', 1),
  };
}

function run(fn: NativeBinding['adamUpdate'], param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: unknown): void {
  noteWrite();
  const pd = data(param, 'param', 'float32');
  const gd = data(grad, 'grad', 'float32');
  const md = data(m, 'm', 'float32');
  const vd = data(v, 'v', 'float32');
  deviceOf('adamStep', { param, grad, m, v });
  checkShapeIs(grad.shape, param.shape, 'grad', 'param');
  checkShapeIs(m.shape, param.shape, 'm', 'param');
  checkShapeIs(v.shape, param.shape, 'v', 'param');
  const buffers = [pd, gd, md, vd];
  if (new Set(buffers.map(storageOf)).size !== 4) {
    throw new InvalidArgumentError('Expected param, grad, m and v to be four different tensors, but some share storage');
  }
  const o = checkAdam(opts);
  fn(pd, gd, md, vd, o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.decoupled, o.step);
}

/** One fused Adam / AdamW step, in place on param, m and v (see the module comment); SIMD, multi-threaded. */
export function adamStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamStepOptions): void {
  run(native().adamUpdate, param, grad, m, v, opts);
}

/** {@link adamStep} as the textbook algorithm, one pass per formula. */
export function adamStepNaive(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamStepOptions): void {
  run(native().adamUpdateNaive, param, grad, m, v, opts);
}
