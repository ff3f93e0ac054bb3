// Oniguruma's Unicode shorthand classes, spelled for JavaScript.
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { compileRegex, fromOniguruma } from '../../lib/tokenizer/regex.js';

const all = (re: RegExp, s: string) => [...s.matchAll(re)].map((m) => m[0]);

describe('fromOniguruma', () => {
  it('\\s is the White_Space property: U+0085 is whitespace, U+FEFF is not', () => {
    expect(all(compileRegex('\\s+', 't'), 'a\u0085b\ufeffc\u3000d')).toEqual(['\u0085', '\u3000']);
    expect(all(compileRegex('\\S+', 't'), 'a\u0085b\ufeffc')).toEqual(['a', 'b\ufeffc']);
    expect(all(compileRegex('[^\\s\\p{L}]+', 't'), 'a1\u0085\ufeff!')).toEqual(['1', '\ufeff!']);
  });

  it('\\d and \\w are Unicode-wide, inside and outside classes', () => {
    expect(all(compileRegex('\\d+', 't'), 'x١٢3y')).toEqual(['١٢3']);
    expect(all(compileRegex('\\w+', 't'), 'héllo_wörld, 中文 e\u0301')).toEqual(['héllo_wörld', '中文', 'e\u0301']);
    expect(all(compileRegex('[\\w-]+', 't'), 'a-é b')).toEqual(['a-é', 'b']);
    expect(all(compileRegex('\\W+', 't'), 'a, é')).toEqual([', ']);
    expect(all(compileRegex('\\D+', 't'), 'ab١c')).toEqual(['ab', 'c']);
  });

  it('leaves escaped backslashes and other escapes alone', () => {
    expect(fromOniguruma('\\\\s\\.\\p{L}')).toBe('\\\\s\\.\\p{L}');
    expect(fromOniguruma('[\\]\\s]')).toBe('[\\]\\p{White_Space}]');
  });

  it('what JavaScript cannot say is an error naming the component and the pattern', () => {
    expect(() => compileRegex('[^\\W]', 'Split')).toThrow(InvalidArgumentError);
    expect(() => compileRegex('[^\\W]', 'Split')).toThrow(/Split: the regular expression "\[\^\\\\W\]" is not supported here/);
  });
});
