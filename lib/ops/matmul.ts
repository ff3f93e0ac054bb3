/**
 * Matrix products: `matmul(a, b, { transA, transB })` over the last two dimensions, with the leading
 * (batch) dimensions broadcast as in NumPy. op(a) is [..., M, K] (a is [..., K, M] when transA) and op(b)
 * is [..., K, N] (b is [..., N, K] when transB); the result is [...batch, M, N].
 *
 * @example
 * ops.matmul(x, w, { transB: true });   // x [B, L, dIn] · wᵀ with w [dOut, dIn] → [B, L, dOut]
 */
import { checkBoolean, checkOptions, formatShape } from '../check.js';
import { ShapeError } from '../errors.js';
import { record } from '../autograd/tape.js';
import { native } from '../native/binding.js';
import { allocate, allocateOutput, data, deviceOf, Tensor } from '../tensor/tensor.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

/** Everything native code needs for one (possibly batched, broadcast) product. */
export interface MatmulPlan {
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  batchShape: number[];
  batch: number;
  /** Element offsets of each batch's matrix; null when the operand's batches are contiguous. */
  aOffsets: Float64Array | null;
  bOffsets: Float64Array | null;
}

/** Checks shapes and options and works out the batch layout of op(a)·op(b). */
export function planMatmul(a: Tensor, b: Tensor, opts?: MatmulOptions): MatmulPlan {
  const o = checkOptions<MatmulOptions>(opts, 'options', ['transA', 'transB']);
  const transA = o.transA === undefined ? false : checkBoolean(o.transA, 'options.transA');
  const transB = o.transB === undefined ? false : checkBoolean(o.transB, 'options.transB');
  const as = a.shape, bs = b.shape;
  if (as.length < 2 || bs.length < 2) {
    throw new ShapeError(
      `matmul needs tensors of rank ≥ 2 but received a ${formatShape(as)} and b ${formatShape(bs)}; reshape a vector to [1, n] or [n, 1]`,
    );
  }
  const ra = as.length, rb = bs.length;
  const m = transA ? as[ra - 1]! : as[ra - 2]!;
  const ka = transA ? as[ra - 2]! : as[ra - 1]!;
  const kb = transB ? bs[rb - 1]! : bs[rb - 2]!;
  const n = transB ? bs[rb - 2]! : bs[rb - 1]!;
  if (ka !== kb) {
    throw new ShapeError(
      `matmul: the inner dimensions differ: op(a) is ${m}×${ka} (a ${formatShape(as)}${transA ? ', transA' : ''}) but op(b) is ${kb}×${n} (b ${formatShape(bs)}${transB ? ', transB' : ''})`,
    );
  }
  // Broadcast the batch dimensions, right-aligned.
  const rank = Math.max(ra, rb) - 2;
  const batchShape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = as[ra - 2 - rank + i] ?? 1;
    const db = bs[rb - 2 - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `matmul: the batch dimensions of a ${formatShape(as)} and b ${formatShape(bs)} cannot be broadcast together (${da} vs ${db})`,
      );
    }
    batchShape.push(da === 1 ? db : da);
  }
  const batch = batchShape.reduce((x, y) => x * y, 1);
  return {
    m, k: ka, n, transA, transB, batchShape, batch,
    aOffsets: batchOffsets(as, batchShape, m * ka),
    bOffsets: batchOffsets(bs, batchShape, ka * n),
  };
}

// Offsets of each batch's matrix in an operand of shape `shape` broadcast to `batchShape`, or null when
// they are simply 0, extent, 2·extent, … (no broadcasting).
function batchOffsets(shape: readonly number[], batchShape: number[], extent: number): Float64Array | null {
  const own = shape.slice(0, -2);
  const lead = batchShape.length - own.length;
  if (lead === 0 && own.every((d, i) => d === batchShape[i])) return null;
  const batch = batchShape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(batch);
  // Stride (in elements) of each broadcast batch dim within the operand; 0 where it is broadcast.
  const strides = batchShape.map(() => 0);
  let stride = extent;
  for (let i = batchShape.length - 1; i >= lead; i--) {
    const d = own[i - lead]!;
    strides[i] = d === 1 ? 0 : stride;
    stride *= d;
  }
  for (let idx = 0; idx < batch; idx++) {
    let rest = idx, off = 0;
    for (let i = batchShape.length - 1; i >= 0; i--) {
      const d = batchShape[i]!;
      off += (rest % d) * strides[i]!;
      rest = Math.floor(rest / d);
    }
    out[idx] = off;
  }
  return out;
}

function product(naive: boolean, a: Tensor, b: Tensor, opts: MatmulOptions | undefined): Tensor {
  const ad = data(a, 'a', 'float32');
  const bd = data(b, 'b', 'float32');
  const p = planMatmul(a, b, opts);
  const shape = Object.freeze([...p.batchShape, p.m, p.n]);
  const c = allocateOutput(p.batch * p.m * p.n, shape, deviceOf('matmul', { a, b }));
  const s = gemms(b, p);
  if (p.batch > 0) {
    (naive ? native().matmulForwardNaive : native().matmulForward)(
      c, ad, bd, s.m, p.k, p.n, p.transA, p.transB, false, s.batch, s.aOffsets, s.bOffsets, null);
  }
  const out = new Tensor(c, shape);
  return record(out, [a, b], (g) => matmulGrads(naive, a, b, p, g), 'matmul');
}

/**
 * How the native GEMM runs a plan: a batch of row blocks times one shared matrix b is a single taller
 * product (b is packed once, and its gradient is one product over all the rows); otherwise one product
 * per batch at the plan's offsets.
 */
function gemms(b: Tensor, p: MatmulPlan): { m: number; batch: number; aOffsets: Float64Array | null; bOffsets: Float64Array | null } {
  if (b.rank === 2 && !p.transA) return { m: p.batch * p.m, batch: 1, aOffsets: null, bOffsets: null };
  return { m: p.m, batch: p.batch, aOffsets: p.aOffsets, bOffsets: p.bOffsets };
}

/**
 * ∂L/∂a and ∂L/∂b of c = op(a)·op(b) given g = ∂L/∂c [...batch, M, N], by the native backward (which
 * sums a broadcast operand's gradient over the batches that shared it).
 */
function matmulGrads(naive: boolean, a: Tensor, b: Tensor, p: MatmulPlan, g: Tensor): [Tensor | null, Tensor | null] {
  const da = a.requiresGrad ? allocate('float32', a.size, a.shape, a.device) : null;
  const db = b.requiresGrad ? allocate('float32', b.size, b.shape, b.device) : null;
  if (p.batch > 0) {
    const s = gemms(b, p);
    (naive ? native().matmulBackwardNaive : native().matmulBackward)(da, db, data(g, 'gradient', 'float32'),
      data(a, 'a', 'float32'), data(b, 'b', 'float32'), s.m, p.k, p.n, p.transA, p.transB, s.batch, s.aOffsets, s.bOffsets);
  }
  return [da && new Tensor(da, a.shape), db && new Tensor(db, b.shape)];
}

/** op(a)·op(b) with the packed, cache-blocked SIMD GEMM (multi-threaded); differentiable. */
export function matmul(a: Tensor, b: Tensor, opts?: MatmulOptions): Tensor {
  return product(false, a, b, opts);
}

/** The same product by the plain triple loop in C++: the baseline of the benches. */
export function matmulNaive(a: Tensor, b: Tensor, opts?: MatmulOptions): Tensor {
  return product(true, a, b, opts);
}
