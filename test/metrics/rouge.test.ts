// ROUGE against Google's rouge-score: the numbers its rouge_scorer_test.py publishes (hand-worked ones, and ROUGE-1.5.5's
// on its testdata), then rouge.json (made by make_metrics_fixtures.py's re-statement of rouge-score's tokenizer and
// scorer on Python's str and re, stemming with NLTK's own PorterStemmer): the mean over bible.tsv's 400 verses (WEB
// against KJV), each of the first 100 verses, and 8 chosen and 80 random pairs of small-vocabulary and awkward text
// (İ and the Kelvin sign, whose lower case is ASCII; digits; accents; astral characters), with and without stemming.
// Tolerance: published numbers to the places asserted there (5); fixtures 1e-12 (sums of the same ratios, in another
// order for the mean).
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { rouge, type RougeScores } from '../../lib/metrics/rouge.js';
import { bible, expectClose, fixture } from './fixtures.js';

const TOL = 1e-12;

type Triple = [number, number, number];
interface Expected {
  rouge1: Triple;
  rouge2: Triple;
  rougeL: Triple;
}
interface Fixture {
  bible: { mean: { plain: Expected; stemmed: Expected }; sentences: Array<{ plain: Expected; stemmed: Expected }> };
  cases: Array<{ hypothesis: string; reference: string; plain: Expected; stemmed: Expected }>;
}
const F = fixture<Fixture>('rouge.json');

const flat = (s: RougeScores): number[] => [s.rouge1, s.rouge2, s.rougeL].flatMap((r) => [r.precision, r.recall, r.f]);
const flatExpected = (e: Expected): number[] => [...e.rouge1, ...e.rouge2, ...e.rougeL];

// rouge-score's RougeScorer.score(target, prediction) takes the reference first; rouge() takes the hypotheses first.
const score = (target: string, prediction: string, stem = false): RougeScores => rouge([prediction], [target], { stem });

describe('rouge: published rouge-score numbers', () => {
  it('hand-worked: ROUGE-1, ROUGE-2, ROUGE-L consecutive and not, empty prediction', () => {
    expectClose([score('testing one two', 'testing').rouge1].flatMap((r) => [r.precision, r.recall, r.f]), [1, 1 / 3, 1 / 2], 1e-12, 'rouge1');
    const two = score('testing one two', 'testing one');
    expectClose([two.rouge2.precision, two.rouge2.recall, two.rouge2.f], [1, 1 / 2, 2 / 3], 1e-12, 'rouge2');
    expectClose([two.rougeL.precision, two.rougeL.recall, two.rougeL.f], [1, 2 / 3, 4 / 5], 1e-12, 'rougeL consecutive');
    const gap = score('testing one two', 'testing two').rougeL;
    expectClose([gap.precision, gap.recall, gap.f], [1, 2 / 3, 4 / 5], 1e-12, 'rougeL non-consecutive');
    expect(flat(score('testing one two', ''))).toEqual(new Array(9).fill(0));
  });

  // rouge/testdata/target.txt and prediction.txt, lines 1 and 2 as readlines() gives them (with their newline).
  const TARGETS = [
    "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n",
    "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n",
  ];
  const PREDICTIONS = [
    "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n",
    "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n",
  ];
  // [recall, precision, f] per line, as the test asserts them.
  const cases: Array<[string, boolean, keyof RougeScores, Triple, Triple]> = [
    ['ROUGE-1', false, 'rouge1', [0.40741, 0.68750, 0.51163], [0.40476, 0.65385, 0.50000]],
    ['ROUGE-1 stemmed', true, 'rouge1', [0.40741, 0.68750, 0.51163], [0.42857, 0.69231, 0.52941]],
    ['ROUGE-2', false, 'rouge2', [0.30769, 0.53333, 0.39024], [0.29268, 0.48000, 0.36364]],
    ['ROUGE-2 stemmed', true, 'rouge2', [0.30769, 0.53333, 0.39024], [0.29268, 0.48000, 0.36364]],
    ['ROUGE-L', false, 'rougeL', [0.40741, 0.68750, 0.51163], [0.40476, 0.65385, 0.50000]],
  ];
  for (const [name, stem, key, first, second] of cases) {
    it(`${name} against ROUGE-1.5.5 on rouge-score's testdata`, () => {
      const got = [0, 1].flatMap((i) => {
        const r = score(TARGETS[i]!, PREDICTIONS[i]!, stem)[key];
        return [r.recall, r.precision, r.f];
      });
      expectClose(got, [...first, ...second], 5e-6, name);
    });
  }
});

describe('rouge: the fixture script\'s rouge-score re-statement', () => {
  const verses = bible();
  const web = verses.map((v) => v.web);
  const kjv = verses.map((v) => v.kjv);

  for (const stem of [false, true]) {
    const kind = stem ? 'stemmed' : 'plain';
    it(`mean over 400 verses, WEB against KJV, ${kind}`, () => {
      expectClose(flat(rouge(web, kjv, { stem })), flatExpected(F.bible.mean[kind]), TOL, kind);
    });

    it(`each of 100 verses, ${kind}`, () => {
      expectClose(web.slice(0, 100).flatMap((h, i) => flat(rouge([h], [kjv[i]!], { stem }))),
        F.bible.sentences.flatMap((s) => flatExpected(s[kind])), TOL, kind);
    });

    it(`88 chosen and random pairs, ${kind}`, () => {
      expectClose(F.cases.flatMap((c) => flat(rouge([c.hypothesis], [c.reference], { stem }))),
        F.cases.flatMap((c) => flatExpected(c[kind])), TOL, kind);
    });
  }
});

describe('rouge: arguments', () => {
  it('rejects several references, a non-boolean stem and unknown options with typed errors', () => {
    expect(() => rouge(['a'], [['a', 'b']] as never)).toThrow(
      new InvalidArgumentError('Expected a string for references[0] but received an array of length 2'),
    );
    expect(() => rouge(['a'], ['a'], { stem: 1 } as never)).toThrow(
      new InvalidArgumentError('Expected a boolean for options.stem but received the number 1'),
    );
    expect(() => rouge(['a'], ['a'], { stemmer: true } as never)).toThrow(InvalidArgumentError);
    expect(() => rouge(['a', 'b'], ['a'])).toThrow(
      new InvalidArgumentError('Expected an array of 2 strings (one per hypothesis) for references but received an array of length 1'),
    );
  });
});
