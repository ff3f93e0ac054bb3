/**
 * The model's weights as operands of the native kernels, shared by the incremental decoder and the
 * source encoder of a decode: projections (packed once per model on the CPU, where the packed GEMM gives
 * every output element one fma chain whatever the row count, so a row's result never depends on the
 * rows beside it) and LayerNorm parameters.
 */
import { native } from '../native/binding.js';
import type { LayerNorm } from '../nn/layer_norm.js';
import type { Transformer } from '../nn/transformer.js';
import { DeviceArray, download } from '../tensor/device_array.js';
import { data, type F32, type Tensor } from '../tensor/tensor.js';
import { type Int8Pack, int8Packer, weightPacker } from './packed.js';

/**
 * y = x·Wᵀ (+ b) for W [n, k]: the weight as stored, and packed for the CPU (null on the GPU): as float32,
 * or as int8 for a quantized model.
 */
export interface Projection {
  w: F32;
  b: F32 | null;
  packed: Float32Array | null;
  int8: Int8Pack | null;
  n: number;
  k: number;
}

export interface Norm {
  gamma: F32;
  beta: F32;
  eps: number;
}

export const weight = (t: Tensor): F32 => data(t, 'weight', 'float32');

export const norm = (n: LayerNorm): Norm => ({ gamma: weight(n.weight), beta: weight(n.bias), eps: n.eps });

/**
 * A factory of `model`'s projections as of weight generation `generation`: rows [from, from + n) of
 * weight w [·, k] (and of its bias), packed under `name` (unique per model) on the CPU.
 */
export function projections(model: Transformer, generation: number) {
  const cpu = model.device === 'cpu';
  const pack = cpu ? weightPacker(model, generation) : null;
  const pack8 = cpu && model.quantization === 'int8' ? int8Packer(model, generation) : null;
  return (name: string, w: Tensor, b: Tensor | null, k: number, from = 0, n = w.shape[0]! - from): Projection => {
    // A quantized model's matrices are int8 but for those quantize() kept in float32 (no scales).
    const int8 = pack8 !== null && model.int8Scales(w) !== null;
    return {
      w: weight(w).subarray(from * k, (from + n) * k), b: b === null ? null : weight(b).subarray(from, from + n),
      packed: pack === null || int8 ? null : pack(name, w, from, n, k), int8: int8 ? pack8(name, w, from, n, k) : null, n, k,
    };
  };
}

/** out [rows, n] = x [rows, k]·Wᵀ (+ b): against the packed weight on the CPU (int8 or float32). */
export function linear(out: F32, x: F32, rows: number, p: Projection): F32 {
  if (p.int8 !== null) native().matmulInt8Forward(out as Float32Array, x as Float32Array, p.int8.packed, p.int8.scales, rows, p.k, p.n, p.b);
  else if (p.packed !== null) native().matmulPackedForward(out, x, p.packed, rows, p.k, p.n, 1, null, p.b);
  else native().matmulForward(out, x, p.w, rows, p.k, p.n, false, true, false, 1, null, null, p.b);
  return out;
}

/** y = LN(x + residual) (or LN(x)) over `rows` rows of d; `sum`, `mean`, `rstd`: scratch. */
export function layerNorm(y: F32, x: F32, residual: F32 | null, nm: Norm, rows: number, d: number, scratch: { sum: F32; mean: F32; rstd: F32 }): F32 {
  native().layerNormForward(y, residual === null ? null : scratch.sum, scratch.mean, scratch.rstd, x, residual, nm.gamma, nm.beta, rows, d, nm.eps);
  return y;
}

/** The host elements of storage: itself on the CPU, a download from the GPU. */
export function host(d: F32): Float32Array {
  return d instanceof DeviceArray ? (download(d) as Float32Array) : d;
}
