/**
 * The element-wise arithmetic and reductions behind the Tensor methods `add`, `sub`, `mul`, `sum` and
 * `mean`, differentiable, with NumPy broadcasting (shapes aligned on the right; a dimension of 1 stretches).
 * Same-shape addition and a bias over the last dimension run in the native kernels (ops.add, ops.addBias);
 * the rest are plain loops here: they are the glue of a model (scaling an embedding, adding positions,
 * averaging a loss), not its hot path. Sums accumulate in float64. On the GPU they run as the generic
 * broadcasting kernels of cuda/elementwise.cu (rank ≤ 6), so a model's data never leaves the device.
 *
 * @example
 * const y = x.mul(Math.sqrt(512)).add(positions);   // x [B, L, 512], positions [L, 512]
 * const m = h.mean({ dims: [1] });                   // [B, L, C] → [B, C]
 */
import { checkBoolean, checkInteger, checkNumber, checkOptions, fail, formatShape } from '../check.js';
import { ShapeError } from '../errors.js';
import { native } from '../native/binding.js';
import type { DeviceArray } from '../tensor/device_array.js';
import { record } from '../autograd/tape.js';
import { allocate, allocateOutput, cpuData, data, deviceOf, onDevice, Tensor } from '../tensor/tensor.js';
import { add as addSame, addBias } from './add.js';

export interface ReduceOptions {
  /** The dimensions to reduce (negative counts from the end); default all. */
  dims?: number | readonly number[];
  /** Keep reduced dimensions as size 1 (default false). */
  keepDims?: boolean;
}

/** The shape a and b broadcast to, or a ShapeError naming both. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (dimension ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const sizeOf = (shape: readonly number[]) => shape.reduce((x, y) => x * y, 1);

/**
 * For each dimension of `outShape`, the stride (in elements) of a contiguous tensor of `shape` that
 * broadcasts onto it: 0 where it is broadcast (a missing or size-1 dimension).
 */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length, lead = rank - shape.length;
  const strides = new Array<number>(rank).fill(0);
  for (let i = rank - 1, s = 1; i >= lead; i--) {
    const d = shape[i - lead]!;
    strides[i] = d === 1 ? 0 : s;
    s *= d;
  }
  return strides;
}

/**
 * For each element of `outShape` (row-major), the offset of the element of a tensor of `shape` that
 * broadcasts onto it; `shape` must broadcast to `outShape`.
 */
function broadcastOffsets(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const strides = broadcastStrides(shape, outShape);
  const n = sizeOf(outShape);
  const offsets = new Int32Array(n);
  const index = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = off;
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k]! < outShape[k]!) {
        off += strides[k]!;
        break;
      }
      off -= strides[k]! * (outShape[k]! - 1);
      index[k] = 0;
    }
  }
  return offsets;
}

/** g [outShape] summed down to `shape` (the gradient of a broadcast operand). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  if (g.device === 'cuda') return gpuSum(g, shape, 1);
  const gd = cpuData(g, 'gradient', 'float32');
  const acc = new Float64Array(sizeOf(shape));
  const offsets = broadcastOffsets(shape, g.shape);
  for (let i = 0; i < gd.length; i++) acc[offsets[i]!]! += gd[i]!;
  return new Tensor(Float32Array.from(acc), Object.freeze(shape.slice()));
}

/** x as a tensor on `device` (a number becomes a scalar there). */
function asTensor(x: Tensor | number, name: string, device: Tensor['device']): Tensor {
  if (typeof x === 'number') return new Tensor(onDevice(Float32Array.of(x), device), Object.freeze([]));
  data(x, name, 'float32');
  return x;
}

// The GPU forms of the loops below (cuda/elementwise.cu). Shapes of rank > 6 are refused there.

/** a op b over `shape` (by default the shape a and b broadcast to; it may be larger). */
function gpuBinary(a: Tensor, b: Tensor, op: 'add' | 'sub' | 'mul', to: readonly number[] = broadcastShapes(a.shape, b.shape, op)): Tensor {
  const shape = Object.freeze(to.slice());
  const out = allocateOutput(sizeOf(shape), shape, 'cuda') as DeviceArray;
  native().binaryForward(op, out, data(a, 'a', 'float32') as DeviceArray, data(b, 'b', 'float32') as DeviceArray, shape,
    broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
  return new Tensor(out, shape);
}

/** scale · x summed down to `shape` (x's shape broadcasts from it). */
function gpuSum(x: Tensor, shape: readonly number[], scale: number): Tensor {
  const out = allocateOutput(sizeOf(shape), shape, 'cuda') as DeviceArray;
  native().reduceSum(out, data(x, 'x', 'float32') as DeviceArray, x.shape, broadcastStrides(shape, x.shape), scale);
  return new Tensor(out, Object.freeze(shape.slice()));
}

type Kernel = (a: Float32Array, b: Float32Array, out: Float32Array, ao: Int32Array | null, bo: Int32Array | null) => void;

/** out[i] = f(a[ao[i]], b[bo[i]]) where a null offset table means "i itself". */
function elementwise(a: Tensor, b: Tensor, op: 'add' | 'sub' | 'mul', kernel: Kernel): Tensor {
  if (deviceOf(op, { a, b }) === 'cuda') return gpuBinary(a, b, op);
  const shape = Object.freeze(broadcastShapes(a.shape, b.shape, op));
  const out = allocate('float32', sizeOf(shape), shape);
  const ao = sameShape(a.shape, shape) ? null : broadcastOffsets(a.shape, shape);
  const bo = sameShape(b.shape, shape) ? null : broadcastOffsets(b.shape, shape);
  kernel(cpuData(a, 'a', 'float32'), cpuData(b, 'b', 'float32'), out, ao, bo);
  return new Tensor(out, shape);
}

const plus: Kernel = (a, b, out, ao, bo) => {
  for (let i = 0; i < out.length; i++) out[i] = a[ao === null ? i : ao[i]!]! + b[bo === null ? i : bo[i]!]!;
};
const minus: Kernel = (a, b, out, ao, bo) => {
  for (let i = 0; i < out.length; i++) out[i] = a[ao === null ? i : ao[i]!]! - b[bo === null ? i : bo[i]!]!;
};
const times: Kernel = (a, b, out, ao, bo) => {
  for (let i = 0; i < out.length; i++) out[i] = a[ao === null ? i : ao[i]!]! * b[bo === null ? i : bo[i]!]!;
};

/** a + b with broadcasting; the native kernels for equal shapes and for a bias over the last dimension. */
export function add(a: Tensor, b: Tensor | number): Tensor {
  data(a, 'a', 'float32');
  const bt = asTensor(b, 'b', a.device);
  if (sameShape(a.shape, bt.shape)) return addSame(a, bt);
  if (bt.rank === 1 && a.rank >= 1 && a.shape[a.rank - 1] === bt.shape[0]) return addBias(a, bt);
  const out = isSuffix(bt.shape, a.shape) && a.device === 'cpu' ? addTiled(a, bt) : elementwise(a, bt, 'add', plus);
  return record(out, [a, bt], (g) => [a.requiresGrad ? sumTo(g, a.shape) : null, bt.requiresGrad ? sumTo(g, bt.shape) : null], 'add');
}

/** Whether b's shape is the trailing part of a's (b repeats along a's leading dimensions). */
function isSuffix(b: readonly number[], a: readonly number[]): boolean {
  return b.length <= a.length && b.every((d, i) => d === a[a.length - b.length + i]);
}

// The positional table added to every sequence of a batch: a plain loop, no offset table.
function addTiled(a: Tensor, b: Tensor): Tensor {
  const ad = cpuData(a, 'a', 'float32'), bd = cpuData(b, 'b', 'float32');
  const out = allocate('float32', ad.length, a.shape);
  const period = bd.length;
  for (let start = 0; start < ad.length; start += period) {
    for (let j = 0; j < period; j++) out[start + j] = ad[start + j]! + bd[j]!;
  }
  return new Tensor(out, a.shape);
}

/** a − b with broadcasting. */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  data(a, 'a', 'float32');
  const bt = asTensor(b, 'b', a.device);
  const out = elementwise(a, bt, 'sub', minus);
  return record(out, [a, bt], (g) => [a.requiresGrad ? sumTo(g, a.shape) : null, bt.requiresGrad ? sumTo(scaled(g, -1), bt.shape) : null], 'sub');
}

/** a · b element-wise with broadcasting. */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    return record(scaled(a, b), [a], (g) => [scaled(g, b)], 'mul');
  }
  data(a, 'a', 'float32');
  const bt = asTensor(b, 'b', a.device);
  const out = elementwise(a, bt, 'mul', times);
  return record(out, [a, bt], (g) => [
    a.requiresGrad ? sumTo(elementwise(g, bt, 'mul', times), a.shape) : null,
    bt.requiresGrad ? sumTo(elementwise(g, a, 'mul', times), bt.shape) : null,
  ], 'mul');
}

/** x · s for a number s. */
function scaled(g: Tensor, s: number): Tensor {
  checkNumber(s, 'b');
  const gd = data(g, 'a', 'float32');
  if (g.device === 'cuda') {
    const out = allocateOutput(g.size, g.shape, 'cuda') as DeviceArray;
    native().scaleForward(out, gd as DeviceArray, s);
    return new Tensor(out, g.shape);
  }
  const host = gd as Float32Array;
  const out = new Float32Array(host.length);
  for (let i = 0; i < host.length; i++) out[i] = host[i]! * s;
  return new Tensor(out, g.shape);
}

/** The validated reduced dimensions as a mask, and the output shapes with and without kept dimensions. */
function reduction(x: Tensor, opts: ReduceOptions | undefined, op: string): { kept: number[]; out: number[]; count: number } {
  const o = checkOptions<ReduceOptions>(opts, 'options', ['dims', 'keepDims']);
  const keepDims = o.keepDims === undefined ? false : checkBoolean(o.keepDims, 'options.keepDims');
  const rank = x.rank;
  let dims: number[];
  if (o.dims === undefined) dims = x.shape.map((_, i) => i);
  else {
    const list = typeof o.dims === 'number' ? [o.dims] : o.dims;
    if (!Array.isArray(list)) fail('a dimension or an array of dimensions', 'options.dims', o.dims);
    dims = list.map((d, i) => {
      const v = checkInteger(d, `options.dims[${i}]`, -rank, rank - 1);
      return v < 0 ? v + rank : v;
    });
    if (new Set(dims).size !== dims.length) fail('distinct dimensions', 'options.dims', o.dims);
  }
  const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const out = keepDims ? kept : x.shape.filter((_, i) => !dims.includes(i));
  if (x.size === 0 && op === 'mean') throw new ShapeError(`mean of an empty tensor ${formatShape(x.shape)} is undefined`);
  return { kept, out, count: dims.reduce((n, d) => n * x.shape[d]!, 1) };
}

function reduce(x: Tensor, opts: ReduceOptions | undefined, op: 'sum' | 'mean'): Tensor {
  data(x, 'x', 'float32');
  const { kept, out, count } = reduction(x, opts, op);
  if (x.device === 'cuda') return gpuReduce(x, kept, out, op === 'mean' ? 1 / count : 1, op);
  const xd = cpuData(x, 'x', 'float32');
  const acc = new Float64Array(sizeOf(kept));
  const offsets = broadcastOffsets(kept, x.shape);
  for (let i = 0; i < xd.length; i++) acc[offsets[i]!]! += xd[i]!;
  const scale = op === 'mean' ? 1 / count : 1;
  const y = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) y[i] = acc[i]! * scale;
  const shape = Object.freeze(out);
  return record(new Tensor(y, shape), [x], (g) => {
    const gd = cpuData(g, 'gradient', 'float32');
    const dx = new Float32Array(xd.length);
    for (let i = 0; i < dx.length; i++) dx[i] = gd[offsets[i]!]! * scale;
    return [new Tensor(dx, x.shape)];
  }, op);
}

function gpuReduce(x: Tensor, kept: number[], out: number[], scale: number, op: 'sum' | 'mean'): Tensor {
  const y = gpuSum(x, kept, scale).reshape(out);
  return record(y, [x], (g) => {
    // dx = g broadcast back over the reduced dims, times the scale.
    const factor = new Tensor(onDevice(Float32Array.of(scale), 'cuda'), Object.freeze([]));
    return [gpuBinary(g.reshape(kept), factor, 'mul', x.shape)];
  }, op);
}

/** Σ over `options.dims` (default all). */
export function sum(x: Tensor, opts?: ReduceOptions): Tensor {
  return reduce(x, opts, 'sum');
}

/** The mean over `options.dims` (default all). */
export function mean(x: Tensor, opts?: ReduceOptions): Tensor {
  return reduce(x, opts, 'mean');
}
