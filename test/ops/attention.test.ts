// lib/ops/attention.ts + native/kernels/attention*: the fused kernel and the naive one against a float64
// oracle under every ISA, on the awkward cases (B = H = L = 1, Lq ≠ Lk, D not a multiple of 16, rows fully
// masked by kvLengths, causal with Lq < Lk and Lq > Lk, decoding's split keys). The bar is FlashAttention's:
// the fused kernel's max error is at most twice the naive kernel's (plus a few ulps of the output's scale,
// for cases where the naive one happens to be exact). Backward: the float64 oracle's own gradient is
// checked against finite differences, and both kernels are held to the 2× bar against it, with a floor of
// 16 ulps: the fused backward takes the softmax term Σ P∘dP as rowsum(dOut∘out) (FlashAttention-2), which
// carries the forward's rounding, where the naive one sums its own P∘dP.
import { describe, expect, it } from 'vitest';

import {
  DTypeError, InvalidArgumentError, ops, OutOfRangeError, randn, ShapeError, tensor, type Tensor,
} from '../../lib/index.js';
import { attentionBackward, attentionForward, type AttentionOptions } from '../../lib/ops/attention.js';
import { bitsEqual, centralDifference, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

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
      const want = oracle(c, q.toFloat32Array(), k.toFloat32Array(), v.toFloat32Array(), dOut.toFloat32Array());
      const fused = attentionForward(q, k, v, opts), naive = attentionForward(q, k, v, opts, true);
      expectWithinBar('out', fused.out.toFloat32Array(), naive.out.toFloat32Array(), want.out);
      expectWithinBar('lse', fused.lse.toFloat32Array(), naive.lse.toFloat32Array(), want.lse);
      const gf = attentionBackward(q, k, v, fused, dOut, opts), gn = attentionBackward(q, k, v, naive, dOut, opts, true);
      for (const key of ['dq', 'dk', 'dv'] as const) {
        expectWithinBar(key, gf[key].toFloat32Array(), gn[key].toFloat32Array(), want[key], 16);
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

describe('attention oracle gradient', () => {
  it('matches central finite differences of the float64 forward', () => {
    const c: Case = { name: 'fd', b: 1, h: 2, lq: 3, lk: 5, d: 4, causal: true, kv: [4] };
    const { q, k, v, dOut } = inputs(c);
    const x = { q: Float64Array.from(q.toFloat32Array()), k: Float64Array.from(k.toFloat32Array()), v: Float64Array.from(v.toFloat32Array()) };
    const g = dOut.toFloat32Array();
    const loss = () => oracle(c, x.q, x.k, x.v).out.reduce((s, o, i) => s + o * g[i]!, 0);
    const grads = oracle(c, x.q, x.k, x.v, g);
    for (const [name, grad] of [['q', grads.dq], ['k', grads.dk], ['v', grads.dv]] as const) {
      const keep = x[name];
      const fd = centralDifference((at) => ((x[name] = at), loss()), keep, 1e-6);
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
