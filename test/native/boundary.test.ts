// The TypeScript/C++ boundary: every native entry point, called directly with bad input, throws the
// typed error of lib/errors.ts and the process lives on to compute correct results afterwards. A new
// native export must be listed here (the first test fails otherwise).
import { describe, expect, it } from 'vitest';

import {
  DisposedError, DTypeError, InvalidArgumentError, NodeformerError, OutOfRangeError, ops, ShapeError, tensor, zeros,
} from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';

const nb = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
type ErrorClass = new (...args: never[]) => NodeformerError;

const F = (n: number) => new Float32Array(n);
function detached(n: number): Float32Array {
  const buf = new ArrayBuffer(n * 4);
  const view = new Float32Array(buf);
  structuredClone(buf, { transfer: [buf] });
  return view;
}

type Cases = Array<[string, unknown[], ErrorClass]>;
// vary(ok)(i, v): the valid arguments ok() with argument i replaced by v (breaking one at a time).
const vary = (ok: () => unknown[]) => (i: number, v: unknown) => { const a = ok(); a[i] = v; return a; };
const HUGE = 2 ** 31 - 1;

// A valid 2×3·3×4 product.
const withArg = vary((): unknown[] => [F(8), F(6), F(12), 2, 3, 4, false, false, false, 1, null, null]);
const withBwd = vary((): unknown[] => [F(6), F(12), F(8), F(6), F(12), 2, 3, 4, false, false, 1, null, null]);

const forwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['c an Int32Array', withArg(0, new Int32Array(8)), DTypeError],
  ['a a Float64Array', withArg(1, new Float64Array(6)), DTypeError],
  ['b a plain array', withArg(2, [1, 2, 3]), InvalidArgumentError],
  ['c too short', withArg(0, F(7)), ShapeError],
  ['a too long', withArg(1, F(7)), ShapeError],
  ['b detached', withArg(2, detached(12)), ShapeError],
  ['m negative', withArg(3, -1), InvalidArgumentError],
  ['k fractional', withArg(4, 1.5), InvalidArgumentError],
  ['n NaN', withArg(5, Number.NaN), InvalidArgumentError],
  ['m huge', withArg(3, 2 ** 40), InvalidArgumentError],
  ['dims that overflow the buffers', [F(8), F(6), F(12), HUGE, HUGE, HUGE, false, false, false, 1, null, null], ShapeError],
  ['transA a number', withArg(6, 1), InvalidArgumentError],
  ['batch 0', withArg(9, 0), InvalidArgumentError],
  ['offsets of the wrong length', withArg(10, new Float64Array(2)), ShapeError],
  ['offsets an Int32Array', withArg(10, new Int32Array(1)), InvalidArgumentError],
  ['an offset past the end', withArg(11, new Float64Array([1])), OutOfRangeError],
  ['a negative offset', withArg(10, new Float64Array([-1])), OutOfRangeError],
  ['a NaN offset', withArg(10, new Float64Array([Number.NaN])), OutOfRangeError],
  ['a fractional offset', withArg(11, new Float64Array([0.5])), OutOfRangeError],
];

const backwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['dA an Int32Array', withBwd(0, new Int32Array(6)), DTypeError],
  ['dA too short', withBwd(0, F(5)), ShapeError],
  ['dB too long', withBwd(1, F(13)), ShapeError],
  ['dC too short', withBwd(2, F(7)), ShapeError],
  ['a detached', withBwd(3, detached(6)), ShapeError],
  ['k negative', withBwd(6, -3), InvalidArgumentError],
  ['b offset past the end', withBwd(12, new Float64Array([4])), OutOfRangeError],
  ['dA undefined (not null)', withBwd(0, undefined), InvalidArgumentError],
];

// LayerNorm of 2 rows of 3, without (ok) and with (okRes) a residual.
const lnOk = (): unknown[] => [F(6), null, F(2), F(2), F(6), null, F(3), F(3), 2, 3, 1e-5];
const lnRes = (): unknown[] => [F(6), F(6), F(2), F(2), F(6), F(6), F(3), F(3), 2, 3, 1e-5];
const ln = vary(lnOk), lnR = vary(lnRes);
const layerNormForwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['y an Int32Array', ln(0, new Int32Array(6)), DTypeError],
  ['y too short', ln(0, F(5)), ShapeError],
  ['sum undefined (not null)', ln(1, undefined), InvalidArgumentError],
  ['sum without residual', ln(1, F(6)), InvalidArgumentError],
  ['residual without sum', ln(5, F(6)), InvalidArgumentError],
  ['residual too short', lnR(5, F(5)), ShapeError],
  ['sum too long', lnR(1, F(7)), ShapeError],
  ['mean too long', ln(2, F(3)), ShapeError],
  ['rstd a Float64Array', ln(3, new Float64Array(2)), DTypeError],
  ['x detached', ln(4, detached(6)), ShapeError],
  ['gamma too short', ln(6, F(2)), ShapeError],
  ['beta too long', ln(7, F(4)), ShapeError],
  ['n negative', ln(8, -1), InvalidArgumentError],
  ['c 0', ln(9, 0), InvalidArgumentError],
  ['dims that overflow the buffers', ln(8, HUGE), ShapeError],
  ['eps negative', ln(10, -1), InvalidArgumentError],
  ['eps NaN', ln(10, Number.NaN), InvalidArgumentError],
  ['eps a string', ln(10, '1e-5'), InvalidArgumentError],
];
const lnb = vary((): unknown[] => [F(6), F(3), F(3), F(6), F(6), F(3), F(2), F(2), 2, 3]);
const layerNormBackwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['dx an Int32Array', lnb(0, new Int32Array(6)), DTypeError],
  ['dgamma too short', lnb(1, F(2)), ShapeError],
  ['dbeta null', lnb(2, null), InvalidArgumentError],
  ['dy too long', lnb(3, F(7)), ShapeError],
  ['s detached', lnb(4, detached(6)), ShapeError],
  ['gamma too long', lnb(5, F(4)), ShapeError],
  ['mean too short', lnb(6, F(1)), ShapeError],
  ['rstd too long', lnb(7, F(3)), ShapeError],
  ['n fractional', lnb(8, 1.5), InvalidArgumentError],
  ['c 0', lnb(9, 0), InvalidArgumentError],
  ['dims that overflow the buffers', lnb(9, HUGE), ShapeError],
];

const sm = vary((): unknown[] => [F(6), F(6), 2, 3]);
const softmaxForwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['y a Float64Array', sm(0, new Float64Array(6)), DTypeError],
  ['x too short', sm(1, F(5)), ShapeError],
  ['x detached', sm(1, detached(6)), ShapeError],
  ['n fractional', sm(2, 0.5), InvalidArgumentError],
  ['c huge', sm(3, 2 ** 40), InvalidArgumentError],
  ['dims that overflow the buffers', [F(6), F(6), HUGE, HUGE], ShapeError],
];
const smb = vary((): unknown[] => [F(6), F(6), F(6), 2, 3]);
const softmaxBackwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['dx a plain array', smb(0, [1, 2, 3, 4, 5, 6]), InvalidArgumentError],
  ['dy too short', smb(1, F(5)), ShapeError],
  ['y an Int32Array', smb(2, new Int32Array(6)), DTypeError],
  ['y detached', smb(2, detached(6)), ShapeError],
  ['c negative', smb(4, -3), InvalidArgumentError],
];

// Cross-entropy of 2 rows of 3 classes, targets [0, 2].
const ce = vary((): unknown[] => [F(2), F(6), Int32Array.of(0, 2), 2, 3, 0, -100]);
const crossEntropyForwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['lse too short', ce(0, F(1)), ShapeError],
  ['logits an Int32Array', ce(1, new Int32Array(6)), DTypeError],
  ['logits too long', ce(1, F(7)), ShapeError],
  ['targets a Float32Array', ce(2, F(2)), DTypeError],
  ['targets a plain array', ce(2, [0, 2]), InvalidArgumentError],
  ['targets too short', ce(2, Int32Array.of(0)), ShapeError],
  ['a target = V', ce(2, Int32Array.of(0, 3)), OutOfRangeError],
  ['a negative target that is not ignoreIndex', ce(2, Int32Array.of(-1, 0)), OutOfRangeError],
  ['v 0', ce(4, 0), InvalidArgumentError],
  ['dims that overflow the buffers', ce(4, HUGE), ShapeError],
  ['labelSmoothing above 1', ce(5, 1.5), InvalidArgumentError],
  ['labelSmoothing NaN', ce(5, Number.NaN), InvalidArgumentError],
  ['ignoreIndex outside int32', ce(6, 2 ** 31), InvalidArgumentError],
  ['ignoreIndex fractional', ce(6, -0.5), InvalidArgumentError],
];
const ceb = vary((): unknown[] => [F(6), F(6), Int32Array.of(0, 2), F(2), 2, 3, 0, -100, 1]);
const crossEntropyBackwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['dLogits too short', ceb(0, F(5)), ShapeError],
  ['logits detached', ceb(1, detached(6)), ShapeError],
  ['targets an Int32Array too long', ceb(2, Int32Array.of(0, 1, 2)), ShapeError],
  ['a target out of range', ceb(2, Int32Array.of(7, 0)), OutOfRangeError],
  ['lse too long', ceb(3, F(3)), ShapeError],
  ['lse null', ceb(3, null), InvalidArgumentError],
  ['labelSmoothing negative', ceb(6, -0.1), InvalidArgumentError],
  ['gradOutput a string', ceb(8, '1'), InvalidArgumentError],
  ['gradOutput NaN', ceb(8, Number.NaN), InvalidArgumentError],
];

const CASES: Record<string, Cases> = {
  matmulForward: forwardCases,
  matmulForwardNaive: forwardCases,
  matmulBackward: backwardCases,
  matmulBackwardNaive: backwardCases,
  layerNormForward: layerNormForwardCases,
  layerNormForwardNaive: layerNormForwardCases,
  layerNormBackward: layerNormBackwardCases,
  layerNormBackwardNaive: layerNormBackwardCases,
  softmaxForward: softmaxForwardCases,
  softmaxForwardNaive: softmaxForwardCases,
  softmaxBackward: softmaxBackwardCases,
  softmaxBackwardNaive: softmaxBackwardCases,
  crossEntropyForward: crossEntropyForwardCases,
  crossEntropyForwardNaive: crossEntropyForwardCases,
  crossEntropyBackward: crossEntropyBackwardCases,
  crossEntropyBackwardNaive: crossEntropyBackwardCases,
  setThreads: [['0', [0], InvalidArgumentError], ['a string', ['2'], InvalidArgumentError], ['too many', [1e6], InvalidArgumentError]],
  setSimd: [['unknown', ['sse9'], InvalidArgumentError], ['a number', [3], InvalidArgumentError]],
  fmaPeak: [
    ['unknown simd', ['x', 0.01, 1], InvalidArgumentError],
    ['zero seconds', ['scalar', 0, 1], InvalidArgumentError],
    ['too many threads', ['scalar', 0.01, 4096], InvalidArgumentError],
  ],
  registerErrorClasses: [['null', [null], InvalidArgumentError], ['missing classes', [{}], InvalidArgumentError]],
  info: [], // takes no input
};

describe('native boundary', () => {
  it('covers every native entry point', () => {
    const exported = Object.keys(nb).filter((k) => typeof nb[k] === 'function').sort();
    expect(exported).toEqual(Object.keys(CASES).sort());
  });

  for (const [fn, cases] of Object.entries(CASES)) {
    it.each(cases)(`${fn}: %s throws its typed error`, (_, args, cls) => {
      let caught: unknown;
      try {
        nb[fn]!(...args);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(cls);
      expect((caught as NodeformerError).code).toMatch(/^ERR_/);
      expect((caught as Error).message.length).toBeGreaterThan(10);
    });
  }

  it('lives on and computes correctly after all of that', () => {
    const c = F(4);
    nb.matmulForward!(c, new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), 2, 2, 2, false, false, false, 1, null, null);
    expect([...c]).toEqual([19, 22, 43, 50]);
    const y = F(2);
    nb.softmaxForward!(y, new Float32Array([0, Math.log(3)]), 1, 2);
    expect(Math.abs(y[1]! - 0.75)).toBeLessThan(1e-6);
  });
});

describe('public boundary', () => {
  it('a disposed tensor is a DisposedError, not a crash', () => {
    const a = zeros([2, 2]);
    a.dispose();
    expect(() => ops.matmul(a, zeros([2, 2]))).toThrow(DisposedError);
    expect(() => ops.naive.matmul(zeros([2, 2]), a)).toThrow(DisposedError);
  });

  it('wrong dtypes and shapes are typed errors', () => {
    const ids = tensor(new Int32Array(4), [2, 2]);
    expect(() => ops.matmul(zeros([2, 2]), ids)).toThrow(DTypeError);
    expect(() => ops.matmul(zeros([2, 2]), zeros([3, 2]))).toThrow(ShapeError);
    expect(() => ops.matmul(zeros([2, 2]), {} as never)).toThrow(InvalidArgumentError);
  });

  it('a result too large to allocate is a ShapeError naming its shape', () => {
    expect(() => ops.matmul(zeros([100_000, 1]), zeros([1, 100_000]))).toThrow(/Cannot allocate a float32 tensor of shape \[100000, 100000\]/);
    expect(() => zeros([2 ** 26, 2 ** 26])).toThrow(ShapeError);
  });
});
