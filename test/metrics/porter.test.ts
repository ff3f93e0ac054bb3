// The Porter stemmer against NLTK's own PorterStemmer() (NLTK_EXTENSIONS, rouge-score's): porter.json holds 3,561
// words and their stems from python3-nltk: every word of bible.tsv's English verses, the paper's examples, words
// that reach NLTK's special cases, and random stems with one or two suffixes from the rule lists. Exact.
import { describe, expect, it } from 'vitest';

import { porterStem } from '../../lib/metrics/porter.js';
import { fixture } from './fixtures.js';

const { stems } = fixture<{ stems: Array<[string, string]> }>('porter.json');

describe('porterStem', () => {
  it('gives NLTK\'s stem for every fixture word', () => {
    const bad = stems.filter(([w, s]) => porterStem(w) !== s).map(([word, want]) => ({ word, want, got: porterStem(word) }));
    expect(bad.slice(0, 5), `${bad.length} of ${stems.length} differ`).toEqual([]);
    expect(stems.length).toBeGreaterThan(3000);
  });

  // The words of NLTK's porter.py docstrings on its extensions and some of the paper's, with the stems NLTK gives.
  it('follows NLTK\'s documented extensions', () => {
    const pairs: Array<[string, string]> = [
      ['dies', 'die'], ['flies', 'fli'], ['died', 'die'], ['spied', 'spi'], ['happy', 'happi'], ['enjoy', 'enjoy'],
      ['sky', 'sky'], ['skies', 'sky'], ['dying', 'die'], ['news', 'news'], ['by', 'by'], ['is', 'is'],
      ['caresses', 'caress'], ['ponies', 'poni'], ['agreed', 'agre'], ['hopping', 'hop'], ['filing', 'file'],
      ['relational', 'relat'], ['generalizations', 'gener'], ['controll', 'control'],
    ];
    expect(pairs.map(([w]) => porterStem(w))).toEqual(pairs.map(([, s]) => s));
  });
});
