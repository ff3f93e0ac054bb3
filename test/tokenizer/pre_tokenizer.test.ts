// Pre-tokenizers: the pieces and where they start, for each split behaviour and preset.
import { describe, expect, it } from 'vitest';

import * as pre from '../../lib/tokenizer/pre_tokenizer.js';

const texts = (step: pre.PreTokenizerStep, text: string) => pre.preTokenize(step, text).map((p) => p.text);
const pieces = (step: pre.PreTokenizerStep, text: string) => pre.preTokenize(step, text).map((p) => [p.text, p.start, p.pad]);

describe('split behaviours (Hugging Face documentation example)', () => {
  const expected: Record<pre.SplitBehavior, string[]> = {
    Removed: ['the', 'final', 'countdown'],
    Isolated: ['the', '-', 'final', '-', '-', 'countdown'],
    MergedWithPrevious: ['the-', 'final-', '-', 'countdown'],
    MergedWithNext: ['the', '-final', '-', '-countdown'],
    Contiguous: ['the', '-', 'final', '--', 'countdown'],
  };
  for (const behavior of pre.SPLIT_BEHAVIORS) {
    it(behavior, () => {
      expect(texts(pre.splitPattern({ String: '-' }, behavior, false), 'the-final--countdown')).toEqual(expected[behavior]);
    });
  }

  it('delimiters at the ends, and inverted patterns', () => {
    expect(texts(pre.splitPattern({ String: '-' }, 'MergedWithNext', false), '-a-')).toEqual(['-a', '-']);
    expect(texts(pre.splitPattern({ String: '-' }, 'MergedWithPrevious', false), '-a-')).toEqual(['-', 'a-']);
    expect(texts(pre.splitPattern({ Regex: '\\d+' }, 'Removed', true), 'a12b3')).toEqual(['12', '3']);
    expect(texts(pre.splitPattern({ String: '-' }, 'Removed', false), '')).toEqual([]);
  });
});

describe('presets', () => {
  it('GPT-2 byte level: contractions, letters, numbers, symbols, and whitespace before a word', () => {
    expect(texts(pre.byteLevel(false, true, false), "I'll say  it's 42!\n\n  ok")).toEqual(
      ['I', "'ll", ' say', ' ', ' it', "'s", ' 42', '!', '\n\n ', ' ok'],
    );
    // With a prefix space, the inserted space stands for nothing in the text.
    expect(pieces(pre.byteLevel(true, true, false), 'Hi there')).toEqual([[' Hi', 0, 1], [' there', 2, 0]]);
    expect(pieces(pre.byteLevel(true, false, false), ' x')).toEqual([[' x', 0, 0]]);
  });

  it('BERT: whitespace dropped, every punctuation character its own piece (ASCII symbols too)', () => {
    expect(texts(pre.bertPreTokenizer(), ' Hello,  world!! $5 «¿qué?»\u3000end')).toEqual(
      ['Hello', ',', 'world', '!', '!', '$', '5', '«', '¿', 'qué', '?', '»', 'end'],
    );
    expect(pieces(pre.bertPreTokenizer(), 'a, b')).toEqual([['a', 0, 0], [',', 1, 0], ['b', 3, 0]]);
  });

  it('Metaspace: spaces become ▁, prepended always / first / never, each ▁ starting a piece', () => {
    expect(pieces(pre.metaspace('▁', 'always', true), 'Hi  there')).toEqual([['▁Hi', 0, 1], ['▁', 2, 0], ['▁there', 3, 0]]);
    expect(texts(pre.metaspace('▁', 'never', true), 'Hi there')).toEqual(['Hi', '▁there']);
    expect(texts(pre.metaspace('▁', 'always', false), ' Hi there')).toEqual(['▁Hi▁there']);
    const seq = pre.sequence([pre.splitPattern({ String: '|' }, 'Removed', false), pre.metaspace('▁', 'first', true)]);
    expect(texts(seq, 'a|b')).toEqual(['▁a', 'b']);
  });

  it('Whitespace, WhitespaceSplit, Digits, Punctuation, CharDelimiterSplit', () => {
    expect(texts(pre.whitespace(), 'Héllo, wörld!? x_1')).toEqual(['Héllo', ',', 'wörld', '!?', 'x_1']);
    expect(texts(pre.whitespaceSplit(), ' a\tb\u00a0c ')).toEqual(['a', 'b', 'c']);
    expect(texts(pre.digits(true), 'a123')).toEqual(['a', '1', '2', '3']);
    expect(texts(pre.digits(false), 'a123b4')).toEqual(['a', '123', 'b', '4']);
    expect(texts(pre.punctuation('Isolated'), 'a,b')).toEqual(['a', ',', 'b']);
    expect(texts(pre.charDelimiterSplit('|'), 'a||b')).toEqual(['a', 'b']);
  });

  it('positionIn maps piece indices to the normalised text; inserted units sit at the start', () => {
    const [p] = pre.preTokenize(pre.metaspace('▁', 'always', true), 'ab');
    expect(p).toEqual({ text: '▁ab', start: 0, pad: 1 });
    expect([0, 1, 2, 3].map((i) => pre.positionIn(p!, i))).toEqual([0, 0, 1, 2]);
  });
});

describe('nesting', () => {
  it('a byte-level step inside a sequence with another byte-level step splits each piece fully', () => {
    const seq = pre.sequence([pre.byteLevel(false, true, false), pre.byteLevel(false, true, false)]);
    expect(texts(seq, 'ab cd ef')).toEqual(['ab', ' cd', ' ef']);
    expect(seq.byteLevel).toBe(true);
  });
});
