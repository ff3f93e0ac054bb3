/**
 * chrF (Popović, 2015) and chrF++ (Popović, 2017) as sacreBLEU 2.x computes them (sacrebleu/metrics/chrf.py) with
 * its defaults: character n-grams up to 6 over the segment with all whitespace removed, β = 2, case kept, and with
 * `wordOrder` > 0 word n-grams too (2 is chrF++), over words split on whitespace with one punctuation mark cut off
 * either end. Against several references a segment takes the statistics of the one it scores best on; the
 * statistics are summed over the corpus, then scored once.
 *
 * @example
 * metrics.chrf(['The dog bit the man.'], ['The dog had bit the man.']).score
 */
import { checkInteger, checkOptions } from '../check.js';
import { checkHypotheses, checkReferenceSets } from './inputs.js';
import { countOf, matchesOf, ngramCounts } from './ngrams.js';
import { pySplit } from './python_str.js';

const CHAR_ORDER = 6;
const BETA = 2;

export interface ChrfOptions {
  /** Word n-gram orders added to the 6 character orders: 0 (default) is chrF, 2 is chrF++. */
  readonly wordOrder?: number;
}

export interface ChrfScore {
  /** chrF on 0–100. */
  readonly score: number;
}

// Python's string.punctuation, which CHRF._remove_punctuation cuts off words.
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/**
 * CHRF._remove_punctuation: a word of more than one character loses a punctuation mark at its end into a word of its
 * own, or else one at its start (so '(hi)' gives '(hi' and ')').
 */
function wordsOf(segment: string): string[] {
  const words: string[] = [];
  for (const w of pySplit(segment)) {
    const chars = Array.from(w);
    if (chars.length === 1) words.push(w);
    else if (PUNCTUATION.has(chars[chars.length - 1]!)) words.push(chars.slice(0, -1).join(''), chars[chars.length - 1]!);
    else if (PUNCTUATION.has(chars[0]!)) words.push(chars[0]!, chars.slice(1).join(''));
    else words.push(w);
  }
  return words;
}

/** The n-gram counts of every order: characters (code points, whitespace removed) 1…6, then words 1…wordOrder. */
function ngramsOf(segment: string, wordOrder: number): Array<Map<string, number>> {
  const chars = Array.from(pySplit(segment).join(''));
  const out = Array.from({ length: CHAR_ORDER }, (_, i) => ngramCounts(chars, i + 1, ''));
  if (wordOrder > 0) {
    const words = wordsOf(segment);
    for (let n = 1; n <= wordOrder; n++) out.push(ngramCounts(words, n, ' '));
  }
  return out;
}

/**
 * CHRF._compute_f_score without eps smoothing (sacreBLEU's default): precision and recall are averaged over the
 * orders that both sides have n-grams of (the "effective order"), then combined into one F-β score.
 */
function fScore(stats: readonly number[]): number {
  const factor = BETA ** 2;
  let avgPrec = 0;
  let avgRec = 0;
  let effectiveOrder = 0;
  for (let i = 0; i < stats.length; i += 3) {
    const [nHyp, nRef, nMatch] = [stats[i]!, stats[i + 1]!, stats[i + 2]!];
    if (nHyp > 0 && nRef > 0) {
      avgPrec += nMatch / nHyp;
      avgRec += nMatch / nRef;
      effectiveOrder++;
    }
  }
  if (effectiveOrder === 0) return 0;
  avgPrec /= effectiveOrder;
  avgRec /= effectiveOrder;
  if (avgPrec + avgRec === 0) return 0;
  return 100 * (((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec));
}

/** [hyp n-grams, ref n-grams, matches] per order; a hypothesis' n-grams of an order the reference lacks count 0. */
function matchStats(hyp: ReadonlyArray<Map<string, number>>, ref: ReadonlyArray<Map<string, number>>): number[] {
  return hyp.flatMap((h, n) => {
    const r = ref[n]!;
    return [r.size > 0 ? countOf(h) : 0, countOf(r), matchesOf(h, r)];
  });
}

/** Corpus chrF (or chrF++ with `wordOrder: 2`) of `hypotheses` against `references[i]`, one or several per hypothesis. */
export function chrf(
  hypotheses: readonly string[], references: ReadonlyArray<string | readonly string[]>, options?: ChrfOptions,
): ChrfScore {
  const hyps = checkHypotheses(hypotheses, 'hypotheses');
  const refs = checkReferenceSets(references, 'references', hyps.length);
  const o = checkOptions<ChrfOptions>(options, 'options', ['wordOrder']);
  const wordOrder = o.wordOrder === undefined ? 0 : checkInteger(o.wordOrder, 'options.wordOrder');
  const totals = new Array<number>(3 * (CHAR_ORDER + wordOrder)).fill(0);
  hyps.forEach((h, i) => {
    const hyp = ngramsOf(h, wordOrder);
    // The first reference with the strictly best sentence score wins (CHRF._compute_segment_statistics).
    let best: number[] = [];
    let bestScore = -1;
    for (const r of refs[i]!) {
      const stats = matchStats(hyp, ngramsOf(r, wordOrder));
      const score = fScore(stats);
      if (score > bestScore) [best, bestScore] = [stats, score];
    }
    best.forEach((v, k) => (totals[k]! += v));
  });
  return { score: fScore(totals) };
}
