// BLEU against sacreBLEU 2.x: the numbers its README and test suite publish, then bleu.json (made by
// make_metrics_fixtures.py's re-statement of sacreBLEU's BLEU on Python's str, re and Counter): the 400 verses of
// bible.tsv (WEB against KJV, and against references of varying number and length), sentence BLEU of each verse,
// and 108 small corpora (no 4-gram match, hypotheses under 4 tokens, ties in reference length, empty hypotheses,
// entities and punctuation, random text).
// Tolerance: published numbers to the digits printed; fixtures 1e-9 on the 0–100 scale (the same operations in the
// same order; only the last bits of log and exp may differ between libms); lengths exactly.
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { bleu, type BleuScore, sentenceBleu } from '../../lib/metrics/bleu.js';
import { bible, expectClose, fixture, multiReferences } from './fixtures.js';

const TOL = 1e-9;

type Expected = Omit<BleuScore, 'precisions'> & { precisions: number[] };
interface Fixture {
  bible: {
    webAgainstKjv: Expected;
    webAgainstMulti: Expected;
    sentenceWebAgainstKjv: number[];
    sentenceWebAgainstMulti: number[];
  };
  cases: Array<{ name: string; hypotheses: string[]; references: Array<string | string[]>; expected: Expected }>;
}
const F = fixture<Fixture>('bleu.json');

function expectScore(got: BleuScore, want: Expected, what: string): void {
  expectClose([got.score, ...got.precisions, got.bp, got.ratio], [want.score, ...want.precisions, want.bp, want.ratio], TOL,
    `${what}: [score, p1…p4, bp, ratio]`);
  expect([got.hypLen, got.refLen], `${what}: lengths`).toEqual([want.hypLen, want.refLen]);
}

// sacreBLEU's README ("Using SacreBLEU from Python") and test/test_bleu.py: three hypotheses, two reference streams.
const README_HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const README_STREAMS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];
const perHypothesis = (streams: string[][]): string[][] => streams[0]!.map((_, i) => streams.map((s) => s[i]!));

describe('bleu: published sacreBLEU numbers', () => {
  it('README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)', () => {
    const s = bleu(README_HYPS, perHypothesis(README_STREAMS));
    expect(Math.abs(s.score - 48.530827)).toBeLessThan(5e-7); // test_bleu.py's value
    expect(s.precisions.map((p) => p.toFixed(1))).toEqual(['82.4', '50.0', '45.5', '37.5']);
    expect([s.bp.toFixed(3), s.ratio.toFixed(3), s.hypLen, s.refLen]).toEqual(['0.943', '0.944', 17, 18]);
  });

  it('README, variable number of references (the first one missing as \'\'): 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895, 17/19)', () => {
    const streams = [['', ...README_STREAMS[0]!.slice(1)], README_STREAMS[1]!];
    const s = bleu(README_HYPS, perHypothesis(streams));
    expect(s.score.toFixed(2)).toBe('29.44');
    expect(s.precisions.map((p) => p.toFixed(1))).toEqual(['82.4', '42.9', '27.3', '12.5']);
    expect([s.bp.toFixed(3), s.ratio.toFixed(3), s.hypLen, s.refLen]).toEqual(['0.889', '0.895', 17, 19]);
  });

  it('test_bleu.py: empty hypotheses are kept and score 0', () => {
    const s = bleu(['', '', ''], perHypothesis(README_STREAMS));
    expect(s.score).toBe(0);
    expect(s.hypLen).toBe(0);
  });

  it('test_bleu.py statistics: counts [4, 2, 1, 0] of totals [6, 5, 4, 3], the missing 4-grams smoothed to 100 / (2·3)', () => {
    const s = bleu(['am I am a character sequence'], ['I am a symbol string sequence a a']);
    expectClose([...s.precisions], [400 / 6, 200 / 5, 100 / 4, 100 / 6], 1e-12, 'precisions');
    expect([s.hypLen, s.refLen]).toEqual([6, 8]);
  });

  it('test_sentence_bleu.py: sentence BLEU (exp smoothing, effective order) of the #98 example is 8.493, of #141 0', () => {
    const s = sentenceBleu('Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;', ['producţia de zahăr brut se exprimă în zahăr alb;']);
    expect(Math.abs(s.score - 8.493)).toBeLessThan(1e-3);
    expect(sentenceBleu('this is a cat', ['okay thanks']).score).toBe(0);
  });

  it('sentence BLEU averages only the orders a short hypothesis has (effective order); corpus BLEU does not', () => {
    // 'the cat': 2/2 unigrams, 1/1 bigram, no 3- or 4-grams: the mean over two orders is 100.
    expect(sentenceBleu('the cat', ['the cat']).score).toBeCloseTo(100, 10);
    expect(bleu(['the cat'], ['the cat']).score).toBeLessThan(1e-9);
    // 'a b c' against 'a b d': 2/3, 1/2, and the unmatched trigram smoothed to 100 / (2 · 1).
    expect(sentenceBleu('a b c', ['a b d']).score).toBeCloseTo(Math.cbrt((200 / 3) * 50 * 50), 10);
  });
});

describe('bleu: the fixture script\'s sacreBLEU re-statement', () => {
  const verses = bible();
  const web = verses.map((v) => v.web);

  it('400 verses, WEB against KJV', () => {
    expectScore(bleu(web, verses.map((v) => v.kjv)), F.bible.webAgainstKjv, 'WEB vs KJV');
  });

  it('400 verses against 1–3 references of different lengths, some missing', () => {
    expectScore(bleu(web, multiReferences(verses)), F.bible.webAgainstMulti, 'WEB vs several');
  });

  it('sentence BLEU of each verse', () => {
    expectClose(web.map((h, i) => sentenceBleu(h, verses[i]!.kjv).score), F.bible.sentenceWebAgainstKjv, TOL, 'against KJV');
    const multi = multiReferences(verses);
    expectClose(web.map((h, i) => sentenceBleu(h, multi[i]!).score), F.bible.sentenceWebAgainstMulti, TOL, 'against several');
  });

  for (const c of F.cases) {
    it(c.name, () => expectScore(bleu(c.hypotheses, c.references), c.expected, c.name));
  }
});

describe('bleu: arguments', () => {
  const err = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      return (e as Error).message;
    }
    throw new Error('no error thrown');
  };

  it('names what was expected and what came', () => {
    expect(err(() => bleu(['a', 'b'], ['a']))).toBe(
      'Expected an array of 2 references or arrays of references (one per hypothesis) for references but received an array of length 1',
    );
    expect(err(() => bleu(['a', 3 as unknown as string], ['a', 'b']))).toBe('Expected a string for hypotheses[1] but received the number 3');
    expect(err(() => bleu(['a'], [['a', null as unknown as string]]))).toBe('Expected a string for references[0][1] but received null');
    expect(err(() => bleu(['a'], [5 as unknown as string]))).toBe('Expected a string or an array of strings for references[0] but received the number 5');
    expect(err(() => bleu([], []))).toBe('Expected a non-empty array of strings for hypotheses but received an array of length 0');
    expect(err(() => bleu('a' as unknown as string[], ['a']))).toBe('Expected an array of strings for hypotheses but received the string "a"');
    expect(err(() => sentenceBleu(undefined as unknown as string, 'a'))).toBe('Expected a string for hypothesis but received undefined');
  });

  it('a hypothesis whose references are all empty is an error, as in sacreBLEU', () => {
    expect(err(() => bleu(['a', 'b'], ['a', ['', '']]))).toBe(
      'Expected at least one non-empty reference (an empty one counts as missing) for references[1] but received an array of length 2',
    );
    expect(err(() => sentenceBleu('a', ''))).toMatch(/for references but received the string ""/);
  });
});
