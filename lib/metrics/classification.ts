/**
 * Accuracy, and precision / recall / F1 with scikit-learn's semantics (sklearn.metrics.accuracy_score and
 * precision_recall_fscore_support with beta = 1 and zero_division = 0) for single-label classification. The labels
 * are those that occur in `pred` or `gold`, sorted (numbers by value, strings by code point, as numpy sorts them);
 * a ratio with nothing to divide by (a label never predicted has no precision, one never in gold no recall) is 0.
 *
 * @example
 * metrics.precisionRecallF1(['cat', 'pig'], ['cat', 'dog'], { average: 'macro' }) // { precision: 0.333…, … }
 */
import { checkOneOf, checkOptions, describe, fail } from '../check.js';
import { InvalidArgumentError } from '../errors.js';

/** A class label: an integer or a string (one kind within a call, as scikit-learn will not mix them). */
export type ClassLabel = number | string;

/**
 * How per-label scores are combined: 'micro' from the counts summed over labels (for single-label data, precision =
 * recall = F1 = accuracy), 'macro' their plain mean, 'weighted' their mean weighted by each label's count in gold,
 * 'none' not at all (scikit-learn's average=None).
 */
export type ClassificationAverage = 'micro' | 'macro' | 'weighted' | 'none';
const AVERAGES: readonly ClassificationAverage[] = ['micro', 'macro', 'weighted', 'none'];

export interface PrecisionRecallF1Options {
  /** Default 'macro'. */
  readonly average?: ClassificationAverage;
}

export interface PrecisionRecallF1 {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Per-label scores (average 'none'): entry k of each array is for `labels[k]`. */
export interface PerLabelPrecisionRecallF1<L extends ClassLabel = ClassLabel> {
  readonly labels: readonly L[];
  readonly precision: readonly number[];
  readonly recall: readonly number[];
  readonly f1: readonly number[];
}

/** Checks both label arrays: the same non-zero length, and all integers or all strings. */
function checkLabels(pred: unknown, gold: unknown): { pred: readonly ClassLabel[]; gold: readonly ClassLabel[] } {
  if (!Array.isArray(pred) || pred.length === 0) fail('a non-empty array of labels', 'pred', pred);
  if (!Array.isArray(gold) || gold.length !== pred.length) fail(`an array of ${pred.length} labels (one per prediction)`, 'gold', gold);
  let kind: 'number' | 'string' | undefined;
  for (const [name, labels] of [['pred', pred], ['gold', gold]] as const) {
    labels.forEach((v: unknown, i) => {
      const k = typeof v === 'string' ? 'string'
        : Number.isSafeInteger(v) ? 'number'
        : fail('an integer or a string label', `${name}[${i}]`, v);
      if (kind !== undefined && k !== kind) {
        throw new InvalidArgumentError(
          `Expected ${kind === 'number' ? 'integer' : 'string'} labels throughout (scikit-learn rejects a mix) for ${name}[${i}] but received ${describe(v)}`,
        );
      }
      kind = k;
    });
  }
  return { pred, gold };
}

/** Python's order of str: by code point (JavaScript's < compares UTF-16 units, which differs past U+FFFF). */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** The fraction of positions where `pred` equals `gold` (accuracy_score). */
export function accuracy(pred: readonly ClassLabel[], gold: readonly ClassLabel[]): number {
  const l = checkLabels(pred, gold);
  let correct = 0;
  l.pred.forEach((p, i) => {
    if (p === l.gold[i]) correct++;
  });
  return correct / l.pred.length;
}

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);
const f1Of = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/** Precision, recall and F1 of `pred` against `gold`, averaged as `options.average` says (default 'macro'). */
export function precisionRecallF1<L extends ClassLabel>(
  pred: readonly L[], gold: readonly L[], options: PrecisionRecallF1Options & { readonly average: 'none' },
): PerLabelPrecisionRecallF1<L>;
export function precisionRecallF1(
  pred: readonly ClassLabel[], gold: readonly ClassLabel[],
  options?: PrecisionRecallF1Options & { readonly average?: Exclude<ClassificationAverage, 'none'> },
): PrecisionRecallF1;
export function precisionRecallF1(
  pred: readonly ClassLabel[], gold: readonly ClassLabel[], options?: PrecisionRecallF1Options,
): PrecisionRecallF1 | PerLabelPrecisionRecallF1;
export function precisionRecallF1(
  pred: readonly ClassLabel[], gold: readonly ClassLabel[], options?: PrecisionRecallF1Options,
): PrecisionRecallF1 | PerLabelPrecisionRecallF1 {
  const l = checkLabels(pred, gold);
  const o = checkOptions<PrecisionRecallF1Options>(options, 'options', ['average']);
  const average = o.average === undefined ? 'macro' : checkOneOf(o.average, 'options.average', AVERAGES);

  const labels = [...new Set([...l.pred, ...l.gold])].sort((a, b) =>
    typeof a === 'number' ? a - (b as number) : compareCodePoints(a, b as string));
  const index = new Map(labels.map((label, k) => [label, k]));
  const tp = new Array<number>(labels.length).fill(0);
  const predicted = tp.slice();
  const actual = tp.slice();
  l.pred.forEach((p, i) => {
    const g = l.gold[i]!;
    predicted[index.get(p)!]!++;
    actual[index.get(g)!]!++;
    if (p === g) tp[index.get(p)!]!++;
  });

  if (average === 'micro') {
    // Every prediction and every gold label is counted once: both sums are the number of samples.
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    const precision = ratio(sum(tp), sum(predicted));
    const recall = ratio(sum(tp), sum(actual));
    return { precision, recall, f1: f1Of(precision, recall) };
  }
  const precision = tp.map((t, k) => ratio(t, predicted[k]!));
  const recall = tp.map((t, k) => ratio(t, actual[k]!));
  const f1 = precision.map((p, k) => f1Of(p, recall[k]!));
  if (average === 'none') return { labels, precision, recall, f1 };
  const weights = average === 'weighted' ? actual : actual.map(() => 1);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const weighted = (xs: number[]): number => xs.reduce((acc, x, k) => acc + x * weights[k]!, 0) / totalWeight;
  return { precision: weighted(precision), recall: weighted(recall), f1: weighted(f1) };
}
