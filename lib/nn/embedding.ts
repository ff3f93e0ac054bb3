/**
 * Token embedding: a table [vocab, dim] whose rows are looked up by int32 ids and multiplied by `scale`
 * (√dModel in the Transformer, §3.4 of the paper: "we multiply those weights by √dModel").
 */
import { embedding } from '../ops/embedding.js';
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly vocabSize: number, readonly dim: number, readonly scale = 1) {
    super();
    this.weight = this.registerParameter('weight', zeros([vocabSize, dim]));
  }

  /** ids [...S] (int32) → [...S, dim]. */
  forward(ids: Tensor): Tensor {
    const e = embedding(this.weight, ids);
    return this.scale === 1 ? e : e.mul(this.scale);
  }
}
