// native/kernels/dropout*: the counter-based mask. The test re-derives the keep decision of every element
// from dropout.h's formula (splitmix64 keys, two rounds of lowbias32, threshold round(p·2³²)), so the
// kernels are checked bit for bit under every ISA and by the naive loop; then the mask's statistics (keep
// rate within 5σ on 10⁶ elements, no correlation between neighbours, between seeds, or with the data),
// its independence from the thread count, and the offset that shifts the stream.
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { bitsEqual, f32, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();
const M64 = (1n << 64n) - 1n;

function keys(seed: number): [number, number] {
  let z = (BigInt(seed) + 0x9e3779b97f4a7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  z ^= z >> 31n;
  return [Number(z & 0xffffffffn), Number(z >> 32n)];
}
function mix(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
/** The keep decisions of n elements from counter `offset`, as dropout.h defines them. */
function expectedMask(n: number, p: number, seed: number, offset: number): Uint8Array {
  const [k0, k1] = keys(seed);
  const threshold = Math.min(4294967295, Math.floor(p * 4294967296 + 0.5));
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = offset + i, lo = c % 2 ** 32, hi = Math.floor(c / 2 ** 32);
    out[i] = mix((mix((lo ^ k0) >>> 0) ^ hi ^ k1) >>> 0) >= threshold ? 1 : 0;
  }
  return out;
}

function run(x: Float32Array, p: number, seed: number, offset: number, naive = false): Float32Array {
  const y = new Float32Array(x.length);
  (naive ? nb.dropoutForwardNaive : nb.dropoutForward)(y, x, p, seed, offset);
  return y;
}
const ones = (n: number) => new Float32Array(n).fill(1);
const maskOf = (y: Float32Array) => Uint8Array.from(y, (v) => (v !== 0 ? 1 : 0));

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) (sa += a[i]!), (sb += b[i]!), (sab += a[i]! * b[i]!), (saa += a[i]! * a[i]!), (sbb += b[i]! * b[i]!);
  return (sab / n - (sa / n) * (sb / n)) / Math.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2));
}

// Lengths with tails of every vector width and several chunks; offsets that straddle a change of the
// counter's high 32 bits (the kernel splits its loop there) and a large one.
const CASES: Array<[number, number, number, number]> = [
  [1, 0.5, 1, 0], [3, 0.1, 2, 0], [17, 0.3, 3, 5], [33, 0.9, 4, 0], [513, 0.5, 5, 2 ** 32 - 100],
  [100_003, 0.25, 6, 2 ** 32 - 7], [40_000, 0.5, 7, 2 ** 52 + 3], [5000, 1e-6, 8, 0], [5000, 1 - 1e-6, 9, 0],
];

for (const variant of [...SIMD_LEVELS, 'naive'] as const) {
  const naive = variant === 'naive';
  const within = <T>(fn: () => T) => (naive ? fn() : withSimd(variant, fn));
  describe(`dropout [${variant}]`, () => {
    it.each(CASES)('n = %i, p = %f, seed %i, offset %i: the mask of dropout.h, kept values scaled by 1/(1−p)', (n, p, seed, offset) => {
      within(() => {
        const x = f32(n, seed, 3);
        const y = run(x, p, seed, offset, naive);
        const mask = expectedMask(n, p, seed, offset);
        const scale = Math.fround(1 / (1 - p));
        let bad = -1;
        for (let i = 0; i < n && bad < 0; i++) if (!Object.is(y[i], mask[i] ? Math.fround(x[i]! * scale) : 0)) bad = i;
        expect(bad, bad < 0 ? '' : `element ${bad}: got ${y[bad]}, mask ${mask[bad]}, x ${x[bad]}`).toBe(-1);
      });
    });

    it('p = 0 copies x, p = 1 gives zeros (even for NaN and ∞)', () => {
      within(() => {
        const x = new Float32Array([1, -2, Number.NaN, Infinity, 5]);
        expect(bitsEqual(run(x, 0, 1, 0, naive), x)).toBe(true);
        expect(Array.from(run(x, 1, 1, 0, naive))).toEqual([0, 0, 0, 0, 0]);
        expect(Array.from(run(x, 0.5, 1, 0, naive)).every((v, i) => v === 0 || Object.is(v, 2 * x[i]!))).toBe(true);
      });
    });
  });
}

describe('dropout mask statistics', () => {
  const n = 1_000_000;
  it.each([0.1, 0.5, 0.9])('p = %f: keep rate within 5σ of 1 − p, neighbours and seeds uncorrelated', (p) => {
    const m = maskOf(run(ones(n), p, 42, 0));
    const kept = m.reduce((s, v) => s + v, 0);
    const sigma = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(kept - n * (1 - p)), `kept ${kept} of ${n}`).toBeLessThan(5 * sigma);
    // |r| of independent bits is ≈ N(0, 1/n): 5/√n is a 5σ bound.
    for (const lag of [1, 2, 8, 16, 4096]) {
      expect(Math.abs(correlation(m.subarray(0, n - lag), m.subarray(lag))), `lag ${lag}`).toBeLessThan(5 / Math.sqrt(n));
    }
    const other = maskOf(run(ones(n), p, 43, 0));
    expect(Math.abs(correlation(m, other)), 'seed 42 vs 43').toBeLessThan(5 / Math.sqrt(n));
  });

  it('offset shifts the stream: element i at offset k is element i + k at offset 0', () => {
    const whole = run(ones(50_000), 0.5, 3, 0);
    expect(bitsEqual(run(ones(30_000), 0.5, 3, 20_000), whole.subarray(20_000))).toBe(true);
  });

  it('does not depend on the data: the same mask for any x', () => {
    const x = f32(10_000, 1);
    expect(Buffer.compare(maskOf(run(x, 0.3, 5, 0)), maskOf(run(ones(10_000), 0.3, 5, 0)))).toBe(0);
  });
});

describe.each(SIMD_LEVELS)('dropout threads [%s]', (simd) => {
  it('gives the same bits with 1, 2 and 3 threads, and the same as the naive loop', () => {
    withSimd(simd, () => {
      for (const [n, offset] of [[1_000_003, 0], [300_000, 2 ** 32 - 150_000]] as const) {
        const x = f32(n, 2);
        const outs = [1, 2, 3].map((t) => withThreads(t, () => run(x, 0.2, 11, offset)));
        expect(bitsEqual(outs[1]!, outs[0]!)).toBe(true);
        expect(bitsEqual(outs[2]!, outs[0]!)).toBe(true);
        expect(bitsEqual(run(x, 0.2, 11, offset, true), outs[0]!)).toBe(true);
      }
    });
  });
});
