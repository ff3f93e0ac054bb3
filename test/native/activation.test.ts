// native/kernels/activation*: ReLU and GELU, with and without the fused bias, forward and backward, under
// every ISA and by the naive loops, against float64 oracles (GELU's built on a float64 erfc).
//
// Tolerances. The kernels see h = fl32(x + b), so the oracles take that h. ReLU and its gradient are
// exact. Fused GELU: the erfc fit is good to 1.2e-7 relative, its float32 evaluation adds a few ulps and
// the exponent −a² + P(t) (a = |h|/√2) is rounded at its own size, a relative error of ≈ a²·2⁻²⁴ in e^(…);
// so |y − y64| ≤ (2e-6 + a²·2⁻²²)·|y64| (plus 1e-36 where the result is denormal). The gradient
// dy·(Φ(h) + h·φ(h)) has the same error in Φ and h²·2⁻²³ in exp(−h²/2), relative to each term, and the
// two terms cancel near h ≈ −0.75: bound (4e-6 + h²·2⁻²¹)·|dy|·(Φ + |h|·φ). The naive ½·h·(1 + erf(h/√2))
// loses the relative accuracy of 1 + erf for h ≪ 0: its bound adds |h|·2⁻²³ (and 2⁻²² |dy| to the
// gradient). db sums rows: γ_rows·Σ|dx| on top of the per-element bounds.
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { bitsEqual, compare, f32, gamma, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();
type Kind = 'relu' | 'gelu';

// erfc in float64 to ~1e-13 relative: the Taylor series of erf below 2, the continued fraction
// erfc(z) = e^(−z²)/√π · 1/(z + ½/(z + 1/(z + 3⁄2/(z + …)))) above (200 terms, evaluated bottom-up).
function erfc64(z: number): number {
  if (z < 0) return 2 - erfc64(-z);
  if (z < 2) {
    let term = z, sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-18) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = z;
  for (let k = 200; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}
const phi64 = (h: number) => Math.exp(-0.5 * h * h) / Math.sqrt(2 * Math.PI);
const Phi64 = (h: number) => 0.5 * erfc64(-h / Math.SQRT2);
const f64 = (kind: Kind, h: number) => (kind === 'relu' ? Math.max(0, h) : h * Phi64(h));
const df64 = (kind: Kind, h: number) => (kind === 'relu' ? (h > 0 ? 1 : 0) : Phi64(h) + h * phi64(h));

function fwdBound(kind: Kind, naive: boolean, h: number): number {
  if (kind === 'relu') return 0;
  const rel = naive ? 4 * 2 ** -24 : 2e-6 + 0.5 * h * h * 2 ** -22;
  return rel * Math.abs(f64(kind, h)) + (naive ? Math.abs(h) * 2 ** -23 : 0) + 1e-36;
}
function bwdBound(kind: Kind, naive: boolean, h: number, dy: number): number {
  if (kind === 'relu') return 0;
  const terms = Phi64(h) + Math.abs(h) * phi64(h);
  return Math.abs(dy) * ((4e-6 + h * h * 2 ** -21) * terms + (naive ? 2 ** -22 : 0)) + 1e-36;
}

interface Case { x: Float32Array; b: Float32Array | null; dy: Float32Array; rows: number; cols: number }

function makeCase(rows: number, cols: number, bias: boolean, seed: number, scale = 4): Case {
  return {
    x: f32(rows * cols, seed, scale),
    b: bias ? f32(cols, seed + 1, 1) : null,
    dy: f32(rows * cols, seed + 2),
    rows, cols,
  };
}
const hOf = (c: Case, i: number) => (c.b ? Math.fround(c.x[i]! + c.b[i % c.cols]!) : c.x[i]!);

function runForward(kind: Kind, naive: boolean, c: Case): Float32Array {
  const y = new Float32Array(c.x.length);
  (naive ? nb.activationForwardNaive : nb.activationForward)(y, c.x, c.b, c.rows, c.cols, kind);
  return y;
}
function runBackward(kind: Kind, naive: boolean, c: Case, db0?: Float32Array) {
  const dx = new Float32Array(c.x.length);
  const db = c.b ? (db0 ?? new Float32Array(c.cols)).slice() : null;
  (naive ? nb.activationBackwardNaive : nb.activationBackward)(dx, db, c.x, c.b, c.dy, c.rows, c.cols, kind);
  return { dx, db };
}

function checkAgainstOracle(kind: Kind, naive: boolean, c: Case, label: string) {
  const y = runForward(kind, naive, c);
  const want = Float64Array.from(y, (_, i) => f64(kind, hOf(c, i)));
  expect(compare(y, want, (i) => fwdBound(kind, naive, hOf(c, i)), `${label} y`)).toBeNull();
  const db0 = c.b ? f32(c.cols, 77) : undefined;
  const { dx, db } = runBackward(kind, naive, c, db0);
  const wantDx = Float64Array.from(dx, (_, i) => c.dy[i]! * df64(kind, hOf(c, i)));
  expect(compare(dx, wantDx, (i) => bwdBound(kind, naive, hOf(c, i), c.dy[i]!), `${label} dx`)).toBeNull();
  if (c.b) {
    const wantDb = Float64Array.from(db0!);
    const bound = new Float64Array(c.cols);
    for (let i = 0; i < dx.length; i++) {
      const j = i % c.cols;
      wantDb[j]! += wantDx[i]!;
      bound[j]! += bwdBound(kind, naive, hOf(c, i), c.dy[i]!) + gamma(c.rows + 1) * (Math.abs(dx[i]!) + Math.abs(db0![j]!));
    }
    expect(compare(db!, wantDb, (j) => bound[j]!, `${label} db`)).toBeNull();
  }
}

// One row; widths 1, 3, 15, 17, 33, 100, 513 (tails of every vector width); several row chunks; rows
// wider than a chunk (16 Ki floats).
const SHAPES: Array<[number, number]> = [
  [1, 1], [1, 3], [2, 15], [3, 17], [5, 33], [7, 100], [4, 513], [1, 5000], [70, 1000], [2, 20000],
];

describe('erfc64, the oracle', () => {
  it('matches published values to 1e-13 relative', () => {
    const known: Array<[number, number]> = [
      [0.5, 0.4795001221869534], [1, 0.15729920705028513], [2, 0.004677734981047266],
      [3, 2.209049699858544e-5], [5, 1.5374597944280349e-12], [-1, 1.8427007929497148],
    ];
    for (const [z, v] of known) expect(Math.abs(erfc64(z) - v) / v, `erfc(${z})`).toBeLessThan(1e-13);
  });
});

describe.each(SIMD_LEVELS)('activation [%s]', (simd) => {
  for (const kind of ['relu', 'gelu'] as const) {
    it.each(SHAPES)(`${kind}: forward, dx and db match the float64 oracle at %i×%i, with and without bias`, (rows, cols) => {
      withSimd(simd, () => {
        checkAgainstOracle(kind, false, makeCase(rows, cols, false, rows * 7 + cols), 'no bias');
        checkAgainstOracle(kind, false, makeCase(rows, cols, true, rows * 11 + cols), 'bias');
      });
    });
  }

  it('gelu keeps its relative accuracy in the far negative tail (x down to −12.5) and is x for x ≫ 0', () => {
    withSimd(simd, () => {
      const n = 2001;
      const x = Float32Array.from({ length: n }, (_, i) => -12.5 + (25 * i) / (n - 1));
      const c: Case = { x, b: null, dy: new Float32Array(n).fill(1), rows: 1, cols: n };
      checkAgainstOracle('gelu', false, c, 'tail');
      const y = runForward('gelu', false, c);
      expect(y[0]! < 0 && y[0]! > -1e-30, `gelu(−12.5) = ${y[0]}`).toBe(true);
      expect(y[n - 1]).toBe(12.5);
    });
  });

  it('relu propagates NaN; gelu of ±0, ±∞', () => {
    withSimd(simd, () => {
      const x = new Float32Array([Number.NaN, 0, -0, Infinity, -Infinity, 1]);
      const c: Case = { x, b: null, dy: new Float32Array(6).fill(1), rows: 1, cols: 6 };
      expect(Number.isNaN(runForward('relu', false, c)[0]!)).toBe(true);
      const g = runForward('gelu', false, c);
      expect([g[1], g[2], g[3]]).toEqual([0, -0, Infinity]);
      expect(Array.from(runBackward('relu', false, c).dx.subarray(1))).toEqual([0, 0, 1, 0, 1]);
    });
  });

  it('is bit-identical with 1, 2 and 3 threads (dx, db, y)', () => {
    withSimd(simd, () => {
      for (const [rows, cols, bias] of [[300, 513, true], [3, 70000, true], [1, 200_003, false], [2048, 64, true]] as const) {
        for (const kind of ['relu', 'gelu'] as const) {
          const c = makeCase(rows, cols, bias, 5);
          const outs = [1, 2, 3].map((t) => withThreads(t, () => ({ y: runForward(kind, false, c), ...runBackward(kind, false, c) })));
          for (const o of outs.slice(1)) {
            expect(bitsEqual(o.y, outs[0]!.y), `${kind} ${rows}×${cols} y`).toBe(true);
            expect(bitsEqual(o.dx, outs[0]!.dx), `${kind} ${rows}×${cols} dx`).toBe(true);
            if (bias) expect(bitsEqual(o.db!, outs[0]!.db!), `${kind} ${rows}×${cols} db`).toBe(true);
          }
        }
      }
    });
  });

  it('writes nothing for rows = 0 or cols = 0', () => {
    withSimd(simd, () => {
      const db = new Float32Array([5]);
      nb.activationBackward(new Float32Array(0), db, new Float32Array(0), new Float32Array(1), new Float32Array(0), 0, 1, 'gelu');
      nb.activationForward(new Float32Array(0), new Float32Array(0), null, 3, 0, 'relu');
      expect(db[0]).toBe(5);
    });
  });
});

describe('activation naive reference', () => {
  for (const kind of ['relu', 'gelu'] as const) {
    it.each(SHAPES.slice(0, 8))(`${kind}: matches the float64 oracle at %i×%i`, (rows, cols) => {
      checkAgainstOracle(kind, true, makeCase(rows, cols, false, rows + cols), 'naive');
      checkAgainstOracle(kind, true, makeCase(rows, cols, true, rows + 3 * cols), 'naive bias');
    });
  }
});

// L = Σ G∘f(x + b): ∂L/∂x = G·f'(x + b) and ∂L/∂b = Σ_rows of that, by central differences of the float64
// oracle (step 1e-4: truncation ≈ 1e-9, rounding ≈ 1e-12; the float32 kernels are good to ~1e-6).
describe.each(SIMD_LEVELS)('activation gradients vs finite differences [%s]', (simd) => {
  const step = 1e-4;
  function fdCheck(kind: Kind, rows: number, cols: number, seed: number) {
    const c = makeCase(rows, cols, true, seed, 3);
    if (kind === 'relu') {
      // Keep h = x + b away from the kink at 0 by more than the step.
      for (let i = 0; i < c.x.length; i++) if (Math.abs(hOf(c, i)) < 0.05) c.x[i] = Math.fround(c.x[i]! + 0.2);
    }
    const loss = (x: ArrayLike<number>, b: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += c.dy[i]! * f64(kind, x[i]! + b[i % cols]!);
      return s;
    };
    const fd = (v: Float32Array, which: 'x' | 'b') =>
      Float64Array.from(v, (_, i) => {
        const plus = Float64Array.from(v), minus = Float64Array.from(v);
        plus[i]! += step;
        minus[i]! -= step;
        return which === 'x' ? (loss(plus, c.b!) - loss(minus, c.b!)) / (2 * step) : (loss(c.x, plus) - loss(c.x, minus)) / (2 * step);
      });
    withSimd(simd, () => {
      const { dx, db } = runBackward(kind, false, c);
      expect(compare(dx, fd(c.x, 'x'), () => 2e-5, `${kind} dx`)).toBeNull();
      expect(compare(db!, fd(c.b!, 'b'), () => 2e-5 * rows, `${kind} db`)).toBeNull();
      // Without the bias: the same dx as with b folded into x.
      const folded: Case = { ...c, x: Float32Array.from(c.x, (_, i) => hOf(c, i)), b: null };
      expect(compare(runBackward(kind, false, folded).dx, fd(c.x, 'x'), () => 2e-5, `${kind} dx, no bias`)).toBeNull();
    });
  }
  it.each([[1, 1], [3, 5], [4, 17]] as const)('gelu and relu at %i×%i', (rows, cols) => {
    fdCheck('gelu', rows, cols, 3 + rows * cols);
    fdCheck('relu', rows, cols, 4 + rows * cols);
  });
});

describe.each(SIMD_LEVELS)('activation backward vs naive on large shapes [%s]', (simd) => {
  it('gelu dx and db agree with the naive loops within the two bounds', () => {
    withSimd(simd, () => {
      const c = makeCase(257, 1000, true, 21);
      const fused = runBackward('gelu', false, c), naive = runBackward('gelu', true, c);
      expect(compare(fused.dx, naive.dx, (i) => 2 * bwdBound('gelu', true, hOf(c, i), c.dy[i]!), 'dx')).toBeNull();
      const bound = new Float64Array(c.cols);
      for (let i = 0; i < c.x.length; i++) bound[i % c.cols]! += 2 * bwdBound('gelu', true, hOf(c, i), c.dy[i]!) + 2 * gamma(c.rows) * Math.abs(fused.dx[i]!);
      expect(compare(fused.db!, naive.db!, (j) => bound[j]!, 'db')).toBeNull();
    });
  });
});
