/**
 * A model's decoder weights packed once for the CPU decode GEMM (native matmulPack: panels of 16 output
 * columns streamed contiguously, native/kernels/matmul_packed.h). A decode step multiplies a few rows by
 * every weight; packed, the GEMM reads each weight as one stream (1.05–2× oneDNN at the decode shapes).
 * A quantized model's weights are packed as int8 instead (matmulInt8Pack, native/kernels/matmul_int8.h),
 * from the int8 values that the weights and their scales give back exactly (lib/quantize/int8.ts).
 *
 * Packs live as long as the model and cost as much memory as the weights they copy. They are rebuilt
 * when the weights were written since they were made (an optimiser step, loadStateDict: see
 * writeGeneration) or replaced (a move between devices); a GPU model is never packed.
 */
import { native } from '../native/binding.js';
import { int8Values } from '../quantize/int8.js';
import type { Transformer } from '../nn/transformer.js';
import { type F32, type Tensor, data } from '../tensor/tensor.js';

interface Pack<P> {
  /** The weight's storage it was made from. */
  source: F32;
  packed: P;
}

/** An int8 weight as the int8 GEMM takes it: packed values and the rows' scales. */
export interface Int8Pack {
  packed: Int8Array;
  scales: Float32Array;
}

const packs = new WeakMap<Transformer, { generation: number; byWeight: Map<string, Pack<Float32Array | Int8Pack>> }>();

/**
 * A packer for `model`'s weights as of write generation `generation`: rows [from, from + n) of weight
 * `w` [·, k] (named `name`, unique per model) packed, from the cache when still valid.
 */
export function weightPacker(model: Transformer, generation: number): (name: string, w: Tensor, from: number, n: number, k: number) => Float32Array {
  return packer(model, generation, (source, n, k) => {
    const packed = new Float32Array(native().matmulPackedSize(n, k));
    native().matmulPack(packed, source, n, k);
    return packed;
  });
}

/** The same for a quantized model's matrix `w` with per-row `scales` (rows [from, from + n) of both). */
export function int8Packer(model: Transformer, generation: number): (name: string, w: Tensor, from: number, n: number, k: number) => Int8Pack {
  return packer(model, generation, (source, n, k, w, from) => {
    const scales = model.int8Scales(w)!.slice(from, from + n);
    const packed = new Int8Array(native().matmulInt8PackedBytes(n, k));
    native().matmulInt8Pack(packed, int8Values(source, scales, k), n, k);
    return { packed, scales };
  });
}

function packer<P extends Float32Array | Int8Pack>(
  model: Transformer, generation: number, make: (source: Float32Array, n: number, k: number, w: Tensor, from: number) => P,
): (name: string, w: Tensor, from: number, n: number, k: number) => P {
  let entry = packs.get(model);
  if (entry === undefined || entry.generation !== generation) {
    entry = { generation, byWeight: new Map() };
    packs.set(model, entry);
  }
  const { byWeight } = entry;
  return (name, w, from, n, k) => {
    const source = data(w, name, 'float32');
    const hit = byWeight.get(name);
    if (hit !== undefined && hit.source === source) return hit.packed as P;
    const packed = make(source.subarray(from * k, (from + n) * k) as Float32Array, n, k, w, from);
    byWeight.set(name, { source, packed });
    return packed;
  };
}
