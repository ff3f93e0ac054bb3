/**
 * The Adam / AdamW optimiser: per-parameter moment buffers and step counts around the fused kernel
 * {@link adamStep} (lib/ops/adam.ts), with exactly PyTorch's torch.optim.Adam / AdamW semantics
 * (amsgrad off): a parameter whose `.grad` is null is skipped and its step count does not advance, and
 * its moments are created (as zeros) on its first step. `zeroGrad()` sets every `.grad` to null, as
 * PyTorch's `zero_grad(set_to_none=True)` does.
 *
 * @example
 * const opt = new optim.Adam(model.parameters(), { lr: 3e-4, weightDecay: 0.01, decoupled: true });
 * for (const batch of batches) {
 *   opt.zeroGrad();
 *   lossOf(batch).backward();
 *   opt.step();
 * }
 * const saved = opt.stateDict();   // later: opt.loadStateDict(saved) resumes identically
 */
import { checkBoolean, checkInteger, checkNumber, checkOptions, checkShapeIs, fail } from '../check.js';
import { DTypeError, InvalidArgumentError } from '../errors.js';
import { adamStep } from '../ops/adam.js';
import { zeros } from '../tensor/create.js';
import type { Device } from '../backend.js';
import { data, deviceOf, onDevice, storageOf, Tensor } from '../tensor/tensor.js';
import { checkParamList } from './params.js';

export interface AdamOptions {
  /** Learning rate, a finite number ≥ 0 (default 1e-3, as PyTorch). Settable later through `optimizer.lr`. */
  lr?: number;
  /** [β1, β2], each in [0, 1) (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator, a finite number > 0 (default 1e-8). */
  eps?: number;
  /** Weight decay, a finite number ≥ 0 (default 0). */
  weightDecay?: number;
  /** false: Adam's L2 decay added to the gradient; true: AdamW's decoupled decay (default false). */
  decoupled?: boolean;
}

/** The state of one parameter that has taken at least one step. */
export interface AdamParamState {
  /** The steps this parameter has taken (those where it had a gradient), ≥ 1. */
  step: number;
  /** First moment, the parameter's shape. */
  m: Tensor;
  /** Second moment, the parameter's shape. */
  v: Tensor;
}

/** Everything needed to resume: copies, so later steps do not change a state dict already taken. */
export interface AdamStateDict {
  /** Indexed like the constructor's params: null for a parameter that has not taken a step yet. */
  state: Array<AdamParamState | null>;
  hyper: Required<AdamOptions>;
}

const OPTIONS = ['lr', 'betas', 'eps', 'weightDecay', 'decoupled'] as const;

function checkLr(lr: unknown, name: string): number {
  return checkNumber(lr, name, 0, Infinity);
}

/** All the hyper-parameters, with PyTorch's defaults for those left out when `defaults` (a state dict names all). */
function checkHyper(opts: unknown, name: string, defaults: boolean): Required<AdamOptions> {
  const o = checkOptions<AdamOptions>(opts, name, OPTIONS);
  const pick = <K extends keyof AdamOptions>(key: K, fallback: AdamOptions[K]): unknown => {
    if (o[key] !== undefined || !defaults) return o[key];
    return fallback;
  };
  const betas = pick('betas', [0.9, 0.999]);
  if (!Array.isArray(betas) || betas.length !== 2) fail('an array [beta1, beta2]', `${name}.betas`, betas);
  const eps = pick('eps', 1e-8);
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0) fail('a finite number > 0', `${name}.eps`, eps);
  return {
    lr: checkLr(pick('lr', 1e-3), `${name}.lr`),
    betas: [checkNumber(betas[0], `${name}.betas[0]`, 0, 1, true), checkNumber(betas[1], `${name}.betas[1]`, 0, 1, true)],
    eps,
    weightDecay: checkNumber(pick('weightDecay', 0), `${name}.weightDecay`, 0, Infinity),
    decoupled: checkBoolean(pick('decoupled', false), `${name}.decoupled`),
  };
}

/** A float32 copy of `t` (moments handed in or out must not alias the optimiser's own). */
/** A copy of t on `device`. */
function copyOf(t: Tensor, device: Device): Tensor {
  return new Tensor(onDevice(t.toFloat32Array(), device), t.shape);
}

export class Adam {
  readonly #params: readonly Tensor[];
  readonly #state: Array<AdamParamState | null>;
  #hyper: Required<AdamOptions>;

  constructor(params: Tensor[], options?: AdamOptions) {
    const list = checkParamList(params, 'params');
    if (list.length === 0) fail('a non-empty array of Tensors', 'params', params);
    list.forEach((p, i) => {
      if (p.dtype !== 'float32') throw new DTypeError(`Expected a float32 tensor for params[${i}] but received ${p.dtype}`);
      if (!p.requiresGrad) {
        throw new InvalidArgumentError(`Expected a tensor with requiresGrad true for params[${i}] but its requiresGrad is false`);
      }
    });
    this.#params = list.slice();
    this.#state = list.map(() => null);
    this.#hyper = checkHyper(options, 'options', true);
  }

  /** The learning rate of the next step (schedulers set it). */
  get lr(): number {
    return this.#hyper.lr;
  }

  set lr(value: number) {
    this.#hyper = { ...this.#hyper, lr: checkLr(value, 'lr') };
  }

  /**
   * One step for every parameter that has a gradient. Every parameter and gradient is checked (live
   * float32 tensors on one device with the moments, the gradient of the parameter's shape) before any
   * parameter changes.
   */
  step(): void {
    this.#params.forEach((p, i) => {
      if (p.grad === null) return;
      const pd = data(p, `params[${i}]`, 'float32');
      const gd = data(p.grad, `params[${i}].grad`, 'float32');
      checkShapeIs(p.grad.shape, p.shape, `params[${i}].grad`, `params[${i}]`);
      const state = this.#state[i];
      deviceOf('Adam.step', { [`params[${i}]`]: p, [`params[${i}].grad`]: p.grad, [`the moments of params[${i}]`]: state?.m });
      if (storageOf(gd) === storageOf(pd)) {
        throw new InvalidArgumentError(`Expected params[${i}].grad to be a tensor of its own but it shares params[${i}]'s storage`);
      }
    });
    const { lr, betas, eps, weightDecay, decoupled } = this.#hyper;
    this.#params.forEach((p, i) => {
      if (p.grad === null) return;
      const s = this.#state[i] ?? { step: 0, m: zeros(p.shape, { device: p.device }), v: zeros(p.shape, { device: p.device }) };
      const step = s.step + 1;
      adamStep(p, p.grad, s.m, s.v, { lr, betas, eps, weightDecay, decoupled, step });
      // Counted only once the kernel has run, so a failed step (a disposed tensor) is not counted.
      s.step = step;
      this.#state[i] = s;
    });
  }

  /** Sets every parameter's `.grad` to null (the next backward() starts afresh). */
  zeroGrad(): void {
    for (const p of this.#params) p.grad = null;
  }

  /** Copies of the step counts, moments and hyper-parameters; see {@link loadStateDict}. */
  stateDict(): AdamStateDict {
    return {
      state: this.#state.map((s) => (s === null ? null : { step: s.step, m: copyOf(s.m, s.m.device), v: copyOf(s.v, s.v.device) })),
      hyper: { ...this.#hyper, betas: [this.#hyper.betas[0], this.#hyper.betas[1]] },
    };
  }

  /**
   * Restores a state from {@link stateDict} (of an optimiser over parameters of the same shapes, in the
   * same order): the next step continues exactly where that one left off. Everything is checked before
   * anything changes; the tensors are copied.
   */
  loadStateDict(dict: AdamStateDict): void {
    if (dict === null || typeof dict !== 'object') fail('an object { state, hyper }', 'dict', dict);
    const hyper = checkHyper(dict.hyper, 'dict.hyper', false);
    const { state } = dict;
    if (!Array.isArray(state) || state.length !== this.#params.length) {
      fail(`an array of ${this.#params.length} entries (one per parameter)`, 'dict.state', state);
    }
    const loaded = state.map((s: unknown, i): AdamParamState | null => {
      if (s === null) return null;
      const name = `dict.state[${i}]`;
      if (typeof s !== 'object' || Array.isArray(s)) fail('an object { step, m, v } or null', name, s);
      const { step, m, v } = s as Record<string, unknown>;
      checkInteger(step, `${name}.step`, 1);
      for (const [key, t] of [['m', m], ['v', v]] as const) {
        if (!(t instanceof Tensor)) fail('a Tensor', `${name}.${key}`, t);
        if (t.dtype !== 'float32') throw new DTypeError(`Expected a float32 tensor for ${name}.${key} but received ${t.dtype}`);
        checkShapeIs(t.shape, this.#params[i]!.shape, `${name}.${key}`, `params[${i}]`);
      }
      // On the parameter's device, wherever the saved moments were.
      const device = this.#params[i]!.device;
      return { step: step as number, m: copyOf(m as Tensor, device), v: copyOf(v as Tensor, device) };
    });
    loaded.forEach((s, i) => (this.#state[i] = s));
    this.#hyper = hyper;
  }

}
