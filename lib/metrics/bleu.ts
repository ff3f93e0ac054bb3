/**
 * BLEU (Papineni et al., 2002) as sacreBLEU 2.x computes it (sacrebleu/metrics/bleu.py) with its defaults: the '13a'
 * tokenisation of each segment (right-stripped first), case kept, n-grams up to 4 with each n-gram's count clipped
 * by its largest count in any one reference, the reference length closest to each hypothesis, exponential
 * smoothing ('exp', mteval-v13a's), and statistics summed over the corpus before the score is taken.
 *
 * @example
 * metrics.bleu(['The dog bit the man.'], [['The dog bit the man.', 'The dog had bit the man.']]).score // ≈ 100
 */
import { fail } from '../check.js';
import { checkHypotheses, checkReferenceSet, checkReferenceSets } from './inputs.js';
import { countOf, matchesOf, ngramCounts } from './ngrams.js';
import { pyRstrip } from './python_str.js';
import { tokenize13a } from './tokenize_13a.js';

const MAX_ORDER = 4;

export interface BleuScore {
  /** BLEU on 0–100. */
  readonly score: number;
  /** The clipped n-gram precisions for n = 1…4 in percent, smoothed where nothing matched (0 where nothing was counted). */
  readonly precisions: readonly [number, number, number, number];
  /** The brevity penalty: exp(1 − refLen / hypLen) when the hypotheses are shorter than the references, else 1. */
  readonly bp: number;
  /** hypLen / refLen, or 0 when refLen is 0. */
  readonly ratio: number;
  /** The number of hypothesis tokens. */
  readonly hypLen: number;
  /** The sum over hypotheses of the length of the reference closest to it in length (the shorter one on a tie). */
  readonly refLen: number;
}

/** The sufficient statistics, summed over segments: lengths, and matched and total n-grams of each order. */
interface Stats {
  hypLen: number;
  refLen: number;
  readonly correct: number[];
  readonly total: number[];
}

const tokensOf = (segment: string): string[] => tokenize13a(pyRstrip(segment));

const ngramsOf = (tokens: readonly string[]): Array<Map<string, number>> =>
  Array.from({ length: MAX_ORDER }, (_, i) => ngramCounts(tokens, i + 1, ' '));

/** BLEU._get_closest_ref_len: the reference length nearest the hypothesis length, the smaller one on a tie. */
function closestLength(hypLen: number, refLens: readonly number[]): number {
  let best = refLens[0]!;
  for (const len of refLens) {
    const d = Math.abs(hypLen - len);
    const bestD = Math.abs(hypLen - best);
    if (d < bestD || (d === bestD && len < best)) best = len;
  }
  return best;
}

function addSegment(stats: Stats, hypothesis: string, references: readonly string[]): void {
  const refTokens = references.map(tokensOf);
  // One count per n-gram: its largest count in any single reference (BLEU._extract_reference_info).
  const refNgrams = ngramsOf(refTokens[0]!);
  for (const tokens of refTokens.slice(1)) {
    ngramsOf(tokens).forEach((counts, n) => {
      for (const [key, c] of counts) refNgrams[n]!.set(key, Math.max(c, refNgrams[n]!.get(key) ?? 0));
    });
  }
  const hypTokens = tokensOf(hypothesis);
  stats.hypLen += hypTokens.length;
  stats.refLen += closestLength(hypTokens.length, refTokens.map((t) => t.length));
  ngramsOf(hypTokens).forEach((counts, n) => {
    stats.total[n]! += countOf(counts);
    stats.correct[n]! += matchesOf(counts, refNgrams[n]!);
  });
}

/** sacreBLEU's my_log: log, with log 0 floored to −9999999999 so that a zero precision gives a zero score. */
const flooredLog = (x: number): number => (x === 0 ? -9999999999 : Math.log(x));

/**
 * BLEU.compute_bleu with 'exp' smoothing: each order with no match gets 100 / (2^k · total), k counting such orders
 * so far. With `effectiveOrder` (sentence BLEU), the mean runs only over the orders the hypothesis has n-grams of.
 */
function scoreOf(stats: Stats, effectiveOrder: boolean): BleuScore {
  const { hypLen, refLen, correct, total } = stats;
  const bp = hypLen < refLen ? (hypLen > 0 ? Math.exp(1 - refLen / hypLen) : 0) : 1;
  const precisions: [number, number, number, number] = [0, 0, 0, 0];
  const result = (score: number): BleuScore => ({ score, precisions, bp, ratio: refLen ? hypLen / refLen : 0, hypLen, refLen });
  // No match of any order scores 0 outright, however it would be smoothed (sacreBLEU #141).
  if (!correct.some((c) => c > 0)) return result(0);
  let smooth = 1;
  let order = MAX_ORDER;
  for (let n = 1; n <= MAX_ORDER; n++) {
    if (total[n - 1] === 0) break;
    if (effectiveOrder) order = n;
    if (correct[n - 1] === 0) {
      smooth *= 2;
      precisions[n - 1] = 100 / (smooth * total[n - 1]!);
    } else {
      precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
    }
  }
  let logSum = 0;
  for (const p of precisions.slice(0, order)) logSum += flooredLog(p);
  return result(bp * Math.exp(logSum / order));
}

const emptyStats = (): Stats => ({
  hypLen: 0, refLen: 0, correct: new Array<number>(MAX_ORDER).fill(0), total: new Array<number>(MAX_ORDER).fill(0),
});

/**
 * Corpus BLEU of `hypotheses` against `references[i]`, the reference (or array of references) of `hypotheses[i]`:
 * sacreBLEU's `corpus_bleu(hypotheses, reference streams)`. An empty reference string counts as missing.
 */
export function bleu(hypotheses: readonly string[], references: ReadonlyArray<string | readonly string[]>): BleuScore {
  const hyps = checkHypotheses(hypotheses, 'hypotheses');
  const refs = checkReferenceSets(references, 'references', hyps.length);
  const stats = emptyStats();
  hyps.forEach((h, i) => addSegment(stats, h, refs[i]!));
  return scoreOf(stats, false);
}

/**
 * BLEU of one sentence: sacreBLEU's `sentence_bleu`, which is corpus BLEU of that one segment with the effective
 * order (the geometric mean over only the n-gram orders the hypothesis has), so that a short sentence is not 0.
 */
export function sentenceBleu(hypothesis: string, references: string | readonly string[]): BleuScore {
  if (typeof hypothesis !== 'string') fail('a string', 'hypothesis', hypothesis);
  const refs = checkReferenceSet(references, 'references');
  const stats = emptyStats();
  addSegment(stats, hypothesis, refs);
  return scoreOf(stats, true);
}
