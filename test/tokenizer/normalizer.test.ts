// Normalizers: the aligned form gives the same text as the plain one, and maps every unit back to the
// span it came from, including where a step changes lengths or looks at context.
import { describe, expect, it } from 'vitest';

import { Rng } from '../../lib/tensor/random.js';
import * as norm from '../../lib/tokenizer/normalizer.js';

const spans = (a: norm.Aligned) => Array.from(a.starts, (s, i) => [s, a.ends[i]]);

const STEPS: Array<[string, norm.NormalizerStep]> = [
  ['NFC', norm.unicodeForm('NFC')],
  ['NFD', norm.unicodeForm('NFD')],
  ['NFKC', norm.unicodeForm('NFKC')],
  ['NFKD', norm.unicodeForm('NFKD')],
  ['Lowercase', norm.lowercase()],
  ['StripAccents after NFD', norm.sequence([norm.unicodeForm('NFD'), norm.stripAccents()])],
  ['BertNormalizer', norm.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: true })],
  ['Replace', norm.replace({ String: 'ab' }, 'X')],
  ['Replace (regex)', norm.replace({ Regex: '\\s+' }, ' ')],
  ['Prepend', norm.prepend('▁')],
  ['Strip', norm.strip(true, true)],
];

// Characters that change length or compose under the steps above.
const PIECES = ['a', 'b', 'A', 'Σ', 'İ', 'ß', 'ﬁ', 'é', 'e', '\u0301', '\u0323', '\u1100', '\u1161', '\u11a8', 'ｶ', '\uff9e', '中', '😀', ' ', '  ', '\t', '\n', '\0', '\u200b', '\ufffd', 'Ǆ', '①'];

function randomText(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[rng.nextUint32() % PIECES.length];
  return s;
}

describe('aligned normalisation', () => {
  for (const [name, step] of STEPS) {
    it(`${name}: same text as the plain form, spans inside the input and in order`, () => {
      const rng = new Rng(name.length);
      for (let k = 0; k < 300; k++) {
        const text = randomText(rng, rng.nextUint32() % 12);
        const a = step.applyAligned(norm.aligned(text));
        expect(a.text).toBe(step.apply(text));
        for (let i = 0; i < a.text.length; i++) {
          expect(a.starts[i]).toBeLessThanOrEqual(a.ends[i]!);
          expect(a.ends[i]).toBeLessThanOrEqual(text.length);
          if (i > 0) expect(a.starts[i]).toBeGreaterThanOrEqual(a.starts[i - 1]!);
        }
      }
    });
  }

  it('a composed character maps to all the units it came from', () => {
    const a = norm.unicodeForm('NFC').applyAligned(norm.aligned('xe\u0301\u1100\u1161\u11a8y'));
    expect(a.text).toBe('xé각y');
    expect(spans(a)).toEqual([[0, 1], [1, 3], [3, 6], [6, 7]]);
  });

  it('a character that expands maps each part to its source', () => {
    const a = norm.unicodeForm('NFKC').applyAligned(norm.aligned('aﬁ①'));
    expect(a.text).toBe('afi1');
    expect(spans(a)).toEqual([[0, 1], [1, 2], [1, 2], [2, 3]]);
    const lower = norm.lowercase().applyAligned(norm.aligned('İx'));
    expect(lower.text).toBe('i\u0307x');
    expect(spans(lower)).toEqual([[0, 1], [0, 1], [1, 2]]);
  });

  it('lowercases code point by code point, as Hugging Face does (no final-sigma rule)', () => {
    expect(norm.lowercase().apply('ΟΔΟΣ ΣΑΣ')).toBe('οδοσ σασ');
    expect(norm.lowercase().apply('ÀB')).toBe('àb');
  });

  it('BERT cleaning: controls gone, whitespace to spaces, ideographs spaced, accents stripped when lowercasing', () => {
    const step = norm.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: true });
    expect(step.apply('Héllo\tWorld\0\u200b中文!')).toBe('hello world 中  文 !');
    const keep = norm.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: true });
    expect(keep.apply('Héllo\t中')).toBe('héllo\t中');
    const a = step.applyAligned(norm.aligned('a中'));
    expect(a.text).toBe('a 中 ');
    expect(spans(a)).toEqual([[0, 1], [1, 2], [1, 2], [1, 2]]);
  });

  it('inserted and replaced text map to the place they stand for', () => {
    const p = norm.prepend('▁').applyAligned(norm.aligned('ab'));
    expect(p.text).toBe('▁ab');
    expect(spans(p)).toEqual([[0, 0], [0, 1], [1, 2]]);
    expect(norm.prepend('▁').apply('')).toBe('');
    const r = norm.replace({ Regex: ' +' }, '_').applyAligned(norm.aligned('a   b'));
    expect(r.text).toBe('a_b');
    expect(spans(r)).toEqual([[0, 1], [1, 4], [4, 5]]);
    const s = norm.strip(true, false).applyAligned(norm.aligned('  a '));
    expect(s.text).toBe('a ');
    expect(spans(s)).toEqual([[2, 3], [3, 4]]);
  });

  it('spanOf: a range, and the empty span where text was inserted', () => {
    const a = norm.prepend('▁').applyAligned(norm.aligned('ab'));
    expect(norm.spanOf(a, 1, 3)).toEqual([0, 2]);
    expect(norm.spanOf(a, 0, 1)).toEqual([0, 0]);
    expect(norm.spanOf(a, 3, 3)).toEqual([2, 2]);
    expect(norm.spanOf(norm.aligned(''), 0, 0)).toEqual([0, 0]);
  });

  it('a regular expression JavaScript cannot compile is an error naming the component', () => {
    expect(() => norm.replace({ Regex: '(?<=a' }, '')).toThrow(/Replace: the regular expression "\(\?<=a" is not supported/);
  });
});
