// Accuracy and precision / recall / F1 against scikit-learn: the numbers its docstrings print, then classification.json
// (scikit-learn's own accuracy_score and precision_recall_fscore_support with zero_division=0, from python3-sklearn):
// labels only in gold or only in pred, negative integers, strings whose code-point order differs from UTF-16's, and 30
// random cases, with every average.
// Tolerance: docstring numbers to the digits printed; fixtures 1e-12 (numpy's pairwise sums add in another order).
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { accuracy, type ClassLabel, precisionRecallF1 } from '../../lib/metrics/classification.js';
import { expectClose, fixture } from './fixtures.js';

const TOL = 1e-12;

interface Case {
  name: string;
  pred: ClassLabel[];
  gold: ClassLabel[];
  accuracy: number;
  micro: number[];
  macro: number[];
  weighted: number[];
  none: { labels: ClassLabel[]; precision: number[]; recall: number[]; f1: number[] };
}
const { cases } = fixture<{ cases: Case[] }>('classification.json');

const triple = (s: { precision: number; recall: number; f1: number }): number[] => [s.precision, s.recall, s.f1];
const fixed = (xs: readonly number[], digits: number): string[] => xs.map((x) => x.toFixed(digits));

describe('classification: scikit-learn docstring examples', () => {
  it('accuracy_score([0, 1, 2, 3], [0, 2, 1, 3]) = 0.5', () => {
    expect(accuracy([0, 2, 1, 3], [0, 1, 2, 3])).toBe(0.5);
  });

  it('precision_recall_fscore_support on cat / dog / pig', () => {
    const gold = ['cat', 'dog', 'pig', 'cat', 'dog', 'pig'];
    const pred = ['cat', 'pig', 'dog', 'cat', 'cat', 'dog'];
    expect(fixed(triple(precisionRecallF1(pred, gold, { average: 'macro' })), 2)).toEqual(['0.22', '0.33', '0.27']); // 0.22…, 0.33…, 0.26…
    expect(fixed(triple(precisionRecallF1(pred, gold, { average: 'micro' })), 2)).toEqual(['0.33', '0.33', '0.33']);
    expect(fixed(triple(precisionRecallF1(pred, gold, { average: 'weighted' })), 2)).toEqual(['0.22', '0.33', '0.27']);
    const none = precisionRecallF1(pred, gold, { average: 'none' });
    expect(none.labels).toEqual(['cat', 'dog', 'pig']);
    expect([fixed(none.precision, 2), none.recall, none.f1]).toEqual([['0.67', '0.00', '0.00'], [1, 0, 0], [0.8, 0, 0]]);
  });

  it('f1_score, precision_score, recall_score on 0 / 1 / 2, and labels found only in gold', () => {
    const gold = [0, 1, 2, 0, 1, 2];
    const pred = [0, 2, 1, 0, 0, 1];
    expect(precisionRecallF1(pred, gold, { average: 'none' }).f1).toEqual([0.8, 0, 0]);
    expect(precisionRecallF1(pred, gold, { average: 'none' }).recall).toEqual([1, 0, 0]);
    expect(fixed([precisionRecallF1(pred, gold).f1], 5)).toEqual(['0.26667']); // macro by default
    expect(precisionRecallF1([0, 0, 0, 0, 0, 0], gold, { average: 'none' }).precision.map((p) => p.toFixed(2))).toEqual(['0.33', '0.00', '0.00']);
    expect(precisionRecallF1(pred, [0, 0, 0, 0, 0, 0], { average: 'none' }).recall).toEqual([0.5, 0, 0]);
  });
});

describe('classification: scikit-learn fixtures', () => {
  for (const c of cases) {
    it(c.name, () => {
      expectClose([accuracy(c.pred, c.gold)], [c.accuracy], TOL, 'accuracy');
      for (const average of ['micro', 'macro', 'weighted'] as const) {
        expectClose(triple(precisionRecallF1(c.pred, c.gold, { average })), c[average], TOL, average);
      }
      const none = precisionRecallF1(c.pred, c.gold, { average: 'none' });
      expect(none.labels).toEqual(c.none.labels);
      expectClose([...none.precision, ...none.recall, ...none.f1], [...c.none.precision, ...c.none.recall, ...c.none.f1], TOL, 'per label');
    });
  }
});

describe('classification: arguments', () => {
  it('rejects mixed label kinds, non-integer numbers, unequal lengths and unknown averages with typed errors', () => {
    expect(() => accuracy([1, 'a'], [1, 1])).toThrow(
      new InvalidArgumentError('Expected integer labels throughout (scikit-learn rejects a mix) for pred[1] but received the string "a"'),
    );
    expect(() => accuracy([1, 2], ['1', '2'])).toThrow(InvalidArgumentError);
    expect(() => accuracy([0.5], [1])).toThrow(new InvalidArgumentError('Expected an integer or a string label for pred[0] but received the number 0.5'));
    expect(() => accuracy([1, 2], [1])).toThrow(
      new InvalidArgumentError('Expected an array of 2 labels (one per prediction) for gold but received an array of length 1'),
    );
    expect(() => accuracy([], [])).toThrow(new InvalidArgumentError('Expected a non-empty array of labels for pred but received an array of length 0'));
    expect(() => precisionRecallF1([1], [1], { average: 'binary' } as never)).toThrow(
      new InvalidArgumentError("Expected one of 'micro', 'macro', 'weighted', 'none' for options.average but received the string \"binary\""),
    );
    expect(() => precisionRecallF1([1], [1], { avg: 'micro' } as never)).toThrow(InvalidArgumentError);
  });
});
