/**
 * Metrics for generated text and classifiers, each matching a reference tool's numbers: BLEU and chrF as sacreBLEU
 * 2.x, ROUGE as Google's rouge-score, precision / recall / F1 as scikit-learn. See README.md beside this file.
 *
 * @example
 * import { metrics } from 'nodeformer';
 * metrics.bleu(translations, references).score;
 */
export { bleu, type BleuScore, sentenceBleu } from './bleu.js';
export { chrf, type ChrfOptions, type ChrfScore } from './chrf.js';
export {
  accuracy, type ClassificationAverage, type ClassLabel, type PerLabelPrecisionRecallF1, type PrecisionRecallF1, precisionRecallF1,
  type PrecisionRecallF1Options,
} from './classification.js';
export { perplexity } from './perplexity.js';
export { rouge, type RougeOptions, type RougeScore, type RougeScores } from './rouge.js';
