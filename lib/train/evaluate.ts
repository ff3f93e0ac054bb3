/**
 * Evaluation during training: the validation loss (cross-entropy per target token, without label
 * smoothing, so its exponential is the perplexity) and the corpus BLEU of greedy translations of the first
 * `bleuSamples` validation pairs, decoded with the KV cache (`generate`, off the main thread).
 */
import { noGrad } from '../autograd/tape.js';
import { batchByTokens } from '../data/batch.js';
import { prepareBatch } from '../data/prepare.js';
import { bleu } from '../metrics/bleu.js';
import type { Transformer } from '../nn/transformer.js';
import { crossEntropy } from '../ops/cross_entropy.js';
import { tensor } from '../tensor/create.js';
import type { Pair } from './trainer.js';

export interface Evaluation {
  /** Mean negative log-likelihood per predicted target token (EOS included), no label smoothing. */
  validLoss: number;
  perplexity: number;
  /** Corpus BLEU (0–100) of greedy translations of the first bleuSamples pairs; null when none are asked. */
  bleu: number | null;
}

/** Sources decoded per generate call: sorted by length, so a call's rows finish at about the same step. */
const DECODE_CHUNK = 64;

export async function evaluate(
  model: Transformer, valid: readonly Pair[], o: { batchTokens: number; bleuSamples: number; detokenize: (ids: number[]) => string },
): Promise<Evaluation> {
  const wasTraining = model.training;
  model.eval();
  try {
    const { padId, tgtVocabSize } = model.config;
    let nll = 0, tokens = 0;
    for (const batch of batchByTokens(valid, { batchTokens: o.batchTokens, shuffle: false })) {
      const b = prepareBatch(batch, { padId });
      const logits = noGrad(() => model.forward(tensor(b.src, b.srcShape), tensor(b.tgtIn, b.tgtShape)));
      nll += crossEntropy(logits.reshape([-1, tgtVocabSize]), b.tgtOut, { ignoreIndex: padId }).item() * b.targetTokens;
      tokens += b.targetTokens;
      // Validation of a large set is many batches: let the event loop run between them.
      await new Promise((r) => setImmediate(r));
    }
    const validLoss = nll / tokens;
    let score: number | null = null;
    const sample = valid.slice(0, o.bleuSamples);
    if (sample.length > 0) {
      const order = sample.map((_, i) => i).sort((a, b) => sample[a]![0].length - sample[b]![0].length);
      const hypotheses: string[] = new Array(sample.length);
      for (let c = 0; c < order.length; c += DECODE_CHUNK) {
        const chunk = order.slice(c, c + DECODE_CHUNK);
        const out = await model.generate(chunk.map((i) => Int32Array.from(sample[i]![0])));
        chunk.forEach((i, j) => (hypotheses[i] = o.detokenize(out[j]!)));
      }
      // References without the target's <bos> and <eos>, as generate returns hypotheses.
      score = bleu(hypotheses, sample.map(([, t]) => o.detokenize(t.slice(1, -1)))).score;
    }
    return { validLoss, perplexity: Math.exp(validLoss), bleu: score };
  } finally {
    if (wasTraining) model.train();
  }
}
