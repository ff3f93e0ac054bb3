/**
 * @internal Strided copies between float32 tensors: the memory movement behind permute / transpose and
 * the split and merge of attention heads (native/kernels/strided_copy.h). A {@link CopyLayout} says, for
 * every index i of `shape`, which element of dst receives which element of src:
 *
 *   dst[dstOffset + Σ i_k·dstStrides_k] = src[srcOffset + Σ i_k·srcStrides_k]
 *
 * with strides and offsets counted in elements of each tensor's contiguous storage. Everything that
 * protects memory is checked here first, with the error a caller can act on, and again in C++.
 *
 * @example
 * const y = permute(x, [0, 2, 1, 3]);          // [B, L, H, D] → [B, H, L, D], contiguous
 * const q = splitHeads(qkv, 0, heads, d);      // columns [0, H·d) of [B, L, 3·H·d] as [B, H, L, d]
 * mergeHeads(ctx, 0, attentionOut);            // [B, H, L, d] back into columns [0, H·d) of ctx [B, L, C]
 */
import { checkInteger, checkOptions, checkShape, describe, fail, formatShape } from '../check.js';
import { InvalidArgumentError, OutOfRangeError, ShapeError } from '../errors.js';
import { native } from '../native/binding.js';
import { DeviceArray } from '../tensor/device_array.js';
import { allocateOutput, data, deviceOf, type F32, Tensor } from '../tensor/tensor.js';

/** The highest rank the native copy takes (kMaxCopyRank in native/kernels/strided_copy.h). */
const MAX_RANK = 6;

export interface CopyLayout {
  /** The index space of the copy, outermost first (rank 0 … 6; a 0 anywhere copies nothing). */
  shape: readonly number[];
  /** Elements between neighbours along each dim of shape in dst; must write each element once. */
  dstStrides: readonly number[];
  /** The same in src (0 repeats an element: a broadcast read). */
  srcStrides: readonly number[];
  /** Where index (0, …, 0) lands in dst. Default 0. */
  dstOffset?: number;
  /** Where index (0, …, 0) is read from src. Default 0. */
  srcOffset?: number;
}

/** The strides of a contiguous row-major tensor of `shape`. */
function contiguousStrides(shape: readonly number[]): number[] {
  const strides = shape.map(() => 1);
  for (let k = shape.length - 2; k >= 0; k--) strides[k] = strides[k + 1]! * shape[k + 1]!;
  return strides;
}

function checkRank(shape: readonly number[], name: string): void {
  if (shape.length > MAX_RANK) {
    throw new ShapeError(`Expected a shape of rank ≤ ${MAX_RANK} for ${name} but received ${formatShape(shape)}`);
  }
}

function checkStrides(value: unknown, name: string, rank: number): readonly number[] {
  if (!Array.isArray(value)) fail('an array of non-negative integers', name, value);
  if (value.length !== rank) {
    throw new ShapeError(`Expected ${rank} entries (the rank of layout.shape) for ${name} but received ${value.length}`);
  }
  value.forEach((s: unknown, k) => checkInteger(s, `${name}[${k}]`));
  return value as readonly number[];
}

// The last element a non-empty copy reaches on one side must lie inside that side's storage. In floats:
// any sum past 2^53 rounds to at least 2^53, still above every typed array's length.
function checkReach(shape: readonly number[], strides: readonly number[], offset: number, length: number, side: string): void {
  const last = shape.reduce((acc, n, k) => acc + (n - 1) * strides[k]!, offset);
  if (last >= length) {
    throw new OutOfRangeError(
      `Expected every element reached in ${side} to lie below its length ${length} but shape ${formatShape(shape)} ` +
        `with ${side}Strides ${formatShape(strides)} from ${side}Offset ${offset} reaches element ${last}`,
    );
  }
}

// dst's strides must write each element once, or the result would depend on the order of the writes.
// Sufficient test (the kernel's too): with the dims of size > 1 sorted by stride, each stride exceeds the
// largest offset the smaller-stride dims reach. Runs after checkReach, so every sum here is exact.
function checkWrittenOnce(shape: readonly number[], strides: readonly number[]): void {
  const dims = shape.map((n, k) => ({ n, s: strides[k]! })).filter((d) => d.n > 1).sort((a, b) => a.s - b.s);
  let reach = 0;
  for (const { n, s } of dims) {
    if (s <= reach) {
      throw new InvalidArgumentError(
        `Expected dstStrides that write each element of dst once but received ${formatShape(strides)} for shape ${formatShape(shape)}`,
      );
    }
    reach += (n - 1) * s;
  }
}

/**
 * Copies the elements of src that `layout` selects into the places of dst it names (see the file
 * header); dst and src must be distinct float32 CPU tensors that do not share storage. `naive` runs the
 * reference loop (one element at a time) instead of the fused kernel.
 */
export function stridedCopy(dst: Tensor, src: Tensor, layout: CopyLayout, naive = false): void {
  const dd = data(dst, 'dst', 'float32');
  const sd = data(src, 'src', 'float32');
  deviceOf('stridedCopy', { dst, src });
  const l = checkOptions<CopyLayout>(layout, 'layout', ['shape', 'dstStrides', 'srcStrides', 'dstOffset', 'srcOffset']);
  const { shape, size } = checkShape(l.shape, 'layout.shape');
  checkRank(shape, 'layout.shape');
  const dstStrides = checkStrides(l.dstStrides, 'layout.dstStrides', shape.length);
  const srcStrides = checkStrides(l.srcStrides, 'layout.srcStrides', shape.length);
  const dstOffset = checkInteger(l.dstOffset ?? 0, 'layout.dstOffset');
  const srcOffset = checkInteger(l.srcOffset ?? 0, 'layout.srcOffset');
  if (overlap(dd, sd)) {
    throw new InvalidArgumentError('Expected dst and src that do not share storage but received tensors whose storage overlaps');
  }
  if (size === 0) return;
  checkReach(shape, dstStrides, dstOffset, dd.length, 'dst');
  checkReach(shape, srcStrides, srcOffset, sd.length, 'src');
  checkWrittenOnce(shape, dstStrides);
  (naive ? native().stridedCopyNaive : native().stridedCopy)(dd, sd, shape, dstStrides, srcStrides, dstOffset, srcOffset);
}

// Whether two views share elements (views of distinct buffers or GPU blocks never do).
function overlap(a: F32, b: F32): boolean {
  if (a instanceof DeviceArray || b instanceof DeviceArray) {
    return a instanceof DeviceArray && b instanceof DeviceArray && a.handle === b.handle && a.offset < b.offset + b.length && b.offset < a.offset + a.length;
  }
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

function checkPermutation(perm: unknown, rank: number): readonly number[] {
  const ok =
    Array.isArray(perm) &&
    perm.length === rank &&
    perm.every((p: unknown) => Number.isInteger(p) && (p as number) >= 0 && (p as number) < rank) &&
    new Set(perm).size === rank;
  if (!ok) {
    const got = Array.isArray(perm) && perm.every((p) => typeof p === 'number') ? formatShape(perm) : describe(perm);
    throw new InvalidArgumentError(`Expected a permutation of 0..${rank - 1} for perm but received ${got}`);
  }
  return perm as readonly number[];
}

/**
 * A new contiguous tensor y with y.shape[i] = x.shape[perm[i]]: x with its dims reordered (rank ≤ 6).
 * `naive` runs the reference loop.
 */
export function permute(x: Tensor, perm: readonly number[], naive = false): Tensor {
  data(x, 'x', 'float32');
  checkRank(x.shape, 'x');
  const p = checkPermutation(perm, x.rank);
  const shape = Object.freeze(p.map((k) => x.shape[k]!));
  const xStrides = contiguousStrides(x.shape);
  const y = new Tensor(allocateOutput(x.size, shape, x.device), shape);
  stridedCopy(y, x, { shape, dstStrides: contiguousStrides(shape), srcStrides: p.map((k) => xStrides[k]!) }, naive);
  return y;
}

function checkBLC(t: Tensor, name: string): readonly number[] {
  if (t.rank !== 3) throw new ShapeError(`Expected a tensor of shape [B, L, C] for ${name} but received ${formatShape(t.shape)}`);
  return t.shape;
}

// The columns [column, column + width) must lie inside the c columns of the [B, L, C] tensor `name`.
function checkColumns(column: number, width: number, widthName: string, c: number, name: string): void {
  if (column + width > c) {
    throw new OutOfRangeError(
      `Expected columns inside the ${c} columns of ${name} for [column, column + ${widthName}) but received [${column}, ${column + width})`,
    );
  }
}

/**
 * The columns [column, column + heads·headDim) of x [B, L, C], seen as [B, L, heads, headDim], as a new
 * contiguous [B, heads, L, headDim] tensor: how attention projections become heads.
 */
export function splitHeads(x: Tensor, column: number, heads: number, headDim: number): Tensor {
  data(x, 'x', 'float32');
  const [b, l, c] = checkBLC(x, 'x') as [number, number, number];
  checkInteger(column, 'column');
  checkInteger(heads, 'heads', 1);
  checkInteger(headDim, 'headDim', 1);
  checkColumns(column, heads * headDim, 'heads·headDim', c, 'x');
  const shape = Object.freeze([b, heads, l, headDim]);
  const y = new Tensor(allocateOutput(b * heads * l * headDim, shape, x.device), shape);
  const layout = { shape, dstStrides: contiguousStrides(shape), srcStrides: [l * c, headDim, c, 1], srcOffset: column };
  stridedCopy(y, x, layout);
  return y;
}

/**
 * The inverse of {@link splitHeads}, in place: x [B, H, L, Dh] written into the columns
 * [column, column + H·Dh) of dst [B, L, C]; the other columns of dst are left as they are.
 */
export function mergeHeads(dst: Tensor, column: number, x: Tensor): void {
  data(dst, 'dst', 'float32');
  data(x, 'x', 'float32');
  const [b, l, c] = checkBLC(dst, 'dst') as [number, number, number];
  if (x.rank !== 4 || x.shape[0] !== b || x.shape[2] !== l) {
    throw new ShapeError(
      `Expected a tensor of shape [${b}, H, ${l}, Dh] (B and L of dst) for x but received ${formatShape(x.shape)}`,
    );
  }
  checkInteger(column, 'column');
  const [, h, , dh] = x.shape as [number, number, number, number];
  checkColumns(column, h * dh, 'H·Dh', c, 'dst');
  stridedCopy(dst, x, { shape: x.shape, dstStrides: [l * c, dh, c, 1], srcStrides: contiguousStrides(x.shape), dstOffset: column });
}
