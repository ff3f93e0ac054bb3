// The TypeScript/C++ boundary: every native entry point, called directly with bad input, throws the
// typed error of lib/errors.ts and the process lives on to compute correct results afterwards. A new
// native export must be listed here (the first test fails otherwise).
import { describe, expect, it } from 'vitest';

import {
  DeviceError, DisposedError, DTypeError, InvalidArgumentError, type NodeformerError, OutOfRangeError, ops, ShapeError, tensor, zeros,
} from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { detached } from '../helpers.js';

const nb = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
type ErrorClass = new (...args: never[]) => NodeformerError;

const F = (n: number) => new Float32Array(n);
type Cases = Array<[string, unknown[], ErrorClass]>;
// vary(ok)(i, v): the valid arguments ok() with argument i replaced by v (breaking one at a time).
const vary = (ok: () => unknown[]) => (i: number, v: unknown) => { const a = ok(); a[i] = v; return a; };
const HUGE = 2 ** 31 - 1;

// A valid 2×3·3×4 product.
const withArg = vary((): unknown[] => [F(8), F(6), F(12), 2, 3, 4, false, false, false, 1, null, null, null]);
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
  ['dims that overflow the buffers', [F(8), F(6), F(12), HUGE, HUGE, HUGE, false, false, false, 1, null, null, null], ShapeError],
  ['transA a number', withArg(6, 1), InvalidArgumentError],
  ['batch 0', withArg(9, 0), InvalidArgumentError],
  ['offsets of the wrong length', withArg(10, new Float64Array(2)), ShapeError],
  ['offsets an Int32Array', withArg(10, new Int32Array(1)), InvalidArgumentError],
  ['an offset past the end', withArg(11, new Float64Array([1])), OutOfRangeError],
  ['a negative offset', withArg(10, new Float64Array([-1])), OutOfRangeError],
  ['a NaN offset', withArg(10, new Float64Array([Number.NaN])), OutOfRangeError],
  ['a fractional offset', withArg(11, new Float64Array([0.5])), OutOfRangeError],
  ['bias forgotten (undefined)', withArg(12, undefined), InvalidArgumentError],
  ['bias of the wrong length', withArg(12, F(3)), ShapeError],
  ['bias an Int32Array', withArg(12, new Int32Array(4)), DTypeError],
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

// Packed weights: a 2×3 input against a 4×3 weight, packed into 16·3 = 48 floats.
const withPacked = vary((): unknown[] => [F(8), F(6), F(48), 2, 3, 4, 1, null, null]);
const packedForwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['c an Int32Array', withPacked(0, new Int32Array(8)), DTypeError],
  ['c too short', withPacked(0, F(7)), ShapeError],
  ['a too long', withPacked(1, F(7)), ShapeError],
  ['packed unpacked (N·K floats)', withPacked(2, F(12)), ShapeError],
  ['packed detached', withPacked(2, detached(48)), ShapeError],
  ['m negative', withPacked(3, -1), InvalidArgumentError],
  ['k fractional', withPacked(4, 1.5), InvalidArgumentError],
  ['n huge', withPacked(5, 2 ** 40), InvalidArgumentError],
  ['dims that overflow the buffers', [F(8), F(6), F(48), HUGE, HUGE, HUGE, 1, null, null], ShapeError],
  ['batch 0', withPacked(6, 0), InvalidArgumentError],
  ['offsets of the wrong length', withPacked(7, new Float64Array(2)), ShapeError],
  ['an offset past the end', withPacked(7, new Float64Array([1])), OutOfRangeError],
  ['an offset above 2^53', withPacked(7, new Float64Array([2 ** 60])), OutOfRangeError],
  ['bias forgotten (undefined)', withPacked(8, undefined), InvalidArgumentError],
  ['bias of the wrong length', withPacked(8, F(3)), ShapeError],
];
const withPack = vary((): unknown[] => [F(48), F(12), 4, 3]);
const packCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['packed too short', withPack(0, F(47)), ShapeError],
  ['w too long', withPack(1, F(13)), ShapeError],
  ['w an Int32Array', withPack(1, new Int32Array(12)), DTypeError],
  ['n fractional', withPack(2, 0.5), InvalidArgumentError],
  ['dims that overflow the buffers', [F(48), F(12), HUGE, HUGE], ShapeError],
];
const packedSizeCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['n negative', [-1, 3], InvalidArgumentError],
  ['k a string', [4, '3'], InvalidArgumentError],
  ['a size past 2^53', [HUGE, HUGE], OutOfRangeError],
];

// Attention on B = 2, H = 1, Lq = 2, Lk = 3, D = 2: q/out/dout 8 floats, k/v 12, lse 4.
const attArgs = (): unknown[] => [2, 1, 2, 3, 2, false, 0.5, Int32Array.of(3, 1)];
const withAtt = vary((): unknown[] => [F(8), F(4), F(8), F(12), F(12), ...attArgs()]);
const withAttBwd = vary((): unknown[] => [F(8), F(12), F(12), F(8), F(12), F(12), F(8), F(4), F(8), ...attArgs()]);
const attentionCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['out too short', withAtt(0, F(7)), ShapeError],
  ['lse too long', withAtt(1, F(5)), ShapeError],
  ['q an Int32Array', withAtt(2, new Int32Array(8)), DTypeError],
  ['k detached', withAtt(3, detached(12)), ShapeError],
  ['v too short', withAtt(4, F(11)), ShapeError],
  ['d = 0', withAtt(9, 0), InvalidArgumentError],
  ['lk that overflows the buffers', withAtt(8, HUGE), ShapeError],
  ['causal a number', withAtt(10, 1), InvalidArgumentError],
  ['scale NaN', withAtt(11, Number.NaN), InvalidArgumentError],
  ['scale Infinity', withAtt(11, Number.POSITIVE_INFINITY), InvalidArgumentError],
  ['kvLengths a Float32Array', withAtt(12, F(2)), DTypeError],
  ['kvLengths of the wrong length', withAtt(12, Int32Array.of(3)), ShapeError],
  ['a kv length past Lk', withAtt(12, Int32Array.of(3, 4)), OutOfRangeError],
  ['a negative kv length', withAtt(12, Int32Array.of(-1, 3)), OutOfRangeError],
];
const attentionBackwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['dq too short', withAttBwd(0, F(7)), ShapeError],
  ['dk an Int32Array', withAttBwd(1, new Int32Array(12)), DTypeError],
  ['dv too long', withAttBwd(2, F(13)), ShapeError],
  ['out detached', withAttBwd(6, detached(8)), ShapeError],
  ['lse too short', withAttBwd(7, F(3)), ShapeError],
  ['dout too short', withAttBwd(8, F(6)), ShapeError],
  ['heads negative', withAttBwd(10, -1), InvalidArgumentError],
  ['a kv length past Lk', withAttBwd(16, Int32Array.of(9, 1)), OutOfRangeError],
];

const I = (...ids: number[]) => new Int32Array(ids);

// activationForward(y, x, bias, rows, cols, kind) on a 2×3 input with a bias.
const actFwd = vary(() => [F(6), F(6), F(3), 2, 3, 'gelu']);
const activationForwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['y an Int32Array', actFwd(0, new Int32Array(6)), DTypeError],
  ['x too short', actFwd(1, F(5)), ShapeError],
  ['y detached', actFwd(0, detached(6)), ShapeError],
  ['bias of the wrong length', actFwd(2, F(2)), ShapeError],
  ['bias undefined (not null)', actFwd(2, undefined), InvalidArgumentError],
  ['bias a Float64Array', actFwd(2, new Float64Array(3)), DTypeError],
  ['rows negative', actFwd(3, -1), InvalidArgumentError],
  ['cols fractional', actFwd(4, 1.5), InvalidArgumentError],
  ['dims that overflow the buffers', actFwd(3, 2 ** 31 - 1), ShapeError],
  ['an unknown kind', actFwd(5, 'tanh'), InvalidArgumentError],
  ['kind a number', actFwd(5, 1), InvalidArgumentError],
];
// activationBackward(dx, dBias, x, bias, dy, rows, cols, kind)
const actBwd = vary(() => [F(6), F(3), F(6), F(3), F(6), 2, 3, 'relu']);
const activationBackwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['dx too long', actBwd(0, F(7)), ShapeError],
  ['dBias without bias', actBwd(3, null), InvalidArgumentError],
  ['bias without dBias', actBwd(1, null), InvalidArgumentError],
  ['dBias of the wrong length', actBwd(1, F(4)), ShapeError],
  ['dy too short', actBwd(4, F(1)), ShapeError],
  ['x an Int32Array', actBwd(2, new Int32Array(6)), DTypeError],
  ['cols NaN', actBwd(6, Number.NaN), InvalidArgumentError],
  ['an unknown kind', actBwd(7, 'GELU'), InvalidArgumentError],
];
const biasFwd = vary(() => [F(6), F(6), F(3), 2, 3]);
const addBiasForwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['bias null', biasFwd(2, null), InvalidArgumentError],
  ['bias too long', biasFwd(2, F(4)), ShapeError],
  ['x too short', biasFwd(1, F(5)), ShapeError],
  ['y a plain array', biasFwd(0, [0, 0, 0, 0, 0, 0]), InvalidArgumentError],
  ['rows huge', biasFwd(3, 2 ** 40), InvalidArgumentError],
];
const biasBwd = vary(() => [F(3), F(6), 2, 3]);
const addBiasBackwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['dBias too short', biasBwd(0, F(2)), ShapeError],
  ['dy detached', biasBwd(1, detached(6)), ShapeError],
  ['cols negative', biasBwd(3, -3), InvalidArgumentError],
];
const addF = vary(() => [F(4), F(4), F(4), 4]);
const addForwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['a too short', addF(1, F(3)), ShapeError],
  ['b an Int32Array', addF(2, new Int32Array(4)), DTypeError],
  ['y too long', addF(0, F(5)), ShapeError],
  ['n fractional', addF(3, 3.5), InvalidArgumentError],
];
const drop = vary(() => [F(4), F(4), 0.5, 1, 0]);
const dropoutCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['y too short', drop(0, F(3)), ShapeError],
  ['x a Float64Array', drop(1, new Float64Array(4)), DTypeError],
  ['p above 1', drop(2, 1.5), InvalidArgumentError],
  ['p negative', drop(2, -0.1), InvalidArgumentError],
  ['p NaN', drop(2, Number.NaN), InvalidArgumentError],
  ['p a string', drop(2, '0.5'), InvalidArgumentError],
  ['seed negative', drop(3, -1), InvalidArgumentError],
  ['seed above 2^53', drop(3, 2 ** 54), InvalidArgumentError],
  ['offset fractional', drop(4, 0.5), InvalidArgumentError],
];
// embeddingForward(out, weight, ids, vocab, cols): 3 ids into a 4×2 table.
const embF = vary(() => [F(6), F(8), I(0, 3, 1), 4, 2]);
const embeddingForwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['an id equal to vocab', embF(2, I(0, 4, 1)), OutOfRangeError],
  ['a negative id', embF(2, I(-1, 0, 1)), OutOfRangeError],
  ['ids a Float32Array', embF(2, F(3)), DTypeError],
  ['ids a plain array', embF(2, [0, 1, 2]), InvalidArgumentError],
  ['weight too short', embF(1, F(7)), ShapeError],
  ['out too short for the ids', embF(0, F(4)), ShapeError],
  ['vocab negative', embF(3, -4), InvalidArgumentError],
  ['weight detached', embF(1, detached(8)), ShapeError],
];
const embB = vary(() => [F(8), I(0, 3, 1), F(6), 4, 2, null]);
const embeddingBackwardCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['an id past the end', embB(1, I(0, 9, 1)), OutOfRangeError],
  ['dOut too long', embB(2, F(7)), ShapeError],
  ['dWeight an Int32Array', embB(0, new Int32Array(8)), DTypeError],
  ['paddingIdx equal to vocab', embB(5, 4), InvalidArgumentError],
  ['paddingIdx negative', embB(5, -1), InvalidArgumentError],
  ['paddingIdx undefined (not null)', embB(5, undefined), InvalidArgumentError],
];
const adam = vary(() => [F(4), F(4), F(4), F(4), 1e-3, 0.9, 0.999, 1e-8, 0, false, 1]);
const adamCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['grad too short', adam(1, F(3)), ShapeError],
  ['m too long', adam(2, F(5)), ShapeError],
  ['v an Int32Array', adam(3, new Int32Array(4)), DTypeError],
  ['negative lr', adam(4, -1), InvalidArgumentError],
  ['infinite lr', adam(4, Infinity), InvalidArgumentError],
  ['beta1 = 1', adam(5, 1), InvalidArgumentError],
  ['beta2 NaN', adam(6, Number.NaN), InvalidArgumentError],
  ['negative eps', adam(7, -1e-8), InvalidArgumentError],
  ['negative weight decay', adam(8, -0.1), InvalidArgumentError],
  ['decoupled a number', adam(9, 1), InvalidArgumentError],
  ['step 0', adam(10, 0), InvalidArgumentError],
  ['param detached', adam(0, detached(4)), ShapeError],
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

// stridedCopy(dst, src, shape, dstStrides, srcStrides, dstOffset, srcOffset): a 2×3 transpose-free copy.
const sc = vary((): unknown[] => [F(6), F(6), [2, 3], [3, 1], [3, 1], 0, 0]);
const shared = F(8);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const stridedCopyCases: Cases = [
  ['no arguments', [], InvalidArgumentError],
  ['dst an Int32Array', sc(0, new Int32Array(6)), DTypeError],
  ['src a Float64Array', sc(1, new Float64Array(6)), DTypeError],
  ['dst a plain array', sc(0, [0, 0, 0, 0, 0, 0]), InvalidArgumentError],
  ['shape a Float64Array', sc(2, new Float64Array([2, 3])), InvalidArgumentError],
  ['rank 7', [F(6), F(6), [1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], 0, 0], ShapeError],
  ['dstStrides shorter than shape', sc(3, [1]), ShapeError],
  ['srcStrides longer than shape', sc(4, [3, 1, 1]), ShapeError],
  ['a negative stride', sc(4, [3, -1]), InvalidArgumentError],
  ['a negative dim', sc(2, [-2, 3]), InvalidArgumentError],
  ['a fractional dim', sc(2, [2, 1.5]), InvalidArgumentError],
  ['a NaN stride', sc(3, [Number.NaN, 1]), InvalidArgumentError],
  ['a stride above 2^53', sc(3, [2 ** 54, 1]), InvalidArgumentError],
  ['a string stride', sc(4, ['3', 1]), InvalidArgumentError],
  ['dstOffset negative', sc(5, -1), InvalidArgumentError],
  ['srcOffset fractional', sc(6, 0.5), InvalidArgumentError],
  ['dst too short for its reach', sc(0, F(5)), OutOfRangeError],
  ['src reach past the end by its offset', sc(6, 1), OutOfRangeError],
  ['dst detached', sc(0, detached(6)), OutOfRangeError],
  ['a reach that overflows 64 bits', [F(6), F(6), [MAX_SAFE, 2], [MAX_SAFE, MAX_SAFE], [3, 1], MAX_SAFE, 0], OutOfRangeError],
  ['dst written twice (stride 0)', sc(3, [0, 1]), InvalidArgumentError],
  ['dst dims that interleave', sc(3, [1, 1]), InvalidArgumentError],
  ['dst and src the same array', [shared, shared, [2, 3], [3, 1], [3, 1], 0, 0], InvalidArgumentError],
  ['dst and src overlapping views of one buffer', [shared.subarray(2), shared.subarray(0, 6), [2, 3], [3, 1], [3, 1], 0, 0], InvalidArgumentError],
];

// GPU memory and the GPU-only kernels: what can be checked without a GPU is every refusal that comes before
// one is touched (a typed array where a DeviceArray belongs is a DeviceError, not a read of host memory).
const notAView = { handle: {}, offset: 0, length: 4, dtype: 'float32' };
const deviceCases: Record<string, Cases> = {
  cudaStatus: [], // takes nothing
  deviceAlloc: [
    ['negative bytes', [-1, false], InvalidArgumentError],
    ['zero not a boolean', [16, 1], InvalidArgumentError],
  ],
  deviceFree: [['not a handle', [{}], InvalidArgumentError], ['a number', [3], InvalidArgumentError]],
  deviceUpload: [['dst a Float32Array', [F(4), F(4)], InvalidArgumentError], ['dst an object posing as a view', [notAView, F(4)], InvalidArgumentError]],
  deviceDownload: [['src a Float32Array', [F(4), F(4)], InvalidArgumentError], ['src an object posing as a view', [F(4), notAView], InvalidArgumentError]],
  deviceCopy: [['host arrays', [F(4), F(4)], InvalidArgumentError]],
  deviceMemory: [], // takes nothing
  deviceEmptyCache: [], // takes nothing
  deviceSynchronize: [], // takes nothing (throws a DeviceError without a GPU)
  setTf32: [['a number', [1], InvalidArgumentError]],
  binaryForward: [
    ['an unknown op', ['div', F(4), F(4), F(4), [4], [1], [1]], InvalidArgumentError],
    ['a rank-7 shape', ['add', F(1), F(1), F(1), [1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]], ShapeError],
    ['strides of another rank', ['add', F(4), F(4), F(4), [4], [1, 1], [1]], ShapeError],
    ['host arrays', ['add', F(4), F(4), F(4), [4], [1], [1]], DeviceError],
  ],
  reduceSum: [
    ['shape not an array', [F(1), F(4), 4, [0], 1], InvalidArgumentError],
    ['host arrays', [F(1), F(4), [4], [0], 1], DeviceError],
    ['scale NaN', [F(1), F(4), [4], [0], Number.NaN], InvalidArgumentError],
  ],
  scaleForward: [['host arrays', [F(4), F(4), 2], DeviceError], ['s a string', [F(4), F(4), '2'], InvalidArgumentError]],
  fillForward: [['a host array', [F(4), 0], DeviceError]],
  sumSquares: [['a host array', [F(4)], DeviceError], ['an Int32Array', [new Int32Array(4)], DTypeError]],
};

function int8ForwardCases(naive: boolean): Cases {
  const w = new Int8Array(naive ? 4 : 128); // 2×2: wq, or packed (16 columns × 4 k + 16 column sums)
  return [
    ['y too short', [F(3), F(4), w, F(2), 2, 2, 2, null], ShapeError],
    ['weights a Float32Array', [F(4), F(4), F(w.length), F(2), 2, 2, 2, null], DTypeError],
    ['weights too short', [F(4), F(4), w.subarray(1), F(2), 2, 2, 2, null], ShapeError],
    ['k past the int32 sums', [F(4), F(4), w, F(2), 2, 200_000, 2, null], InvalidArgumentError],
    ['bias too long', [F(4), F(4), w, F(2), 2, 2, 2, F(3)], ShapeError],
    ['a detached x', [F(4), detached(4), w, F(2), 2, 2, 2, null], ShapeError],
  ];
}

const CASES: Record<string, Cases> = {
  ...deviceCases,
  attentionForward: attentionCases,
  attentionForwardNaive: attentionCases,
  attentionBackward: attentionBackwardCases,
  attentionBackwardNaive: attentionBackwardCases,
  matmulForward: forwardCases,
  matmulForwardNaive: forwardCases,
  matmulBackward: backwardCases,
  matmulBackwardNaive: backwardCases,
  matmulPackedSize: packedSizeCases,
  matmulPack: packCases,
  matmulPackedForward: packedForwardCases,
  matmulPackedForwardNaive: packedForwardCases,
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
  setLowPrecision: [['unknown', ['fast'], InvalidArgumentError], ['a boolean', [true], InvalidArgumentError]],
  setMatmulPrecision: [['unknown', ['low'], InvalidArgumentError], ['missing', [], InvalidArgumentError]],
  getMatmulPrecision: [], // takes no input
  quantizeRows: [
    ['q a Float32Array', [F(4), F(1), F(4), 1, 4], DTypeError],
    ['q too short', [new Int8Array(3), F(1), F(4), 1, 4], ShapeError],
    ['rows negative', [new Int8Array(4), F(1), F(4), -1, 4], InvalidArgumentError],
  ],
  matmulInt8PackedBytes: [['k past the int32 sums', [2, 200_000], InvalidArgumentError], ['n a string', ['2', 4], InvalidArgumentError]],
  matmulInt8Pack: [
    ['packed too short', [new Int8Array(10), new Int8Array(4), 2, 2], ShapeError],
    ['wq an Int32Array', [new Int8Array(160), new Int32Array(4), 2, 2], DTypeError],
  ],
  matmulInt8Forward: int8ForwardCases(false),
  matmulInt8ForwardNaive: int8ForwardCases(true),
  releaseMemory: [], // takes nothing
  fmaPeak: [
    ['unknown simd', ['x', 0.01, 1], InvalidArgumentError],
    ['zero seconds', ['scalar', 0, 1], InvalidArgumentError],
    ['too many threads', ['scalar', 0.01, 4096], InvalidArgumentError],
  ],
  registerErrorClasses: [['null', [null], InvalidArgumentError], ['missing classes', [{}], InvalidArgumentError]],
  info: [], // takes no input
  activationForward: activationForwardCases,
  activationForwardNaive: activationForwardCases,
  activationBackward: activationBackwardCases,
  activationBackwardNaive: activationBackwardCases,
  addBiasForward: addBiasForwardCases,
  addBiasForwardNaive: addBiasForwardCases,
  addBiasBackward: addBiasBackwardCases,
  addBiasBackwardNaive: addBiasBackwardCases,
  addForward: addForwardCases,
  addForwardNaive: addForwardCases,
  dropoutForward: dropoutCases,
  dropoutForwardNaive: dropoutCases,
  embeddingForward: embeddingForwardCases,
  embeddingForwardNaive: embeddingForwardCases,
  embeddingBackward: embeddingBackwardCases,
  embeddingBackwardNaive: embeddingBackwardCases,
  adamUpdate: adamCases,
  adamUpdateNaive: adamCases,
  stridedCopy: stridedCopyCases,
  stridedCopyNaive: stridedCopyCases,
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
    nb.matmulForward!(c, new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), 2, 2, 2, false, false, false, 1, null, null, null);
    expect([...c]).toEqual([19, 22, 43, 50]);
    const y = F(2);
    nb.softmaxForward!(y, new Float32Array([0, Math.log(3)]), 1, 2);
    expect(Math.abs(y[1]! - 0.75)).toBeLessThan(1e-6);
    const t = F(6);
    nb.stridedCopy!(t, new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], [1, 2], [3, 1], 0, 0);
    expect([...t]).toEqual([1, 4, 2, 5, 3, 6]);
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
