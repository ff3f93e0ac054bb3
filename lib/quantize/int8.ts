/**
 * int8 weights (`model.quantize('int8')`): every matrix of the model — each Linear's weight (attention's
 * input and output projections, the feed-forward layers, the generator) and both embedding tables — gets
 * per-row symmetric int8 values with a float32 scale per row, as CTranslate2 quantizes (native
 * quantizeRows: s = max|row| / 127, q = round(row · 127 / max|row|)).
 *
 * The model keeps each matrix as its dequantized values q·s in float32 (so the embeddings, the float32
 * `forward` and the GPU need nothing new) and the scales beside it. Since q·s is one float32 rounding of an
 * integer times s, round(w / s) gives q back exactly, so the int8 values never need storing in memory:
 * the decoder's int8 GEMM packs them from the weights and the scales (lib/decode/packed.ts), and `save`
 * writes them as I8 (a quarter of the float32 bytes).
 */
import { NonFiniteError } from '../errors.js';
import { native } from '../native/binding.js';
import type { Module } from '../nn/module.js';
import { assign, cpuData, type Tensor } from '../tensor/tensor.js';

/** The model's matrices by name, each once (a tied weight under its first name). */
export function int8Matrices(model: Module): Array<[string, Tensor]> {
  const seen = new Set<Tensor>();
  const out: Array<[string, Tensor]> = [];
  for (const [name, t] of model.namedParameters()) {
    if (t.rank !== 2 || t.dtype !== 'float32' || seen.has(t)) continue;
    seen.add(t);
    out.push([name, t]);
  }
  return out;
}

/**
 * Quantizes every matrix of `model` but those in `keep` in place (each becomes q·s) and returns each
 * one's per-row scales s. Everything is computed before anything is written, so a weight that is not
 * finite (a NonFiniteError) leaves the model as it was.
 */
export function quantizeMatrices(model: Module, keep: readonly Tensor[] = []): Map<Tensor, Float32Array> {
  const quantized = int8Matrices(model).filter(([, w]) => !keep.includes(w)).map(([name, w]) => {
    const [rows, k] = w.shape as [number, number];
    const values = cpuData(w, name, 'float32');
    const q = new Int8Array(values.length), scales = new Float32Array(rows);
    native().quantizeRows(q, scales, values, rows, k);
    const bad = scales.findIndex((x) => Number.isNaN(x));
    if (bad >= 0) throw new NonFiniteError(`Cannot quantize '${name}': row ${bad} holds a NaN or an infinity`);
    return { w, values: dequantize(q, scales, k), scales };
  });
  for (const { w, values } of quantized) assign(w, values);
  return new Map(quantized.map(({ w, scales }) => [w, scales]));
}

/** q·s per row: the float32 values of int8 rows `q` [rows, k] with scales `s` [rows]. */
export function dequantize(q: ArrayLike<number>, scales: Float32Array, k: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let r = 0; r < scales.length; r++) {
    const s = scales[r]!;
    for (let p = r * k; p < (r + 1) * k; p++) out[p] = q[p]! * s;
  }
  return out;
}

/** The int8 values of rows of dequantized values `w` [rows, k] with scales `s`: exactly the q they came from. */
export function int8Values(w: Float32Array, scales: Float32Array, k: number): Int8Array {
  const q = new Int8Array(w.length);
  for (let r = 0; r < scales.length; r++) {
    const s = scales[r]!;
    if (s === 0) continue;
    for (let p = r * k; p < (r + 1) * k; p++) q[p] = Math.round(w[p]! / s);
  }
  return q;
}
