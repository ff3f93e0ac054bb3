/**
 * Cross-attention maps (`returnAttention`): which source tokens each emitted token attended to, the
 * alignment of §3.2.3 that a person can look at. The incremental decoder computes each asked row's
 * softmax(q·Kᵀ/√dₕ) beside the fused kernel (which keeps no weights), per layer and head; a hypothesis
 * collects one [layers, H, Lₛ] block per token it emits.
 */

/** Weights [layers, heads, target, source], row-major: every (layer, head, target) row sums to 1. */
export interface AttentionMap {
  layers: number;
  heads: number;
  /** Emitted tokens (the hypothesis's ids; no EOS). */
  target: number;
  /** Source tokens (BOS and EOS included when the source has them). */
  source: number;
  weights: Float32Array;
}

/** The map of a hypothesis from its tokens' blocks, each [layers, heads, source]. */
export function attentionMap(steps: readonly Float32Array[], layers: number, heads: number): AttentionMap {
  const target = steps.length, blocks = layers * heads;
  const source = target === 0 ? 0 : steps[0]!.length / blocks;
  const weights = new Float32Array(blocks * target * source);
  steps.forEach((step, t) => {
    for (let b = 0; b < blocks; b++) weights.set(step.subarray(b * source, (b + 1) * source), (b * target + t) * source);
  });
  return { layers, heads, target, source, weights };
}
