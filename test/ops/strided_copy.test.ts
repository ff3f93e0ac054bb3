// lib/ops/strided_copy.ts + native/kernels/strided_copy*: permute, raw strided copies (gaps, offsets,
// broadcast reads) and the attention-head split/merge, fused and naive, against plain JS index loops,
// then every validation error of the TypeScript side (the native boundary's are in
// test/native/boundary.test.ts).
//
// Tolerance: none. A copy moves bits, so every result must equal its oracle bit for bit, fused and naive
// alike, on 1 thread and on 2, and every element of dst the layout does not reach keeps its old bits.
import { describe, expect, it } from 'vitest';

import { DisposedError, DTypeError, InvalidArgumentError, OutOfRangeError, ShapeError, tensor, zeros } from '../../lib/index.js';
import { type CopyLayout, mergeHeads, permute, splitHeads, stridedCopy } from '../../lib/ops/strided_copy.js';
import { Rng } from '../../lib/tensor/random.js';
import { cpuData, Tensor } from '../../lib/tensor/tensor.js';
import { bitsEqual, f32, withThreads } from '../helpers.js';

const t = (data: Float32Array, shape: readonly number[]) => new Tensor(data, Object.freeze([...shape]));
const data = (x: Tensor) => cpuData(x, 'x', 'float32');
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const int = (rng: Rng, n: number) => Math.floor(rng.uniform() * n);
const formatCase = (shape: readonly number[], perm: readonly number[]) => `[${shape}] perm [${perm}]`;

function shuffle(rng: Rng, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = int(rng, i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** x's multi-index at each linear index, last dim fastest. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = shape.map(() => 0);
  for (let k = shape.length - 1; k >= 0; k--) (idx[k] = i % shape[k]!), (i = Math.floor(i / shape[k]!));
  return idx;
}

/** The permute oracle: y[i_0, …] = x at the index whose dim perm[k] is i_k. */
function permuteOracle(x: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const yShape = perm.map((p) => shape[p]!);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = unravel(i, shape);
    const yi = perm.map((p) => xi[p]!);
    y[yi.reduce((acc, v, k) => acc * yShape[k]! + v, 0)] = x[i]!;
  }
  return y;
}

/** The copy oracle: dst with every element the layout names overwritten, one index at a time. */
function copyOracle(dst: Float32Array, src: Float32Array, l: CopyLayout): Float32Array {
  const out = dst.slice();
  for (let i = 0; i < prod(l.shape); i++) {
    const idx = unravel(i, l.shape);
    const d = idx.reduce((acc, v, k) => acc + v * l.dstStrides[k]!, l.dstOffset ?? 0);
    const s = idx.reduce((acc, v, k) => acc + v * l.srcStrides[k]!, l.srcOffset ?? 0);
    out[d] = src[s]!;
  }
  return out;
}

/** A random shape of `rank` with size-1 dims, odd sizes and (when `empty`) a 0, of at most ~3000 elements. */
function randomShape(rng: Rng, rank: number, empty: boolean): number[] {
  const sizes = [1, 2, 3, 5, 7, 4, 1, 9, 2, 13];
  const shape = Array.from({ length: rank }, () => sizes[int(rng, sizes.length)]!);
  while (prod(shape) > 3000) shape[int(rng, rank)] = 1;
  if (empty && rank > 0) shape[int(rng, rank)] = 0;
  return shape;
}

// Strides that write each element once, in a random dim order, with random gaps between dims; strides
// with repeats (0: a broadcast read) when `broadcast`. Returns them and the storage they need.
function randomStrides(rng: Rng, shape: readonly number[], broadcast: boolean): { strides: number[]; extent: number } {
  const strides = shape.map(() => 0);
  let extent = 1;
  for (const k of shuffle(rng, shape.length)) {
    if (broadcast && rng.uniform() < 0.3) continue; // stride 0
    strides[k] = extent + (rng.uniform() < 0.5 ? int(rng, 3) : 0);
    extent = strides[k]! * Math.max(shape[k]!, 1);
  }
  return { strides, extent };
}

/** Runs the copy fused on 1 and 2 threads and naive, checks all three against the oracle; returns dst. */
function checkCopy(dst0: Float32Array, src: Float32Array, l: CopyLayout, label: string): Float32Array {
  const want = copyOracle(dst0, src, l);
  const run = (naive: boolean) => {
    const dst = t(dst0.slice(), [dst0.length]);
    stridedCopy(dst, t(src, [src.length]), l, naive);
    return data(dst);
  };
  const outs = { naive: run(true), fused1: withThreads(1, () => run(false)), fused2: withThreads(2, () => run(false)) };
  for (const [name, got] of Object.entries(outs)) expect(bitsEqual(got, want), `${label} ${name}`).toBe(true);
  return want;
}

describe('permute', () => {
  it('matches the index-loop oracle on random permutations of random shapes of rank 0..6', () => {
    const rng = new Rng(1);
    for (let rank = 0; rank <= 6; rank++) {
      for (let trial = 0; trial < 12; trial++) {
        const shape = randomShape(rng, rank, trial % 4 === 3);
        const perm = shuffle(rng, rank);
        const x = t(f32(prod(shape), 100 * rank + trial), shape);
        const want = permuteOracle(data(x), shape, perm);
        for (const naive of [false, true]) {
          const y = permute(x, perm, naive);
          expect(y.shape).toEqual(perm.map((p) => shape[p]));
          expect(bitsEqual(data(y), want), `${formatCase(shape, perm)} naive=${naive}`).toBe(true);
        }
      }
    }
  });

  it('is bit-identical fused, naive, on 1 and 2 threads on copies large enough to be split', () => {
    const cases: Array<[number[], number[]]> = [
      [[32, 64, 4, 64], [0, 2, 1, 3]], // the head split of the reference config
      [[300, 513], [1, 0]], // a transpose: strided reads
      [[3, 40_001], [0, 1]], // the identity: one run of 120 003, cut into chunks
      [[7, 3, 5003], [2, 0, 1]], // runs of 1 in dst, chunk edges inside outer dims
      [[2, 1, 9, 1, 4099, 3], [5, 1, 0, 3, 2, 4]],
    ];
    for (const [shape, perm] of cases) {
      const x = t(f32(prod(shape), prod(shape)), shape);
      const want = permuteOracle(data(x), shape, perm);
      const naive = permute(x, perm, true);
      const one = withThreads(1, () => permute(x, perm));
      const two = withThreads(2, () => permute(x, perm));
      for (const [name, y] of [['naive', naive], ['fused 1T', one], ['fused 2T', two]] as const) {
        expect(bitsEqual(data(y), want), `${formatCase(shape, perm)} ${name}`).toBe(true);
      }
    }
  });

  it('handles rank 0, empty tensors and size-1 dims', () => {
    expect(Array.from(data(permute(tensor([7], []), [])))).toEqual([7]);
    const e = permute(zeros([2, 0, 3]), [2, 0, 1]);
    expect(e.shape).toEqual([3, 2, 0]);
    expect(e.size).toBe(0);
    expect(Array.from(data(permute(tensor([1, 2, 3], [1, 3, 1]), [2, 1, 0])))).toEqual([1, 2, 3]);
    expect(Array.from(data(permute(tensor([1, 2, 3, 4, 5, 6], [2, 3]), [1, 0])))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('stridedCopy', () => {
  it('matches the oracle with gaps, offsets and broadcast reads, leaving unreached elements alone', () => {
    const rng = new Rng(2);
    for (let rank = 0; rank <= 6; rank++) {
      for (let trial = 0; trial < 10; trial++) {
        const shape = randomShape(rng, rank, trial === 9);
        const dst = randomStrides(rng, shape, false), src = randomStrides(rng, shape, true);
        const l: CopyLayout = {
          shape, dstStrides: dst.strides, srcStrides: src.strides, dstOffset: int(rng, 4), srcOffset: int(rng, 4),
        };
        const dst0 = f32(dst.extent + 4 + int(rng, 3), 2 * trial + 1), srcData = f32(src.extent + 4, 2 * trial + 2);
        checkCopy(dst0, srcData, l, `[${shape}] dst ${l.dstStrides}+${l.dstOffset} src ${l.srcStrides}+${l.srcOffset}`);
      }
    }
  });

  it('copies a column slice into a column slice of a wider matrix, on both thread counts', () => {
    // [rows, 37] at column 5 of a [rows, 64] source into column 11 of a [rows, 50] destination.
    const rows = 3001;
    const l: CopyLayout = { shape: [rows, 37], dstStrides: [50, 1], srcStrides: [64, 1], dstOffset: 11, srcOffset: 5 };
    const src = f32(rows * 64, 4);
    const got = checkCopy(f32(rows * 50, 3), src, l, 'column slice');
    expect([got[11], got[50 + 11], got[50 + 47]]).toEqual([src[5], src[64 + 5], src[64 + 41]]);
  });

  it('copies nothing for a shape with a 0, whatever the strides and offsets', () => {
    const dst = t(f32(4, 5), [4]);
    const before = data(dst).slice();
    stridedCopy(dst, t(f32(4, 6), [4]), { shape: [3, 0], dstStrides: [100, 0], srcStrides: [7, 9], dstOffset: 50, srcOffset: 80 });
    expect(bitsEqual(data(dst), before)).toBe(true);
  });

  it('accepts two tensors over disjoint halves of one buffer', () => {
    const buf = f32(8, 7);
    const src = t(buf.subarray(0, 4), [4]), dst = t(buf.subarray(4), [4]);
    stridedCopy(dst, src, { shape: [4], dstStrides: [1], srcStrides: [1] });
    expect(bitsEqual(buf.subarray(4), buf.subarray(0, 4))).toBe(true);
  });
});

describe('splitHeads and mergeHeads', () => {
  // q[b, h, l, d] = x[b, l, column + h·Dh + d].
  function splitOracle(x: Float32Array, b: number, l: number, c: number, column: number, h: number, dh: number): Float32Array {
    const out = new Float32Array(b * h * l * dh);
    for (let bi = 0; bi < b; bi++)
      for (let hi = 0; hi < h; hi++)
        for (let li = 0; li < l; li++)
          for (let d = 0; d < dh; d++) out[((bi * h + hi) * l + li) * dh + d] = x[(bi * l + li) * c + column + hi * dh + d]!;
    return out;
  }

  const CASES: Array<[number, number, number, number, number, number]> = [
    // B, L, C, column, H, Dh
    [1, 1, 1, 0, 1, 1],
    [2, 3, 12, 4, 2, 4], // the last columns
    [2, 5, 3 * 3 * 5 + 2, 3 * 5, 3, 5], // K of a packed QKV with 2 spare columns
    [3, 7, 13, 1, 4, 3],
    [2, 0, 8, 0, 2, 4], // L = 0
    [0, 4, 8, 0, 2, 4], // B = 0
    [4, 129, 3 * 256, 256, 4, 64], // big enough for threads
  ];

  it.each(CASES)('B=%i L=%i C=%i: column %i, %i heads of %i match the oracle and round-trip', (b, l, c, column, h, dh) => {
    const x = t(f32(b * l * c, b + l + c), [b, l, c]);
    const want = splitOracle(data(x), b, l, c, column, h, dh);
    const q1 = withThreads(1, () => splitHeads(x, column, h, dh));
    const q2 = withThreads(2, () => splitHeads(x, column, h, dh));
    expect(q1.shape).toEqual([b, h, l, dh]);
    expect(bitsEqual(data(q1), want)).toBe(true);
    expect(bitsEqual(data(q2), want)).toBe(true);

    // Merging back into another [B, L, C] tensor writes exactly columns [column, column + H·Dh).
    const dst0 = f32(b * l * c, 99);
    const dst = t(dst0.slice(), [b, l, c]);
    mergeHeads(dst, column, q1);
    const expected = Float32Array.from(dst0, (v, i) => {
      const col = i % c;
      return col >= column && col < column + h * dh ? data(x)[i]! : v;
    });
    expect(bitsEqual(data(dst), expected)).toBe(true);
  });
});

describe('validation (TypeScript side)', () => {
  const v = (n = 6) => t(new Float32Array(n), [n]);
  const ok = (): CopyLayout => ({ shape: [2, 3], dstStrides: [3, 1], srcStrides: [3, 1] });

  it('stridedCopy rejects bad tensors and layouts with a typed error naming the argument', () => {
    const disposed = v();
    disposed.dispose();
    const cases: Array<[() => void, new (...a: never[]) => Error, RegExp]> = [
      [() => stridedCopy({} as never, v(), ok()), InvalidArgumentError, /for dst/],
      [() => stridedCopy(v(), tensor(new Int32Array(6), [6]), ok()), DTypeError, /for src/],
      [() => stridedCopy(disposed, v(), ok()), DisposedError, /dst/],
      [() => stridedCopy(v(), v(), undefined as never), InvalidArgumentError, /layout\.shape/],
      [() => stridedCopy(v(), v(), { ...ok(), offset: 1 } as never), InvalidArgumentError, /Unknown option 'offset'/],
      [() => stridedCopy(v(), v(), { ...ok(), shape: [1, 1, 1, 1, 1, 1, 1], dstStrides: [0, 0, 0, 0, 0, 0, 0], srcStrides: [0, 0, 0, 0, 0, 0, 0] }), ShapeError, /rank ≤ 6 for layout\.shape/],
      [() => stridedCopy(v(), v(), { ...ok(), shape: [2, -3] }), ShapeError, /layout\.shape\[1\]/],
      [() => stridedCopy(v(), v(), { ...ok(), dstStrides: [3] }), ShapeError, /2 entries .* for layout\.dstStrides but received 1/],
      [() => stridedCopy(v(), v(), { ...ok(), srcStrides: 'x' as never }), InvalidArgumentError, /layout\.srcStrides/],
      [() => stridedCopy(v(), v(), { ...ok(), srcStrides: [3, -1] }), InvalidArgumentError, /layout\.srcStrides\[1\]/],
      [() => stridedCopy(v(), v(), { ...ok(), dstStrides: [3, 0.5] }), InvalidArgumentError, /layout\.dstStrides\[1\]/],
      [() => stridedCopy(v(), v(), { ...ok(), dstOffset: -1 }), InvalidArgumentError, /layout\.dstOffset/],
      [() => stridedCopy(v(), v(), { ...ok(), srcOffset: 1.5 }), InvalidArgumentError, /layout\.srcOffset/],
      [() => stridedCopy(v(), v(), { ...ok(), dstOffset: 1 }), OutOfRangeError, /in dst .* length 6 .* reaches element 6/],
      [() => stridedCopy(v(), v(5), ok()), OutOfRangeError, /in src .* length 5 .* reaches element 5/],
      [() => stridedCopy(v(), v(), { ...ok(), srcStrides: [2 ** 52, 2 ** 52] }), OutOfRangeError, /in src/],
      [() => stridedCopy(v(), v(), { ...ok(), dstStrides: [0, 1] }), InvalidArgumentError, /write each element of dst once/],
      [() => stridedCopy(v(), v(), { ...ok(), dstStrides: [2, 1] }), InvalidArgumentError, /write each element of dst once/],
    ];
    for (const [fn, cls, message] of cases) {
      expect(fn).toThrow(cls);
      expect(fn).toThrow(message);
    }
  });

  it('stridedCopy rejects tensors that share storage', () => {
    const x = v();
    expect(() => stridedCopy(x, x, ok())).toThrow(InvalidArgumentError);
    const buf = new Float32Array(8);
    expect(() => stridedCopy(t(buf.subarray(2, 8), [6]), t(buf.subarray(0, 6), [6]), ok())).toThrow(/do not share storage/);
  });

  it('permute rejects anything but a permutation of the dims, and tensors of rank 7', () => {
    const x = zeros([2, 3, 4]);
    for (const perm of [[0, 1], [0, 1, 1], [0, 1, 3], [0, 1, -1], [0, 1.5, 2], 'abc', null]) {
      expect(() => permute(x, perm as never)).toThrow(InvalidArgumentError);
    }
    expect(() => permute(x, [0, 0, 1])).toThrow(/Expected a permutation of 0\.\.2 for perm but received \[0, 0, 1\]/);
    expect(() => permute(zeros([1, 1, 1, 1, 1, 1, 1]), [0, 1, 2, 3, 4, 5, 6])).toThrow(ShapeError);
    expect(() => permute(tensor(new Int32Array(2), [2]), [0])).toThrow(DTypeError);
  });

  it('splitHeads and mergeHeads check shapes and column ranges', () => {
    const x = zeros([2, 3, 12]);
    expect(() => splitHeads(zeros([3, 12]), 0, 2, 4)).toThrow(/shape \[B, L, C\] for x but received \[3, 12\]/);
    expect(() => splitHeads(x, 5, 2, 4)).toThrow(OutOfRangeError);
    expect(() => splitHeads(x, 5, 2, 4)).toThrow(/inside the 12 columns of x .* received \[5, 13\)/);
    expect(() => splitHeads(x, -1, 2, 4)).toThrow(InvalidArgumentError);
    expect(() => splitHeads(x, 0, 0, 4)).toThrow(InvalidArgumentError);
    expect(() => splitHeads(x, 0, 2, 1.5)).toThrow(InvalidArgumentError);
    expect(() => mergeHeads(x, 0, zeros([2, 2, 4, 4]))).toThrow(/\[2, H, 3, Dh\] .* for x but received \[2, 2, 4, 4\]/);
    expect(() => mergeHeads(x, 0, zeros([2, 3, 8]))).toThrow(ShapeError);
    expect(() => mergeHeads(zeros([2, 3]), 0, zeros([2, 1, 3, 2]))).toThrow(ShapeError);
    expect(() => mergeHeads(x, 8, zeros([2, 2, 3, 4]))).toThrow(OutOfRangeError);
    expect(() => mergeHeads(x, 0, tensor(new Int32Array(24), [2, 2, 3, 2]))).toThrow(DTypeError);
  });
});
