// native/kernels/matmul*'s bf16 GEMM (backend precision 'medium'): bf16-rounded inputs, float32 sums, as
// VDPBF16PS. Its result is defined to the bit (native/kernels/matmul.h), so:
//  - the reference loops (ref::matmul_bf16_forward) match an independent JavaScript reading of that
//    definition, bit for bit, on data where float64 holds every fma exactly;
//  - the rounding itself matches a JavaScript round-to-nearest-even over awkward bit patterns (A · I);
//  - every ISA of this machine, with the CPU's bf16 instructions and with their emulation, on one thread
//    and on all, gives the reference's bits on awkward shapes and on tiny, huge and non-finite inputs;
//  - the result is within the float32 bound of the float64 product of the rounded inputs;
//  - on AMX tiles (whose sums Intel does not define to the bit), the same bound on the same shapes, the
//    same bits on one thread and all, exact rounding of the inputs, and NaN where the reference has NaN.
import { afterEach, describe, expect, it } from 'vitest';

import { backend } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { Rng } from '../../lib/tensor/random.js';
import { bitsEqual, compare, f32, gamma, matmulOracle, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();
const KC = 512;

afterEach(() => backend.setSimd(SIMD_LEVELS.at(-1)!, { lowPrecision: 'native' }));

const bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0]!;
const fromBits = (u: number): number => new Float32Array(Uint32Array.of(u).buffer)[0]!;

/** Round to bf16 in JavaScript: nearest even, NaN quieted, denormals (and zeros) to a zero of their sign. */
function bf16(x: number): number {
  const u = bits(x);
  if ((u & 0x7fffffff) >>> 0 > 0x7f800000) return fromBits(((u >>> 16) | 0x40) << 16);
  if ((u & 0x7f800000) === 0) return fromBits(u & 0x80000000);
  const r = (u + 0x7fff + ((u >>> 16) & 1)) >>> 0;
  return fromBits((r & 0xffff0000) >>> 0);
}

/**
 * matmul.h's definition read in float64: each step is fl32(a·b + s), exact in float64 here because the
 * data keeps a bf16 product (16 bits) and s (24 bits) within 53 bits of each other, and no sum is tiny.
 */
function definition(a: Float32Array, b: Float32Array, c0: Float32Array, m: number, k: number, n: number,
  ta: boolean, tb: boolean, accumulate: boolean, bias: Float32Array | null): Float32Array {
  const at = (i: number, p: number) => bf16(ta ? a[p * m + i]! : a[i * k + p]!);
  const bt = (p: number, j: number) => bf16(tb ? b[j * k + p]! : b[p * n + j]!);
  const c = c0.slice();
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = c[i * n + j]!;
      if (k === 0) x = Math.fround((accumulate ? x : 0) + (bias ? bias[j]! : 0));
      for (let p0 = 0; p0 < k; p0 += KC) {
        const p1 = Math.min(p0 + KC, k);
        let s = 0;
        for (let p = p0; p < p1; p += 2) {
          if (p + 1 < p1) s = Math.fround(at(i, p + 1) * bt(p + 1, j) + s);
          s = Math.fround(at(i, p) * bt(p, j) + s);
        }
        x = accumulate || p0 > 0 ? Math.fround(x + s) : s;
        if (p0 === 0 && bias) x = Math.fround(x + bias[j]!);
      }
      c[i * n + j] = x;
    }
  }
  return c;
}

interface Case { m: number; k: number; n: number; ta: boolean; tb: boolean; accumulate: boolean; bias: boolean }

function run(fn: typeof nb.matmulForward, t: Case, a: Float32Array, b: Float32Array, c0: Float32Array, bias: Float32Array | null): Float32Array {
  const c = c0.slice();
  fn(c, a, b, t.m, t.k, t.n, t.ta, t.tb, t.accumulate, 1, null, null, bias);
  return c;
}

/** The bf16 product under the current ISA (or the reference loops). */
function bf16Product(naive: boolean, t: Case, a: Float32Array, b: Float32Array, c0: Float32Array, bias: Float32Array | null): Float32Array {
  backend.setMatmulPrecision('medium');
  try {
    return run(naive ? nb.matmulForwardNaive : nb.matmulForward, t, a, b, c0, bias);
  } finally {
    backend.setMatmulPrecision('high');
  }
}

function operands(t: Case, seed: number) {
  return {
    a: f32(t.m * t.k, seed), b: f32(t.k * t.n, seed + 1), c0: f32(t.m * t.n, seed + 2),
    bias: t.bias ? f32(t.n, seed + 3) : null,
  };
}

// Shapes: 1s; odd K (a zero-padded last pair); K of one, two and three KC blocks with an odd last one; M
// around the panel heights (12 rows on AVX-512, 6 on AVX2, 4 on scalar) and N around the panel widths (32,
// 16, 8); and the few-row shapes that the float32 GEMM streams.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 2, 1], [1, 3, 5], [2, 7, 33], [5, 16, 17], [13, 37, 31], [16, 64, 100], [17, 33, 65],
  [4, 511, 9], [3, 512, 40], [25, 513, 7], [9, 1025, 21], [37, 41, 43], [100, 30, 129], [1, 300, 257], [64, 2, 64],
];
const CASES: Case[] = SHAPES.flatMap(([m, k, n], i) => [
  { m, k, n, ta: i % 2 === 1, tb: i % 3 === 1, accumulate: false, bias: false },
  { m, k, n, ta: i % 2 === 0, tb: i % 3 !== 1, accumulate: true, bias: true },
]);

describe('ref::matmul_bf16_forward', () => {
  it.each(CASES.filter((t) => t.m * t.n * t.k < 3e5))('is the definition, bit for bit: %o', (t) => {
    const { a, b, c0, bias } = operands(t, 10 + t.m + t.k);
    const got = bf16Product(true, t, a, b, c0, bias);
    expect(bitsEqual(got, definition(a, b, c0, t.m, t.k, t.n, t.ta, t.tb, t.accumulate, bias))).toBe(true);
  });

  it('is within the float32 bound of the float64 product of the rounded inputs', () => {
    const t: Case = { m: 23, k: 700, n: 19, ta: false, tb: true, accumulate: false, bias: false };
    const { a, b, c0 } = operands(t, 5);
    const got = bf16Product(true, t, a, b, c0, null);
    const { c: want, scale } = matmulOracle(a.map(bf16), b.map(bf16), t.m, t.k, t.n, t.ta, t.tb);
    expect(compare(got, want, (i) => 2 * gamma(t.k) * scale[i]!, 'bf16 vs float64')).toBeNull();
    // …and bf16 really rounds: the float32 product differs from it by about the bf16 unit, 2⁻⁸.
    const { c: exact } = matmulOracle(a, b, t.m, t.k, t.n, t.ta, t.tb);
    const err = Math.max(...Array.from(got, (x, i) => Math.abs(x - exact[i]!) / scale[i]!));
    expect(err).toBeGreaterThan(2 ** -12);
    expect(err).toBeLessThan(2 ** -7);
  });
});

// Awkward bit patterns: ties to even either way, the largest finite value (rounds to ∞), the smallest
// normals and denormals (DAZ), NaNs (quieted), ±0 and ±∞, random floats of every exponent.
function awkward(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const special = [0x3f808000, 0x3f818000, 0x3f80ffff, 0x3f807fff, 0x7f7fffff, 0xff7fffff, 0x00800000, 0x00800001,
    0x007fffff, 0x80000001, 0x7fc00000, 0x7f800001, 0xffa00000, 0x00000000, 0x80000000, 0x7f800000, 0xff800000,
    0x0080ffff, 0x3380a000];
  return Float32Array.from({ length: n }, (_, i) =>
    fromBits(i < special.length ? special[i]! : Math.floor(rng.uniform() * 2 ** 32) >>> 0));
}

describe.each(SIMD_LEVELS)('matmul_bf16_forward [%s]', (simd) => {
  // 'vector' is 'native' but for AMX tiles, which are held to a bound below instead of the bits.
  const modes = ['vector', 'emulate'] as const;

  it.each(modes)('rounds every input as the JavaScript round-to-nearest-even does (A · I, %s)', (mode) => {
    withSimd(simd, () => {
      backend.setSimd(simd, { lowPrecision: mode });
      for (const [m, k] of [[40, 37], [3, 64]] as const) {
        const a = awkward(m * k, m);
        const eye = new Float32Array(k * k);
        for (let p = 0; p < k; p++) eye[p * k + p] = 1;
        const t: Case = { m, k, n: k, ta: false, tb: false, accumulate: false, bias: false };
        const got = bf16Product(false, t, a, eye, new Float32Array(m * k), null);
        // a·1 + 0·x for the other columns: a NaN or ∞ in a row makes 0·∞ and NaN elsewhere in that row.
        const want = bf16Product(true, t, a, eye, new Float32Array(m * k), null);
        expect(bitsEqual(got, want)).toBe(true);
        for (let i = 0; i < m * k; i++) {
          const row = Math.floor(i / k);
          const finiteRow = a.subarray(row * k, row * k + k).every((x) => Number.isFinite(bf16(x)));
          if (finiteRow) expect(bits(got[row * k + (i % k)]!)).toBe(bits(bf16(a[i]!) + 0));
        }
      }
    });
  });

  it.each(modes)('gives the reference\'s bits on awkward shapes, one thread and all (%s)', (mode) => {
    withSimd(simd, () => {
      backend.setSimd(simd, { lowPrecision: mode });
      for (const t of CASES) {
        const { a, b, c0, bias } = operands(t, 10 + t.m + t.k);
        const want = bf16Product(true, t, a, b, c0, bias);
        for (const threads of [1, backend.info().hardwareThreads]) {
          const got = withThreads(threads, () => bf16Product(false, t, a, b, c0, bias));
          expect(bitsEqual(got, want), `${JSON.stringify(t)} threads=${threads}`).toBe(true);
        }
      }
    });
  });

  it.each(modes)('gives the reference\'s bits on tiny, huge and non-finite values (%s)', (mode) => {
    withSimd(simd, () => {
      backend.setSimd(simd, { lowPrecision: mode });
      const rng = new Rng(3);
      // Products below and near the bottom of the normal range (sums go denormal and are flushed), near the top
      // (overflow to ∞, ∞ − ∞ = NaN), and the awkward patterns.
      const scaled = (n: number, e: number) => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * 2 ** (e + Math.floor(rng.uniform() * 8)));
      // No bias: it would swamp the tiny sums.
      const t: Case = { m: 30, k: 77, n: 45, ta: false, tb: true, accumulate: true, bias: false };
      for (const [a, b] of [
        [scaled(t.m * t.k, -72), scaled(t.k * t.n, -71)],
        [scaled(t.m * t.k, -68), scaled(t.k * t.n, -68)],
        [scaled(t.m * t.k, 60), scaled(t.k * t.n, 58)],
        [awkward(t.m * t.k, 7), f32(t.k * t.n, 8)],
      ] as const) {
        const c0 = scaled(t.m * t.n, -130);
        expect(bitsEqual(bf16Product(false, t, a, b, c0, null), bf16Product(true, t, a, b, c0, null))).toBe(true);
      }
    });
  });
});

/** The float32 bound of op(A)·op(B) (+ C) (+ bias) against the float64 product of the rounded inputs. */
function withinBound(got: Float32Array, t: Case, a: Float32Array, b: Float32Array, c0: Float32Array, bias: Float32Array | null): string | null {
  const { c: exact, scale } = matmulOracle(a.map(bf16), b.map(bf16), t.m, t.k, t.n, t.ta, t.tb);
  const want = exact.map((x, i) => x + (t.accumulate ? c0[i]! : 0) + (bias ? bias[i % t.n]! : 0));
  const size = (i: number) => scale[i]! + (t.accumulate ? Math.abs(c0[i]!) : 0) + (bias ? Math.abs(bias[i % t.n]!) : 0);
  return compare(got, want, (i) => 2 * gamma(t.k + 2) * size(i), `AMX ${JSON.stringify(t)}`);
}

describe.runIf(backend.info().amx)('matmul_bf16_forward on AMX tiles', () => {
  it('is what lowPrecision \'native\' runs at avx512, and only there', () => {
    expect(backend.info().amx).toBe(true);
    backend.setSimd('avx512', { lowPrecision: 'vector' });
    expect([backend.info().amx, backend.info().bf16]).toEqual([false, true]);
    backend.setSimd('avx2', { lowPrecision: 'native' });
    expect(backend.info().amx).toBe(false);
  });

  it('rounds every input to nearest even (A · I)', () => {
    for (const [m, k] of [[40, 37], [3, 64], [33, 100]] as const) {
      const a = awkward(m * k, m);
      const eye = new Float32Array(k * k);
      for (let p = 0; p < k; p++) eye[p * k + p] = 1;
      const t: Case = { m, k, n: k, ta: false, tb: false, accumulate: false, bias: false };
      const got = bf16Product(false, t, a, eye, new Float32Array(m * k), null);
      for (let i = 0; i < m * k; i++) {
        const row = Math.floor(i / k);
        if (a.subarray(row * k, row * k + k).every((x) => Number.isFinite(bf16(x)))) expect(bits(got[i]!)).toBe(bits(bf16(a[i]!) + 0));
        else expect(Number.isNaN(got[i]!) || !Number.isFinite(bf16(a[i]!))).toBe(true);
      }
    }
  });

  it('is within float32\'s bound of the exact product on awkward shapes, the same bits on one thread and all', () => {
    // Beyond CASES: K around the 32-element tile step and the 512 block, M and N around the 32×32 C tile
    // and the 128-row, 1024-column blocks.
    const extra: Case[] = [[31, 31, 31], [32, 32, 32], [33, 63, 65], [129, 96, 1025], [200, 1100, 40], [64, 512, 2048]]
      .map(([m, k, n], i) => ({ m: m!, k: k!, n: n!, ta: i % 2 === 1, tb: i % 3 === 0, accumulate: i % 2 === 0, bias: i > 2 }));
    for (const t of [...CASES, ...extra]) {
      const { a, b, c0, bias } = operands(t, 10 + t.m + t.k);
      const one = withThreads(1, () => bf16Product(false, t, a, b, c0, bias));
      expect(withinBound(one, t, a, b, c0, bias)).toBeNull();
      const all = withThreads(backend.info().hardwareThreads, () => bf16Product(false, t, a, b, c0, bias));
      expect(bitsEqual(all, one), `${JSON.stringify(t)}`).toBe(true);
    }
  });

  it('pads its tiles with zeros, whatever an earlier call left in the scratch buffers', () => {
    // An all-NaN product fills the packing buffers; a later odd K must not multiply any of it (0 · NaN = NaN).
    const big: Case = { m: 70, k: 512, n: 70, ta: false, tb: false, accumulate: false, bias: false };
    for (const tb of [false, true]) {
      bf16Product(false, { ...big, tb }, new Float32Array(70 * 512).fill(NaN), new Float32Array(512 * 70).fill(NaN), new Float32Array(70 * 70), null);
      const t: Case = { m: 45, k: 77, n: 40, ta: tb, tb, accumulate: false, bias: false };
      const { a, b, c0 } = operands(t, 4);
      expect(withinBound(bf16Product(false, t, a, b, c0, null), t, a, b, c0, null)).toBeNull();
    }
  });

  it('gives NaN where the reference does, and ±∞ where it overflows alike', () => {
    const t: Case = { m: 30, k: 77, n: 45, ta: false, tb: true, accumulate: true, bias: false };
    const a = awkward(t.m * t.k, 7), b = f32(t.k * t.n, 8), c0 = f32(t.m * t.n, 9);
    const got = bf16Product(false, t, a, b, c0, null), want = bf16Product(true, t, a, b, c0, null);
    for (let i = 0; i < got.length; i++) {
      expect(Number.isNaN(got[i]!)).toBe(Number.isNaN(want[i]!));
      if (!Number.isFinite(want[i]!) && !Number.isNaN(want[i]!)) expect(got[i]).toBe(want[i]);
    }
  });
});

describe('backend precision', () => {
  it('reports whether the bf16 GEMM runs the CPU\'s instructions', () => {
    const best = SIMD_LEVELS.at(-1)!;
    backend.setSimd(best, { lowPrecision: 'emulate' });
    expect(backend.info().bf16).toBe(false);
    expect(backend.info().amx).toBe(false);
    backend.setSimd(best, { lowPrecision: 'native' });
    // True exactly on AVX-512 CPUs with AVX512_BF16 (cpuid 7.1 EAX bit 5): Zen 4/5, Sapphire Rapids, Cooper Lake.
    expect(typeof backend.info().bf16).toBe('boolean');
    if (best !== 'avx512') expect([backend.info().bf16, backend.info().amx]).toEqual([false, false]);
    if (backend.info().amx) expect(backend.info().bf16).toBe(true);
    if (SIMD_LEVELS.includes('avx2')) {
      backend.setSimd('avx2');
      expect(backend.info().bf16).toBe(false);
    }
  });

  it('is one setting for the process, checked', () => {
    expect(backend.getMatmulPrecision()).toBe('high');
    backend.setMatmulPrecision('medium');
    expect(backend.getMatmulPrecision()).toBe('medium');
    backend.setMatmulPrecision('highest');
    expect(backend.getMatmulPrecision()).toBe('highest');
    backend.setMatmulPrecision('high');
    expect(() => backend.setMatmulPrecision('low' as never)).toThrow(/precision/);
    expect(() => backend.setSimd(SIMD_LEVELS[0]!, { lowPrecision: 'fast' as never })).toThrow(/lowPrecision/);
    expect(backend.getMatmulPrecision()).toBe('high');
  });
});
