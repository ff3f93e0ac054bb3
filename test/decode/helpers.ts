// Shared by the decoding tests: random models whose outputs vary, and references that share no code with
// lib/decode: the model's own full forward (teacher forcing), log-softmax in float64, a no-cache greedy loop.
import { noGrad, randn, tensor, Transformer, type TransformerConfig } from '../../lib/index.js';

export const BOS = 1, EOS = 2;

/**
 * A model with every weight drawn from N(0, std²) (not Xavier), so that its next tokens vary; `eosBoost`
 * is added to EOS's generator bias (hypotheses that end early).
 */
export function randomModel(config: TransformerConfig, seed: number, std = 0.35, eosBoost = 0): Transformer {
  const model = new Transformer({ dropout: 0, ...config, seed });
  let i = 0;
  const state = new Map([...model.stateDict()].map(([name, t]) =>
    [name, name.startsWith('positionalEncoding') ? t : randn(t.shape, { seed: seed * 1000 + i++, std })] as const));
  if (eosBoost !== 0) {
    const bias = state.get('generator.bias')!.toFloat32Array();
    bias[EOS]! += eosBoost;
    state.set('generator.bias', tensor(bias, [bias.length]));
  }
  model.loadStateDict(state);
  return model.eval();
}

/** log-softmax of each [V] row of `logits`, in float64. */
export function logSoftmax(logits: Float32Array, v: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / v; r++) {
    const row = logits.subarray(r * v, (r + 1) * v);
    const m = Math.max(...row);
    let z = 0;
    for (const x of row) z += Math.exp(x - m);
    for (let j = 0; j < v; j++) out[r * v + j] = row[j]! - m - Math.log(z);
  }
  return out;
}

/** The model's log-probabilities [t + 1, V] after BOS + `ids`, by its full forward. */
export function teacherLogProbs(model: Transformer, src: Int32Array, ids: readonly number[]): Float64Array {
  const logits = noGrad(() => model.forward([src], [Int32Array.from([BOS, ...ids])])).toFloat32Array();
  return logSoftmax(logits, model.config.tgtVocabSize);
}

/** The model's log-probability of emitting `ids` (then EOS when `eos`). */
export function sequenceLogProb(model: Transformer, src: Int32Array, ids: readonly number[], eos: boolean): number {
  const v = model.config.tgtVocabSize;
  const lp = teacherLogProbs(model, src, ids);
  let sum = 0;
  ids.forEach((id, t) => { sum += lp[t * v + id]!; });
  return eos ? sum + lp[ids.length * v + EOS]! : sum;
}

/** Greedy decoding by re-running the full decoder over the prefix at every step (no cache). */
export function greedyNoCache(model: Transformer, src: Int32Array, maxLength: number): number[] {
  const v = model.config.tgtVocabSize;
  const ids: number[] = [];
  for (let t = 0; t < maxLength; t++) {
    const lp = teacherLogProbs(model, src, ids).subarray(t * v, (t + 1) * v);
    let best = 0;
    for (let j = 1; j < v; j++) if (lp[j]! > lp[best]!) best = j;
    if (best === EOS) break;
    ids.push(best);
  }
  return ids;
}

export const seq = (...ids: number[]) => Int32Array.from(ids);
