/**
 * Perplexity from a mean negative log-likelihood per token (natural log, as ops.crossEntropy's mean loss): e^meanNll.
 *
 * @example
 * metrics.perplexity(Math.log(50)) // 50: as uncertain as a uniform choice among 50 tokens
 */
import { checkNumber } from '../check.js';

export function perplexity(meanNll: number): number {
  return Math.exp(checkNumber(meanNll, 'meanNll'));
}
