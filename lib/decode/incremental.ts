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
 * `select(rows, sources)` keeps the given rows (beam reordering, and finished sources leaving the batch)
 * with one native gather per cache tensor (the embedding kernel, reading each row as one long vector),
 * into a second set of caches that then swaps with the first.
 *
 * A step is the decoder layer's arithmetic (lib/nn/decoder.ts, sublayer.ts, attention.ts, in eval mode)
 * written straight against the native kernels into buffers allocated once per decode: a decode step is
 * dozens of small kernels, and the autograd-ready ops around them (checks, saved state, fresh outputs)
 * would cost more than the arithmetic of a small model. The kernels take host or GPU storage alike, so
 * this runs on either device. The tests hold it to the model's full forward.
 */
import type { Device } from '../backend.js';
import { linear } from '../ops/linear.js';
import { sliceRows } from '../ops/shape.js';
import { splitHeads } from '../ops/strided_copy.js';
import { native } from '../native/binding.js';
import { weightPacker } from './packed.js';
import type { DecoderLayer } from '../nn/decoder.js';
import type { LayerNorm } from '../nn/layer_norm.js';
import type { Transformer } from '../nn/transformer.js';
import { DeviceArray, download } from '../tensor/device_array.js';
import { allocate, data, type F32, type I32, onDevice, Tensor, writeAt } from '../tensor/tensor.js';

/** A step's output on the host: logits [R, V] and each row's log-sum-exp (the cross-entropy kernel's). */
export interface StepOutput {
  logits: Float32Array;
  lse: Float64Array;
}

interface Norm {
  gamma: F32;
  beta: F32;
  eps: number;
}

/** y = x·Wᵀ (+ b) for W [n, k]: the weight as stored, and packed for the CPU (null on the GPU). */
interface Projection {
  w: F32;
  b: F32 | null;
  packed: Float32Array | null;
  n: number;
  k: number;
}

/** One decoder layer's weights as kernel operands, and its caches. */
interface Layer {
  self: Projection; selfOut: Projection; crossQ: Projection; crossOut: Projection;
  ffn1: Projection; ffn1B: F32; ffn2: Projection;
  norm1: Norm; norm2: Norm; norm3: Norm;
  selfK: F32; selfV: F32;
  crossK: F32; crossV: F32;
  /** The caches' first R rows (what a step reads), set by resize(). */
  selfKRows: F32; selfVRows: F32;
}

type Scratch = 'x' | 'y' | 'h' | 'sum' | 'qkv' | 'q' | 'ctx' | 'ctxHeads' | 'ffn' | 'act' | 'logits' | 'rowLse' | 'mean' | 'rstd' | 'lse';

const norm = (n: LayerNorm): Norm => ({ gamma: data(n.weight, 'weight', 'float32'), beta: data(n.bias, 'bias', 'float32'), eps: n.eps });
const weight = (t: Tensor) => data(t, 'weight', 'float32');

export class IncrementalDecoder {
  readonly #model: Transformer;
  readonly #device: Device;
  readonly #layers: Layer[];
  readonly #final: Norm;
  readonly #generator: Projection;
  readonly #d: number;
  readonly #heads: number;
  readonly #headDim: number;
  readonly #ffn: number;
  readonly #vocab: number;
  readonly #capacity: number;
  readonly #activation: 'relu' | 'gelu';
  readonly #normFirst: boolean;
  readonly #perSource: number;
  readonly #srcLength: number;
  // Scratch for up to the first step's rows (rows only fall), and views of its first `rows` rows (`proj`:
  // the first R·d of `qkv`, where each sublayer's output projection goes); remade when rows change.
  readonly #ws: Record<Scratch, F32>;
  #v!: Record<Scratch | 'proj', F32> & { targets: I32; seen: Int32Array };
  // Class 0 for every row: the cross-entropy kernel's log-sum-exp is what a step needs, not its loss.
  readonly #targets: I32;
  // The self-attention caches' second set, gathered into by select() and then swapped in.
  readonly #spare: Array<{ selfK: F32; selfV: F32 }>;
  // Every tensor this decoder made, freed by dispose(): on the GPU a decode's buffers go back to the cache at once.
  readonly #owned = new Set<Tensor>();
  #rows: number;
  #srcLengths: Int32Array;

  /**
   * Encodes the padded sources and prepares caches for `perSource` rows each, up to `capacity`
   * positions (the longest maxLength of the batch). `generation`: the weights' write generation as the
   * thread that changes them sees it (packed weights older than that are rebuilt).
   */
  constructor(model: Transformer, srcIds: Tensor, srcLengths: Int32Array, perSource: number, capacity: number, generation: number) {
    const c = model.config;
    const d = c.dModel, heads = c.heads, dh = d / heads;
    this.#model = model;
    this.#device = model.device;
    this.#d = d;
    this.#heads = heads;
    this.#headDim = dh;
    this.#ffn = c.ffnDim;
    this.#vocab = c.tgtVocabSize;
    this.#capacity = capacity;
    this.#activation = c.activation;
    this.#normFirst = c.normFirst;
    this.#perSource = perSource;
    this.#srcLengths = srcLengths.slice();
    const sources = srcLengths.length;
    const rows = (this.#rows = sources * perSource);
    const memory = model.encodeIds(srcIds, srcLengths);
    this.#srcLength = memory.shape[1]!;
    const alloc = (n: number) => this.#alloc(n);
    const cache = () => ({ selfK: alloc(rows * d * capacity), selfV: alloc(rows * d * capacity) });
    const pack = this.#device === 'cpu' ? weightPacker(model, generation) : null;
    // Rows [from, from + n) of weight w [·, k] (and of its bias) as a projection.
    const projection = (name: string, w: Tensor, b: Tensor | null, k: number, from = 0, n = w.shape[0]! - from): Projection => ({
      w: weight(w).subarray(from * k, (from + n) * k), b: b === null ? null : weight(b).subarray(from, from + n),
      packed: pack === null ? null : pack(name, w, from, n, k), n, k,
    });
    this.#layers = model.decoder.layers.items.map((layer: DecoderLayer, i) => {
      const self = layer.selfAttn, cross = layer.crossAttn, ffn = layer.ffn, at = `decoder.${i}.`;
      const kv = linear(memory, sliceRows(cross.inProjWeight, d, 2 * d), sliceRows(cross.inProjBias, d, 2 * d));
      const [crossK, crossV] = [splitHeads(kv, 0, heads, dh), splitHeads(kv, d, heads, dh)];
      kv.dispose();
      this.#own(crossK);
      this.#own(crossV);
      return {
        self: projection(`${at}self`, self.inProjWeight, self.inProjBias, d),
        selfOut: projection(`${at}selfOut`, self.outProj.weight, self.outProj.bias, d),
        crossQ: projection(`${at}crossQ`, cross.inProjWeight, cross.inProjBias, d, 0, d),
        crossOut: projection(`${at}crossOut`, cross.outProj.weight, cross.outProj.bias, d),
        ffn1: projection(`${at}ffn1`, ffn.linear1.weight, null, d), ffn1B: weight(ffn.linear1.bias),
        ffn2: projection(`${at}ffn2`, ffn.linear2.weight, ffn.linear2.bias, c.ffnDim),
        norm1: norm(layer.norm1), norm2: norm(layer.norm2), norm3: norm(layer.norm3),
        ...cache(),
        crossK: weight(crossK), crossV: weight(crossV),
        selfKRows: alloc(0), selfVRows: alloc(0),
      };
    });
    memory.dispose();
    this.#spare = this.#layers.map(cache);
    this.#final = norm(model.decoder.norm);
    this.#generator = projection('generator', model.generator.weight, model.generator.bias, d);
    const f = c.ffnDim, v = c.tgtVocabSize;
    this.#ws = {
      x: alloc(rows * d), y: alloc(rows * d), h: alloc(rows * d), sum: alloc(rows * d), qkv: alloc(rows * 3 * d),
      q: alloc(rows * d), ctx: alloc(rows * d), ctxHeads: alloc(rows * d), ffn: alloc(rows * f), act: alloc(rows * f),
      logits: alloc(rows * v), rowLse: alloc(rows), mean: alloc(rows), rstd: alloc(rows), lse: alloc(rows * heads),
    };
    this.#targets = data(this.#own(new Tensor(allocate('int32', rows, [rows], this.#device), Object.freeze([rows]))), 'targets', 'int32');
    this.#resize();
  }

  /** Views of the scratch and the caches for the current rows. */
  #resize(): void {
    const r = this.#rows, d = this.#d, f = this.#ffn, v = this.#vocab, ws = this.#ws;
    const rows = (b: F32, width: number) => b.subarray(0, r * width);
    this.#v = {
      x: rows(ws.x, d), y: rows(ws.y, d), h: rows(ws.h, d), sum: rows(ws.sum, d), qkv: rows(ws.qkv, 3 * d), proj: rows(ws.qkv, d),
      q: rows(ws.q, d), ctx: rows(ws.ctx, d), ctxHeads: rows(ws.ctxHeads, d), ffn: rows(ws.ffn, f), act: rows(ws.act, f),
      logits: rows(ws.logits, v), rowLse: rows(ws.rowLse, 1), mean: rows(ws.mean, 1), rstd: rows(ws.rstd, 1), lse: rows(ws.lse, this.#heads),
      targets: this.#targets.subarray(0, r), seen: new Int32Array(r),
    };
    for (const l of this.#layers) {
      l.selfKRows = rows(l.selfK, d * this.#capacity);
      l.selfVRows = rows(l.selfV, d * this.#capacity);
    }
  }

  /** Frees every buffer of this decode (GPU memory back to the allocator's cache); the decoder is done. */
  dispose(): void {
    for (const t of this.#owned) t.dispose();
    this.#owned.clear();
  }

  #own(t: Tensor): Tensor {
    this.#owned.add(t);
    return t;
  }

  /** Zeroed float32 storage owned by this decoder. */
  #alloc(n: number): F32 {
    return data(this.#own(new Tensor(allocate('float32', n, [n], this.#device), Object.freeze([n]))), 'buffer', 'float32');
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
    const n = native();
    const r = this.#rows, d = this.#d;
    // Token embedding ×√d plus the position's sinusoid (the modules' own ops: a few hundred numbers).
    const idTensor = new Tensor(onDevice(ids, this.#device), Object.freeze([r, 1]));
    const scaled = model.tgtEmbedding.forward(idTensor);
    const embedded = model.positionalEncoding.forward(scaled, t);
    const v = this.#v;
    let x = v.x;
    writeAt(x, data(embedded, 'x', 'float32'), 0);
    for (const temporary of [idTensor, scaled, embedded]) temporary.dispose();
    let spare = v.y;
    for (const layer of this.#layers) {
      // The three sublayers of §3.1, each in its residual connection: post-norm LN(x + f(x)), or pre-norm x + f(LN(x)).
      for (const [sub, nm] of [['self', layer.norm1], ['cross', layer.norm2], ['ffn', layer.norm3]] as const) {
        const input = this.#normFirst ? this.#layerNorm(v.h, x, null, nm) : x;
        const out = sub === 'self' ? this.#selfAttention(layer, input, t) : sub === 'cross' ? this.#crossAttention(layer, input) : this.#feedForward(layer, input);
        if (this.#normFirst) n.addForward(spare, x, out, r * d);
        else this.#layerNorm(spare, out, x, nm);
        [x, spare] = [spare, x];
      }
    }
    const h = this.#layerNorm(v.h, x, null, this.#final);
    const { logits, rowLse: lse } = v;
    this.#linear(logits, h, this.#generator);
    n.crossEntropyForward(lse, logits, v.targets, r, this.#vocab, 0, -1);
    return { logits: host(logits), lse: Float64Array.from(host(lse)) };
  }

  /**
   * Keeps rows `keep` (indices into the current rows, any order, repeats allowed; `perSource` per kept
   * source) and the sources `sources` (indices into the current sources, in the order of `keep`).
   */
  select(keep: Int32Array, sources: Int32Array): void {
    const n = native();
    const rowWidth = this.#d * this.#capacity, srcWidth = this.#d * this.#srcLength;
    const keepIds = new Tensor(onDevice(keep, this.#device), Object.freeze([keep.length]));
    const sameSources = sources.length * this.#perSource === this.#rows && sources.every((s, i) => s === i);
    const srcIds = sameSources ? null : new Tensor(onDevice(sources, this.#device), Object.freeze([sources.length]));
    const gather = (table: F32, ids: Tensor, rows: number, width: number, into: F32) => {
      n.embeddingForward(into, table.subarray(0, rows * width), data(ids, 'ids', 'int32'), rows, width);
      return into;
    };
    this.#layers.forEach((layer, i) => {
      const to = this.#spare[i]!;
      gather(layer.selfK, keepIds, this.#rows, rowWidth, to.selfK.subarray(0, keep.length * rowWidth));
      gather(layer.selfV, keepIds, this.#rows, rowWidth, to.selfV.subarray(0, keep.length * rowWidth));
      [layer.selfK, to.selfK] = [to.selfK, layer.selfK];
      [layer.selfV, to.selfV] = [to.selfV, layer.selfV];
      if (srcIds !== null) {
        const sourcesNow = this.#rows / this.#perSource, size = sources.length * srcWidth;
        layer.crossK = gather(layer.crossK, srcIds, sourcesNow, srcWidth, this.#alloc(size));
        layer.crossV = gather(layer.crossV, srcIds, sourcesNow, srcWidth, this.#alloc(size));
      }
    });
    keepIds.dispose();
    srcIds?.dispose();
    this.#rows = keep.length;
    if (!sameSources) this.#srcLengths = Int32Array.from(sources, (s) => this.#srcLengths[s]!);
    this.#resize();
  }

  /** y = LN(x + residual) (or LN(x)) over rows of d. */
  #layerNorm(y: F32, x: F32, residual: F32 | null, nm: Norm): F32 {
    const r = this.#rows, d = this.#d;
    const v = this.#v;
    native().layerNormForward(y, residual === null ? null : v.sum, v.mean, v.rstd, x, residual, nm.gamma, nm.beta, r, d, nm.eps);
    return y;
  }

  // Masked self-attention of one new position per row over the cache (§3.2.3); returns the output projection.
  #selfAttention(l: Layer, x: F32, t: number): F32 {
    const n = native();
    const r = this.#rows, d = this.#d, h = this.#heads, dh = this.#headDim, cap = this.#capacity;
    const { qkv, q, ctx, lse, seen } = this.#v;
    this.#linear(qkv, x, l.self);
    // K and V of position t into the caches' slot t, [R, H, dₕ] from the projection's columns; Q as [R, H, 1, dₕ].
    n.stridedCopy(l.selfKRows, qkv, [r, h, dh], [h * cap * dh, cap * dh, 1], [3 * d, dh, 1], t * dh, d);
    n.stridedCopy(l.selfVRows, qkv, [r, h, dh], [h * cap * dh, cap * dh, 1], [3 * d, dh, 1], t * dh, 2 * d);
    n.stridedCopy(q, qkv, [r, d], [d, 1], [3 * d, 1], 0, 0);
    seen.fill(t + 1);
    n.attentionForward(ctx, lse, q, l.selfKRows, l.selfVRows, r, h, 1, cap, dh, false, 1 / Math.sqrt(dh), seen);
    return this.#linear(this.#v.proj, ctx, l.selfOut);
  }

  // Attention over the source's memory (§3.2.3): a source's K rows are one call's K queries.
  #crossAttention(l: Layer, x: F32): F32 {
    const n = native();
    const r = this.#rows, d = this.#d, h = this.#heads, dh = this.#headDim, k = this.#perSource, s = r / k;
    const { q, ctx, proj: heads, ctxHeads: outHeads, lse } = this.#v;
    this.#linear(q, x, l.crossQ);
    // [S, K, H, dₕ] ↔ [S, H, K, dₕ]: the same memory when K = 1.
    const toHeads = (dst: F32, src: F32) => n.stridedCopy(dst, src, [s, h, k, dh], [h * k * dh, k * dh, dh, 1], [k * d, dh, d, 1], 0, 0);
    const fromHeads = (dst: F32, src: F32) => n.stridedCopy(dst, src, [s, h, k, dh], [k * d, dh, d, 1], [h * k * dh, k * dh, dh, 1], 0, 0);
    if (k > 1) toHeads(heads, q);
    n.attentionForward(k > 1 ? outHeads : ctx, lse, k > 1 ? heads : q, l.crossK, l.crossV, s, h, k, this.#srcLength, dh, false, 1 / Math.sqrt(dh), this.#srcLengths);
    if (k > 1) fromHeads(ctx, outHeads);
    return this.#linear(this.#v.proj, ctx, l.crossOut);
  }

  // FFN(x) = W₂·act(W₁x + b₁) + b₂ (§3.3), the first bias fused into the activation.
  #feedForward(l: Layer, x: F32): F32 {
    const n = native();
    const r = this.#rows, f = this.#ffn;
    const { ffn: hidden, act, proj } = this.#v;
    this.#linear(hidden, x, l.ffn1);
    n.activationForward(act, hidden, l.ffn1B, r, f, this.#activation);
    return this.#linear(proj, act, l.ffn2);
  }

  /** out [R, n] = x [R, k]·Wᵀ (+ b): against the packed weight on the CPU. */
  #linear(out: F32, x: F32, p: Projection): F32 {
    const r = this.#rows;
    if (p.packed !== null) native().matmulPackedForward(out, x, p.packed, r, p.k, p.n, 1, null, p.b);
    else native().matmulForward(out, x, p.w, r, p.k, p.n, false, true, false, 1, null, null, p.b);
    return out;
  }
}

/** The host elements of storage: itself on the CPU, a download from the GPU. */
function host(d: F32): Float32Array {
  return d instanceof DeviceArray ? (download(d) as Float32Array) : d;
}
