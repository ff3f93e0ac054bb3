/**
 * The encoder pass of a decode (§3.1; the arithmetic of lib/nn/encoder.ts in eval mode): the sources'
 * tokens end to end, with no padding, are the rows of every GEMM, and self-attention runs one source at
 * a time. On the CPU the GEMMs use the packed weights (operands.ts), whose every output element has one
 * fma chain whatever the row count, so a source's memory is the same bits whichever sources are encoded
 * with it, while sources that join a batch at the same step share their GEMMs.
 */
import type { Device } from '../backend.js';
import { native } from '../native/binding.js';
import type { Transformer } from '../nn/transformer.js';
import { allocate, data, type F32, onDevice, Tensor } from '../tensor/tensor.js';
import { layerNorm, linear, type Norm, norm, type Projection, projections, weight } from './operands.js';

interface Layer {
  qkv: Projection; out: Projection; ffn1: Projection; ffn1B: F32; ffn2: Projection;
  norm1: Norm; norm2: Norm;
}

export class SourceEncoder {
  readonly #model: Transformer;
  readonly #device: Device;
  readonly #layers: Layer[];
  readonly #final: Norm;
  readonly #table: F32;

  /** `generation`: the weights' write generation (see IncrementalDecoder). */
  constructor(model: Transformer, generation: number) {
    const c = model.config, d = c.dModel;
    const projection = projections(model, generation);
    this.#model = model;
    this.#device = model.device;
    this.#table = weight(model.positionalEncoding.table);
    this.#final = norm(model.encoder.norm);
    this.#layers = model.encoder.layers.items.map((layer, i) => ({
      qkv: projection(`encoder.${i}.qkv`, layer.selfAttn.inProjWeight, layer.selfAttn.inProjBias, d),
      out: projection(`encoder.${i}.out`, layer.selfAttn.outProj.weight, layer.selfAttn.outProj.bias, d),
      ffn1: projection(`encoder.${i}.ffn1`, layer.ffn.linear1.weight, null, d), ffn1B: weight(layer.ffn.linear1.bias),
      ffn2: projection(`encoder.${i}.ffn2`, layer.ffn.linear2.weight, layer.ffn.linear2.bias, c.ffnDim),
      norm1: norm(layer.norm1), norm2: norm(layer.norm2),
    }));
  }

  /**
   * The memory [N, d] (a tensor the caller disposes) of sources whose tokens are `ids` end to end
   * (N = Σ lengths), row i of it being token i's.
   */
  encode(ids: Int32Array, lengths: Int32Array): Tensor {
    const c = this.#model.config, d = c.dModel, h = c.heads, dh = d / h, f = c.ffnDim;
    const n = native(), rows = ids.length, longest = Math.max(...lengths);
    const temporaries: Tensor[] = [];
    const alloc = (size: number) => {
      const t = new Tensor(allocate('float32', size, [size], this.#device), Object.freeze([size]));
      temporaries.push(t);
      return data(t, 'buffer', 'float32');
    };
    const s = {
      x: alloc(rows * d), y: alloc(rows * d), hn: alloc(rows * d), qkv: alloc(rows * 3 * d), ctx: alloc(rows * d),
      proj: alloc(rows * d), hidden: alloc(rows * f), act: alloc(rows * f), pe: alloc(rows * d),
      sum: alloc(rows * d), mean: alloc(rows), rstd: alloc(rows),
      q: alloc(longest * d), k: alloc(longest * d), v: alloc(longest * d), heads: alloc(longest * d), lse: alloc(longest * h),
    };
    // Token embedding ×√d plus each token's sinusoid (its position within its own source).
    const positions = new Int32Array(rows);
    for (let i = 0, at = 0; i < lengths.length; at += lengths[i++]!) for (let p = 0; p < lengths[i]!; p++) positions[at + p] = p;
    const idTensor = new Tensor(onDevice(ids, this.#device), Object.freeze([1, rows]));
    const at = new Tensor(onDevice(positions, this.#device), Object.freeze([rows]));
    temporaries.push(idTensor, at);
    const scaled = this.#model.srcEmbedding.forward(idTensor);
    temporaries.push(scaled);
    n.embeddingForward(s.pe, this.#table, data(at, 'positions', 'int32'), c.maxLength, d);
    let x = s.x, spare = s.y;
    n.addForward(x, data(scaled, 'x', 'float32'), s.pe, rows * d);
    const scale = 1 / Math.sqrt(dh);
    const attention = (l: Layer, input: F32): F32 => {
      linear(s.qkv, input, rows, l.qkv);
      for (let i = 0, from = 0; i < lengths.length; from += lengths[i++]!) {
        const len = lengths[i]!;
        // This source's rows [L, 3d] → Q, K, V [H, L, dₕ]; attention; the context back to its rows.
        const split = (dst: F32, column: number) => n.stridedCopy(dst, s.qkv, [len, h, dh], [dh, len * dh, 1], [3 * d, dh, 1], 0, from * 3 * d + column);
        split(s.q, 0);
        split(s.k, d);
        split(s.v, 2 * d);
        const part = (b: F32) => b.subarray(0, len * d);
        n.attentionForward(part(s.heads), s.lse.subarray(0, h * len), part(s.q), part(s.k), part(s.v), 1, h, len, len, dh, false, scale, Int32Array.of(len));
        n.stridedCopy(s.ctx, s.heads, [len, h, dh], [d, dh, 1], [dh, len * dh, 1], from * d, 0);
      }
      return linear(s.proj, s.ctx, rows, l.out);
    };
    const feedForward = (l: Layer, input: F32): F32 => {
      linear(s.hidden, input, rows, l.ffn1);
      n.activationForward(s.act, s.hidden, l.ffn1B, rows, f, c.activation);
      return linear(s.proj, s.act, rows, l.ffn2);
    };
    for (const l of this.#layers) {
      // Each sublayer in its residual connection: post-norm LN(x + f(x)), or pre-norm x + f(LN(x)).
      for (const [sub, nm] of [[attention, l.norm1], [feedForward, l.norm2]] as const) {
        const out = sub(l, c.normFirst ? layerNorm(s.hn, x, null, nm, rows, d, s) : x);
        if (c.normFirst) n.addForward(spare, x, out, rows * d);
        else layerNorm(spare, out, x, nm, rows, d, s);
        [x, spare] = [spare, x];
      }
    }
    const memory = new Tensor(allocate('float32', rows * d, [rows, d], this.#device), Object.freeze([rows, d]));
    layerNorm(data(memory, 'memory', 'float32'), x, null, this.#final, rows, d, s);
    for (const t of temporaries) t.dispose();
    return memory;
  }
}
