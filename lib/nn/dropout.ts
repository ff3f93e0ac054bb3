/**
 * Dropout as a layer: active in training mode only. Each call draws a fresh mask seed from the model's
 * seeded generator, so a run is reproducible from the model's seed and two calls never share a mask.
 */
import { dropout } from '../ops/dropout.js';
import type { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

export class Dropout extends Module {
  constructor(readonly p: number, private readonly rng: Rng) {
    super();
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    // 53 random bits: the kernel's seed is any integer below 2⁵³.
    const seed = this.rng.nextUint32() * 2 ** 21 + (this.rng.nextUint32() >>> 11);
    return dropout(x, { p: this.p, seed });
  }
}
