// The fused attention of attention.h, written once against simd.h and compiled by attention_<isa>.cc.
//
// Forward (FlashAttention's scheme, on a CPU): a task owns a block of bq query rows of one (batch, head)
// and walks the key blocks of bk keys it can see. Per key block: S = Q·K_blockᵀ (bq×bk, in L1), the online
// softmax (running max m and sum l per row; the output accumulator is rescaled by e^(m_old − m_new) when
// the max grows, normalisation deferred to the end), then O += P·V_block. K is packed once per call into
// D×bk panels (keys contiguous), so both products are broadcast-FMA register tiles (tiles_simd.h) that
// stream their right operand from L1/L2. Extra memory: the packed K (the size of k) plus per-thread
// blocks. With fewer than kMinPackRows queries per head (decoding) packing would cost more than it saves,
// and the scores are dot products against K's rows instead.
// Causal and kv_lengths masks are per-row key limits: key blocks past a query block's largest limit are
// never touched, within a diagonal block each group of rows computes only the columns its last row sees,
// and each row's softmax stops at its own limit.
//
// Decoding (few query blocks in all, e.g. Lq = 1 with few heads): the keys are split into ranges whose
// partial (m, l, O) are merged afterwards, so that both cores work. How many ranges depends on the shape
// only, so results never depend on the thread count.
//
// Backward (FlashAttention-2's recomputation): a task owns a group of key blocks of one (batch, head); per
// key block it packs K and V panels, then for every query block that sees it recomputes P = exp(S − lse),
// and accumulates dV += Pᵀ dO and dK += dSᵀ Q in L1-resident blocks while adding dS·K into dQ. dQ rows are
// shared by all key blocks, so with one group per head the task owns them outright; with several groups
// (few heads) each group sums into its own copy and the copies are added in group order.
//
// bf16 (attention.h): q, k, v and dout are rounded into copies on entry (one pass each, against Lq or Lk
// reads of every element by the products), and P and dS as they are stored for their products. The
// products themselves are the float32 tiles: a product of two bf16 values is exact in float32, so they
// compute bf16 inputs with float32 sums; VDPBF16PS tiles are left for later (attention is ~10% of the
// reference model's training step).
#pragma once

#include <unistd.h>

#include <cmath>
#include <limits>
#include <memory>

#include "../simd.h"
#include "../threadpool.h"
#include "int_math.h"
#include "attention.h"
#include "tiles_simd.h"

#ifndef NF_ISA_NS
#error "define NF_ISA_NS (the ISA's namespace) before including attention_simd.h"
#endif

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Register tiles 4 vectors wide (64 keys or dims with AVX-512): as many rows as the accumulators allow.
constexpr int kRows = kAccRegs / 4 > 0 ? kAccRegs / 4 : 1;
constexpr int64_t kTileCols = 4 * kLanes;
// Fewer (batch·head·query-block) tasks than this and the keys are split (decode) or grouped (backward).
constexpr int64_t kMinTasks = 8;
// A key range worth a task of its own when splitting.
constexpr int64_t kMinSplitKeys = 256;
// Packing K costs about one pass over it; below this many queries per head the scores are computed as dot
// products straight from K's rows instead (decoding), which needs no packing.
constexpr int64_t kMinPackRows = 16;
// Below this many multiply-adds the whole call runs on the calling thread.
constexpr int64_t kMinParallelWork = int64_t(1) << 16;

int64_t cache_bytes(int name, int64_t fallback) {
#if defined(_SC_LEVEL1_DCACHE_SIZE)
  const long v = sysconf(name);
  if (v > 0) return v;
#endif
  (void)name;
  return fallback;
}

struct Blocks {
  int64_t bq, bk;
};

// bk: a K panel and a V block (2·bk·D floats) fill about 1.5× the L1 data cache, in whole 4-vector tiles
// (the overflow is served by L2; fewer, longer key blocks halve the per-row softmax bookkeeping: bk 128
// vs 64 at D = 64 measured +5% on Zen 5). bq: Q, O and the scores of a query block (bq·(2D + bk)
// floats) use about a quarter of L2.
Blocks blocks_for(int64_t d, int64_t lq) {
#if defined(_SC_LEVEL1_DCACHE_SIZE)
  static const int64_t l1 = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
  static const int64_t l2 = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 512 << 10);
#else
  static const int64_t l1 = 32 << 10, l2 = 512 << 10;
#endif
  const int64_t bk = min64(512, max64(kTileCols, 3 * l1 / (16 * d) / kTileCols * kTileCols));
  const int64_t bq = min64(128, max64(16, l2 / (16 * (2 * d + bk)) / 16 * 16));
  return {min64(bq, max64(lq, 1)), bk};
}

// Runs fn(i) for i < n on the pool, or on this thread when the call is too small to share.
template <class F>
void run_tasks(int64_t n, int64_t work, F&& fn) {
  parallel_for_if(work >= kMinParallelWork, n, fn);
}

// c[0:rows, 0:n] += Aᵀ · b[0:k, 0:n] where A is stored k × rows (lda), in groups of kRows rows: the
// backward's dV += Pᵀ dO and dK += dSᵀ Q.
void add_transposed_product(int64_t rows, const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb,
                            float* c, int64_t ldc, int64_t n) {
  for (int64_t r = 0; r < rows; r += kRows)
    axpy_dispatch<kRows, true>(int(min64(kRows, rows - r)), a + r, lda, k, b, ldb, c + r * ldc, ldc, true, 0, n);
}

// K (or V) rows [j0, j0 + n) of one head → a D×bk panel, keys contiguous, zero past n.
void pack_panel(const float* x, int64_t d, int64_t j0, int64_t n, int64_t bk, float* panel) {
  for (int64_t j = 0; j < n; ++j) {
    const float* src = x + (j0 + j) * d;
    for (int64_t t = 0; t < d; ++t) panel[t * bk + j] = src[t];
  }
  for (int64_t t = 0; t < d; ++t)
    for (int64_t j = n; j < bk; ++j) panel[t * bk + j] = 0.0f;
}

void scale_row(float* x, int64_t n, float s) {
  const V vs = vset1(s);
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) vstore(x + j, vmul(vload(x + j), vs));
  if (j < n) vstore_n(x + j, vmul(vload_n(x + j, int(n - j)), vs), int(n - j));
}

void zero_row(float* x, int64_t n) {
  for (int64_t j = 0; j < n; ++j) x[j] = 0.0f;
}

// x[0:n] rounded to bf16 into a new array, in chunks over the pool.
std::unique_ptr<float[]> rounded_copy(const float* x, int64_t n, int64_t work) {
  constexpr int64_t kChunk = int64_t(1) << 14;
  std::unique_ptr<float[]> out(new float[static_cast<size_t>(max64(n, 1))]);
  run_tasks(ceil_div(n, kChunk), work, [&](int64_t t) {
    const int64_t i1 = min64(n, (t + 1) * kChunk);
    int64_t i = t * kChunk;
    for (; i + kLanes <= i1; i += kLanes) vstore(out.get() + i, vbf16(vload(x + i)));
    if (i < i1) vstore_n(out.get() + i, vbf16(vload_n(x + i, int(i1 - i))), int(i1 - i));
  });
  return out;
}

// The copies of the inputs a bf16 call reads (owning them), and the call's arguments pointing at them.
struct Bf16Inputs {
  std::unique_ptr<float[]> q, k, v;
  AttentionArgs args;
};

Bf16Inputs round_inputs(const AttentionArgs& a, int64_t work) {
  const int64_t heads = a.batch * a.heads;
  Bf16Inputs r{rounded_copy(a.q, heads * a.lq * a.d, work), rounded_copy(a.k, heads * a.lk * a.d, work),
               rounded_copy(a.v, heads * a.lk * a.d, work), a};
  r.args.q = r.q.get(), r.args.k = r.k.get(), r.args.v = r.v.get();
  return r;
}

// P or dS as the products read them.
inline V stored(V x, bool bf16) { return bf16 ? vbf16(x) : x; }

// Lane i holds i: a vector of lane numbers, to mask the lanes of a row's last, partial vector.
alignas(64) constexpr float kLaneIndex[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// x[0:n] in the first n lanes and −inf above (n < kLanes).
inline V load_or_neg_inf(const float* x, int n) {
  return vselect_gt(vset1(float(n)), vload(kLaneIndex), vload_n(x, n), vset1(kNegInf));
}

// One row of a score block → probabilities, online: s[0:valid] are raw q·k scores, s[valid:width] masked.
// Updates the row's running max m and sum l (of the unrounded probabilities); returns the factor its
// output accumulator must be scaled by. With bf16 the stored probabilities are rounded.
float online_softmax_row(float* s, int64_t valid, int64_t width, float scale, bool bf16, float& m, float& l) {
  if (valid <= 0) {
    zero_row(s, width);
    return 1.0f;
  }
  const V vs = vset1(scale);
  V vmx = vset1(kNegInf);
  int64_t j = 0;
  for (; j + kLanes <= valid; j += kLanes) {
    const V x = vmul(vload(s + j), vs);
    vstore(s + j, x);
    vmx = vmax(vmx, x);
  }
  const int tail = int(valid - j);
  if (tail > 0) {
    const V x = vmul(vload_n(s + j, tail), vs);
    vstore_n(s + j, x, tail);
    vmx = vmax(vmx, vselect_gt(vset1(float(tail)), vload(kLaneIndex), x, vset1(kNegInf)));
  }
  const float mx = vhmax(vmx);
  const float m_new = mx > m ? mx : m;
  const V vm = vset1(m_new);
  V vsum_ = vzero();
  for (j = 0; j + kLanes <= valid; j += kLanes) {
    const V e = vexp(vsub(vload(s + j), vm));
    vstore(s + j, stored(e, bf16));
    vsum_ = vadd(vsum_, e);
  }
  if (tail > 0) {
    const V e = vexp(vsub(load_or_neg_inf(s + j, tail), vm));  // exp(−inf) = 0 in the masked lanes
    vstore_n(s + j, stored(e, bf16), tail);
    vsum_ = vadd(vsum_, e);
  }
  zero_row(s + valid, width - valid);
  const float alpha = m == m_new ? 1.0f : m == kNegInf ? 0.0f : std::exp(m - m_new);
  l = l * alpha + vsum(vsum_);
  m = m_new;
  return alpha;
}

// Keys [ks, ke) for query rows [i0, i0 + rows) of head bh: unnormalised o (rows×D), running m and l.
// kp: the head's packed K panels (panel p holds keys [p·bk, (p+1)·bk)), or null to read K's rows as they
// are; ks is a multiple of bk.
void attend(const AttentionArgs& a, int64_t bh, int64_t i0, int64_t rows, int64_t ks, int64_t ke, const float* kp,
            int64_t bk, float* s, float* o, float* m, float* l) {
  const int64_t d = a.d, b = bh / a.heads;
  const float* q = a.q + (bh * a.lq + i0) * d;
  const float* v = a.v + bh * a.lk * d;
  for (int64_t r = 0; r < rows; ++r) m[r] = kNegInf, l[r] = 0.0f;
  for (int64_t i = 0; i < rows * d; ++i) o[i] = 0.0f;
  ke = min64(ke, attention_limit(a, b, i0 + rows - 1));  // the last row sees the most keys
  for (int64_t j0 = ks; j0 < ke; j0 += bk) {
    const int64_t n = min64(bk, ke - j0);
    // The keys of this block that a group of g rows from r sees (its last row sees the most): in a causal
    // diagonal block the upper groups need fewer columns. What a row does not see, the softmax zeroes, so
    // trimming changes no result.
    const auto seen = [&](int64_t r, int64_t g) {
      return max64(0, min64(min64(attention_limit(a, b, i0 + r + g - 1), ke) - j0, n));
    };
    for (int64_t r = 0; r < rows; r += kRows) {
      const int64_t g = min64(kRows, rows - r), cols = seen(r, g);
      if (cols == 0) continue;
      if (kp) {
        axpy_dispatch<kRows>(int(g), q + r * d, d, d, kp + (j0 / bk) * d * bk, bk, s + r * bk, bk, false, 0, cols);
      } else {
        for (int64_t rr = r; rr < r + g; rr += kDotRows)
          dot_dispatch(int(min64(kDotRows, r + g - rr)), q + rr * d, d, d, a.k + (bh * a.lk + j0) * d, d,
                       s + rr * bk, bk, false, 0, cols);
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t valid = min64(min64(attention_limit(a, b, i0 + r), ke) - j0, n);
      const float alpha = online_softmax_row(s + r * bk, valid, n, a.scale, a.bf16, m[r], l[r]);
      if (alpha != 1.0f) scale_row(o + r * d, d, alpha);
    }
    for (int64_t r = 0; r < rows; r += kRows) {
      const int64_t g = min64(kRows, rows - r), cols = seen(r, g);
      if (cols > 0) axpy_dispatch<kRows>(int(g), s + r * bk, bk, cols, v + j0 * d, d, o + r * d, d, true, 0, d);
    }
  }
}

// out = o / l and lse = m + log l per row; rows that saw no key give 0 and −inf.
void finish(const float* o, const float* m, const float* l, int64_t rows, int64_t d, float* out, float* lse) {
  for (int64_t r = 0; r < rows; ++r) {
    if (l[r] > 0.0f) {
      const float inv = 1.0f / l[r];
      for (int64_t t = 0; t < d; ++t) out[r * d + t] = o[r * d + t] * inv;
      lse[r] = m[r] + std::log(l[r]);
    } else {
      zero_row(out + r * d, d);
      lse[r] = kNegInf;
    }
  }
}

}  // namespace

void attention_forward(const AttentionArgs& args, float* out, float* lse) {
  const int64_t heads = args.batch * args.heads, d = args.d;
  if (heads == 0 || args.lq == 0) return;
  const int64_t work = heads * args.lq * args.lk * d;
  const Bf16Inputs rounded = args.bf16 ? round_inputs(args, work) : Bf16Inputs{};
  const AttentionArgs& a = args.bf16 ? rounded.args : args;
  const Blocks bl = blocks_for(d, a.lq);
  const int64_t bq = bl.bq, bk = bl.bk;
  const int64_t nqb = ceil_div(a.lq, bq), nkb = ceil_div(a.lk, bk);

  const bool pack = a.lq >= kMinPackRows;
  const int64_t head_panels = pack ? nkb * d * bk : 0;
  std::unique_ptr<float[]> kp(pack ? new float[static_cast<size_t>(max64(1, heads * head_panels))] : nullptr);
  if (pack) {
    run_tasks(heads * nkb, work, [&](int64_t t) {
      const int64_t bh = t / nkb, j0 = (t % nkb) * bk;
      pack_panel(a.k + bh * a.lk * d, d, j0, min64(bk, a.lk - j0), bk, kp.get() + bh * head_panels + j0 * d);
    });
  }
  const auto panels = [&](int64_t bh) { return pack ? kp.get() + bh * head_panels : nullptr; };

  // Key ranges per query block: one, or for decoding enough to give every core work.
  const int64_t tasks = heads * nqb;
  const int64_t splits =
      tasks >= kMinTasks ? 1 : max64(1, min64(ceil_div(kMinTasks, tasks), a.lk / kMinSplitKeys));
  const int64_t split_keys = ceil_div(nkb, splits) * bk;

  if (splits == 1) {
    run_tasks(tasks, work, [&](int64_t t) {
      const int64_t bh = t / nqb, i0 = (t % nqb) * bq, rows = min64(bq, a.lq - i0);
      float* s = scratch(0, static_cast<size_t>(bq * bk));
      float* o = scratch(1, static_cast<size_t>(bq * d));
      float* ml = scratch(2, static_cast<size_t>(2 * bq));
      attend(a, bh, i0, rows, 0, a.lk, panels(bh), bk, s, o, ml, ml + bq);
      finish(o, ml, ml + bq, rows, d, out + (bh * a.lq + i0) * d, lse + bh * a.lq + i0);
    });
    return;
  }

  // Split keys: partial (o, m, l) per (task, range), then merged per row in range order.
  const int64_t part = bq * (d + 2);
  std::unique_ptr<float[]> parts(new float[static_cast<size_t>(tasks * splits * part)]);
  run_tasks(tasks * splits, work, [&](int64_t t) {
    const int64_t task = t / splits, sp = t % splits;
    const int64_t bh = task / nqb, i0 = (task % nqb) * bq, rows = min64(bq, a.lq - i0);
    float* p = parts.get() + t * part;
    float* s = scratch(0, static_cast<size_t>(bq * bk));
    attend(a, bh, i0, rows, sp * split_keys, min64(a.lk, (sp + 1) * split_keys), panels(bh), bk, s,
           p + 2 * bq, p, p + bq);
  });
  run_tasks(tasks, work, [&](int64_t task) {
    const int64_t bh = task / nqb, i0 = (task % nqb) * bq, rows = min64(bq, a.lq - i0);
    float* o = scratch(1, static_cast<size_t>(bq * d));
    float* ml = scratch(2, static_cast<size_t>(2 * bq));
    for (int64_t r = 0; r < rows; ++r) {
      float mx = kNegInf;
      for (int64_t sp = 0; sp < splits; ++sp) mx = fmaxf(mx, parts[(task * splits + sp) * part + r]);
      float l = 0.0f;
      zero_row(o + r * d, d);
      if (mx != kNegInf) {
        for (int64_t sp = 0; sp < splits; ++sp) {
          const float* p = parts.get() + (task * splits + sp) * part;
          if (p[r] == kNegInf) continue;
          const float w = std::exp(p[r] - mx);
          l += p[bq + r] * w;
          const float* po = p + 2 * bq + r * d;
          for (int64_t t = 0; t < d; ++t) o[r * d + t] += po[t] * w;
        }
      }
      ml[r] = mx;
      ml[bq + r] = l;
    }
    finish(o, ml, ml + bq, rows, d, out + (bh * a.lq + i0) * d, lse + bh * a.lq + i0);
  });
}

void attention_backward(const AttentionArgs& args, const float* out, const float* dout, const float* lse, float* dq,
                        float* dk, float* dv) {
  const int64_t heads = args.batch * args.heads, d = args.d, lq = args.lq, lk = args.lk;
  if (heads == 0) return;
  const int64_t work = heads * lq * lk * d;
  const Bf16Inputs rounded = args.bf16 ? round_inputs(args, work) : Bf16Inputs{};
  const AttentionArgs& a = args.bf16 ? rounded.args : args;
  // The products read dout rounded; D = Σ dout∘out is not a product and reads it as it is.
  const std::unique_ptr<float[]> dout_bf16 = a.bf16 ? rounded_copy(dout, heads * lq * d, work) : nullptr;
  const float* dout_in = a.bf16 ? dout_bf16.get() : dout;
  const Blocks bl = blocks_for(d, lq);
  const int64_t bq = bl.bq, bk = bl.bk;
  const int64_t nkb = ceil_div(lk, bk);
  // Key-block groups per head: one (the task owns dq outright) unless there are too few heads.
  const int64_t groups = heads >= kMinTasks || nkb == 0 ? 1 : min64(nkb, ceil_div(kMinTasks, heads));
  const int64_t group_blocks = nkb == 0 ? 0 : ceil_div(nkb, groups);
  std::unique_ptr<float[]> dq_parts(groups > 1 ? new float[static_cast<size_t>(heads * groups * lq * d)] : nullptr);

  run_tasks(heads * groups, work, [&](int64_t t) {
    const int64_t bh = t / groups, g = t % groups, b = bh / a.heads;
    const float *q = a.q + bh * lq * d, *k = a.k + bh * lk * d, *v = a.v + bh * lk * d;
    const float *o = out + bh * lq * d, *go = dout_in + bh * lq * d, *go32 = dout + bh * lq * d;
    const float* row_lse = lse + bh * lq;
    float* gq = groups > 1 ? dq_parts.get() + t * lq * d : dq + bh * lq * d;
    float* panels = scratch(0, static_cast<size_t>(2 * d * bk));
    float* acc = scratch(1, static_cast<size_t>(2 * bk * d));
    float* blk = scratch(2, static_cast<size_t>(2 * bq * bk));
    float* delta = scratch(3, static_cast<size_t>(max64(lq, 1)));
    float *kpan = panels, *vpan = panels + d * bk, *gk = acc, *gv = acc + bk * d, *p = blk, *ds = blk + bq * bk;
    for (int64_t i = 0; i < lq * d; ++i) gq[i] = 0.0f;
    // delta_i = Σ_d dout∘out = Σ_j P∘dP, the softmax backward's row term.
    for (int64_t i = 0; i < lq; ++i) {
      V acc_v = vzero();
      int64_t t2 = 0;
      for (; t2 + kLanes <= d; t2 += kLanes) acc_v = vfma(vload(go32 + i * d + t2), vload(o + i * d + t2), acc_v);
      if (t2 < d) acc_v = vfma(vload_n(go32 + i * d + t2, int(d - t2)), vload_n(o + i * d + t2, int(d - t2)), acc_v);
      delta[i] = vsum(acc_v);
    }
    const int64_t off = lk - lq;
    const int64_t kb_end = min64(nkb, (g + 1) * group_blocks);
    for (int64_t kb = g * group_blocks; kb < kb_end; ++kb) {
      const int64_t j0 = kb * bk, n = min64(bk, lk - j0);
      pack_panel(k, d, j0, n, bk, kpan);
      pack_panel(v, d, j0, n, bk, vpan);
      for (int64_t i = 0; i < 2 * bk * d; ++i) acc[i] = 0.0f;
      // The first query row that sees key j0 (causal); rows before it see none of this block.
      const int64_t first = a.causal ? max64(0, j0 - off) : 0;
      for (int64_t i0 = first / bq * bq; i0 < lq; i0 += bq) {
        const int64_t rows = min64(bq, lq - i0);
        if (attention_limit(a, b, i0 + rows - 1) <= j0) continue;  // kv_lengths: no row of the block sees it
        // Causal: rows before r0 see none of this block, and a group of rows needs only the columns its
        // last row sees (what a row does not see is zeroed below, so trimming changes no result).
        const int64_t r0 = a.causal ? min64(rows, max64(0, j0 - off - i0)) : 0;
        const auto seen = [&](int64_t r, int64_t g) {
          return max64(0, min64(attention_limit(a, b, i0 + r + g - 1) - j0, n));
        };
        for (int64_t r = r0; r < rows; r += kRows) {
          const int64_t g = min64(kRows, rows - r), cols = seen(r, g);
          if (cols == 0) continue;
          axpy_dispatch<kRows>(int(g), q + (i0 + r) * d, d, d, kpan, bk, p + r * bk, bk, false, 0, cols);
          axpy_dispatch<kRows>(int(g), go + (i0 + r) * d, d, d, vpan, bk, ds + r * bk, bk, false, 0, cols);
        }
        for (int64_t r = r0; r < rows; ++r) {
          const int64_t valid = min64(attention_limit(a, b, i0 + r) - j0, n);
          float *pr = p + r * bk, *dr = ds + r * bk;
          if (valid <= 0) {
            zero_row(pr, n);
            zero_row(dr, n);
            continue;
          }
          // P = exp(scale·s − lse); dS = scale · P ∘ (dP − delta).
          const V vs = vset1(a.scale), vl = vset1(row_lse[i0 + r]), vdl = vset1(delta[i0 + r]);
          int64_t j = 0;
          for (; j + kLanes <= valid; j += kLanes) {
            const V pj = vexp(vsub(vmul(vload(pr + j), vs), vl));
            vstore(dr + j, stored(vmul(vmul(pj, vsub(vload(dr + j), vdl)), vs), a.bf16));
            vstore(pr + j, stored(pj, a.bf16));
          }
          if (j < valid) {  // the partial last vector: only its first lanes are stored
            const int t = int(valid - j);
            const V pj = vexp(vsub(vmul(vload_n(pr + j, t), vs), vl));
            vstore_n(dr + j, stored(vmul(vmul(pj, vsub(vload_n(dr + j, t), vdl)), vs), a.bf16), t);
            vstore_n(pr + j, stored(pj, a.bf16), t);
          }
          zero_row(pr + valid, n - valid);
          zero_row(dr + valid, n - valid);
        }
        const int64_t live = rows - r0;
        add_transposed_product(n, p + r0 * bk, bk, live, go + (i0 + r0) * d, d, gv, d, d);  // dV += Pᵀ dO
        add_transposed_product(n, ds + r0 * bk, bk, live, q + (i0 + r0) * d, d, gk, d, d);  // dK += dSᵀ Q
        for (int64_t r = r0; r < rows; r += kRows) {  // dQ += dS K
          const int64_t g = min64(kRows, rows - r), cols = seen(r, g);
          if (cols > 0) axpy_dispatch<kRows>(int(g), ds + r * bk, bk, cols, k + j0 * d, d, gq + (i0 + r) * d, d, true, 0, d);
        }
      }
      for (int64_t i = 0; i < n * d; ++i) {
        dk[(bh * lk + j0) * d + i] = gk[i];
        dv[(bh * lk + j0) * d + i] = gv[i];
      }
    }
  });

  if (groups > 1) {
    run_tasks(heads, work, [&](int64_t bh) {
      float* gq = dq + bh * lq * d;
      const float* parts = dq_parts.get() + bh * groups * lq * d;
      for (int64_t i = 0; i < lq * d; ++i) {
        float s = parts[i];
        for (int64_t g = 1; g < groups; ++g) s += parts[g * lq * d + i];
        gq[i] = s;
      }
    });
  }
}

}  // namespace nf::cpu::NF_ISA_NS
