// lib/optim/adam.ts: optim.Adam over several steps against a float64 oracle of PyTorch's torch.optim.Adam
// and AdamW (written below from PyTorch's single-tensor formulas), per-parameter step counts, skipped
// parameters, zeroGrad, a settable lr, stateDict round trips and validation.
//
// Tolerance, as in test/native/adam.test.ts (the kernel's own test): after T float32 steps
//   |p − p64| ≤ T·(2⁻²²·|p64| + 2e-6·lr·(1 + R))
// with R the largest |m̂|/(√v̂ + eps) seen for that element (the size of an update in units of lr).
// Steps that must not change a parameter are checked bit for bit.
import { describe, expect, it } from 'vitest';

import {
  type AdamOptions, DisposedError, DTypeError, InvalidArgumentError, optim, ShapeError, type Tensor, tensor, zeros,
} from '../../lib/index.js';
import { bitsEqual, compare, f32 } from '../helpers.js';

type Hyper = Required<AdamOptions>;

/** PyTorch's Adam / AdamW (amsgrad off) for one parameter, in float64, with its own step count. */
class Oracle {
  p: Float64Array;
  m: Float64Array;
  v: Float64Array;
  t = 0;
  ratio: Float64Array;
  constructor(p: Float32Array) {
    this.p = Float64Array.from(p);
    this.m = new Float64Array(p.length);
    this.v = new Float64Array(p.length);
    this.ratio = new Float64Array(p.length);
  }

  step(grad: Float32Array, h: Hyper): void {
    const t = ++this.t;
    const [b1, b2] = h.betas;
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    for (let i = 0; i < this.p.length; i++) {
      let g = grad[i]!;
      if (h.decoupled) this.p[i]! *= 1 - h.lr * h.weightDecay;   // AdamW: param.mul_(1 − lr·wd)
      else g += h.weightDecay * this.p[i]!;                       // Adam: grad + wd·param
      this.m[i] = b1 * this.m[i]! + (1 - b1) * g;
      this.v[i] = b2 * this.v[i]! + (1 - b2) * g * g;
      const r = this.m[i]! / bc1 / (Math.sqrt(this.v[i]!) / Math.sqrt(bc2) + h.eps);
      this.p[i]! -= h.lr * r;
      this.ratio[i] = Math.max(this.ratio[i]!, Math.abs(r));
    }
  }

  check(p: Tensor, h: Hyper, label: string): string | null {
    return compare(p.toFloat32Array(), this.p, (i) => this.t * (2 ** -22 * Math.abs(this.p[i]!) + 2e-6 * h.lr * (1 + this.ratio[i]!)), label);
  }
}

const CONFIGS: Array<[string, Hyper]> = [
  ['Adam, defaults', { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupled: false }],
  ['Adam, L2 weight decay', { lr: 1e-2, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, decoupled: false }],
  ['AdamW, decoupled weight decay', { lr: 1e-2, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1, decoupled: true }],
  ['β1 = 0, large lr and eps', { lr: 0.5, betas: [0, 0.5], eps: 1e-3, weightDecay: 0.01, decoupled: false }],
];
const SHAPES = [[3, 4], [5], [], [0], [2, 1, 3]];
const STEPS = 6;
/** Steps (1-based) at which parameter 1 has no gradient, and parameter 4 only gets one from step 4 on. */
const P1_SKIPS = new Set([2, 5]);

const param = (shape: number[], seed: number) =>
  tensor(f32(shape.reduce((a, b) => a * b, 1), seed), shape, { requiresGrad: true });
const gradFor = (p: Tensor, seed: number) => tensor(f32(p.size, seed, 2), p.shape);

describe('optim.Adam against the float64 PyTorch oracle', () => {
  it.each(CONFIGS)('%s: several steps, with per-parameter step counts', (_, h) => {
    const params = SHAPES.map((s, i) => param(s, 10 + i));
    const oracles = params.map((p) => new Oracle(p.toFloat32Array()));
    const opt = new optim.Adam(params, h);
    for (let t = 1; t <= STEPS; t++) {
      opt.zeroGrad();
      params.forEach((p, i) => {
        if ((i === 1 && P1_SKIPS.has(t)) || (i === 4 && t < 4)) return;
        p.grad = gradFor(p, 1000 * t + i);
        oracles[i]!.step(p.grad.toFloat32Array(), h);
      });
      const before = params.map((p) => p.toFloat32Array());
      opt.step();
      params.forEach((p, i) => {
        if (p.grad === null) expect(bitsEqual(p.toFloat32Array(), before[i]!)).toBe(true);
        expect(oracles[i]!.check(p, h, `param ${i}, step ${t}`)).toBeNull();
      });
    }
    const steps = opt.stateDict().state.map((s) => s?.step);
    expect(steps).toEqual([STEPS, STEPS - P1_SKIPS.size, STEPS, STEPS, STEPS - 3]);
  });

  it('a parameter that only gets a gradient later starts at step 1: it moves by lr·sign(g), up to eps', () => {
    const a = param([4], 1), b = param([4], 2);
    const opt = new optim.Adam([a, b], { lr: 0.01 });
    for (let t = 0; t < 3; t++) {
      a.grad = gradFor(a, t);
      opt.step();
    }
    const b0 = b.toFloat32Array();
    const g = gradFor(b, 99);
    b.grad = g;
    opt.step();
    const got = b.toFloat32Array(), gd = g.toFloat32Array();
    got.forEach((x, i) => expect(Math.abs(x - (b0[i]! - 0.01 * Math.sign(gd[i]!)))).toBeLessThan(1e-6));
  });

  it('a parameter that never has a gradient is never touched and has no state', () => {
    const a = param([3], 1), idle = param([2, 2], 2);
    const idle0 = idle.toFloat32Array();
    const opt = new optim.Adam([a, idle], { lr: 0.1, weightDecay: 0.5, decoupled: true });
    for (let t = 0; t < 3; t++) {
      a.grad = gradFor(a, t);
      opt.step();
    }
    // AdamW's decay applies only to parameters stepped, as in PyTorch.
    expect(bitsEqual(idle.toFloat32Array(), idle0)).toBe(true);
    expect(opt.stateDict().state).toEqual([expect.objectContaining({ step: 3 }), null]);
  });

  it('zeroGrad sets every grad to null, so the next step changes and counts nothing', () => {
    const params = [param([3], 1), param([2], 2)];
    const opt = new optim.Adam(params, { lr: 0.1 });
    params.forEach((p, i) => (p.grad = gradFor(p, i)));
    opt.step();
    opt.zeroGrad();
    expect(params.map((p) => p.grad)).toEqual([null, null]);
    const before = params.map((p) => p.toFloat32Array());
    opt.step();
    params.forEach((p, i) => expect(bitsEqual(p.toFloat32Array(), before[i]!)).toBe(true));
    expect(opt.stateDict().state.map((s) => s?.step)).toEqual([1, 1]);
  });

  it('lr is settable between steps (as a scheduler does) and checked', () => {
    const h: Hyper = { lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupled: false };
    const p = param([7], 3), oracle = new Oracle(p.toFloat32Array());
    const opt = new optim.Adam([p], { lr: h.lr });
    expect(opt.lr).toBe(0.05);
    for (const [t, lr] of [0.05, 0.01, 0, 0.2].entries()) {
      opt.lr = lr;
      p.grad = gradFor(p, t);
      oracle.step(p.grad.toFloat32Array(), { ...h, lr });
      opt.step();
      // The bound with the largest lr used bounds every step's share.
      expect(oracle.check(p, { ...h, lr: 0.2 }, `lr ${lr}`)).toBeNull();
    }
    expect(() => (opt.lr = -1)).toThrow(/Expected a number in \[0, ∞\) for lr but received the number -1/);
    expect(() => (opt.lr = Number.NaN)).toThrow(InvalidArgumentError);
    expect(opt.lr).toBe(0.2);
  });
});

describe('optim.Adam stateDict / loadStateDict', () => {
  const h: AdamOptions = { lr: 0.02, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.05, decoupled: true };
  /** Gradients for step t of the runs below; parameter 1 has none at t = 1. */
  const feed = (params: Tensor[], t: number) => params.forEach((p, i) => (p.grad = t === 1 && i === 1 ? null : gradFor(p, 50 * t + i)));

  it('a restored optimiser continues exactly as the uninterrupted one', () => {
    const straight = [param([2, 3], 1), param([4], 2), param([], 3)];
    const resumed = straight.map((p) => tensor(p.toFloat32Array(), p.shape, { requiresGrad: true }));
    const a = new optim.Adam(straight, h);
    const b = new optim.Adam(resumed, h);
    for (let t = 1; t <= 3; t++) (feed(straight, t), a.step(), feed(resumed, t), b.step());
    const dict = b.stateDict();
    // A fresh optimiser, with other hyper-parameters, over copies of the parameters: the dict restores all.
    const copies = resumed.map((p) => tensor(p.toFloat32Array(), p.shape, { requiresGrad: true }));
    const c = new optim.Adam(copies, { lr: 1 });
    c.loadStateDict(dict);
    expect(c.lr).toBe(0.02);
    expect(c.stateDict().hyper).toEqual(h);
    for (let t = 4; t <= 7; t++) (feed(straight, t), a.step(), feed(copies, t), c.step());
    straight.forEach((p, i) => expect(bitsEqual(copies[i]!.toFloat32Array(), p.toFloat32Array())).toBe(true));
    expect(c.stateDict().state.map((s) => s?.step)).toEqual([7, 6, 7]);
  });

  it('holds copies: steps after stateDict() do not change it, nor does changing the dict change the optimiser', () => {
    const p = param([3], 1);
    const opt = new optim.Adam([p], h);
    feed([p], 2);
    opt.step();
    const dict = opt.stateDict();
    const m0 = dict.state[0]!.m.toFloat32Array();
    feed([p], 3);
    opt.step();
    expect(bitsEqual(dict.state[0]!.m.toFloat32Array(), m0)).toBe(true);
    expect(dict.state[0]!.step).toBe(1);
    opt.loadStateDict(dict);
    dict.state[0]!.m.dispose();
    feed([p], 3);
    expect(() => opt.step()).not.toThrow();
  });

  it('rejects a state that does not fit, changing nothing', () => {
    const params = [param([2, 3], 1), param([4], 2)];
    const opt = new optim.Adam(params, h);
    feed(params, 2);
    opt.step();
    const good = opt.stateDict();
    const s0 = good.state[0]!;
    const bad = (state: unknown[], hyper: unknown = good.hyper) => ({ state, hyper }) as never;
    expect(() => opt.loadStateDict(bad([s0]))).toThrow(/Expected an array of 2 entries \(one per parameter\) for dict.state/);
    expect(() => opt.loadStateDict(bad([s0, { ...s0 }]))).toThrow(ShapeError);
    expect(() => opt.loadStateDict(bad([s0, { ...s0 }]))).toThrow(/dict.state\[1\].m to have the shape \[4\] of params\[1\]/);
    expect(() => opt.loadStateDict(bad([{ ...s0, v: zeros([3, 2]) }, null]))).toThrow(ShapeError);
    expect(() => opt.loadStateDict(bad([{ ...s0, step: 0 }, null]))).toThrow(/dict.state\[0\].step/);
    expect(() => opt.loadStateDict(bad([{ ...s0, step: 1.5 }, null]))).toThrow(InvalidArgumentError);
    expect(() => opt.loadStateDict(bad([{ ...s0, m: [1, 2] }, null]))).toThrow(/Expected a Tensor for dict.state\[0\].m/);
    expect(() => opt.loadStateDict(bad([{ ...s0, m: zeros([2, 3], { dtype: 'int32' }) }, null]))).toThrow(DTypeError);
    expect(() => opt.loadStateDict(bad([3, null]))).toThrow(/an object \{ step, m, v \} or null for dict.state\[0\]/);
    expect(() => opt.loadStateDict(bad([null, null], { ...good.hyper, eps: 0 }))).toThrow(/dict.hyper.eps/);
    expect(() => opt.loadStateDict(bad([null, null], { lr: 0.1 }))).toThrow(/dict.hyper.betas/);
    expect(() => opt.loadStateDict(bad([null, null], { ...good.hyper, momentum: 0.9 }))).toThrow(/Unknown option 'momentum'/);
    expect(() => opt.loadStateDict(null as never)).toThrow(InvalidArgumentError);
    const after = opt.stateDict();
    expect(after.hyper).toEqual(good.hyper);
    expect(after.state.map((s) => s?.step)).toEqual([1, 1]);
    expect(bitsEqual(after.state[0]!.m.toFloat32Array(), s0.m.toFloat32Array())).toBe(true);
  });
});

describe('optim.Adam validation', () => {
  const p = () => param([2], 1);

  it('checks params: a non-empty array of distinct float32 tensors that require grad', () => {
    expect(() => new optim.Adam([] as Tensor[], {})).toThrow(/Expected a non-empty array of Tensors for params but received an array of length 0/);
    expect(() => new optim.Adam(p() as never, {})).toThrow(InvalidArgumentError);
    expect(() => new optim.Adam([p(), new Float32Array(2)] as never, {})).toThrow(/Expected a Tensor for params\[1\]/);
    expect(() => new optim.Adam([zeros([2], { dtype: 'int32' })], {})).toThrow(DTypeError);
    expect(() => new optim.Adam([zeros([2])], {})).toThrow(/requiresGrad true for params\[0\]/);
    const x = p();
    expect(() => new optim.Adam([x, p(), x], {})).toThrow(/params\[2\] is params\[0\]/);
  });

  it('checks every option', () => {
    const bad = (o: unknown) => () => new optim.Adam([p()], o as AdamOptions);
    expect(() => new optim.Adam([p()])).not.toThrow();
    expect(new optim.Adam([p()]).lr).toBe(1e-3);
    expect(bad({ lr: -0.1 })).toThrow(/options.lr/);
    expect(bad({ lr: Infinity })).toThrow(InvalidArgumentError);
    expect(bad({ lr: '0.1' })).toThrow(InvalidArgumentError);
    expect(bad({ betas: [1, 0.999] })).toThrow(/options.betas\[0\]/);
    expect(bad({ betas: [0.9, -0.1] })).toThrow(/options.betas\[1\]/);
    expect(bad({ betas: [0.9] })).toThrow(/an array \[beta1, beta2\] for options.betas/);
    expect(bad({ eps: 0 })).toThrow(/Expected a finite number > 0 for options.eps but received the number 0/);
    expect(bad({ eps: -1e-8 })).toThrow(InvalidArgumentError);
    expect(bad({ weightDecay: -1 })).toThrow(/options.weightDecay/);
    expect(bad({ decoupled: 1 })).toThrow(/options.decoupled/);
    expect(bad({ amsgrad: true })).toThrow(/Unknown option 'amsgrad'/);
    expect(bad(5)).toThrow(InvalidArgumentError);
  });

  it('checks every gradient before changing any parameter', () => {
    const a = p(), b = param([2, 2], 2);
    const opt = new optim.Adam([a, b], { lr: 0.1 });
    const a0 = a.toFloat32Array();
    a.grad = gradFor(a, 1);
    const attempt = (g: unknown) => {
      b.grad = g as Tensor;
      return () => opt.step();
    };
    expect(attempt(zeros([4]))).toThrow(ShapeError);
    expect(attempt(zeros([4]))).toThrow(/Expected params\[1\].grad to have the shape \[2, 2\] of params\[1\] but received \[4\]/);
    expect(attempt(zeros([2, 2], { dtype: 'int32' }))).toThrow(DTypeError);
    expect(attempt(new Float32Array(4))).toThrow(/Expected a Tensor for params\[1\].grad/);
    expect(attempt(b)).toThrow(/shares params\[1\]'s storage/);
    const gone = zeros([2, 2]);
    gone.dispose();
    expect(attempt(gone)).toThrow(DisposedError);
    expect(bitsEqual(a.toFloat32Array(), a0)).toBe(true);
    expect(opt.stateDict().state).toEqual([null, null]);
  });
});
