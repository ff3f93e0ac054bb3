// sacreBLEU's 13a tokenizer and the Python whitespace it relies on, against tokenize_13a.json: 400 random strings of
// awkward pieces (entities, <skipped>, digits around . , -, Python-only and JavaScript-only whitespace, astral and
// combining characters) and 90 verses, tokenised by the fixture script's re-statement of Tokenizer13a on Python's
// own str and re. Exact: tokens are strings.
import { describe, expect, it } from 'vitest';

import { pyRstrip, pySplit } from '../../lib/metrics/python_str.js';
import { tokenize13a } from '../../lib/metrics/tokenize_13a.js';
import { fixture } from './fixtures.js';

const { cases } = fixture<{ cases: Array<[string, string[]]> }>('tokenize_13a.json');

describe('tokenize13a', () => {
  it('matches sacreBLEU on every fixture string (BLEU right-strips each segment first)', () => {
    const bad = cases.filter(([text, tokens]) => JSON.stringify(tokenize13a(pyRstrip(text))) !== JSON.stringify(tokens));
    expect(bad.slice(0, 3).map(([text, tokens]) => ({ text, expected: tokens, got: tokenize13a(pyRstrip(text)) }))).toEqual([]);
    expect(cases.length).toBe(490);
  });

  // Expected tokens as printed by the fixture script's tokenize_13a(s).split().
  it('separates punctuation, keeps . and , between digits, splits a dash after a digit', () => {
    expect(tokenize13a('The dog bit the man.')).toEqual(['The', 'dog', 'bit', 'the', 'man', '.']);
    expect(tokenize13a("It wasn't 1,000.5 (or 3-4) U.S. dollars")).toEqual(
      ['It', "wasn't", '1,000.5', '(', 'or', '3', '-', '4', ')', 'U', '.', 'S', '.', 'dollars'],
    );
    // The entities are replaced one after the other, so '&amp;lt;' ends as '<'.
    expect(tokenize13a('&quot;a&quot; &amp;lt; b<skipped>')).toEqual(['"', 'a', '"', '<', 'b']);
    expect(tokenize13a('well-\nknown\nline')).toEqual(['wellknown', 'line']);
  });
});

describe("Python's str.split() and str.rstrip()", () => {
  it('cut on U+001C–U+001F and U+0085 but not on U+FEFF, unlike JavaScript\'s \\s', () => {
    expect(pySplit('a\x1cb\x1fc\x85d\ufeffe\u3000f')).toEqual(['a', 'b', 'c', 'd\ufeffe', 'f']);
    expect(pySplit(' \t\n ')).toEqual([]);
    expect(pyRstrip('a b \x85\x1c\u2028')).toBe('a b');
    expect(pyRstrip('a\ufeff')).toBe('a\ufeff');
  });
});
