/**
 * Sinusoidal positional encoding (§3.5 of the paper): PE(pos, 2i) = sin(pos / 10000^(2i/d)),
 * PE(pos, 2i+1) = cos(pos / 10000^(2i/d)), added to the embeddings, then dropout. The table [maxLength, d]
 * is a buffer (saved with the model, not trained) computed in float64 and rounded once; a model loaded
 * from PyTorch keeps PyTorch's float32-computed table instead, so its logits match.
 */
import { ShapeError } from '../errors.js';
import { sliceRows } from '../ops/shape.js';
import type { Rng } from '../tensor/random.js';
import { backend } from '../backend.js';
import { onDevice, Tensor } from '../tensor/tensor.js';
import { Dropout } from './dropout.js';
import { Module } from './module.js';

/** The [maxLength, dim] sinusoid table, on the default device (as the parameters of a new module). */
export function sinusoidTable(maxLength: number, dim: number): Tensor {
  const t = new Float32Array(maxLength * dim);
  for (let pos = 0; pos < maxLength; pos++) {
    for (let i = 0; i < dim; i += 2) {
      const angle = pos * Math.exp((-i * Math.log(10000)) / dim);
      t[pos * dim + i] = Math.sin(angle);
      if (i + 1 < dim) t[pos * dim + i + 1] = Math.cos(angle);
    }
  }
  return new Tensor(onDevice(t, backend.getDevice()), Object.freeze([maxLength, dim]));
}

export class PositionalEncoding extends Module {
  readonly table: Tensor;
  readonly dropout: Dropout;

  constructor(readonly dim: number, readonly maxLength: number, p: number, rng: Rng) {
    super();
    this.table = this.registerBuffer('table', sinusoidTable(maxLength, dim));
    this.dropout = this.registerModule('dropout', new Dropout(p, rng));
  }

  /** x [B, L, dim] + PE[offset … offset + L), then dropout. `offset` is the first position (decoding step). */
  forward(x: Tensor, offset = 0): Tensor {
    const length = x.shape[1]!;
    if (offset + length > this.maxLength) {
      throw new ShapeError(`Expected sequences of at most maxLength ${this.maxLength} positions but received ${offset + length}`);
    }
    return this.dropout.forward(x.add(sliceRows(this.table, offset, length)));
  }
}
