// lib/ops/matmul.ts: shapes, transposes and NumPy batch broadcasting through the public API, checked
// against the float64 oracle batch by batch; the naive twin agrees.
// Tolerance: 2·γ_k·Σ|a||b| per element, as in test/native/matmul.test.ts.
import { describe, expect, it } from 'vitest';

import { DTypeError, InvalidArgumentError, ops, randn, ShapeError, tensor, zeros } from '../../lib/index.js';
import { compare, gamma, matmulOracle } from '../helpers.js';

// Expected result of batch `idx` given each operand's batch dims (broadcast right-aligned).
function check(aShape: number[], bShape: number[], opts: { transA?: boolean; transB?: boolean }, naive = false) {
  const a = randn(aShape, { seed: aShape.length * 31 + aShape.reduce((x, y) => x + y, 0) });
  const b = randn(bShape, { seed: 99 + bShape.reduce((x, y) => x + y, 0) });
  const c = (naive ? ops.naive.matmul : ops.matmul)(a, b, opts);
  const ra = aShape.length, rb = bShape.length;
  const [am, ak] = opts.transA ? [aShape[ra - 1]!, aShape[ra - 2]!] : [aShape[ra - 2]!, aShape[ra - 1]!];
  const n = opts.transB ? bShape[rb - 2]! : bShape[rb - 1]!;
  const batchShape = c.shape.slice(0, -2);
  expect(c.shape).toEqual([...batchShape, am, n]);
  const ad = a.toFloat32Array(), bd = b.toFloat32Array(), cd = c.toFloat32Array();
  const batch = batchShape.reduce((x, y) => x * y, 1);
  const offset = (shape: number[], idx: number, extent: number) => {
    const own = shape.slice(0, -2);
    let off = 0, stride = extent, rest = idx;
    for (let i = batchShape.length - 1; i >= 0; i--) {
      const d = batchShape[i]!;
      const j = rest % d;
      rest = Math.floor(rest / d);
      const od = own[i - (batchShape.length - own.length)];
      if (od === undefined) continue;
      off += (od === 1 ? 0 : j) * stride;
      stride *= od;
    }
    return off;
  };
  for (let i = 0; i < batch; i++) {
    const ao = offset(aShape, i, am * ak), bo = offset(bShape, i, ak * n);
    const { c: want, scale } = matmulOracle(ad.subarray(ao, ao + am * ak), bd.subarray(bo, bo + ak * n), am, ak, n, !!opts.transA, !!opts.transB);
    expect(compare(cd.subarray(i * am * n, (i + 1) * am * n), want, (j) => 2 * gamma(ak) * scale[j]!, `batch ${i}`)).toBeNull();
  }
}

describe('ops.matmul', () => {
  it('2-D with every transpose', () => {
    check([5, 7], [7, 3], {});
    check([7, 5], [7, 3], { transA: true });
    check([5, 7], [3, 7], { transB: true });
    check([7, 5], [3, 7], { transA: true, transB: true });
  });

  it('batched and broadcast leading dims', () => {
    check([4, 5, 7], [4, 7, 3], {});
    check([2, 1, 5, 7], [3, 7, 6], {});          // → [2, 3, 5, 6]
    check([5, 7], [2, 3, 7, 4], {});             // a broadcast to every batch
    check([2, 3, 17, 9], [1, 3, 11, 9], { transB: true });
    check([1, 1, 20, 33], [1, 1, 33, 19], {});
  });

  it('naive agrees with the oracle on the same cases', () => {
    check([2, 1, 5, 7], [3, 7, 6], {}, true);
    check([7, 5], [3, 7], { transA: true, transB: true }, true);
  });

  it('handles empty batches and k = 0', () => {
    expect(ops.matmul(zeros([0, 2, 3]), zeros([3, 4])).shape).toEqual([0, 2, 4]);
    expect([...ops.matmul(zeros([2, 0]), zeros([0, 2])).toFloat32Array()]).toEqual([0, 0, 0, 0]);
  });

  it('rejects what does not fit, naming the shapes', () => {
    expect(() => ops.matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/op\(a\) is 2×3 .* op\(b\) is 4×5/);
    expect(() => ops.matmul(zeros([2, 3, 4]), zeros([3, 4, 5]))).toThrow(ShapeError);
    expect(() => ops.matmul(zeros([3]), zeros([3, 1]))).toThrow(/rank ≥ 2/);
    expect(() => ops.matmul(tensor(new Int32Array(4), [2, 2]), zeros([2, 2]))).toThrow(DTypeError);
    expect(() => ops.matmul(zeros([2, 2]), zeros([2, 2]), { transposeB: true } as never)).toThrow(InvalidArgumentError);
    expect(() => ops.matmul(zeros([2, 2]), zeros([2, 2]), { transB: 1 } as never)).toThrow(InvalidArgumentError);
    expect(() => ops.matmul([1, 2] as never, zeros([2, 2]))).toThrow(InvalidArgumentError);
  });
});
