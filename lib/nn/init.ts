/**
 * Seeded initialisers (in place), with the fan conventions of torch.nn.init for a weight [out, in]:
 * fanIn = in, fanOut = out.
 */
import { assign, type Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';

let skipping = 0;

/**
 * @internal Builds a module with its initialisers skipped (parameters left at zero): for a model whose
 * weights are about to be replaced (the decoding worker adopting shared weights), where drawing them
 * would cost seconds for nothing. Synchronous, like noGrad.
 */
export function withoutInit<T>(build: () => T): T {
  skipping++;
  try {
    return build();
  } finally {
    skipping--;
  }
}

// Drawn on the host (the same numbers on every device), then written into t wherever it lives.
function fill(t: Tensor, rng: Rng, bound: number): void {
  if (skipping > 0) return;
  const values = new Float32Array(t.size);
  rng.fillUniform(values, -bound, bound);
  assign(t, values);
}

/** U(−a, a) with a = √(6 / (fanIn + fanOut)): Glorot & Bengio (2010), as the PyTorch tutorial uses. */
export function xavierUniform(t: Tensor, rng: Rng): void {
  const [fanOut, fanIn] = t.shape as [number, number];
  fill(t, rng, Math.sqrt(6 / (fanIn + fanOut)));
}

/** U(−1/√fanIn, 1/√fanIn): PyTorch's default for a Linear layer's weight and bias. */
export function uniformFanIn(t: Tensor, rng: Rng, fanIn: number): void {
  fill(t, rng, 1 / Math.sqrt(fanIn));
}
