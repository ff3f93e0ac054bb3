/**
 * Incremental decoding: the Transformer's decoder run one position at a time with a key/value cache, so
 * step t costs one token's worth of GEMMs plus attention over t cached positions, not a re-run of the
 * whole prefix.
 *
 * Layout (R rows = S sources × K hypotheses each, in source order):
 * - self-attention cache per layer: K and V [R, H, capacity, dₕ]; a step writes each row's position with
 *   one strided copy per run of rows at the same position (rows that joined the batch at the same step),
 *   and the fused attention reads positions [0, tᵣ] through kvLengths (it skips the key blocks past
 *   them), so nothing is re-packed as the cache fills;
 * - cross-attention K and V per layer: [S, H, Lₛ, dₕ], projected from the encoder's memory (encode.ts)
 *   once per source and shared by its K hypotheses: their K queries are one attention call's Lq.
 * Sources join at any step (`add`: continuous batching) and every row has its own position, so one
 * decoder serves requests that started at different steps. `select(rows, sources)` keeps the given rows
 * (beam reordering, finished or cancelled sources leaving the batch) into a second set of caches that
 * then swaps with the first: rows that stay in order move as a few strided copies of their used
 * positions, a reordering as one native gather per cache tensor (the embedding kernel, reading each row
 * as one long vector). Buffers grow (doubling) when rows, positions or source length outgrow them.
 *
 * A step is the decoder layer's arithmetic (lib/nn/decoder.ts, sublayer.ts, attention.ts, in eval mode)
 * written straight against the native kernels into buffers allocated once per decode: a decode step is
 * dozens of small kernels, and the autograd-ready ops around them (checks, saved state, fresh outputs)
 * would cost more than the arithmetic of a small model. The kernels take host or GPU storage alike, so
 * this runs on either device. Every kernel here computes each row on its own (the packed GEMM gives each
 * element one fma chain whatever the row count), so on the CPU a row's numbers do not depend on the
 * others in the batch. The tests hold it to the model's full forward.
 */
import type { Device } from '../backend.js';
import { native } from '../native/binding.js';
import type { DecoderLayer } from '../nn/decoder.js';
import type { Transformer } from '../nn/transformer.js';
import { DeviceArray, download } from '../tensor/device_array.js';
import { allocate, data, type F32, type I32, onDevice, Tensor } from '../tensor/tensor.js';
import { SourceEncoder } from './encode.js';
import { host, layerNorm, linear, type Norm, norm, type Projection, projections, weight } from './operands.js';

/** A step's output on the host: logits [R, V], each row's log-sum-exp, and the attention rows asked for. */
export interface StepOutput {
  logits: Float32Array;
  lse: Float64Array;
  /**
   * For each row of `attend` (in that order): its cross-attention weights [layers, H, Lₛ] over its
   * source's Lₛ tokens, softmax(q·Kᵀ/√dₕ) computed in float64 beside the fused kernel.
   */
  attention: Float32Array[];
}

/** A layer's caches: self-attention [rows, H, capacity, dₕ], cross-attention [sources, H, Lₛ, dₕ]. */
interface Caches {
  selfK: F32; selfV: F32;
  crossK: F32; crossV: F32;
}

/** One decoder layer's weights as kernel operands, and its caches. */
interface Layer extends Caches {
  self: Projection; selfOut: Projection; crossQ: Projection; crossKV: Projection; crossOut: Projection;
  ffn1: Projection; ffn1B: F32; ffn2: Projection;
  norm1: Norm; norm2: Norm; norm3: Norm;
  /** The caches' first R rows and S sources (what a step reads), set by resize(). */
  selfKRows: F32; selfVRows: F32; crossKRows: F32; crossVRows: F32;
}

type Scratch = 'x' | 'y' | 'h' | 'sum' | 'qkv' | 'q' | 'ctx' | 'ctxHeads' | 'ffn' | 'act' | 'logits' | 'rowLse' | 'mean' | 'rstd' | 'lse' | 'pe';


/** What the buffers hold room for. */
interface Capacity {
  rows: number;
  /** Target positions per row. */
  positions: number;
  sources: number;
  /** Source tokens per source. */
  length: number;
}

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
  readonly #activation: 'relu' | 'gelu';
  readonly #normFirst: boolean;
  readonly #perSource: number;
  readonly #table: F32;
  readonly #maxPositions: number;
  readonly #encoder: SourceEncoder;
  #cap: Capacity = { rows: 0, positions: 0, sources: 0, length: 0 };
  // Scratch for `cap.rows` rows, and views of its first `rows` rows (`proj`: the first R·d of `qkv`, where
  // each sublayer's output projection goes); remade when rows change.
  #ws!: Record<Scratch, F32>;
  #v!: Record<Scratch | 'proj', F32> & { targets: I32; seen: Int32Array };
  // Class 0 for every row: the cross-entropy kernel's log-sum-exp is what a step needs, not its loss.
  #targets!: I32;
  // The caches' second set, gathered into by select() and then swapped in.
  #spare: Caches[] = [];
  // Every buffer this decoder holds, by its storage: freed when replaced and by dispose() (on the GPU a
  // decode's buffers go back to the allocator's cache at once).
  readonly #owned = new Map<F32 | I32, Tensor>();
  #rows = 0;
  #srcLengths = new Int32Array(0);
  // Positions written in the self-attention caches so far (the largest row position + 1).
  #filled = 0;

  /**
   * A decoder with no sources yet, for `perSource` rows per source. `generation`: the weights' write
   * generation as the thread that changes them sees it (packed weights older than that are rebuilt).
   */
  constructor(model: Transformer, perSource: number, generation: number) {
    const c = model.config;
    const d = c.dModel, heads = c.heads, dh = d / heads;
    this.#model = model;
    this.#device = model.device;
    this.#d = d;
    this.#heads = heads;
    this.#headDim = dh;
    this.#ffn = c.ffnDim;
    this.#vocab = c.tgtVocabSize;
    this.#activation = c.activation;
    this.#normFirst = c.normFirst;
    this.#perSource = perSource;
    this.#maxPositions = c.maxLength;
    this.#table = weight(model.positionalEncoding.table);
    const projection = projections(model, generation);
    this.#encoder = new SourceEncoder(model, generation);
    const none = EMPTY;
    this.#layers = model.decoder.layers.items.map((layer: DecoderLayer, i) => {
      const self = layer.selfAttn, cross = layer.crossAttn, ffn = layer.ffn, at = `decoder.${i}.`;
      return {
        self: projection(`${at}self`, self.inProjWeight, self.inProjBias, d),
        selfOut: projection(`${at}selfOut`, self.outProj.weight, self.outProj.bias, d),
        crossQ: projection(`${at}crossQ`, cross.inProjWeight, cross.inProjBias, d, 0, d),
        crossKV: projection(`${at}crossKV`, cross.inProjWeight, cross.inProjBias, d, d, 2 * d),
        crossOut: projection(`${at}crossOut`, cross.outProj.weight, cross.outProj.bias, d),
        ffn1: projection(`${at}ffn1`, ffn.linear1.weight, null, d), ffn1B: weight(ffn.linear1.bias),
        ffn2: projection(`${at}ffn2`, ffn.linear2.weight, ffn.linear2.bias, c.ffnDim),
        norm1: norm(layer.norm1), norm2: norm(layer.norm2), norm3: norm(layer.norm3),
        selfK: none, selfV: none, crossK: none, crossV: none,
        selfKRows: none, selfVRows: none, crossKRows: none, crossVRows: none,
      };
    });
    this.#final = norm(model.decoder.norm);
    this.#generator = projection('generator', model.generator.weight, model.generator.bias, d);
  }

  get rows(): number {
    return this.#rows;
  }

  get sources(): number {
    return this.#srcLengths.length;
  }

  /**
   * Encodes the padded sources `srcIds` [S′, L] and appends them after the current ones, `perSource`
   * rows each, at position 0; `positions`: the most target positions any of them needs.
   */
  add(srcIds: Tensor, srcLengths: Int32Array, positions: number): void {
    const d = this.#d, h = this.#heads, dh = this.#headDim, n = native();
    const tokens = unpad(srcIds, srcLengths);
    const memory = this.#encoder.encode(tokens, srcLengths);
    const added = srcLengths.length, first = this.sources, rows = tokens.length;
    const cap = this.#cap;
    const grow = (need: number, have: number, most = Infinity) => (need <= have ? have : Math.min(most, Math.max(need, 2 * have)));
    this.#grow({
      rows: grow(this.#rows + added * this.#perSource, cap.rows),
      positions: grow(positions, cap.positions, this.#maxPositions),
      sources: grow(first + added, cap.sources),
      length: grow(Math.max(...srcLengths), cap.length, this.#maxPositions),
    });
    const L = this.#cap.length;
    const kv = this.#alloc(rows * 2 * d);
    for (const layer of this.#layers) {
      // [N, 2d] (K: the first d columns, V: the next d) → each source's [H, Lₛ, dₕ] block of the caches.
      linear(kv, data(memory, 'memory', 'float32'), rows, layer.crossKV);
      for (let i = 0, from = 0; i < added; from += srcLengths[i++]!) {
        for (const [to, column] of [[layer.crossK, 0], [layer.crossV, d]] as const) {
          n.stridedCopy(to, kv, [srcLengths[i]!, h, dh], [dh, L * dh, 1], [2 * d, dh, 1], (first + i) * h * L * dh, from * 2 * d + column);
        }
      }
    }
    this.#free(kv);
    memory.dispose();
    const lengths = new Int32Array(first + added);
    lengths.set(this.#srcLengths);
    lengths.set(srcLengths, first);
    this.#srcLengths = lengths;
    this.#rows += added * this.#perSource;
    this.#resize();
  }

  /**
   * Makes room for `want` (never shrinks): the caches keep their first rows and sources, laid out for
   * the new capacities; scratch is remade. Every buffer starts zeroed, so no cache holds anything but
   * finite numbers (keys a row cannot see still meet a zero weight).
   */
  #grow(want: Capacity): void {
    const old = this.#cap, d = this.#d, h = this.#heads, dh = this.#headDim;
    const selfGrows = want.rows > old.rows || want.positions > old.positions;
    const crossGrows = want.sources > old.sources || want.length > old.length;
    const next = { rows: Math.max(old.rows, want.rows), positions: Math.max(old.positions, want.positions), sources: Math.max(old.sources, want.sources), length: Math.max(old.length, want.length) };
    // [n, H, from, dₕ] → [n, H, to, dₕ] (the first `used` positions of each block) into a new buffer.
    const relayout = (buffer: F32, n: number, from: number, to: number, used: number, size: number): F32 => {
      const grown = this.#alloc(size);
      if (n > 0 && used > 0) native().stridedCopy(grown, buffer, [n * h, used, dh], [to * dh, dh, 1], [from * dh, dh, 1], 0, 0);
      this.#free(buffer);
      return grown;
    };
    const selfSize = next.rows * d * next.positions, crossSize = next.sources * d * next.length;
    const sources = this.sources, longest = sources === 0 ? 0 : Math.max(...this.#srcLengths);
    this.#layers.forEach((l, i) => {
      if (selfGrows) {
        l.selfK = relayout(l.selfK, this.#rows, old.positions, next.positions, this.#filled, selfSize);
        l.selfV = relayout(l.selfV, this.#rows, old.positions, next.positions, this.#filled, selfSize);
      }
      if (crossGrows) {
        l.crossK = relayout(l.crossK, sources, old.length, next.length, longest, crossSize);
        l.crossV = relayout(l.crossV, sources, old.length, next.length, longest, crossSize);
      }
      this.#spare[i] ??= { selfK: EMPTY, selfV: EMPTY, crossK: EMPTY, crossV: EMPTY };
      const spare = this.#spare[i];
      if (selfGrows) {
        for (const key of ['selfK', 'selfV'] as const) {
          this.#free(spare[key]);
          spare[key] = this.#alloc(selfSize);
        }
      }
      if (crossGrows) {
        for (const key of ['crossK', 'crossV'] as const) {
          this.#free(spare[key]);
          spare[key] = this.#alloc(crossSize);
        }
      }
    });
    if (next.rows > old.rows || this.#ws === undefined) {
      const r = next.rows, f = this.#ffn, v = this.#vocab;
      if (this.#ws !== undefined) for (const b of Object.values(this.#ws)) this.#free(b);
      if (this.#targets !== undefined) this.#free(this.#targets);
      const alloc = (n: number) => this.#alloc(n);
      this.#ws = {
        x: alloc(r * d), y: alloc(r * d), h: alloc(r * d), sum: alloc(r * d), qkv: alloc(r * 3 * d),
        q: alloc(r * d), ctx: alloc(r * d), ctxHeads: alloc(r * d), ffn: alloc(r * f), act: alloc(r * f),
        logits: alloc(r * v), rowLse: alloc(r), mean: alloc(r), rstd: alloc(r), lse: alloc(r * h), pe: alloc(r * d),
      };
      this.#targets = this.#own(new Tensor(allocate('int32', r, [r], this.#device), Object.freeze([r])), 'int32');
    }
    this.#cap = next;
    this.#resize();
  }

  /** Views of the scratch and the caches for the current rows and sources. */
  #resize(): void {
    if (this.#ws === undefined) return;
    const r = this.#rows, s = this.sources, d = this.#d, f = this.#ffn, v = this.#vocab, ws = this.#ws;
    const rows = (b: F32, width: number) => b.subarray(0, r * width);
    this.#v = {
      x: rows(ws.x, d), y: rows(ws.y, d), h: rows(ws.h, d), sum: rows(ws.sum, d), qkv: rows(ws.qkv, 3 * d), proj: rows(ws.qkv, d),
      q: rows(ws.q, d), ctx: rows(ws.ctx, d), ctxHeads: rows(ws.ctxHeads, d), ffn: rows(ws.ffn, f), act: rows(ws.act, f),
      logits: rows(ws.logits, v), rowLse: rows(ws.rowLse, 1), mean: rows(ws.mean, 1), rstd: rows(ws.rstd, 1), lse: rows(ws.lse, this.#heads),
      pe: rows(ws.pe, d), targets: this.#targets.subarray(0, r), seen: new Int32Array(r),
    };
    const selfWidth = d * this.#cap.positions, crossWidth = d * this.#cap.length;
    for (const l of this.#layers) {
      l.selfKRows = l.selfK.subarray(0, r * selfWidth);
      l.selfVRows = l.selfV.subarray(0, r * selfWidth);
      l.crossKRows = l.crossK.subarray(0, s * crossWidth);
      l.crossVRows = l.crossV.subarray(0, s * crossWidth);
    }
  }

  /** Frees every buffer of this decode (GPU memory back to the allocator's cache); the decoder is done. */
  dispose(): void {
    for (const t of this.#owned.values()) t.dispose();
    this.#owned.clear();
  }

  #own(t: Tensor, dtype: 'int32'): I32;
  #own(t: Tensor, dtype: 'float32'): F32;
  #own(t: Tensor, dtype: 'float32' | 'int32'): F32 | I32 {
    const storage = dtype === 'int32' ? data(t, 'buffer', 'int32') : data(t, 'buffer', 'float32');
    this.#owned.set(storage, t);
    return storage;
  }

  /** Zeroed float32 storage owned by this decoder. */
  #alloc(n: number): F32 {
    return this.#own(new Tensor(allocate('float32', n, [n], this.#device), Object.freeze([n])), 'float32');
  }

  #free(storage: F32 | I32): void {
    this.#owned.get(storage)?.dispose();
    this.#owned.delete(storage);
  }

  /**
   * Feeds `ids` [R] at each row's position `positions` [R] (rows of a source share one; rows that
   * joined later are at lower positions, after the others) and returns the generator's logits for the
   * next token with their log-sum-exp, and the cross-attention weights of the rows `attend` (if any).
   */
  step(ids: Int32Array, positions: Int32Array, attend: Int32Array = NO_ROWS): StepOutput {
    const model = this.#model;
    const n = native();
    const r = this.#rows, d = this.#d;
    const v = this.#v;
    // Token embedding ×√d (the module's own op: a few hundred numbers) plus each row's sinusoid, gathered
    // from the positional table by position.
    const idTensor = new Tensor(onDevice(ids, this.#device), Object.freeze([r, 1]));
    const scaled = model.tgtEmbedding.forward(idTensor);
    const at = new Tensor(onDevice(positions, this.#device), Object.freeze([r]));
    n.embeddingForward(v.pe, this.#table, data(at, 'positions', 'int32'), this.#maxPositions, d);
    let x = v.x;
    n.addForward(x, data(scaled, 'x', 'float32'), v.pe, r * d);
    for (const temporary of [idTensor, scaled, at]) temporary.dispose();
    for (let i = 0; i < r; i++) {
      v.seen[i] = positions[i]! + 1;
      if (v.seen[i]! > this.#filled) this.#filled = v.seen[i]!;
    }
    const attention = Array.from(attend, () => new Float32Array(this.#layers.length * this.#heads * this.#cap.length));
    let spare = v.y;
    this.#layers.forEach((layer, li) => {
      // The three sublayers of §3.1, each in its residual connection: post-norm LN(x + f(x)), or pre-norm x + f(LN(x)).
      for (const [sub, nm] of [['self', layer.norm1], ['cross', layer.norm2], ['ffn', layer.norm3]] as const) {
        const input = this.#normFirst ? this.#layerNorm(v.h, x, null, nm) : x;
        const out = sub === 'self' ? this.#selfAttention(layer, input, positions)
          : sub === 'cross' ? this.#crossAttention(layer, input, attend, attention, li)
          : this.#feedForward(layer, input);
        if (this.#normFirst) n.addForward(spare, x, out, r * d);
        else this.#layerNorm(spare, out, x, nm);
        [x, spare] = [spare, x];
      }
    });
    const h = this.#layerNorm(v.h, x, null, this.#final);
    const { logits, rowLse: lse } = v;
    this.#linear(logits, h, this.#generator);
    n.crossEntropyForward(lse, logits, v.targets, r, this.#vocab, 0, -1);
    return { logits: host(logits), lse: Float64Array.from(host(lse)), attention: this.#trimAttention(attend, attention) };
  }

  /**
   * Keeps rows `keep` (indices into the current rows, any order, repeats allowed; `perSource` per kept
   * source) and the sources `sources` (indices into the current sources, in the order of `keep`).
   */
  select(keep: Int32Array, sources: Int32Array): void {
    if (keep.length === 0) {
      // Nothing left: the caches' contents no longer matter.
      this.#rows = 0;
      this.#filled = 0;
      this.#srcLengths = new Int32Array(0);
      this.#resize();
      return;
    }
    const sameSources = sources.length === this.sources && sources.every((s, i) => s === i);
    const longest = Math.max(...this.#srcLengths);
    this.#layers.forEach((layer, i) => {
      const to = this.#spare[i]!;
      for (const key of ['selfK', 'selfV'] as const) {
        this.#move(layer[key], to[key], keep, this.#rows, this.#cap.positions, this.#filled);
        [layer[key], to[key]] = [to[key], layer[key]];
      }
      if (sameSources) return;
      for (const key of ['crossK', 'crossV'] as const) {
        this.#move(layer[key], to[key], sources, this.sources, this.#cap.length, longest);
        [layer[key], to[key]] = [to[key], layer[key]];
      }
    });
    this.#rows = keep.length;
    if (!sameSources) this.#srcLengths = Int32Array.from(sources, (s) => this.#srcLengths[s]!);
    this.#resize();
  }

  /**
   * into[j] = from[keep[j]] for blocks [H, width, dₕ] of which only the first `used` positions matter.
   * Rows that stay in order (sources leaving, the common case) move as a few runs of consecutive blocks,
   * each one strided copy of the used positions only; a reordering (beams) is one gather of whole blocks.
   */
  #move(from: F32, into: F32, keep: Int32Array, count: number, width: number, used: number): void {
    const n = native(), h = this.#heads, dh = this.#headDim, block = h * width * dh;
    const runs: Array<[number, number, number]> = [];
    for (let j = 0; j < keep.length; j++) {
      const last = runs[runs.length - 1];
      if (last !== undefined && keep[j] === last[0] + last[2]) last[2]++;
      else runs.push([keep[j]!, j, 1]);
    }
    if (runs.length <= MAX_RUNS) {
      for (const [src, dst, length] of runs) {
        n.stridedCopy(into, from, [length * h, used, dh], [width * dh, dh, 1], [width * dh, dh, 1], dst * block, src * block);
      }
      return;
    }
    const ids = new Tensor(onDevice(keep, this.#device), Object.freeze([keep.length]));
    n.embeddingForward(into.subarray(0, keep.length * block), from.subarray(0, count * block), data(ids, 'ids', 'int32'), count, block);
    ids.dispose();
  }

  /** y = LN(x + residual) (or LN(x)) over the rows of d. */
  #layerNorm(y: F32, x: F32, residual: F32 | null, nm: Norm): F32 {
    return layerNorm(y, x, residual, nm, this.#rows, this.#d, this.#v);
  }

  // Masked self-attention of one new position per row over the cache (§3.2.3); returns the output projection.
  #selfAttention(l: Layer, x: F32, positions: Int32Array): F32 {
    const n = native();
    const r = this.#rows, d = this.#d, h = this.#heads, dh = this.#headDim, cap = this.#cap.positions;
    const { qkv, q, ctx, lse, seen } = this.#v;
    this.#linear(qkv, x, l.self);
    // K and V of each row's position into the caches' slot, [rows, H, dₕ] from the projection's columns, one
    // copy per run of rows at one position; Q as [R, H, 1, dₕ].
    for (let r0 = 0; r0 < r;) {
      const t = positions[r0]!;
      let r1 = r0 + 1;
      while (r1 < r && positions[r1] === t) r1++;
      for (const [cache, column] of [[l.selfKRows, d], [l.selfVRows, 2 * d]] as const) {
        n.stridedCopy(cache, qkv, [r1 - r0, h, dh], [h * cap * dh, cap * dh, 1], [3 * d, dh, 1], r0 * h * cap * dh + t * dh, r0 * 3 * d + column);
      }
      r0 = r1;
    }
    n.stridedCopy(q, qkv, [r, d], [d, 1], [3 * d, 1], 0, 0);
    n.attentionForward(ctx, lse, q, l.selfKRows, l.selfVRows, r, h, 1, cap, dh, false, 1 / Math.sqrt(dh), seen);
    return this.#linear(this.#v.proj, ctx, l.selfOut);
  }

  // Attention over the source's memory (§3.2.3): a source's K rows are one call's K queries.
  #crossAttention(l: Layer, x: F32, attend: Int32Array, attention: Float32Array[], layer: number): F32 {
    const n = native();
    const r = this.#rows, d = this.#d, h = this.#heads, dh = this.#headDim, k = this.#perSource, s = r / k, L = this.#cap.length;
    const { q, ctx, proj: heads, ctxHeads: outHeads, lse } = this.#v;
    this.#linear(q, x, l.crossQ);
    if (attend.length > 0) this.#attentionWeights(l, q, attend, attention, layer);
    // [S, K, H, dₕ] ↔ [S, H, K, dₕ]: the same memory when K = 1.
    const toHeads = (dst: F32, src: F32) => n.stridedCopy(dst, src, [s, h, k, dh], [h * k * dh, k * dh, dh, 1], [k * d, dh, d, 1], 0, 0);
    const fromHeads = (dst: F32, src: F32) => n.stridedCopy(dst, src, [s, h, k, dh], [k * d, dh, d, 1], [h * k * dh, k * dh, dh, 1], 0, 0);
    if (k > 1) toHeads(heads, q);
    n.attentionForward(k > 1 ? outHeads : ctx, lse, k > 1 ? heads : q, l.crossKRows, l.crossVRows, s, h, k, L, dh, false, 1 / Math.sqrt(dh), this.#srcLengths);
    if (k > 1) fromHeads(ctx, outHeads);
    return this.#linear(this.#v.proj, ctx, l.crossOut);
  }

  /**
   * softmax(q·Kᵀ/√dₕ) over each asked row's source tokens, per head, in float64 from the same Q and K the
   * fused kernel reads (which keeps no weights): written into attention[i] at [layer, head, ·].
   */
  #attentionWeights(l: Layer, q: F32, attend: Int32Array, attention: Float32Array[], layer: number): void {
    const h = this.#heads, dh = this.#headDim, d = this.#d, L = this.#cap.length, scale = 1 / Math.sqrt(dh);
    const queries = host(q);
    const keys = new Map<number, Float32Array>();
    attend.forEach((row, i) => {
      const s = Math.floor(row / this.#perSource), length = this.#srcLengths[s]!;
      let k = keys.get(s);
      if (k === undefined) {
        k = host(l.crossKRows.subarray(s * d * L, (s + 1) * d * L));
        keys.set(s, k);
      }
      const scores = new Float64Array(length);
      for (let head = 0; head < h; head++) {
        let max = -Infinity;
        for (let j = 0; j < length; j++) {
          let dot = 0;
          for (let e = 0; e < dh; e++) dot += queries[row * d + head * dh + e]! * k[(head * L + j) * dh + e]!;
          scores[j] = dot * scale;
          if (scores[j]! > max) max = scores[j]!;
        }
        let z = 0;
        for (let j = 0; j < length; j++) z += (scores[j] = Math.exp(scores[j]! - max));
        const out = attention[i]!, at = (layer * h + head) * L;
        for (let j = 0; j < length; j++) out[at + j] = scores[j]! / z;
      }
    });
  }

  // Each asked row's weights with its own source length: [layers, H, Lₛ].
  #trimAttention(attend: Int32Array, attention: Float32Array[]): Float32Array[] {
    const L = this.#cap.length, blocks = this.#layers.length * this.#heads;
    return attention.map((a, i) => {
      const length = this.#srcLengths[Math.floor(attend[i]! / this.#perSource)]!;
      const out = new Float32Array(blocks * length);
      for (let b = 0; b < blocks; b++) out.set(a.subarray(b * L, b * L + length), b * length);
      return out;
    });
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

  #linear(out: F32, x: F32, p: Projection): F32 {
    return linear(out, x, this.#rows, p);
  }
}

const NO_ROWS = new Int32Array(0);
// More runs of consecutive rows than this and select() gathers whole blocks in one call instead.
const MAX_RUNS = 8;
// What a buffer is before the first source arrives (nothing is allocated for an empty decoder).
const EMPTY = new Float32Array(0);

/** The tokens of padded sources [S, L] end to end (host ids; downloaded from the GPU). */
function unpad(ids: Tensor, lengths: Int32Array): Int32Array {
  const storage = data(ids, 'ids', 'int32');
  const padded = storage instanceof DeviceArray ? (download(storage) as Int32Array) : storage;
  const width = ids.shape[1]!;
  const out = new Int32Array(lengths.reduce((a, b) => a + b, 0));
  for (let i = 0, at = 0; i < lengths.length; at += lengths[i++]!) out.set(padded.subarray(i * width, i * width + lengths[i]!), at);
  return out;
}
