/**
 * Scaled dot-product attention: softmax(scale · q kᵀ + mask) v per (batch, head), fused (flash-style:
 * never more than a block of scores in memory) or naive (the full Lq×Lk matrix).
 *
 * q is [B, H, Lq, D]; k and v are [B, H, Lk, D]. `kvLengths[b]` masks the keys of batch b at positions
 * ≥ kvLengths[b] (padding); `causal` masks key j for query i when j > i + (Lk − Lq), i.e. aligned at the
 * end when Lq < Lk, as with a KV cache. A query that sees no key gets a zero output (never NaN).
 *
 * @example
 * const out = ops.scaledDotProductAttention(q, k, v, { causal: true });          // decoder self-attention
 * const ctx = ops.scaledDotProductAttention(q, mem, mem, { kvLengths: srcLens }); // cross-attention, padded source
 */
import { checkBoolean, checkNumber, checkOptions, checkShapeIs, fail, formatShape } from '../check.js';
import { OutOfRangeError, ShapeError } from '../errors.js';
import type { Device } from '../backend.js';
import { native } from '../native/binding.js';
import { record } from '../autograd/tape.js';
import { allocate, allocateOutput, data, deviceOf, Tensor } from '../tensor/tensor.js';

export interface AttentionOptions {
  /** Mask keys after each query (bottom-right aligned). Default false. */
  causal?: boolean;
  /** Per batch entry, how many keys are real (the rest are padding). Default: all Lk. */
  kvLengths?: Int32Array;
  /** Multiplies the scores. Default 1/√D. */
  scale?: number;
}

/** The validated shape of one attention call. */
interface AttentionPlan {
  batch: number;
  heads: number;
  lq: number;
  lk: number;
  d: number;
  causal: boolean;
  scale: number;
  kvLengths: Int32Array | null;
  device: Device;
}

function plan(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions | undefined): AttentionPlan {
  const o = checkOptions<AttentionOptions>(opts, 'options', ['causal', 'kvLengths', 'scale']);
  for (const [t, name] of [[q, 'q'], [k, 'k'], [v, 'v']] as const) {
    data(t, name, 'float32');
    if (t.rank !== 4) throw new ShapeError(`Expected a [B, H, L, D] tensor for ${name} but received ${formatShape(t.shape)}`);
  }
  const [batch, heads, lq, d] = q.shape as [number, number, number, number];
  const [kb, kh, lk, kd] = k.shape as [number, number, number, number];
  if (kb !== batch || kh !== heads || kd !== d) {
    throw new ShapeError(
      `q ${formatShape(q.shape)} and k ${formatShape(k.shape)} must agree in batch, heads and head size (dims 0, 1, 3)`,
    );
  }
  checkShapeIs(v.shape, k.shape, 'v', 'k');
  if (d === 0) throw new ShapeError(`Expected a head size D ≥ 1 but q is ${formatShape(q.shape)}`);
  const causal = o.causal === undefined ? false : checkBoolean(o.causal, 'options.causal');
  const scale = o.scale === undefined ? 1 / Math.sqrt(d) : checkNumber(o.scale, 'options.scale');
  let kvLengths: Int32Array | null = null;
  if (o.kvLengths !== undefined) {
    if (!(o.kvLengths instanceof Int32Array)) fail('an Int32Array', 'options.kvLengths', o.kvLengths);
    if (o.kvLengths.length !== batch) {
      throw new ShapeError(`Expected ${batch} entries in options.kvLengths (one per batch entry) but received ${o.kvLengths.length}`);
    }
    o.kvLengths.forEach((len, b) => {
      if (len < 0 || len > lk) {
        throw new OutOfRangeError(`options.kvLengths[${b}] is ${len} but must be in [0, ${lk}] (the key length)`);
      }
    });
    kvLengths = o.kvLengths;
  }
  return { batch, heads, lq, lk, d, causal, scale, kvLengths, device: deviceOf('attention', { q, k, v }) };
}

/** The output and the per-row logsumexp the backward needs. */
export interface AttentionSaved {
  out: Tensor;
  /** [B, H, Lq]: log Σ_j exp(scaled score) over the keys the row sees; −inf where it sees none. */
  lse: Tensor;
}

/** @internal Forward that also returns what {@link attentionBackward} needs. */
export function attentionForward(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions, naive = false): AttentionSaved {
  const p = plan(q, k, v, opts);
  // A query with no key gets zeros written, so only Lk = 0 (no kernel work at all) needs zeroed storage.
  const out = p.lk === 0 ? allocate('float32', q.size, q.shape, p.device) : allocateOutput(q.size, q.shape, p.device);
  const lse = allocate('float32', p.batch * p.heads * p.lq, [p.batch, p.heads, p.lq], p.device);
  const fn = naive ? native().attentionForwardNaive : native().attentionForward;
  fn(out, lse, data(q, 'q', 'float32'), data(k, 'k', 'float32'), data(v, 'v', 'float32'),
    p.batch, p.heads, p.lq, p.lk, p.d, p.causal, p.scale, p.kvLengths);
  const saved: AttentionSaved = { out: new Tensor(out, q.shape), lse: new Tensor(lse, Object.freeze([p.batch, p.heads, p.lq])) };
  // The options as they were (a caller may reuse its kvLengths array before backward runs).
  const frozen: AttentionOptions = { causal: p.causal, scale: p.scale, ...(p.kvLengths && { kvLengths: p.kvLengths.slice() }) };
  record(saved.out, [q, k, v], (g) => {
    const { dq, dk, dv } = attentionBackward(q, k, v, saved, g, frozen, naive);
    return [dq, dk, dv];
  }, 'attention');
  return saved;
}

/** @internal Gradients of the attention output with respect to q, k and v, given dOut (fresh tensors). */
export function attentionBackward(
  q: Tensor, k: Tensor, v: Tensor, saved: AttentionSaved, dOut: Tensor, opts?: AttentionOptions, naive = false,
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const p = plan(q, k, v, opts);
  for (const [t, name, shape] of [[saved.out, 'out', q.shape], [dOut, 'dOut', q.shape], [saved.lse, 'lse', [p.batch, p.heads, p.lq]]] as const) {
    data(t, name, 'float32');
    checkShapeIs(t.shape, shape, name);
  }
  deviceOf('attentionBackward', { q, out: saved.out, lse: saved.lse, dOut });
  const dq = allocate('float32', q.size, q.shape, p.device), dk = allocate('float32', k.size, k.shape, p.device);
  const dv = allocate('float32', v.size, v.shape, p.device);
  const fn = naive ? native().attentionBackwardNaive : native().attentionBackward;
  fn(dq, dk, dv, data(q, 'q', 'float32'), data(k, 'k', 'float32'), data(v, 'v', 'float32'),
    data(saved.out, 'out', 'float32'), data(saved.lse, 'lse', 'float32'), data(dOut, 'dOut', 'float32'),
    p.batch, p.heads, p.lq, p.lk, p.d, p.causal, p.scale, p.kvLengths);
  return { dq: new Tensor(dq, q.shape), dk: new Tensor(dk, k.shape), dv: new Tensor(dv, v.shape) };
}

/** Fused attention (see the module comment): [B, H, Lq, D]. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions): Tensor {
  return attentionForward(q, k, v, opts).out;
}

/** The textbook version, materialising the Lq×Lk score matrix: the benches' baseline. */
export function scaledDotProductAttentionNaive(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions): Tensor {
  return attentionForward(q, k, v, opts, true).out;
}
