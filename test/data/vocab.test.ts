// trainTokenizers: shared or separate vocabularies, each kind, options passed to the trainer; encodePairs
// wraps both sides in <bos> … <eos>.
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { BPETokenizer, CharTokenizer, data, WordPieceTokenizer, WordTokenizer } from '../../lib/index.js';

const PAIRS: Array<[string, string]> = [
  ['In the beginning, God created the heavens and the earth.', 'EN el principio crió Dios los cielos y la tierra.'],
  ['God said, “Let there be light,” and there was light.', 'Y dijo Dios: Sea la luz: y fué la luz.'],
  ['God saw the light, and saw that it was good.', 'Y vió Dios que la luz era buena.'],
  ['The earth was formless and empty.', 'Y la tierra estaba desordenada y vacía.'],
];
const BOS = 1, EOS = 2, UNK = 3;

describe('trainTokenizers', () => {
  it('shared (the default): one BPE tokenizer that knows both languages', () => {
    const { source, target } = data.trainTokenizers(PAIRS, { vocabSize: 120, minFrequency: 1 });
    expect(source).toBe(target);
    expect(source).toBeInstanceOf(BPETokenizer);
    for (const [src, tgt] of PAIRS) {
      expect(source.decode(source.encode(src))).toBe(src);
      expect(source.decode(source.encode(tgt))).toBe(tgt);
      expect(source.encode(tgt)).not.toContain(UNK);
    }
    // Trained on both sides: the same as the trainer on the texts interleaved.
    const direct = BPETokenizer.train(PAIRS.flat(), { vocabSize: 120, minFrequency: 1 });
    expect(source.toJSON()).toEqual(direct.toJSON());
  });

  it('separate: each side its own vocabulary (a letter only Spanish has is unknown to the source side)', () => {
    const { source, target } = data.trainTokenizers(PAIRS, { kind: 'char', shared: false });
    expect(source).not.toBe(target);
    expect(source).toBeInstanceOf(CharTokenizer);
    expect(source.encode('í')).toEqual([UNK]);
    expect(target.encode('í')).not.toEqual([UNK]);
    expect(source.encode('“')).not.toEqual([UNK]);
    expect(target.encode('“')).toEqual([UNK]);
    expect(source.toJSON()).toEqual(CharTokenizer.train(PAIRS.map((p) => p[0])).toJSON());
    expect(target.toJSON()).toEqual(CharTokenizer.train(PAIRS.map((p) => p[1])).toJSON());
  });

  it('every kind, with its own options passed through', () => {
    expect(data.trainTokenizers(PAIRS, { kind: 'wordpiece', vocabSize: 100, minFrequency: 1, limitAlphabet: 60 }).source).toBeInstanceOf(WordPieceTokenizer);
    expect(data.trainTokenizers(PAIRS, { kind: 'word', lowercase: true }).source).toBeInstanceOf(WordTokenizer);
    const bytes = data.trainTokenizers(PAIRS, { byteLevel: true, vocabSize: 300, minFrequency: 1 }).source;
    expect(bytes.encode('🦄')).not.toContain(UNK); // byte level: nothing is unknown
    const word = data.trainTokenizers(PAIRS, { kind: 'word', vocabSize: 10, shared: false });
    expect(word.source.vocabSize).toBe(10);
    expect(word.target.vocabSize).toBe(10);
  });

  it('is deterministic', () => {
    const a = data.trainTokenizers(PAIRS, { vocabSize: 150, minFrequency: 1, shared: false });
    const b = data.trainTokenizers(PAIRS, { vocabSize: 150, minFrequency: 1, shared: false });
    expect(a.target.toJSON()).toEqual(b.target.toJSON());
  });

  it('rejects bad arguments with the name of what is wrong', () => {
    const bad: Array<[unknown, unknown, string]> = [
      ['not pairs', {}, 'Expected an array of [source, target] string pairs for trainTokenizers pairs but received the string'],
      [[['a', 'b'], ['c']], {}, 'Expected a [source, target] pair for trainTokenizers pairs[1] but received an array of length 1'],
      [[['a', 3]], {}, 'Expected a string for trainTokenizers pairs[0][1] but received the number 3'],
      [[], {}, 'Expected at least one pair for trainTokenizers pairs but received none'],
      [PAIRS, { kind: 'sentencepiece' }, "Expected one of 'bpe', 'wordpiece', 'word', 'char' for trainTokenizers kind"],
      [PAIRS, { shared: 'yes' }, 'Expected a boolean for trainTokenizers shared'],
      [PAIRS, { kind: 'char', byteLevel: true }, "Unknown option 'byteLevel' in CharTokenizer.train options"],
      [PAIRS, { vocabSize: 2 }, 'BPETokenizer.train vocabSize'],
    ];
    for (const [pairs, options, message] of bad) {
      expect(() => data.trainTokenizers(pairs as Array<[string, string]>, options as data.TrainTokenizersOptions), message).toThrow(InvalidArgumentError);
      expect(() => data.trainTokenizers(pairs as Array<[string, string]>, options as data.TrainTokenizersOptions)).toThrow(message);
    }
  });
});

describe('encodePairs', () => {
  it('wraps both sides in <bos> … <eos>, each with its own tokenizer', () => {
    const { source, target } = data.trainTokenizers(PAIRS, { kind: 'word', shared: false });
    const encoded = data.encodePairs(PAIRS, { source, target });
    expect(encoded).toHaveLength(PAIRS.length);
    encoded.forEach(([src, tgt], i) => {
      expect(src).toEqual([BOS, ...source.encode(PAIRS[i]![0]), EOS]);
      expect(tgt).toEqual([BOS, ...target.encode(PAIRS[i]![1]), EOS]);
      expect(target.decode(tgt)).toBe(target.decode(target.encode(PAIRS[i]![1])));
    });
    expect(data.encodePairs([['', '']], { source, target })).toEqual([[[BOS, EOS], [BOS, EOS]]]);
  });

  it('checks its arguments', () => {
    const tok = data.trainTokenizers(PAIRS, { kind: 'char' });
    expect(() => data.encodePairs([['a', 'b']], { source: tok.source } as data.PairTokenizers)).toThrow(
      'Expected a Tokenizer for encodePairs tokenizers.target but received undefined',
    );
    expect(() => data.encodePairs([['a', null]] as unknown as Array<[string, string]>, tok)).toThrow('encodePairs pairs[0][1]');
  });
});
