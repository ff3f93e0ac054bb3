// Thread-count determinism of every native kernel that splits its work over the thread pool: each CPU entry
// point of lib/native/binding.ts, on inputs past the size at which it starts using threads and cut into
// several uneven pieces, run at 1, 2, 3 and 4 threads under the best SIMD level, must give the bits of one
// thread. Every kernel documents exactly that (its header: matmul.h, matmul_packed.h, attention.h /
// attention_simd.h, layer_norm.h, softmax.h, cross_entropy.h, activation.h, add.h, embedding.h, dropout.h,
// adam.h, strided_copy.h): the split into tasks, and the order partial sums are added in, depend on the shape
// only, never on the thread count; none is documented otherwise, so every output is compared bit for bit.
// Outputs that a kernel assigns start as NaN and must come back with none left (an element no task writes
// would otherwise give the same NaN at every thread count); those it accumulates into start as random values.
// (matmulPack is left out: plain loops on one thread, run once per weight.)
import { describe, expect, it } from 'vitest';

import type { Simd } from '../../lib/backend.js';
import { native } from '../../lib/native/binding.js';
import { Rng } from '../../lib/tensor/random.js';
import { bitsEqual, f32, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();

// Every level the addon knows (the Simd type; lib/backend.ts's list and native/dispatch.cc's Isa): a Record
// so that the type checker fails here when a level is added to Simd and not to this list.
const ALL_LEVELS: Record<Simd, true> = { avx512: true, avx2: true, neon: true, scalar: true };
const UNTESTED = (Object.keys(ALL_LEVELS) as Simd[]).filter((s) => !SIMD_LEVELS.includes(s));
console.log(
  `SIMD levels tested on this host: ${SIMD_LEVELS.join(', ')}; not testable here: ${UNTESTED.join(', ') || 'none'}`,
);
if (UNTESTED.length > 0) {
  describe('SIMD levels this host cannot run (no test anywhere covers their kernels here)', () => {
    it.skip.each(UNTESTED)('%s', () => {});
  });
}

const BEST = SIMD_LEVELS[SIMD_LEVELS.length - 1]!; // supportedSimd lists the best last
const THREADS = [1, 2, 3, 4];

type Outputs = Record<string, Float32Array | number>;

/**
 * Runs `run` (which makes fresh outputs each time) at 1-4 threads under the best ISA; every output must have
 * the bits it has with one thread, and the outputs named in `assigned` must hold no NaN (they start as NaN).
 */
function sameBitsAtEveryThreadCount(run: () => Outputs, assigned: string[] = []) {
  const outs = THREADS.map((t) => withThreads(t, () => withSimd(BEST, run)));
  outs.forEach((o, i) => {
    for (const name of assigned) {
      const x = o[name] as Float32Array;
      expect(x.findIndex(Number.isNaN), `${name} at ${THREADS[i]} threads: first element left unwritten`).toBe(-1);
    }
    if (i === 0) return;
    for (const [name, x] of Object.entries(o)) {
      const one = outs[0]![name]!;
      const same = typeof x === 'number' ? Object.is(x, one) : bitsEqual(x, one as Float32Array);
      expect(same, `${name}: ${THREADS[i]} threads vs 1`).toBe(true);
    }
  });
}

const nan = (n: number) => new Float32Array(n).fill(Number.NaN);

function intsBelow(n: number, bound: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => Math.min(bound - 1, Math.floor(rng.uniform() * bound)));
}

describe(`every kernel gives the same bits at 1, 2, 3 and 4 threads [${BEST}]`, () => {
  // Threads once M·N·K ≥ 2¹⁷ (kMinParallelWork). Blocked path: a tm × tn grid of row and column blocks (on
  // avx512: 301×…×260 rows at 2-3 threads, 2 × 2 at 4; 67×…×700 columns; 130×…×150 columns at 2-3, 2 × 2 at
  // 4), two KC = 512 blocks at K = 600; few-row path (M ≤ 16, or ≤ 32 with B transposed): column tasks.
  it.each([
    [301, 129, 260, false, false], [67, 129, 700, true, true], [130, 600, 150, true, false],
    [5, 300, 900, false, false], [29, 256, 2000, false, true],
  ] as const)('matmulForward %i×%i×%i ta=%s tb=%s, with a bias; accumulating', (m, k, n, ta, tb) => {
    const a = f32(m * k, 1), b = f32(k * n, 2), bias = f32(n, 3), c0 = f32(m * n, 4);
    sameBitsAtEveryThreadCount(() => {
      const c = nan(m * n), acc = c0.slice();
      nb.matmulForward(c, a, b, m, k, n, ta, tb, false, 1, null, null, bias);
      nb.matmulForward(acc, a, b, m, k, n, ta, tb, true, 1, null, null, null);
      return { c, acc };
    }, ['c']);
  });

  it.each([[false, false], [true, false], [false, true], [true, true]] as const)(
    'matmulBackward 77×90×130, 2 broadcast batches, ta=%s tb=%s', (ta, tb) => {
      const m = 77, k = 90, n = 130, batch = 2;
      const a = f32(m * k, 5), b = f32(batch * k * n, 6), g = f32(batch * m * n, 7);
      const da0 = f32(m * k, 8), db0 = f32(batch * k * n, 9);
      sameBitsAtEveryThreadCount(() => {
        const da = da0.slice(), db = db0.slice();
        nb.matmulBackward(da, db, g, a, b, m, k, n, ta, tb, batch, new Float64Array(batch), null);
        return { da, db };
      });
    },
  );

  // Threads split N in groups of 4 panels (64 columns): 32 groups (2000), 5 (300: 19 panels, the last partial).
  it.each([[32, 256, 2000], [17, 100, 300], [80, 40, 300]] as const)('matmulPackedForward %i×%i×%i with a bias', (m, k, n) => {
    const a = f32(m * k, 10), bias = f32(n, 11);
    const packed = new Float32Array(nb.matmulPackedSize(n, k));
    nb.matmulPack(packed, f32(n * k, 12), n, k);
    sameBitsAtEveryThreadCount(() => {
      const c = nan(m * n);
      nb.matmulPackedForward(c, a, packed, m, k, n, 1, null, bias);
      return { c };
    }, ['c']);
  });

  // Threads once B·H·Lq·Lk·D ≥ 2¹⁶. Many (batch, head, query-block) tasks: no key split, backward with one
  // key-block group per head (≥ 8 heads). Decoding (Lq = 1, 2 heads): the keys split into ranges merged
  // afterwards (⌊Lk/256⌋ = 3 of them); few heads with Lk > one key block: the backward's grouped dQ copies.
  it.each([
    { name: 'prefill, causal, kv lengths, 10 heads', b: 2, h: 5, lq: 130, lk: 150, d: 48, causal: true, kv: [150, 97] },
    { name: 'decode, 2 heads', b: 1, h: 2, lq: 1, lk: 1000, d: 64, causal: false, kv: null },
    { name: 'few heads, long keys', b: 1, h: 2, lq: 300, lk: 700, d: 32, causal: true, kv: null },
  ])('attentionForward and attentionBackward: $name', ({ b, h, lq, lk, d, causal, kv }) => {
    const q = f32(b * h * lq * d, 13), k = f32(b * h * lk * d, 14), v = f32(b * h * lk * d, 15), dout = f32(b * h * lq * d, 16);
    const kvLengths = kv ? Int32Array.from(kv) : null, scale = 1 / Math.sqrt(d);
    const out0 = new Float32Array(q.length), lse0 = new Float32Array(b * h * lq);
    withThreads(1, () => nb.attentionForward(out0, lse0, q, k, v, b, h, lq, lk, d, causal, scale, kvLengths));
    sameBitsAtEveryThreadCount(() => {
      const out = nan(q.length), lse = nan(b * h * lq), dq = nan(q.length), dk = nan(k.length), dv = nan(v.length);
      nb.attentionForward(out, lse, q, k, v, b, h, lq, lk, d, causal, scale, kvLengths);
      nb.attentionBackward(dq, dk, dv, q, k, v, out0, lse0, dout, b, h, lq, lk, d, causal, scale, kvLengths);
      return { out, lse, dq, dk, dv };
    }, ['out', 'lse', 'dq', 'dk', 'dv']);
  });

  // Rows in tasks of ⌊2¹⁵/C⌋ rows (rows_simd.h): 600×300 → 6 tasks of 109 rows, the last 55; dγ, dβ and the
  // loss are per-task partials added in task order.
  it.each([false, true])('layerNormForward and layerNormBackward 600×300, residual %s', (withResidual) => {
    const n = 600, c = 300;
    const x = f32(n * c, 17, 3), residual = withResidual ? f32(n * c, 18) : null, g = f32(c, 19), beta = f32(c, 20), dy = f32(n * c, 21);
    const dg0 = f32(c, 22), db0 = f32(c, 23);
    sameBitsAtEveryThreadCount(() => {
      const y = nan(n * c), sum = withResidual ? nan(n * c) : null, mean = nan(n), rstd = nan(n);
      nb.layerNormForward(y, sum, mean, rstd, x, residual, g, beta, n, c, 1e-5);
      const dx = nan(n * c), dgamma = dg0.slice(), dbeta = db0.slice();
      nb.layerNormBackward(dx, dgamma, dbeta, dy, sum ?? x, g, mean, rstd, n, c);
      return { y, ...(sum && { sum }), mean, rstd, dx, dgamma, dbeta };
    }, ['y', ...(withResidual ? ['sum'] : []), 'mean', 'rstd', 'dx']);
  });

  it('softmaxForward and softmaxBackward 700×257 (6 tasks of 127 rows)', () => {
    const n = 700, c = 257, x = f32(n * c, 24, 4), dy = f32(n * c, 25);
    sameBitsAtEveryThreadCount(() => {
      const y = nan(n * c), dx = nan(n * c);
      nb.softmaxForward(y, x, n, c);
      nb.softmaxBackward(dx, dy, y, n, c);
      return { y, dx };
    }, ['y', 'dx']);
  });

  it('crossEntropyForward and crossEntropyBackward 600×1000, smoothing 0.1, some rows ignored (19 tasks of 32 rows)', () => {
    const n = 600, v = 1000, ignore = -100;
    const logits = f32(n * v, 26, 5);
    const targets = intsBelow(n, v, 27).map((t, i) => (i % 7 === 3 ? ignore : t));
    sameBitsAtEveryThreadCount(() => {
      const lse = nan(n), dlogits = nan(n * v);
      const loss = nb.crossEntropyForward(lse, logits, targets, n, v, 0.1, ignore);
      nb.crossEntropyBackward(dlogits, logits, targets, lse, n, v, 0.1, ignore, 0.7);
      return { loss, lse, dlogits };
    }, ['lse', 'dlogits']);
  });

  // Element-wise kernels (chunks_simd.h): threads from 2¹⁵ elements, chunks of 2¹⁴ elements or of
  // ⌊2¹⁴/cols⌋ whole rows; a bias gradient sums a partial row per chunk, then the partials in chunk order.
  it.each(['relu', 'gelu'] as const)('activationForward and activationBackward (%s) 1000×257, with and without a bias', (kind) => {
    const rows = 1000, cols = 257, x = f32(rows * cols, 28, 3), bias = f32(cols, 29), dy = f32(rows * cols, 30), dBias0 = f32(cols, 31);
    sameBitsAtEveryThreadCount(() => {
      const y = nan(rows * cols), yb = nan(rows * cols), dx = nan(rows * cols), dxb = nan(rows * cols), dBias = dBias0.slice();
      nb.activationForward(y, x, null, rows, cols, kind);
      nb.activationForward(yb, x, bias, rows, cols, kind);
      nb.activationBackward(dx, null, x, null, dy, rows, cols, kind);
      nb.activationBackward(dxb, dBias, x, bias, dy, rows, cols, kind);
      return { y, yb, dx, dxb, dBias };
    }, ['y', 'yb', 'dx', 'dxb']);
  });

  it('addBiasForward, addBiasBackward 1000×130 and addForward of 5·2¹⁴ + 37', () => {
    const rows = 1000, cols = 130, n = 5 * 2 ** 14 + 37;
    const x = f32(rows * cols, 32), bias = f32(cols, 33), dBias0 = f32(cols, 34), a = f32(n, 35), b = f32(n, 36);
    sameBitsAtEveryThreadCount(() => {
      const y = nan(rows * cols), dBias = dBias0.slice(), sum = nan(n);
      nb.addBiasForward(y, x, bias, rows, cols);
      nb.addBiasBackward(dBias, x, rows, cols);
      nb.addForward(sum, a, b, n);
      return { y, dBias, sum };
    }, ['y', 'sum']);
  });

  // Forward: chunks of ⌊2¹⁴/300⌋ = 54 ids. Backward: threads once ids·cols ≥ 2²⁰, splitting the 300 columns
  // into one block per thread of whole 16-column lines (100 → 112 at 3 threads: blocks of 112, 112, 76).
  it('embeddingForward and embeddingBackward: 4100 ids into 500×300, with a padding id', () => {
    const n = 4100, vocab = 500, cols = 300;
    const ids = intsBelow(n, 60, 37), w = f32(vocab * cols, 38), dOut = f32(n * cols, 39), dw0 = f32(vocab * cols, 40);
    sameBitsAtEveryThreadCount(() => {
      const out = nan(n * cols), dw = dw0.slice(), dwPad = dw0.slice();
      nb.embeddingForward(out, w, ids, vocab, cols);
      nb.embeddingBackward(dw, ids, dOut, vocab, cols, null);
      nb.embeddingBackward(dwPad, ids, dOut, vocab, cols, ids[0]!);
      return { out, dw, dwPad };
    }, ['out']);
  });

  it('dropoutForward of 200003 elements, p = 0.2, at an offset', () => {
    const x = f32(200_003, 41);
    sameBitsAtEveryThreadCount(() => {
      const y = nan(x.length);
      nb.dropoutForward(y, x, 0.2, 1234, 2 ** 33 + 5);
      return { y };
    }, ['y']);
  });

  it.each([false, true])('adamUpdate of 200003 parameters, 3 steps, decoupled %s', (decoupled) => {
    const n = 200_003, p0 = f32(n, 42), g = f32(n, 43), m0 = f32(n, 44, 0.1), v0 = f32(n, 45, 0.01).map(Math.abs);
    sameBitsAtEveryThreadCount(() => {
      const param = p0.slice(), m = m0.slice(), v = v0.slice();
      for (let step = 1; step <= 3; step++) nb.adamUpdate(param, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, decoupled, step);
      return { param, m, v };
    });
  });

  // Threads from 2¹⁶ elements, in chunks of 2¹⁵: a [6, 50, 40, 9] transpose of its middle dims (108000
  // elements, 4 chunks, the last partial) and a broadcast read into a [300, 257] block at an offset.
  it('stridedCopy: a transpose and a broadcast', () => {
    const src = f32(6 * 50 * 40 * 9, 46), row = f32(257 + 3, 47);
    sameBitsAtEveryThreadCount(() => {
      const t = nan(src.length), b = nan(300 * 257 + 11);
      nb.stridedCopy(t, src, [6, 50, 40, 9], [18000, 9, 450, 1], [18000, 360, 9, 1], 0, 0);
      nb.stridedCopy(b, row, [300, 257], [257, 1], [0, 1], 11, 3);
      return { t, b: b.subarray(11) };
    }, ['t', 'b']);
  });
});
