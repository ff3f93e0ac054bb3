// native/kernels/adam*: the fused Adam / AdamW step (every ISA) and the naive several-pass one, over
// several steps, against a float64 oracle of PyTorch's torch.optim.Adam / AdamW formulas run from the same
// initial state on the same gradients.
//
// Tolerance. Each float32 step rounds m, v and param a few times (relative 2⁻²³ each) and the update
// lr·m̂/(√v̂ + eps) to a few ulps; m and v forget old errors (β < 1) while param keeps them. After T steps:
//   |m − m64| ≤ T·2⁻²¹·G,  |v − v64| ≤ T·2⁻²⁰·G²,  |p − p64| ≤ T·(2⁻²²·|p64| + 2e-6·lr·R)
// with G = max_t |g_t| (g including the L2 term) and R the largest |m̂|/(√v̂ + eps) seen (the size of an
// update in units of lr).
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { bitsEqual, compare, f32, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();

interface Hyper { lr: number; beta1: number; beta2: number; eps: number; wd: number; decoupled: boolean }
const CONFIGS: Array<[string, Hyper]> = [
  ['Adam, defaults', { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0, decoupled: false }],
  ['Adam, L2 decay', { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.1, decoupled: false }],
  ['AdamW', { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, wd: 0.1, decoupled: true }],
  ['β1 = 0, large eps and lr', { lr: 0.5, beta1: 0, beta2: 0.5, eps: 1e-3, wd: 0, decoupled: false }],
];
const STEPS = 5;

/** T steps of the float64 oracle and of the kernel from the same state; the bounds above per element. */
function runSteps(n: number, h: Hyper, naive: boolean, seed: number) {
  const p = f32(n, seed), m = new Float32Array(n), v = new Float32Array(n);
  const p64 = Float64Array.from(p), m64 = new Float64Array(n), v64 = new Float64Array(n);
  const gMax = new Float64Array(n), ratio = new Float64Array(n);
  for (let t = 1; t <= STEPS; t++) {
    const grad = f32(n, seed + 100 * t);
    const bc1 = 1 - h.beta1 ** t, bc2 = 1 - h.beta2 ** t;
    for (let i = 0; i < n; i++) {
      let g = grad[i]!;
      if (h.decoupled) p64[i]! *= 1 - h.lr * h.wd;
      else g += h.wd * p64[i]!;
      m64[i] = m64[i]! + (1 - h.beta1) * (g - m64[i]!);
      v64[i] = h.beta2 * v64[i]! + (1 - h.beta2) * g * g;
      const r = m64[i]! / bc1 / (Math.sqrt(v64[i]! / bc2) + h.eps);
      p64[i]! -= h.lr * r;
      gMax[i] = Math.max(gMax[i]!, Math.abs(g));
      ratio[i] = Math.max(ratio[i]!, Math.abs(r));
    }
    (naive ? nb.adamUpdateNaive : nb.adamUpdate)(p, grad, m, v, h.lr, h.beta1, h.beta2, h.eps, h.wd, h.decoupled, t);
  }
  const T = STEPS;
  return {
    p, m, v,
    checks: [
      compare(m, m64, (i) => T * 2 ** -21 * gMax[i]!, 'm'),
      compare(v, v64, (i) => T * 2 ** -20 * gMax[i]! ** 2, 'v'),
      compare(p, p64, (i) => T * (2 ** -22 * Math.abs(p64[i]!) + 2e-6 * h.lr * (1 + ratio[i]!)), 'param'),
    ],
  };
}

for (const variant of [...SIMD_LEVELS, 'naive'] as const) {
  const naive = variant === 'naive';
  const within = <T>(fn: () => T) => (naive ? fn() : withSimd(variant, fn));
  describe(`adam_update [${variant}]`, () => {
    for (const [name, h] of CONFIGS) {
      it.each([1, 3, 15, 17, 33, 100, 513, 20_001])(`${name}: ${STEPS} steps match the float64 oracle, n = %i`, (n) => {
        within(() => {
          for (const c of runSteps(n, h, naive, n).checks) expect(c).toBeNull();
        });
      });
    }
  });
}

describe.each(SIMD_LEVELS)('adam_update threads [%s]', (simd) => {
  it('gives the same bits with 1, 2 and 3 threads', () => {
    withSimd(simd, () => {
      const h = CONFIGS[2]![1];
      const outs = [1, 2, 3].map((t) => withThreads(t, () => runSteps(200_003, h, false, 9)));
      for (const o of outs.slice(1)) {
        expect(bitsEqual(o.p, outs[0]!.p)).toBe(true);
        expect(bitsEqual(o.m, outs[0]!.m)).toBe(true);
        expect(bitsEqual(o.v, outs[0]!.v)).toBe(true);
      }
    });
  });

  it('leaves grad untouched and does nothing for n = 0', () => {
    withSimd(simd, () => {
      const p = f32(40, 1), g = f32(40, 2), g0 = g.slice();
      nb.adamUpdate(p, g, new Float32Array(40), new Float32Array(40), 0.1, 0.9, 0.999, 1e-8, 0.1, false, 1);
      expect(bitsEqual(g, g0)).toBe(true);
      const e = new Float32Array(0);
      nb.adamUpdate(e, e.slice(), e.slice(), e.slice(), 0.1, 0.9, 0.999, 1e-8, 0, false, 1);
    });
  });
});
