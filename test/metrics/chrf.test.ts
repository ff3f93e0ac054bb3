// chrF and chrF++ against sacreBLEU 2.x: the numbers its README and test suite publish, then chrf.json (made by
// make_metrics_fixtures.py's re-statement of sacreBLEU's CHRF on Python's str and Counter): the 400 verses of
// bible.tsv (WEB against KJV, and against references of varying number and length), each verse alone, and 107
// small corpora (empty hypotheses, references shorter than 6 characters, punctuation, astral characters, random
// text), each as chrF and chrF++.
// Tolerance: published numbers to the digits printed (test_chrf.py: 1e-4); fixtures 1e-9 on the 0–100 scale (the
// same operations in the same order).
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { chrf } from '../../lib/metrics/chrf.js';
import { bible, expectClose, fixture, multiReferences } from './fixtures.js';

const TOL = 1e-9;

interface Pair {
  chrf: number;
  chrfpp: number;
}
interface Fixture {
  bible: { webAgainstKjv: Pair; webAgainstMulti: Pair; sentenceWebAgainstKjv: Array<[number, number]> };
  cases: Array<{ name: string; hypotheses: string[]; references: Array<string | string[]> } & Pair>;
}
const F = fixture<Fixture>('chrf.json');

describe('chrf: published sacreBLEU numbers', () => {
  it('README: chrF2 = 59.73 on its three hypotheses against two reference streams', () => {
    const hyps = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
    const refs = [
      ['The dog bit the man.', 'The dog had bit the man.'],
      ['It was not unexpected.', 'No one was surprised.'],
      ['The man bit him first.', 'The man had bitten the dog.'],
    ];
    expect(chrf(hyps, refs).score.toFixed(2)).toBe('59.73');
  });

  // test_chrf.py's effective-order cases (eps_smoothing=False, sacreBLEU's default). They were run with β = 3, but in
  // each precision equals recall, so any β gives the same score.
  const cases: Array<[string[], string[], number]> = [
    [['a'], ['a'], 100], [[''], ['reference'], 0], [['a b c'], ['a b c'], 100], [['a b c'], ['abc'], 100],
    [[''], ['c'], 0], [['a', 'b'], ['a', 'c'], 50], [['aa'], ['ab'], 25],
  ];
  for (const [hyps, refs, want] of cases) {
    it(`test_chrf.py effective order: ${JSON.stringify(hyps)} against ${JSON.stringify(refs)} is ${want}`, () => {
      expect(Math.abs(chrf(hyps, refs).score - want)).toBeLessThan(1e-4);
    });
  }
});

describe('chrf: the fixture script\'s sacreBLEU re-statement', () => {
  const verses = bible();
  const web = verses.map((v) => v.web);
  const kjv = verses.map((v) => v.kjv);
  const both = (hyps: string[], refs: Array<string | string[]>): number[] =>
    [chrf(hyps, refs).score, chrf(hyps, refs, { wordOrder: 2 }).score];

  it('400 verses, WEB against KJV', () => {
    expectClose(both(web, kjv), [F.bible.webAgainstKjv.chrf, F.bible.webAgainstKjv.chrfpp], TOL, '[chrF, chrF++]');
  });

  it('400 verses against 1–3 references of different lengths, some missing: the best one per verse', () => {
    expectClose(both(web, multiReferences(verses)), [F.bible.webAgainstMulti.chrf, F.bible.webAgainstMulti.chrfpp], TOL, '[chrF, chrF++]');
  });

  it('each verse alone', () => {
    expectClose(web.flatMap((h, i) => both([h], [kjv[i]!])), F.bible.sentenceWebAgainstKjv.flat(), TOL, '[chrF, chrF++] per verse');
  });

  for (const c of F.cases) {
    it(c.name, () => expectClose(both(c.hypotheses, c.references), [c.chrf, c.chrfpp], TOL, `${c.name}: [chrF, chrF++]`));
  }
});

describe('chrf: arguments', () => {
  it('rejects a bad word order, an unknown option and mismatched lengths with typed errors', () => {
    expect(() => chrf(['a'], ['a'], { wordOrder: -1 })).toThrow(
      new InvalidArgumentError('Expected an integer ≥ 0 for options.wordOrder but received the number -1'),
    );
    expect(() => chrf(['a'], ['a'], { order: 2 } as never)).toThrow(
      new InvalidArgumentError("Unknown option 'order' in options; known options are 'wordOrder'"),
    );
    expect(() => chrf(['a'], ['a', 'b'])).toThrow(InvalidArgumentError);
    expect(() => chrf(['a'], [''])).toThrow(InvalidArgumentError);
  });
});
