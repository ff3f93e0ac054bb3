// lib/ops/attention.ts + native/kernels/attention*: the fused kernel and the naive one against a float64
// oracle under every ISA, on the awkward cases (B = H = L = 1, Lq ≠ Lk, D not a multiple of 16, rows fully
// masked by kvLengths, causal with Lq < Lk and Lq > Lk, decoding's split keys). The bar is FlashAttention's:
// the fused kernel's max error is at most twice the naive kernel's (plus a few ulps of the output's scale,
// for cases where the naive one happens to be exact). Backward: the float64 oracle's own gradient is
// checked against finite differences, and both kernels are held to the 2× bar against it, with a floor of
// 16 ulps: the fused backward takes the softmax term Σ P∘dP as rowsum(dOut∘out) (FlashAttention-2), which
// carries the forward's rounding, where the naive one sums its own P∘dP. Since the naive kernel shares the
// mask limits with the fused one, it is also held to the oracle on its own (naiveBounds), and 'attention
// masks' checks bit for bit, per kernel, that each query row depends on exactly the keys before its limit.
import { describe, expect, it } from 'vitest';

import {
  backend, DTypeError, InvalidArgumentError, ops, OutOfRangeError, randn, ShapeError, tensor, type Tensor,
} from '../../lib/index.js';
import { attentionBackward, attentionForward, type AttentionOptions } from '../../lib/ops/attention.js';
import { bitsEqual, centralDifference, f32, gamma, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

interface Case {
  name: string;
  b: number;
  h: number;
  lq: number;
  lk: number;
  d: number;
  causal?: boolean;
  kv?: number[];
  scale?: number;
}

const CASES: Case[] = [
  { name: 'B = H = L = D = 1', b: 1, h: 1, lq: 1, lk: 1, d: 1 },
  { name: 'Lq ≠ Lk, D = 48, causal, short padded batch', b: 2, h: 3, lq: 17, lk: 33, d: 48, causal: true, kv: [5, 33] },
  { name: 'every row masked in one batch entry', b: 2, h: 2, lq: 9, lk: 20, d: 32, kv: [0, 13] },
  { name: 'causal with Lq > Lk (top rows see nothing)', b: 1, h: 2, lq: 12, lk: 5, d: 7, causal: true },
  { name: 'several key and query blocks, D = 80', b: 1, h: 2, lq: 150, lk: 260, d: 80, causal: true, kv: [201] },
  { name: 'D = 128, kv length off the block grid', b: 2, h: 1, lq: 70, lk: 140, d: 128, kv: [77, 140] },
  { name: 'D = 100, custom scale', b: 1, h: 1, lq: 33, lk: 65, d: 100, scale: 0.3 },
  { name: 'decoding: one query, split keys', b: 1, h: 2, lq: 1, lk: 1100, d: 64, kv: [1037] },
  { name: 'decoding with causal and Lq = 3 < Lk', b: 1, h: 1, lq: 3, lk: 900, d: 64, causal: true },
];

function inputs(c: Case) {
  const seed = c.b * 1000 + c.lq * 31 + c.lk * 7 + c.d;
  const q = randn([c.b, c.h, c.lq, c.d], { seed });
  const k = randn([c.b, c.h, c.lk, c.d], { seed: seed + 1 });
  const v = randn([c.b, c.h, c.lk, c.d], { seed: seed + 2 });
  const dOut = randn([c.b, c.h, c.lq, c.d], { seed: seed + 3 });
  const opts: AttentionOptions = { causal: !!c.causal };
  if (c.kv) opts.kvLengths = Int32Array.from(c.kv);
  if (c.scale !== undefined) opts.scale = c.scale;
  return { q, k, v, dOut, opts };
}

function limit(c: Case, b: number, i: number): number {
  let lim = c.kv ? c.kv[b]! : c.lk;
  if (c.causal) lim = Math.min(lim, i + (c.lk - c.lq) + 1);
  return lim;
}

/** Float64 attention and its gradients (the dot products and softmax written out per row). */
function oracle(c: Case, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dOut?: ArrayLike<number>) {
  const { lq, lk, d } = c;
  const scale = c.scale ?? 1 / Math.sqrt(d);
  const out = new Float64Array(c.b * c.h * lq * d), lse = new Float64Array(c.b * c.h * lq);
  const dq = new Float64Array(out.length), dk = new Float64Array(c.b * c.h * lk * d), dv = new Float64Array(dk.length);
  const p = new Float64Array(lk);
  for (let bh = 0; bh < c.b * c.h; bh++) {
    const b = Math.floor(bh / c.h), qo = bh * lq * d, ko = bh * lk * d;
    for (let i = 0; i < lq; i++) {
      const lim = Math.max(0, limit(c, b, i));
      if (lim === 0) {
        lse[bh * lq + i] = -Infinity;
        continue;
      }
      let mx = -Infinity;
      for (let j = 0; j < lim; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += q[qo + i * d + t]! * k[ko + j * d + t]!;
        p[j] = s * scale;
        mx = Math.max(mx, p[j]!);
      }
      let sum = 0;
      for (let j = 0; j < lim; j++) sum += p[j] = Math.exp(p[j]! - mx);
      for (let j = 0; j < lim; j++) p[j]! /= sum;
      lse[bh * lq + i] = mx + Math.log(sum);
      for (let t = 0; t < d; t++) {
        let s = 0;
        for (let j = 0; j < lim; j++) s += p[j]! * v[ko + j * d + t]!;
        out[qo + i * d + t] = s;
      }
      if (!dOut) continue;
      // dP_j = dOut·v_j;  dS_j = P_j (dP_j − Σ P dP);  dq = scale Σ dS_j k_j;  dk_j += scale dS_j q;  dv_j += P_j dOut.
      const dp = new Float64Array(lim);
      let dot = 0;
      for (let j = 0; j < lim; j++) {
        for (let t = 0; t < d; t++) dp[j]! += dOut[qo + i * d + t]! * v[ko + j * d + t]!;
        dot += p[j]! * dp[j]!;
      }
      for (let j = 0; j < lim; j++) {
        const ds = p[j]! * (dp[j]! - dot) * scale;
        for (let t = 0; t < d; t++) {
          dq[qo + i * d + t]! += ds * k[ko + j * d + t]!;
          dk[ko + j * d + t]! += ds * q[qo + i * d + t]!;
          dv[ko + j * d + t]! += p[j]! * dOut[qo + i * d + t]!;
        }
      }
    }
  }
  return { out, lse, dq, dk, dv };
}

/**
 * Per element, how far the naive kernel's float32 results may be from the float64 oracle: a first-order
 * forward error analysis of its algorithm (attention_ref.cc) in γ_n = nu/(1 − nu), u = 2⁻²⁴, written against
 * the data of each row, so that a row seeing one key too many or too few (an O(p_j) change) is far outside
 * it. For query row i with lim keys:
 * - scores: |ŝ_j − s_j| ≤ γ_{D+1}·A, A = scale·max_j Σ_t |q_t k_jt|; with the subtraction of the max,
 *   every exp argument is off by at most γ_{D+3}·A. P = softmax is shift-invariant, so its relative error
 *   is ρ = expm1(2γ_{D+3}·A + γ_{lim+5}) (the argument errors, then exp, the sum of lim terms, the division).
 * - out_t = Σ_j p̂_j v_jt summed in float32: |err| ≤ (ρ + γ_lim(1 + ρ)) · Σ_j p_j |v_jt|.
 * - lse = m̂ + log Σ̂ where m̂ cancels exactly: |err| ≤ γ_{D+3}·A + γ_{lim+3} + γ_3·(log lim + |lse| + 1).
 * - dP_j = dOut·v_j (error γ_D·B_j, B_j = Σ_t |dOut_t v_jt|), the row term Σ_j P dP (error within
 *   (1 + ρ)(ρ + γ_{lim+D+1})·C, C = Σ_j p_j B_j), so dS_j = scale·P_j(dP_j − Σ P dP) is off by at most
 *   ε·M_j, M_j = scale·p_j(B_j + C) ≥ |dS_j|, ε = (1 + ρ)²(2ρ + γ_{lim+D+5}); then dq_i = Σ_j dS_j k_j
 *   adds γ_lim, dk_j = Σ_i dS_ij q_i and dv_j = Σ_i P_ij dOut_i add γ_Lq:
 *   |dq_it| err ≤ (ε + γ_lim(1 + ε)) Σ_j M_j|k_jt|,  |dk_jt| err ≤ Σ_i (ε_i + γ_Lq(1 + ε_i)) M_ij|q_it|,
 *   |dv_jt| err ≤ Σ_i (ρ_i + γ_Lq(1 + ρ_i)) p_ij|dOut_it|.
 * Rows that see no key get bound 0: the kernel must give exactly 0 (and lse −inf).
 */
function naiveBounds(c: Case, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dOut: ArrayLike<number>) {
  const { lq, lk, d } = c;
  const scale = c.scale ?? 1 / Math.sqrt(d);
  const out = new Float64Array(c.b * c.h * lq * d), lse = new Float64Array(c.b * c.h * lq);
  const dq = new Float64Array(out.length), dk = new Float64Array(c.b * c.h * lk * d), dv = new Float64Array(dk.length);
  const p = new Float64Array(lk), bj = new Float64Array(lk);
  for (let bh = 0; bh < c.b * c.h; bh++) {
    const b = Math.floor(bh / c.h), qo = bh * lq * d, ko = bh * lk * d;
    for (let i = 0; i < lq; i++) {
      const lim = Math.max(0, limit(c, b, i));
      if (lim === 0) continue;
      let mx = -Infinity, a = 0;
      for (let j = 0; j < lim; j++) {
        let s = 0, sa = 0;
        for (let t = 0; t < d; t++) {
          const x = q[qo + i * d + t]! * k[ko + j * d + t]!;
          s += x;
          sa += Math.abs(x);
        }
        p[j] = s * scale;
        a = Math.max(a, sa * Math.abs(scale));
        mx = Math.max(mx, p[j]!);
      }
      let sum = 0;
      for (let j = 0; j < lim; j++) sum += p[j] = Math.exp(p[j]! - mx);
      for (let j = 0; j < lim; j++) p[j]! /= sum;
      const rho = Math.expm1(2 * gamma(d + 3) * a + gamma(lim + 5));
      lse[bh * lq + i] = gamma(d + 3) * a + gamma(lim + 3) + gamma(3) * (Math.log(lim) + Math.abs(mx + Math.log(sum)) + 1);
      let cRow = 0;
      for (let j = 0; j < lim; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += Math.abs(dOut[qo + i * d + t]! * v[ko + j * d + t]!);
        bj[j] = s;
        cRow += p[j]! * s;
      }
      const eps = (1 + rho) ** 2 * (2 * rho + gamma(lim + d + 5));
      const fOut = rho + gamma(lim) * (1 + rho), fq = eps + gamma(lim) * (1 + eps);
      const fk = eps + gamma(lq) * (1 + eps), fv = rho + gamma(lq) * (1 + rho);
      for (let j = 0; j < lim; j++) {
        const m = Math.abs(scale) * p[j]! * (bj[j]! + cRow);
        for (let t = 0; t < d; t++) {
          out[qo + i * d + t]! += fOut * p[j]! * Math.abs(v[ko + j * d + t]!);
          dq[qo + i * d + t]! += fq * m * Math.abs(k[ko + j * d + t]!);
          dk[ko + j * d + t]! += fk * m * Math.abs(q[qo + i * d + t]!);
          dv[ko + j * d + t]! += fv * p[j]! * Math.abs(dOut[qo + i * d + t]!);
        }
      }
    }
  }
  return { out, lse, dq, dk, dv };
}

/** Every |got − want| within bound (−inf must meet −inf exactly: rows that see no key). */
function expectWithinBound(label: string, got: Float32Array, want: Float64Array, bound: Float64Array) {
  let bad = -1, worst = 0, worstAt = -1;
  for (let i = 0; i < want.length; i++) {
    const err = got[i] === want[i] ? 0 : Math.abs(got[i]! - want[i]!); // NaN for NaN or −inf against finite
    if (!(err <= bound[i]!) && bad < 0) bad = i;
    if (!(err <= worst)) (worst = err), (worstAt = i);
  }
  const report = `${label}: first bad index ${bad} (got ${got[bad]}, want ${want[bad]}, bound ${bound[bad]}); max error ${worst} at ${worstAt}`;
  expect(bad < 0, report).toBe(true);
}

/** The oracle and the naive kernel's bounds of a case, computed once for every ISA. */
const expectedCache = new Map<Case, { want: ReturnType<typeof oracle>; bound: ReturnType<typeof naiveBounds> }>();
function expected(c: Case, q: Tensor, k: Tensor, v: Tensor, dOut: Tensor) {
  let e = expectedCache.get(c);
  if (!e) {
    const [qa, ka, va, ga] = [q, k, v, dOut].map((t) => t.toFloat32Array()) as [Float32Array, Float32Array, Float32Array, Float32Array];
    e = { want: oracle(c, qa, ka, va, ga), bound: naiveBounds(c, qa, ka, va, ga) };
    expectedCache.set(c, e);
  }
  return e;
}

function maxError(got: Float32Array, want: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!, g = got[i]!;
    const err = w === g ? 0 : Math.abs(g - w); // −inf = −inf
    if (!(err <= worst)) worst = err;
  }
  return worst;
}

const maxAbs = (x: Float64Array) => x.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);

/** FlashAttention's bar: fused error ≤ 2 × naive error, with a floor of `ulps` ulps of the data's scale. */
function expectWithinBar(label: string, fused: Float32Array, naive: Float32Array, want: Float64Array, ulps = 4) {
  const ef = maxError(fused, want), en = maxError(naive, want);
  const floor = ulps * 2 ** -24 * Math.max(1, maxAbs(want));
  expect(ef, `${label}: fused error ${ef} vs naive ${en}`).toBeLessThanOrEqual(2 * en + floor);
}

describe.each(SIMD_LEVELS)('attention forward and backward under %s', (simd) => {
  it.each(CASES)('$name', (c) => {
    withSimd(simd, () => {
      const { q, k, v, dOut, opts } = inputs(c);
      const { want, bound } = expected(c, q, k, v, dOut);
      const fused = attentionForward(q, k, v, opts), naive = attentionForward(q, k, v, opts, true);
      expectWithinBar('out', fused.out.toFloat32Array(), naive.out.toFloat32Array(), want.out);
      expectWithinBar('lse', fused.lse.toFloat32Array(), naive.lse.toFloat32Array(), want.lse);
      const gf = attentionBackward(q, k, v, fused, dOut, opts), gn = attentionBackward(q, k, v, naive, dOut, opts, true);
      for (const key of ['dq', 'dk', 'dv'] as const) {
        expectWithinBar(key, gf[key].toFloat32Array(), gn[key].toFloat32Array(), want[key], 16);
      }
      // The bar above is relative to the naive kernel, which shares the mask limits (attention_limit): hold
      // the naive kernel to the oracle on its own, within its float32 rounding (naiveBounds).
      expectWithinBound('naive out', naive.out.toFloat32Array(), want.out, bound.out);
      expectWithinBound('naive lse', naive.lse.toFloat32Array(), want.lse, bound.lse);
      for (const key of ['dq', 'dk', 'dv'] as const) {
        expectWithinBound(`naive ${key}`, gn[key].toFloat32Array(), want[key], bound[key]);
      }
      // Rows that see no key: exactly 0 and −inf, never NaN.
      const out = fused.out.toFloat32Array(), lse = fused.lse.toFloat32Array();
      for (let bh = 0; bh < c.b * c.h; bh++) {
        for (let i = 0; i < c.lq; i++) {
          if (limit(c, Math.floor(bh / c.h), i) > 0) continue;
          expect(lse[bh * c.lq + i]).toBe(-Infinity);
          expect(out.subarray((bh * c.lq + i) * c.d, (bh * c.lq + i + 1) * c.d).every((x) => x === 0)).toBe(true);
        }
      }
      expect(out.some(Number.isNaN)).toBe(false);
    });
  });
});

// Precision 'medium' (attention.h): the products' operands rounded to bf16, sums in float32. Held against
// the float64 oracle of the rounded q, k, v and dOut:
// - lse, computed before any rounding of P: within the float32 bound of the naive kernel (it fails by far if
//   q or k is not rounded: a score moves by ~2⁻⁹·Σ|q||k|);
// - out and dv: the float32 bound plus 2⁻⁸ of Σ p|v| (Σ p|dOut|), since each kernel rounds P (the fused one
//   before normalising it, the naive one after) to within half a bf16 unit, 2⁻⁹, and they may land either
//   side of the oracle's P;
// - dq and dk (dS rounded, and D read from the unrounded dOut): within 2⁻⁶ of the gradient's largest
//   element plus D's rounding as it reaches them (with one key the oracle's dq is 0, the kernels' not).
// Every case also differs from the float32 result by more than float32 rounding: the rounding happened.
describe.each(SIMD_LEVELS)('attention with bf16 products (precision medium) under %s', (simd) => {
  const bf16 = (x: Float32Array) => {
    const u = new Uint32Array(Float32Array.from(x).buffer);
    for (let i = 0; i < u.length; i++) u[i] = ((u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) & 0xffff0000) >>> 0; // finite data
    return new Float32Array(u.buffer);
  };
  const abs = (x: Float32Array) => x.map(Math.abs);
  it.each(CASES.filter((c) => c.lq * c.lk < 40_000))('$name', (c) => {
    withSimd(simd, () => {
      const { q, k, v, dOut, opts } = inputs(c);
      const [qa, ka, va, ga] = [q, k, v, dOut].map((t) => t.toFloat32Array()) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const [qr, kr, vr, gr] = [qa, ka, va, ga].map(bf16) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const want = oracle(c, qr, kr, vr, gr), bound = naiveBounds(c, qr, kr, vr, gr);
      const pv = oracle(c, qr, kr, abs(vr), abs(gr));  // out = Σ p|v|, dv = Σ p|dOut|
      const fp32 = attentionForward(q, k, v, opts);
      backend.setMatmulPrecision('medium');
      try {
        for (const naive of [false, true]) {
          const f = attentionForward(q, k, v, opts, naive);
          const g = attentionBackward(q, k, v, f, dOut, opts, naive);
          const label = naive ? 'naive' : 'fused';
          expectWithinBound(`${label} lse`, f.lse.toFloat32Array(), want.lse, bound.lse);
          expectWithinBound(`${label} out`, f.out.toFloat32Array(), want.out, bound.out.map((b, i) => b + 2 ** -8 * pv.out[i]!));
          expectWithinBound(`${label} dv`, g.dv.toFloat32Array(), want.dv, bound.dv.map((b, i) => b + 2 ** -8 * pv.dv[i]!));
          // D's error, 2⁻⁹·Σ|dOut||out| per row, reaches dS through P and dq, dk through k and q.
          const dErr = Math.abs(c.scale ?? 1 / Math.sqrt(c.d)) * maxAbs(Float64Array.from({ length: c.b * c.h * c.lq }, (_, i) =>
            ga.subarray(i * c.d, (i + 1) * c.d).reduce((acc, x, t) => acc + Math.abs(x * want.out[i * c.d + t]!), 0)));
          for (const key of ['dq', 'dk'] as const) {
            const top = maxAbs(want[key]) + dErr * Math.max(maxAbs(Float64Array.from(kr)), maxAbs(Float64Array.from(qr)));
            expectWithinBound(`${label} ${key}`, g[key].toFloat32Array(), want[key], bound[key].map((b) => b + 2 ** -6 * top));
          }
          if (c.lk > 1) expect(maxError(f.out.toFloat32Array(), Float64Array.from(fp32.out.toFloat32Array()))).toBeGreaterThan(2 ** -14 * maxAbs(want.out));
        }
      } finally {
        backend.setMatmulPrecision('high');
      }
    });
  });
});

describe('attention oracle gradient', () => {
  it('matches central finite differences of the float64 forward', () => {
    const c: Case = { name: 'fd', b: 1, h: 2, lq: 3, lk: 5, d: 4, causal: true, kv: [4] };
    const { q, k, v, dOut } = inputs(c);
    const x: Record<'q' | 'k' | 'v', Float64Array> = { q: Float64Array.from(q.toFloat32Array()), k: Float64Array.from(k.toFloat32Array()), v: Float64Array.from(v.toFloat32Array()) };
    const g = dOut.toFloat32Array();
    const loss = () => oracle(c, x.q, x.k, x.v).out.reduce((s, o, i) => s + o * g[i]!, 0);
    const grads = oracle(c, x.q, x.k, x.v, g);
    for (const [name, grad] of [['q', grads.dq], ['k', grads.dk], ['v', grads.dv]] as const) {
      const keep = x[name];
      const fd = centralDifference((at) => {
        x[name] = at;
        return loss();
      }, keep, 1e-6);
      x[name] = keep;
      fd.forEach((want, i) => expect(Math.abs(want - grad[i]!), `d${name}[${i}]`).toBeLessThan(1e-7));
    }
  });
});

describe('attention determinism', () => {
  // Large enough to run in parallel: the query-block path, the split-key decode path, grouped backward.
  it.each([CASES[4]!, CASES[7]!, { name: 'many heads', b: 2, h: 5, lq: 130, lk: 70, d: 48, causal: true } as Case])(
    'bit-identical with 1 and 2 threads: $name',
    (c) => {
      const { q, k, v, dOut, opts } = inputs(c);
      const run = () => {
        const f = attentionForward(q, k, v, opts);
        const g = attentionBackward(q, k, v, f, dOut, opts);
        return [f.out, f.lse, g.dq, g.dk, g.dv].map((t) => t.toFloat32Array());
      };
      const one = withThreads(1, run), two = withThreads(2, run);
      one.forEach((x, i) => expect(bitsEqual(x, two[i]!), `output ${i}`).toBe(true));
    },
  );
});

// Mask structure, bit for bit: query row i must depend on the keys j < limit(i) and on no other. Values
// see a limit off by one only as an O(1/Lk) change; here every kernel is probed on its own, exactly.
// (a) K and V at every key j ≥ limit(i) replaced by garbage of magnitude 10³ (finite, as padding is:
// 0·garbage = 0, so a kernel that masks correctly is unmoved): out[i], lse[i] and dq[i] keep their bits.
// (b) The key limit(i) − 1 moved (K toward q_i, V by 4): out[i], lse[i] and dq[i] change (dq[i] not when
// limit(i) = 1: with one key P = 1 and dS = P(dP − P·dP) = 0). Rows with limit 0 give out 0, lse −inf and
// dq 0 whatever the keys; keys no row sees get dk = dv = 0. Rows probed per case: first, middle, last, and
// those where a limit starts to grow, meets kvLengths, or crosses a multiple of 16 keys (SIMD tiles and key
// blocks are multiples of 16 keys for every ISA). Perturbations go to every (batch, head) at once.
const MASK_CASES: Case[] = [
  { name: 'Lq < Lk, causal, kvLengths [0, 270, 300], several key blocks', b: 3, h: 1, lq: 40, lk: 300, d: 64, causal: true, kv: [0, 270, 300] },
  { name: 'Lq < Lk', b: 1, h: 2, lq: 20, lk: 70, d: 24 },
  { name: 'Lq = Lk, causal, kvLengths [150, 97], two query blocks', b: 2, h: 1, lq: 150, lk: 150, d: 32, causal: true, kv: [150, 97] },
  { name: 'Lq = Lk, kvLengths [17, 0]', b: 2, h: 1, lq: 40, lk: 40, d: 16, kv: [17, 0] },
  { name: 'Lq = Lk, causal', b: 1, h: 1, lq: 33, lk: 33, d: 9, causal: true },
  { name: 'Lq > Lk, causal, kvLengths [19, 7] (top rows see nothing)', b: 2, h: 2, lq: 50, lk: 19, d: 8, causal: true, kv: [19, 7] },
  { name: 'Lq > Lk', b: 1, h: 1, lq: 24, lk: 9, d: 5 },
  { name: 'decoding: Lq = 1, split keys, kvLengths [1037, 0, 641]', b: 3, h: 1, lq: 1, lk: 1100, d: 64, kv: [1037, 0, 641] },
  { name: 'decoding: causal, Lq = 4 < Lk, split keys', b: 1, h: 1, lq: 4, lk: 1100, d: 64, causal: true },
];

interface Kernel {
  name: string;
  naive: boolean;
  simd?: (typeof SIMD_LEVELS)[number];
}
const KERNELS: Kernel[] = [...SIMD_LEVELS.map((simd) => ({ name: `fused, ${simd}`, naive: false, simd })), { name: 'naive', naive: true }];

/** Forward then backward with one kernel, on the case's q and dOut and the given k and v: out, lse, dq, dk, dv. */
function runKernel(kernel: Kernel, c: Case, { q, dOut, opts }: ReturnType<typeof inputs>, k: Float32Array, v: Float32Array) {
  const kt = tensor(k, [c.b, c.h, c.lk, c.d]), vt = tensor(v, [c.b, c.h, c.lk, c.d]);
  const run = () => {
    const f = attentionForward(q, kt, vt, opts, kernel.naive);
    const g = attentionBackward(q, kt, vt, f, dOut, opts, kernel.naive);
    return { out: f.out.toFloat32Array(), lse: f.lse.toFloat32Array(), dq: g.dq.toFloat32Array(), dk: g.dk.toFloat32Array(), dv: g.dv.toFloat32Array() };
  };
  return kernel.simd ? withSimd(kernel.simd, run) : run();
}

function probeRows(c: Case): number[] {
  const rows = new Set([0, c.lq >> 1, c.lq - 1]);
  for (let b = 0; b < c.b; b++) {
    const cap = c.kv ? c.kv[b]! : c.lk;
    for (let i = 1; i < c.lq; i++) {
      const before = Math.max(0, limit(c, b, i - 1)), lim = Math.max(0, limit(c, b, i));
      if (lim === before) continue;
      if (before === 0 || lim === cap || before >> 4 !== lim >> 4) rows.add(i - 1).add(i);
    }
  }
  return [...rows].sort((x, y) => x - y);
}

const isZero = (x: Float32Array) => x.every((y) => y === 0);

describe('attention masks', () => {
  it('probes rows where the limits start, stop and cross blocks', () => {
    // Lq = 50 > Lk = 19, causal: rows ≤ 30 see nothing; kvLengths 19 is met at row 49, 7 at row 37; the
    // limit crosses 16 keys at row 46.
    expect(probeRows(MASK_CASES[5]!)).toEqual([0, 25, 30, 31, 36, 37, 45, 46, 48, 49]);
  });

  // Causal masks align at the bottom right: row i sees keys j ≤ i + (Lk − Lq), so with a KV cache (Lq < Lk)
  // the first row already sees Lk − Lq + 1 keys, and with Lq > Lk the top Lq − Lk rows see none. Written
  // out here (not derived from `limit`), and observed per key: moving key j alone must change exactly the
  // rows marked 1 in column j.
  const ALIGNED: { c: Case; seen: string[][] }[] = [
    { c: { name: 'causal, Lq = 3 < Lk = 7', b: 1, h: 2, lq: 3, lk: 7, d: 4, causal: true }, seen: [['1111100', '1111110', '1111111']] },
    { c: { name: 'causal, Lq = 6 > Lk = 3', b: 1, h: 2, lq: 6, lk: 3, d: 4, causal: true }, seen: [['000', '000', '000', '100', '110', '111']] },
    {
      c: { name: 'causal, Lq = Lk = 4, kvLengths [2, 0, 4]', b: 3, h: 1, lq: 4, lk: 4, d: 3, causal: true, kv: [2, 0, 4] },
      seen: [['1000', '1100', '1100', '1100'], ['0000', '0000', '0000', '0000'], ['1000', '1100', '1110', '1111']],
    },
    {
      c: { name: 'causal, Lq = 2 < Lk = 5, kvLengths [3, 5]', b: 2, h: 1, lq: 2, lk: 5, d: 4, causal: true, kv: [3, 5] },
      seen: [['11100', '11100'], ['11110', '11111']],
    },
    {
      c: { name: 'causal, Lq = 5 > Lk = 3, kvLengths [1, 3]', b: 2, h: 1, lq: 5, lk: 3, d: 2, causal: true, kv: [1, 3] },
      seen: [['000', '000', '100', '100', '100'], ['000', '000', '100', '110', '111']],
    },
    { c: { name: 'Lq = 3 > Lk = 2, kvLengths [1, 2]', b: 2, h: 1, lq: 3, lk: 2, d: 4, kv: [1, 2] }, seen: [['10', '10', '10'], ['11', '11', '11']] },
  ];

  describe.each(KERNELS)('$name', (kernel) => {
    it.each(MASK_CASES)('row i sees exactly keys [0, limit(i)): $name', (c) => {
      const { lq, lk, d } = c;
      const io = inputs(c);
      const q0 = io.q.toFloat32Array(), k0 = io.k.toFloat32Array(), v0 = io.v.toFloat32Array();
      const junkK = f32(k0.length, 11, 1e3), junkV = f32(v0.length, 12, 1e3);
      const base = runKernel(kernel, c, io, k0, v0);
      const row = (x: Float32Array, bh: number, i: number) => x.subarray((bh * lq + i) * d, (bh * lq + i + 1) * d);
      const lseAt = (x: Float32Array, bh: number, i: number) => x.subarray(bh * lq + i, bh * lq + i + 1);
      const where = (bh: number, i: number, lim: number) => `${kernel.name}, ${c.name}: head ${bh}, row ${i}, limit ${lim}`;
      for (let bh = 0; bh < c.b * c.h; bh++) {
        const b = Math.floor(bh / c.h);
        let seen = 0;
        for (let i = 0; i < lq; i++) {
          const lim = limit(c, b, i);
          seen = Math.max(seen, lim);
          if (lim > 0) continue;
          expect(isZero(row(base.out, bh, i)) && isZero(row(base.dq, bh, i)), where(bh, i, lim)).toBe(true);
          expect(base.lse[bh * lq + i], where(bh, i, lim)).toBe(-Infinity);
        }
        // Keys that no row sees get no gradient.
        const unseen = (x: Float32Array) => x.subarray((bh * lk + seen) * d, (bh + 1) * lk * d);
        expect(isZero(unseen(base.dk)) && isZero(unseen(base.dv)), `${kernel.name}, ${c.name}: dk, dv past key ${seen}, head ${bh}`).toBe(true);
      }
      for (const i of probeRows(c)) {
        // (a) Garbage at every key the row does not see.
        const ka = k0.slice(), va = v0.slice();
        for (let bh = 0; bh < c.b * c.h; bh++) {
          const from = (bh * lk + Math.max(0, limit(c, Math.floor(bh / c.h), i))) * d, to = (bh + 1) * lk * d;
          ka.set(junkK.subarray(from, to), from);
          va.set(junkV.subarray(from, to), from);
        }
        const a = [...Array(c.b).keys()].every((b) => limit(c, b, i) >= lk) ? base : runKernel(kernel, c, io, ka, va);
        // (b) The last key the row sees, moved.
        const kb = k0.slice(), vb = v0.slice();
        for (let bh = 0; bh < c.b * c.h; bh++) {
          const lim = limit(c, Math.floor(bh / c.h), i);
          if (lim <= 0) continue;
          for (let t = 0; t < d; t++) {
            kb[(bh * lk + lim - 1) * d + t]! += 0.5 * Math.sign(q0[(bh * lq + i) * d + t]!);
            vb[(bh * lk + lim - 1) * d + t]! += 4;
          }
        }
        const moved = runKernel(kernel, c, io, kb, vb);
        for (let bh = 0; bh < c.b * c.h; bh++) {
          const lim = limit(c, Math.floor(bh / c.h), i), at = where(bh, i, lim);
          for (const [name, x] of [['out', row], ['lse', lseAt], ['dq', row]] as const) {
            const key = name as 'out' | 'lse' | 'dq';
            expect(bitsEqual(x(a[key], bh, i), x(base[key], bh, i)), `${at}: ${name} moved by keys past the limit`).toBe(true);
            if (key === 'dq' && lim === 1) continue; // one key: P = 1, dS = P(dP − P·dP) = 0 whatever the key
            expect(bitsEqual(x(moved[key], bh, i), x(base[key], bh, i)), `${at}: ${name} after moving key limit − 1`).toBe(lim <= 0);
          }
        }
      }
    });

    it.each(ALIGNED)('the keys each row sees: $c.name', ({ c, seen }) => {
      const { lq, lk, d } = c;
      // The table is what `limit` (the oracle's mask) says, too.
      expect(seen.map((rows, b) => rows.map((_, i) => '1'.repeat(Math.max(0, limit(c, b, i))).padEnd(lk, '0')))).toEqual(seen);
      const io = inputs(c);
      const k0 = io.k.toFloat32Array(), v0 = io.v.toFloat32Array();
      const base = runKernel(kernel, c, io, k0, v0).out;
      const observed = seen.map((rows) => rows.map(() => ''));
      for (let j = 0; j < lk; j++) {
        const kj = k0.slice(), vj = v0.slice();
        for (let bh = 0; bh < c.b * c.h; bh++) {
          for (let t = 0; t < d; t++) (kj[(bh * lk + j) * d + t]! += 0.5), (vj[(bh * lk + j) * d + t]! += 4);
        }
        const out = runKernel(kernel, c, io, kj, vj).out;
        for (let b = 0; b < c.b; b++) {
          for (let i = 0; i < lq; i++) {
            const heads = Array.from({ length: c.h }, (_, h) => {
              const o = ((b * c.h + h) * lq + i) * d;
              return bitsEqual(out.subarray(o, o + d), base.subarray(o, o + d)) ? '0' : '1';
            });
            expect(new Set(heads).size, `batch ${b}, row ${i}, key ${j}: heads disagree`).toBe(1);
            const rows = observed[b]!;
            rows[i] = rows[i]! + heads[0]!;
          }
        }
      }
      expect(observed).toEqual(seen);
    });
  });
});

describe('ops.scaledDotProductAttention', () => {
  const q = randn([2, 2, 3, 4], { seed: 1 }), k = randn([2, 2, 5, 4], { seed: 2 });

  it('defaults to scale 1/√D, no mask, and matches ops.naive', () => {
    const a = ops.scaledDotProductAttention(q, k, k), b = ops.naive.scaledDotProductAttention(q, k, k, { scale: 0.5 });
    expect(a.shape).toEqual([2, 2, 3, 4]);
    const diff = a.toFloat32Array().map((x, i) => Math.abs(x - b.toFloat32Array()[i]!));
    expect(Math.max(...diff)).toBeLessThan(1e-6);
  });

  it('rejects bad input with typed errors naming what is wrong', () => {
    const sdpa = (a: unknown, b: unknown, c: unknown, o?: unknown) =>
      () => ops.scaledDotProductAttention(a as Tensor, b as Tensor, c as Tensor, o as AttentionOptions);
    expect(sdpa(randn([2, 3, 4], { seed: 1 }), k, k)).toThrow(/\[B, H, L, D\] tensor for q .*\[2, 3, 4\]/);
    expect(sdpa(q, randn([2, 2, 5, 3], { seed: 1 }), k)).toThrow(ShapeError);
    expect(sdpa(q, k, randn([2, 2, 4, 4], { seed: 1 }))).toThrow(/v to have the shape \[2, 2, 5, 4\] of k/);
    expect(sdpa(tensor(new Int32Array(48), [2, 2, 3, 4]), k, k)).toThrow(DTypeError);
    expect(sdpa(q, k, k, { kvLengths: Int32Array.of(5) })).toThrow(/2 entries in options.kvLengths/);
    expect(sdpa(q, k, k, { kvLengths: Int32Array.of(5, 6) })).toThrow(OutOfRangeError);
    expect(sdpa(q, k, k, { kvLengths: Int32Array.of(5, -1) })).toThrow(/kvLengths\[1\] is -1/);
    expect(sdpa(q, k, k, { kvLengths: [5, 5] })).toThrow(InvalidArgumentError);
    expect(sdpa(q, k, k, { scale: Number.NaN })).toThrow(/finite number for options.scale/);
    expect(sdpa(q, k, k, { mask: true })).toThrow(/Unknown option 'mask'/);
    expect(sdpa(q, k, k, { causal: 1 })).toThrow(InvalidArgumentError);
  });

  it('checks the saved tensors given to the backward', () => {
    const saved = attentionForward(q, k, k);
    expect(() => attentionBackward(q, k, k, { out: saved.out, lse: saved.out }, saved.out)).toThrow(/for lse/);
  });
});
