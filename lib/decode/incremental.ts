/**
 * Incremental decoding: the Transformer's decoder run one position at a time with a key/value cache, so
 * step t costs one token's worth of GEMMs plus attention over t cached positions, not a re-run of the
 * whole prefix.
 *
 * Layout (R rows = S sources × K hypotheses each, in source order):
 * - self-attention cache per layer: K and V [R, H, capacity, dₕ]; step t writes position t with one
 *   strided copy each, and the fused attention reads positions [0, t] through kvLengths (it skips the
 *   key blocks past them), so nothing is re-packed as the cache fills;
 * - cross-attention K and V per layer: [S, H, Ls, dₕ], projected from the encoder's memory once per
 *   source and shared by its K hypotheses: their K queries are one attention call's Lq.
 * `select(rows)` keeps the given rows (beam reordering, and finished sources leaving the batch) with
 * one native gather per cache tensor: the embedding kernel, reading each row as one long vector.
 *
 * Each step applies the layers' own modules (the residual connections, LayerNorms, feed-forward, the
 * generator), so only the attention differs from {@link Transformer.forward}; the model must be in eval
 * mode (no dropout) and the caller inside noGrad.
 */
import { attentionForward } from '../ops/attention.js';
import { embedding } from '../ops/embedding.js';
import { linear } from '../ops/linear.js';
import { sliceRows } from '../ops/shape.js';
import { softmax } from '../ops/softmax.js';
import { mergeHeads, splitHeads, stridedCopy } from '../ops/strided_copy.js';
import type { Device } from '../backend.js';
import type { DecoderLayer } from '../nn/decoder.js';
import type { Transformer } from '../nn/transformer.js';
import { allocate, allocateOutput, cpuData, onDevice, Tensor } from '../tensor/tensor.js';

/** A step's output on the host: logits [R, V] and each row's log-sum-exp. */
export interface StepOutput {
  logits: Float32Array;
  lse: Float64Array;
}

interface LayerCache {
  layer: DecoderLayer;
  selfK: Tensor;
  selfV: Tensor;
  crossK: Tensor;
  crossV: Tensor;
  // The cross-attention's query projection, cut once from the packed [3·d, d] weights.
  wq: Tensor;
  bq: Tensor;
}

export class IncrementalDecoder {
  readonly #model: Transformer;
  readonly #layers: LayerCache[];
  readonly #device: Device;
  readonly #heads: number;
  readonly #headDim: number;
  readonly #capacity: number;
  #rows: number;
  #perSource: number;
  #srcLengths: Int32Array;

  /**
   * Encodes the padded sources and prepares caches for `perSource` rows each, up to `capacity`
   * positions (the longest maxLength of the batch).
   */
  constructor(model: Transformer, srcIds: Tensor, srcLengths: Int32Array, perSource: number, capacity: number) {
    this.#model = model;
    const { dModel: d, heads } = model.config;
    this.#device = model.device;
    this.#heads = heads;
    this.#headDim = d / heads;
    this.#capacity = capacity;
    this.#perSource = perSource;
    this.#srcLengths = srcLengths.slice();
    const sources = srcLengths.length;
    this.#rows = sources * perSource;
    const memory = model.encodeIds(srcIds, srcLengths);
    const cacheShape = Object.freeze([this.#rows, heads, capacity, this.#headDim]);
    const cache = () => new Tensor(allocate('float32', this.#rows * d * capacity, cacheShape, this.#device), cacheShape);
    this.#layers = model.decoder.layers.items.map((layer) => {
      const w = layer.crossAttn.inProjWeight, b = layer.crossAttn.inProjBias;
      const kv = linear(memory, sliceRows(w, d, 2 * d), sliceRows(b, d, 2 * d));
      return {
        layer, selfK: cache(), selfV: cache(),
        crossK: splitHeads(kv, 0, heads, this.#headDim), crossV: splitHeads(kv, d, heads, this.#headDim),
        wq: sliceRows(w, 0, d), bq: sliceRows(b, 0, d),
      };
    });
  }

  get rows(): number {
    return this.#rows;
  }

  /**
   * Feeds `ids` [R] at position `t` (every row is at the same position) and returns the generator's
   * logits for the next token with their log-sum-exp.
   */
  step(ids: Int32Array, t: number): StepOutput {
    const model = this.#model;
    const r = this.#rows;
    const idTensor = new Tensor(onDevice(ids, this.#device), Object.freeze([r, 1]));
    let x = model.positionalEncoding.forward(model.tgtEmbedding.forward(idTensor), t);
    for (const c of this.#layers) {
      x = c.layer.norm1.connect(x, (y) => this.#selfAttention(c, y, t));
      x = c.layer.norm2.connect(x, (y) => this.#crossAttention(c, y));
      x = c.layer.norm3.connect(x, (y) => c.layer.ffn.forward(y));
    }
    const logits = model.generator.forward(model.decoder.norm.forward(x)).reshape([r, -1]);
    return { logits: host(logits), lse: logSumExp(host(logits), host(softmax(logits)), r) };
  }

  /** Keeps rows `keep` (indices into the current rows, any order, repeats allowed) of `perSource` per source. */
  select(keep: Int32Array, sources: Int32Array): void {
    this.#rows = keep.length;
    const keepT = new Tensor(onDevice(keep, this.#device), Object.freeze([keep.length]));
    const srcT = sources.length === this.#srcLengths.length && sources.every((s, i) => s === i)
      ? null
      : new Tensor(onDevice(sources, this.#device), Object.freeze([sources.length]));
    for (const c of this.#layers) {
      c.selfK = gatherRows(c.selfK, keepT);
      c.selfV = gatherRows(c.selfV, keepT);
      if (srcT !== null) {
        c.crossK = gatherRows(c.crossK, srcT);
        c.crossV = gatherRows(c.crossV, srcT);
      }
    }
    if (srcT !== null) this.#srcLengths = Int32Array.from(sources, (s) => this.#srcLengths[s]!);
  }

  #selfAttention(c: LayerCache, y: Tensor, t: number): Tensor {
    const attn = c.layer.selfAttn;
    const d = attn.dModel, h = this.#heads, dh = this.#headDim, cap = this.#capacity, r = this.#rows;
    const qkv = linear(y, attn.inProjWeight, attn.inProjBias); // [R, 1, 3d]
    // K and V of position t into the caches' slot t: [R, H, dₕ] from the projection's columns.
    const layout = { shape: [r, h, dh], dstStrides: [h * cap * dh, cap * dh, 1], srcStrides: [3 * d, dh, 1], dstOffset: t * dh };
    stridedCopy(c.selfK, qkv, { ...layout, srcOffset: d });
    stridedCopy(c.selfV, qkv, { ...layout, srcOffset: 2 * d });
    const q = splitHeads(qkv, 0, h, dh); // [R, H, 1, dₕ]
    const seen = new Int32Array(r).fill(t + 1);
    const { out } = attentionForward(q, c.selfK, c.selfV, { kvLengths: seen });
    return attn.outProj.forward(out.reshape([r, 1, d])); // [R, H, 1, dₕ] is [R, 1, H·dₕ] in memory
  }

  #crossAttention(c: LayerCache, y: Tensor): Tensor {
    const attn = c.layer.crossAttn;
    const d = attn.dModel, k = this.#perSource, s = this.#rows / k;
    const q = linear(y, c.wq, c.bq).reshape([s, k, d]);
    const { out } = attentionForward(splitHeads(q, 0, this.#heads, this.#headDim), c.crossK, c.crossV, { kvLengths: this.#srcLengths });
    const shape = Object.freeze([s, k, d]);
    const ctx = new Tensor(allocateOutput(s * k * d, shape, this.#device), shape);
    mergeHeads(ctx, 0, out); // [S, H, K, dₕ] → [S, K, d]
    return attn.outProj.forward(ctx.reshape([s * k, 1, d]));
  }
}

/** Rows `index` of t (each of its first-dim slices as one vector). */
function gatherRows(t: Tensor, index: Tensor): Tensor {
  const [rows, ...rest] = t.shape as [number, ...number[]];
  const width = t.size / rows;
  return embedding(t.reshape([rows, width]), index).reshape([index.size, ...rest]);
}

/** The host elements of a float32 tensor: its own storage on the CPU, a download from the GPU. */
function host(t: Tensor): Float32Array {
  return t.device === 'cpu' ? cpuData(t, 'tensor', 'float32') : t.toFloat32Array();
}

/**
 * Each row's log Σ exp(x) from the row and its softmax p: at the row's largest entry m, p = 1/Σ exp(x − m),
 * so lse = m − log p(m), exact to float32's rounding of p (no second pass of exponentials over the row).
 */
function logSumExp(logits: Float32Array, probs: Float32Array, rows: number): Float64Array {
  const v = logits.length / rows;
  const lse = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = r * v;
    for (let j = best + 1, end = (r + 1) * v; j < end; j++) if (logits[j]! > logits[best]!) best = j;
    lse[r] = logits[best]! - Math.log(probs[best]!);
  }
  return lse;
}
