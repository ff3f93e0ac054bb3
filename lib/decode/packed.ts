/**
 * A model's decoder weights packed once for the CPU decode GEMM (native matmulPack: panels of 16 output
 * columns streamed contiguously, native/kernels/matmul_packed.h). A decode step multiplies a few rows by
 * every weight; packed, the GEMM reads each weight as one stream (1.05–2× oneDNN at the decode shapes).
 *
 * Packs live as long as the model and cost as much memory as the weights they copy. They are rebuilt
 * when the weights were written since they were made (an optimiser step, loadStateDict: see
 * writeGeneration) or replaced (a move between devices); a GPU model is never packed.
 */
import { native } from '../native/binding.js';
import type { Transformer } from '../nn/transformer.js';
import { type F32, type Tensor, data } from '../tensor/tensor.js';

interface Pack {
  /** The weight's storage it was made from. */
  source: F32;
  packed: Float32Array;
}

const packs = new WeakMap<Transformer, { generation: number; byWeight: Map<string, Pack> }>();

/**
 * A packer for `model`'s weights as of write generation `generation`: rows [from, from + n) of weight
 * `w` [·, k] (named `name`, unique per model) packed, from the cache when still valid.
 */
export function weightPacker(model: Transformer, generation: number): (name: string, w: Tensor, from: number, n: number, k: number) => Float32Array {
  let entry = packs.get(model);
  if (entry === undefined || entry.generation !== generation) {
    entry = { generation, byWeight: new Map() };
    packs.set(model, entry);
  }
  const { byWeight } = entry;
  return (name, w, from, n, k) => {
    const source = data(w, name, 'float32');
    const hit = byWeight.get(name);
    if (hit !== undefined && hit.source === source) return hit.packed;
    const packed = new Float32Array(native().matmulPackedSize(n, k));
    native().matmulPack(packed, source.subarray(from * k, (from + n) * k), n, k);
    byWeight.set(name, { source, packed });
    return packed;
  };
}
