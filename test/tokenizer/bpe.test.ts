// The BPE model (heap-based merging) and trainer (incremental pair counts) against the naive references
// in naive_bpe.ts, on random words over small alphabets, where ties and repeats are the rule.
import { describe, expect, it } from 'vitest';

import { FormatError, OutOfRangeError } from '../../lib/errors.js';
import { Rng } from '../../lib/tensor/random.js';
import { BpeModel } from '../../lib/tokenizer/models/bpe.js';
import { trainBpe } from '../../lib/tokenizer/models/bpe_trainer.js';
import { Vocab } from '../../lib/tokenizer/vocab.js';
import { naiveEncode, naiveTrain } from './naive_bpe.js';

function randomWords(rng: Rng, alphabet: string[], count: number, maxLength: number): Map<string, number> {
  const words = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const n = 1 + (rng.nextUint32() % maxLength);
    let w = '';
    for (let k = 0; k < n; k++) w += alphabet[rng.nextUint32() % alphabet.length];
    words.set(w, (words.get(w) ?? 0) + 1 + (rng.nextUint32() % 5));
  }
  return words;
}

const tokensOf = (model: BpeModel, word: string) => {
  const ids: number[] = [];
  const ends: number[] = [];
  model.tokenize(word, ids, ends);
  return { tokens: ids.map((id) => model.vocab.tokens[id]!), ends };
};

describe('trainBpe matches a full recount before every merge', () => {
  const cases = [
    { name: 'two letters', alphabet: ['a', 'b'] },
    { name: 'four letters', alphabet: ['a', 'b', 'c', 'd'] },
    { name: 'astral and combining', alphabet: ['x', '😀', 'e\u0301'.slice(1), '中'] },
  ];
  for (const { name, alphabet } of cases) {
    for (const seed of [1, 2, 3]) {
      for (const prefix of ['', '##']) {
        it(`${name}, seed ${seed}${prefix ? ', continuation prefix' : ''}`, () => {
          const words = randomWords(new Rng(seed), alphabet, 60, 9);
          const specials = ['<pad>', '<unk>'];
          for (const minFrequency of [0, 4]) {
            const fast = trainBpe(words, { vocabSize: 80, minFrequency, specialTokens: specials, continuingSubwordPrefix: prefix });
            const slow = naiveTrain(words, 80, minFrequency, specials, prefix);
            expect(fast.merges).toEqual(slow.merges);
            expect(fast.tokens).toEqual(slow.tokens);
          }
        });
      }
    }
  }

  it('stops at the vocabulary size and at minFrequency', () => {
    const words = new Map([['abab', 10], ['cd', 3]]);
    const full = trainBpe(words, { vocabSize: 100, minFrequency: 0, specialTokens: [] });
    expect(full.merges).toEqual([['a', 'b'], ['ab', 'ab'], ['c', 'd']]);
    expect(trainBpe(words, { vocabSize: 6, minFrequency: 0, specialTokens: [] }).tokens).toEqual(['a', 'b', 'c', 'd', 'ab', 'abab']);
    expect(trainBpe(words, { vocabSize: 100, minFrequency: 4, specialTokens: [] }).merges).toEqual([['a', 'b'], ['ab', 'ab']]);
  });

  it('limitAlphabet keeps the most frequent characters; the others never take part', () => {
    const words = new Map([['aab', 5], ['zq', 1]]);
    const r = trainBpe(words, { vocabSize: 100, minFrequency: 0, specialTokens: [], limitAlphabet: 2 });
    expect(r.tokens.slice(0, 2)).toEqual(['a', 'b']);
    expect(r.tokens.join('')).not.toMatch(/[zq]/);
  });

  it('an initial alphabet is in the vocabulary even when unseen', () => {
    const r = trainBpe(new Map([['b', 1]]), { vocabSize: 10, minFrequency: 0, specialTokens: ['<s>'], initialAlphabet: ['c', 'a'] });
    expect(r.tokens).toEqual(['<s>', 'a', 'b', 'c']);
  });

  it('reports progress and ends at the final size', () => {
    const seen: number[] = [];
    const words = randomWords(new Rng(7), ['a', 'b', 'c'], 200, 12);
    const r = trainBpe(words, { vocabSize: 150, minFrequency: 0, specialTokens: [], onProgress: (p) => seen.push(p.vocabSize) });
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.at(-1)).toBe(r.tokens.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });
});

describe('BpeModel merges as GPT-2 does', () => {
  for (const seed of [11, 12, 13]) {
    for (const prefix of ['', '##']) {
      it(`random merges, seed ${seed}${prefix ? ', continuation prefix' : ''}`, () => {
        const rng = new Rng(seed);
        const trained = trainBpe(randomWords(rng, ['a', 'b', 'c'], 80, 10), {
          vocabSize: 60, minFrequency: 0, specialTokens: ['<unk>'], continuingSubwordPrefix: prefix,
        });
        const model = new BpeModel(Vocab.fromList(trained.tokens), trained.merges, { unkToken: '<unk>', continuingSubwordPrefix: prefix });
        // Unseen words too, and long ones where the heap matters.
        for (const [word] of randomWords(rng, ['a', 'b', 'c'], 200, 40)) {
          const { tokens, ends } = tokensOf(model, word);
          expect(tokens).toEqual(naiveEncode(word, trained.merges, prefix));
          expect(ends.at(-1)).toBe(word.length);
          expect(tokens.map((t, i) => (i > 0 ? t.slice(prefix.length) : t)).join('')).toBe(word);
        }
      });
    }
  }

  it('end-of-word suffix (classic Sennrich BPE) and overlapping pairs', () => {
    const vocab = Vocab.fromList(['a', 'a</w>', 'aa', 'aa</w>', 'aaa</w>', 'b', 'b</w>']);
    const merges: Array<[string, string]> = [['a', 'a'], ['a', 'a</w>'], ['aa', 'a</w>']];
    const model = new BpeModel(vocab, merges, { endOfWordSuffix: '</w>' });
    for (const word of ['a', 'aa', 'aaa', 'aaaa', 'aaaaa', 'ab']) {
      expect(tokensOf(model, word).tokens).toEqual(naiveEncode(word, merges, '', '</w>'));
    }
    expect(tokensOf(model, 'aaaa').tokens).toEqual(['aa', 'aa</w>']);
  });

  it('a 100,000-character piece is merged in O(n log n)', () => {
    const vocab = Vocab.fromList(['a', 'aa', 'aaaa']);
    const model = new BpeModel(vocab, [['a', 'a'], ['aa', 'aa']]);
    const { tokens } = tokensOf(model, 'a'.repeat(100_001));
    expect(tokens.length).toBe(25_001);
    expect(tokens.at(-1)).toBe('a');
  });

  it('unknown characters: <unk>, fused runs, byte fallback, or an error without an unk token', () => {
    const vocab = Vocab.fromList(['<unk>', 'a', '<0xC3>', '<0xA9>']);
    const ids = (m: BpeModel, w: string) => {
      const out: number[] = [];
      m.tokenize(w, out);
      return out;
    };
    expect(ids(new BpeModel(vocab, [], { unkToken: '<unk>' }), 'axya')).toEqual([1, 0, 0, 1]);
    expect(ids(new BpeModel(vocab, [], { unkToken: '<unk>', fuseUnk: true }), 'axya')).toEqual([1, 0, 1]);
    expect(ids(new BpeModel(vocab, [], { unkToken: '<unk>', byteFallback: true }), 'aé')).toEqual([1, 2, 3]);
    // A character whose bytes are not all there falls back to <unk>.
    expect(ids(new BpeModel(vocab, [], { unkToken: '<unk>', byteFallback: true }), 'ü')).toEqual([0]);
    expect(() => ids(new BpeModel(vocab, []), 'x')).toThrow(OutOfRangeError);
    expect(() => ids(new BpeModel(vocab, []), 'x')).toThrow(/"x" \(U\+0078\) is not in the vocabulary/);
  });

  it('ignoreMerges takes a piece that is itself a token whole', () => {
    const vocab = Vocab.fromList(['a', 'b', 'ab', 'abb']);
    const model = new BpeModel(vocab, [['a', 'b']], { ignoreMerges: true });
    expect(tokensOf(model, 'abb').tokens).toEqual(['abb']);
    expect(tokensOf(model, 'bab').tokens).toEqual(['b', 'ab']);
  });

  it('a merge whose parts or result are missing from the vocabulary is a FormatError naming it', () => {
    const vocab = Vocab.fromList(['a', 'b']);
    expect(() => new BpeModel(vocab, [['a', 'b']])).toThrow(FormatError);
    expect(() => new BpeModel(vocab, [['a', 'b']])).toThrow(/BPE merge 0 \("a" "b"\) in the vocabulary but "ab" is not/);
    expect(() => new BpeModel(vocab, [['a', 'c']])).toThrow(/but "c" is not/);
  });
});
