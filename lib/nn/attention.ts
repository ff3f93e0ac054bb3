/**
 * Multi-head attention (§3.2.2 of the paper): MultiHead(Q, K, V) = Concat(head₁…head_h)·W_O with
 * head_i = Attention(Q·W_Qi, K·W_Ki, V·W_Vi), in the three uses of the Transformer:
 * - self-attention (`memory` null): one GEMM projects x to [Q | K | V] at once;
 * - masked self-attention: the same with `causal`;
 * - cross-attention: Q from x, K and V from the encoder's memory (one GEMM for [K | V]).
 * Parameters use PyTorch's nn.MultiheadAttention layout: `inProjWeight` [3·d, d] (rows W_Q, W_K, W_V),
 * `inProjBias` [3·d], `outProj` (Linear d → d).
 *
 * All heads of all batch entries go through one fused attention call. The heads are cut out of the
 * projection's columns by one strided copy each (Q, K, V: [B, L, d] columns → [B, H, L, d/H]), or seen
 * in place when the layout allows (one position per sequence), and the result goes back into [B, L, d]
 * the same way; padded keys are masked by `kvLengths`.
 * Attention-weight dropout (which nn.MultiheadAttention applies to the probabilities) is not applied:
 * the fused kernel never forms the probabilities.
 */
import { noGrad, record } from '../autograd/tape.js';
import { type AttentionOptions, attentionBackward, attentionForward } from '../ops/attention.js';
import { linear } from '../ops/linear.js';
import { sliceRows } from '../ops/shape.js';
import { mergeHeads, splitHeads } from '../ops/strided_copy.js';
import { zeros } from '../tensor/create.js';
import type { Rng } from '../tensor/random.js';
import { allocate, allocateOutput, assign, data, Tensor } from '../tensor/tensor.js';
import { xavierUniform } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

export interface AttentionMasks {
  /** Mask future keys (decoder self-attention). */
  causal?: boolean;
  /** Real keys per batch entry; the rest are padding. */
  kvLengths?: Int32Array;
}

/** Where one of Q, K, V lives: columns [column, column + d) of a [B, L, C] projection. */
interface Source {
  t: Tensor;
  column: number;
}

/**
 * One of Q, K, V as [B, H, L, dₕ]. With one position per sequence (decoding) and either one sequence or a
 * source exactly H·dₕ wide, [B, 1, H·dₕ] and [B, H, 1, dₕ] are the same memory: a view, no copy.
 */
function toHeads(s: Source, heads: number, headDim: number): Tensor {
  const [batch, length, width] = s.t.shape as [number, number, number];
  const size = heads * headDim;
  if (length === 1 && (batch === 1 || width === size)) {
    const d = data(s.t, 'projection', 'float32');
    return new Tensor(d.subarray(s.column, s.column + batch * width - (width - size)), Object.freeze([batch, heads, 1, headDim]));
  }
  return splitHeads(s.t, s.column, heads, headDim);
}

/** [B, H, L, dₕ] back to [B, L, H·dₕ]: a view for one position, else a strided copy. */
function fromHeads(t: Tensor): Tensor {
  const [batch, heads, length, headDim] = t.shape as [number, number, number, number];
  const shape = Object.freeze([batch, length, heads * headDim]);
  if (length === 1) return new Tensor(data(t, 'heads', 'float32'), shape);
  const out = new Tensor(allocateOutput(t.size, shape, t.device), shape);
  mergeHeads(out, 0, t);
  return out;
}

/**
 * softmax(QKᵀ/√dₕ)V over `heads` heads, reading Q, K, V from column ranges of projections and returning
 * [B, Lq, heads·dₕ]; one autograd node whose backward writes the three gradients into the columns they
 * came from.
 */
function headsAttention(q: Source, k: Source, v: Source, heads: number, headDim: number, masks: AttentionMasks): Tensor {
  const [qh, kh, vh] = [q, k, v].map((s) => toHeads(s, heads, headDim)) as [Tensor, Tensor, Tensor];
  const opts: AttentionOptions = { causal: masks.causal ?? false, ...(masks.kvLengths && { kvLengths: masks.kvLengths.slice() }) };
  const saved = noGrad(() => attentionForward(qh, kh, vh, opts));
  const out = fromHeads(saved.out);
  const inputs = [...new Set([q.t, k.t, v.t])];
  return record(out, inputs, (g) => {
    const { dq, dk, dv } = attentionBackward(qh, kh, vh, saved, toHeads({ t: g, column: 0 }, heads, headDim), opts);
    const grads = new Map<Tensor, Tensor>();
    for (const [s, d] of [[q, dq], [k, dk], [v, dv]] as const) {
      if (!s.t.requiresGrad) continue;
      let gt = grads.get(s.t);
      if (gt === undefined) {
        gt = new Tensor(allocate('float32', s.t.size, s.t.shape, s.t.device), s.t.shape);
        grads.set(s.t, gt);
      }
      mergeHeads(gt, s.column, d);
    }
    return inputs.map((t) => grads.get(t) ?? null);
  }, 'multiHeadAttention');
}

export class MultiHeadAttention extends Module {
  readonly headDim: number;
  readonly inProjWeight: Tensor;
  readonly inProjBias: Tensor;
  readonly outProj: Linear;

  constructor(readonly dModel: number, readonly heads: number, rng: Rng) {
    super();
    this.headDim = dModel / heads;
    this.inProjWeight = this.registerParameter('inProjWeight', zeros([3 * dModel, dModel]));
    this.inProjBias = this.registerParameter('inProjBias', zeros([3 * dModel]));
    this.outProj = this.registerModule('outProj', new Linear(dModel, dModel, { rng }));
    // nn.MultiheadAttention's own init: Xavier for the packed projection, zero biases.
    xavierUniform(this.inProjWeight, rng);
    assign(this.outProj.bias, new Float32Array(dModel));
  }

  /** x [B, Lq, d] attends to itself (`memory` null) or to memory [B, Lk, d]; returns [B, Lq, d]. */
  forward(x: Tensor, memory: Tensor | null, masks: AttentionMasks = {}): Tensor {
    const d = this.dModel;
    let ctx: Tensor;
    if (memory === null) {
      const qkv = linear(x, this.inProjWeight, this.inProjBias);
      ctx = headsAttention({ t: qkv, column: 0 }, { t: qkv, column: d }, { t: qkv, column: 2 * d }, this.heads, this.headDim, masks);
    } else {
      const wq = sliceRows(this.inProjWeight, 0, d), bq = sliceRows(this.inProjBias, 0, d);
      const wkv = sliceRows(this.inProjWeight, d, 2 * d), bkv = sliceRows(this.inProjBias, d, 2 * d);
      const qp = linear(x, wq, bq);
      const kv = linear(memory, wkv, bkv);
      ctx = headsAttention({ t: qp, column: 0 }, { t: kv, column: 0 }, { t: kv, column: d }, this.heads, this.headDim, masks);
    }
    return this.outProj.forward(ctx);
  }
}
