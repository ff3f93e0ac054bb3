/**
 * ROUGE-1, ROUGE-2 and ROUGE-L (Lin, 2004) as Google's rouge-score computes them (rouge_scorer.py, tokenize.py) for
 * each hypothesis against its reference, then averaged over the sentences. Its default tokenizer lower-cases, keeps
 * the runs of a–z and 0–9 as tokens (every other character separates), and with `stem` reduces each token longer
 * than 3 characters with NLTK's Porter stemmer. ROUGE-N counts clipped n-gram matches; ROUGE-L takes the longest
 * common subsequence of the two token lists. Scores are in 0–1.
 *
 * @example
 * metrics.rouge(['the cat sat'], ['the cat sat down']).rouge1 // { precision: 1, recall: 0.75, f: 0.857… }
 */
import { checkBoolean, checkOptions } from '../check.js';
import { checkHypotheses, checkReferences } from './inputs.js';
import { countOf, matchesOf, ngramCounts } from './ngrams.js';
import { porterStem } from './porter.js';

export interface RougeOptions {
  /** Porter-stem tokens longer than 3 characters, as rouge-score's `use_stemmer=True` (default false). */
  readonly stem?: boolean;
}

export interface RougeScore {
  readonly precision: number;
  readonly recall: number;
  /** F1: the harmonic mean of precision and recall, 0 when both are 0. */
  readonly f: number;
}

export interface RougeScores {
  readonly rouge1: RougeScore;
  readonly rouge2: RougeScore;
  readonly rougeL: RougeScore;
}

/**
 * tokenize.tokenize: lower-case, then the a–z0–9 runs. Lower-casing first matters beyond ASCII: 'İ' becomes 'i' and a
 * combining dot, and the Kelvin sign 'K' becomes 'k', in JavaScript as in Python. A stem of such a token is never
 * empty, so rouge-score's final filter of empty tokens drops nothing here.
 */
function tokensOf(text: string, stem: boolean): string[] {
  const tokens = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return stem ? tokens.map((t) => (t.length > 3 ? porterStem(t) : t)) : tokens;
}

/** scoring.fmeasure. */
function scoreOf(precision: number, recall: number): RougeScore {
  return { precision, recall, f: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}

/** _score_ngrams: clipped matches over the hypothesis' and the reference's n-gram counts (each at least 1). */
function ngramScore(ref: readonly string[], hyp: readonly string[], n: number): RougeScore {
  const refCounts = ngramCounts(ref, n, ' ');
  const hypCounts = ngramCounts(hyp, n, ' ');
  const matches = matchesOf(refCounts, hypCounts);
  return scoreOf(matches / Math.max(countOf(hypCounts), 1), matches / Math.max(countOf(refCounts), 1));
}

/** The length of the longest common subsequence, by the usual dynamic programme kept to two rows. */
function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (const x of a) {
    for (let j = 1; j <= b.length; j++) cur[j] = x === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** _score_lcs: all zero when either side has no token. */
function lcsScore(ref: readonly string[], hyp: readonly string[]): RougeScore {
  if (ref.length === 0 || hyp.length === 0) return scoreOf(0, 0);
  const lcs = lcsLength(ref, hyp);
  return scoreOf(lcs / hyp.length, lcs / ref.length);
}

const mean = (scores: readonly RougeScore[]): RougeScore => {
  let p = 0, r = 0, f = 0;
  for (const s of scores) {
    p += s.precision;
    r += s.recall;
    f += s.f;
  }
  return { precision: p / scores.length, recall: r / scores.length, f: f / scores.length };
};

/** The mean over sentences of rouge-score's ROUGE-1, ROUGE-2 and ROUGE-L of `hypotheses[i]` against `references[i]`. */
export function rouge(hypotheses: readonly string[], references: readonly string[], options?: RougeOptions): RougeScores {
  const hyps = checkHypotheses(hypotheses, 'hypotheses');
  const refs = checkReferences(references, 'references', hyps.length);
  const o = checkOptions<RougeOptions>(options, 'options', ['stem']);
  const stem = o.stem === undefined ? false : checkBoolean(o.stem, 'options.stem');
  const r1: RougeScore[] = [], r2: RougeScore[] = [], rl: RougeScore[] = [];
  hyps.forEach((h, i) => {
    const hyp = tokensOf(h, stem);
    const ref = tokensOf(refs[i]!, stem);
    r1.push(ngramScore(ref, hyp, 1));
    r2.push(ngramScore(ref, hyp, 2));
    rl.push(lcsScore(ref, hyp));
  });
  return { rouge1: mean(r1), rouge2: mean(r2), rougeL: mean(rl) };
}
