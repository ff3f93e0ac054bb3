// The four trainable tokenizers: special tokens, round trips on Unicode edge cases, unknown input, offsets,
// save/load, determinism and argument errors.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { FormatError, InvalidArgumentError, OutOfRangeError } from '../../lib/errors.js';
import { BPETokenizer, CharTokenizer, Tokenizer, WordPieceTokenizer, WordTokenizer } from '../../lib/tokenizer/index.js';

const CORPUS = [
  'In the beginning, God created the heavens and the earth.',
  'The earth was formless and empty. Darkness was on the surface of the deep.',
  'God said, “Let there be light,” and there was light.',
  'EN el principio crió Dios los cielos y la tierra.',
  'Y dijo Dios: Sea la luz: y fué la luz.',
  "Don't be afraid; I'll be there, we've said.",
  'Numbers: 12 345 6789, and 3.14!',
  'Ünïcödé façade naïve café — “quotes” and ‘single’ ones.',
  'Tabs\tand  double  spaces,\nnew lines\n\nand more.',
  'Emoji 😀👍🏽 🇪🇸 family 👨‍👩‍👧 and CJK 中文字 日本語 한국어.',
].flatMap((line) => [line, line.toLowerCase()]);

/** Strings made only of characters the corpus has, so character-level tokenizers know them all. */
const KNOWN = [
  '', ' ', '   ', '\t\n  \n', ' leading', 'trailing ', '  both  ', 'the earth', 'God  said', 'crió Dios',
  'e\u0301'.normalize('NFC'), '😀👍🏽', '🇪🇸', '👨‍👩‍👧', '中文', '12345', "don't", 'light,” and', 'x'.replace('x', 'a b c'),
];
/** Characters no training text has. */
const UNSEEN = ['Ω', 'ζ', '∑', '🦄'];

const trained = {
  char: CharTokenizer.train(CORPUS),
  word: WordTokenizer.train(CORPUS),
  bpe: BPETokenizer.train(CORPUS, { vocabSize: 300, minFrequency: 1 }),
  bytes: BPETokenizer.train(CORPUS, { vocabSize: 400, minFrequency: 1, byteLevel: true }),
  wordpiece: WordPieceTokenizer.train(CORPUS, { vocabSize: 300, minFrequency: 1 }),
};
const ALL = Object.entries(trained) as Array<[string, Tokenizer]>;

describe('special tokens', () => {
  for (const [name, tok] of ALL) {
    it(`${name}: <pad>=0 <bos>=1 <eos>=2 <unk>=3, added around the text when addSpecial is true`, () => {
      expect(['<pad>', '<bos>', '<eos>', '<unk>'].map((t) => tok.tokenToId(t))).toEqual([0, 1, 2, 3]);
      expect([tok.padId, tok.bosId, tok.eosId, tok.unkId]).toEqual([0, 1, 2, 3]);
      expect(tok.idToToken(2)).toBe('<eos>');
      const ids = tok.encode('the earth', { addSpecial: true });
      expect(ids[0]).toBe(1);
      expect(ids.at(-1)).toBe(2);
      expect(tok.encode('the earth')).toEqual(ids.slice(1, -1));
      expect(tok.encode('', { addSpecial: true })).toEqual([1, 2]);
      expect(tok.encode('')).toEqual([]);
      // A special token written in the text is that token.
      expect(tok.encode('the<eos>earth', { addSpecial: false })).toContain(2);
      expect(tok.decode([1, ...tok.encode('the', { addSpecial: false }), 2, 0, 0])).toBe('the');
      expect(tok.decode([1, 2], { skipSpecial: false })).toBe(tok instanceof WordTokenizer || tok instanceof WordPieceTokenizer ? '<bos> <eos>' : '<bos><eos>');
    });
  }

  it('extra special tokens follow the four standard ones', () => {
    const tok = BPETokenizer.train(CORPUS, { vocabSize: 200, specialTokens: ['<sep>', '<mask>'] });
    expect(tok.tokenToId('<sep>')).toBe(4);
    expect(tok.tokenToId('<mask>')).toBe(5);
    expect(tok.encode('a <mask> b', { addSpecial: false })).toContain(5);
  });
});

describe('round trips', () => {
  for (const name of ['char', 'bpe', 'bytes'] as const) {
    it(`${name}: decode(encode(x)) === x for whitespace runs, combining marks, emoji, CJK, the empty string`, () => {
      const tok = trained[name];
      for (const text of [...KNOWN, ...CORPUS]) expect(tok.decode(tok.encode(text))).toBe(text);
    });
  }

  it('byte level: anything at all, including scripts and symbols never seen, without <unk>', () => {
    const tok = trained.bytes;
    for (const text of [...UNSEEN, 'Ελληνικά και русский', '\u0000\u0007', 'a\u0301\u0302\u0303', '🧑🏿‍🚀'.repeat(3), 'x'.repeat(3000)]) {
      const ids = tok.encode(text, { addSpecial: false });
      expect(ids).not.toContain(3);
      expect(tok.decode(ids)).toBe(text);
    }
  });

  it('characters: one token per code point (an astral emoji is one token, a combining mark its own)', () => {
    const tok = trained.char;
    expect(tok.encode('😀👍🏽', { addSpecial: false }).length).toBe(3);
    expect(tok.encode('cafe\u0301', { addSpecial: false }).length).toBe(5);
    expect(tok.encode('中文字', { addSpecial: false }).length).toBe(3);
  });

  it('words and word pieces come back with single spaces and no space before punctuation', () => {
    for (const tok of [trained.word, trained.wordpiece]) {
      expect(tok.decode(tok.encode('the  earth,\n\tand\tthe   light.'))).toBe('the earth, and the light.');
      expect(tok.decode(tok.encode("don't"))).toBe("don ' t");
    }
    expect(trained.wordpiece.encode('heavens', { offsets: true, addSpecial: false }).tokens.join(' ')).toMatch(/^heav/);
  });
});

describe('unknown input', () => {
  it('char and BPE: each unseen character is <unk>, the rest still encodes', () => {
    for (const tok of [trained.char, trained.bpe]) {
      const ids = tok.encode('Ωthe Ω', { addSpecial: false });
      expect(ids.filter((id) => id === 3).length).toBe(2);
      expect(tok.decode(ids)).toBe('<unk>the <unk>');
    }
  });

  it('word: a word outside the vocabulary is one <unk>; the vocabulary keeps the most frequent words', () => {
    expect(trained.word.encode('the zebra earth', { addSpecial: false })).toEqual([
      trained.word.tokenToId('the'), 3, trained.word.tokenToId('earth'),
    ]);
    const small = WordTokenizer.train(CORPUS, { vocabSize: 10 });
    expect(small.vocabSize).toBe(10);
    // The six most frequent: "," and "the" lead the corpus counts.
    expect(small.tokenToId(',')).toBeDefined();
    expect(small.tokenToId('the')).toBeDefined();
    expect(small.tokenToId('formless')).toBeUndefined();
    const rare = WordTokenizer.train(CORPUS, { minFrequency: 6 });
    expect(rare.tokenToId('earth')).toBeUndefined();
    expect(rare.tokenToId('the')).toBeDefined();
  });

  it('word pieces: a word with an unseen character is one <unk>, others split into known pieces', () => {
    const tok = trained.wordpiece;
    expect(tok.encode('eΩrth', { addSpecial: false })).toEqual([3]);
    const pieces = tok.encode('earthly', { addSpecial: false, offsets: true }).tokens;
    expect(pieces.slice(1).every((p) => p.startsWith('##'))).toBe(true);
    expect(pieces).not.toContain('<unk>');
  });
});

describe('offsets', () => {
  const check = (tok: Tokenizer, text: string) => {
    const enc = tok.encode(text, { offsets: true, addSpecial: true });
    expect(enc.ids).toEqual(tok.encode(text, { addSpecial: true }));
    expect(enc.tokens).toEqual(enc.ids.map((id) => tok.idToToken(id)));
    for (const [s, e] of enc.offsets) {
      expect(0 <= s && s <= e && e <= text.length).toBe(true);
    }
    return enc;
  };

  it('BPE: the spans of the tokens tile the text', () => {
    const text = '  God said,\n“Let there be light” 😀 Ω';
    const enc = check(trained.bpe, text);
    const inner = enc.offsets.slice(1, -1);
    expect(inner.map(([s, e]) => text.slice(s, e)).join('')).toBe(text);
    expect(enc.offsets[0]).toEqual([0, 0]);
    const unk = enc.tokens.indexOf('<unk>');
    expect(text.slice(...enc.offsets[unk]!)).toBe('Ω');
  });

  it('with NFKC, lowercase and accent stripping, each token points at the original characters', () => {
    const tok = BPETokenizer.train(CORPUS, { vocabSize: 300, normalization: 'NFKC', lowercase: true, stripAccents: true });
    const text = 'ＣＡＦÉ ﬁne Ünïcödé';
    const enc = check(tok, text);
    expect(tok.decode(enc.ids)).toBe('cafe fine unicode');
    // Tokens that split the expansion of one character ("ﬁ" → "f" "i") both hold it, so spans may
    // overlap there; otherwise they cover the text in order with no gap.
    const inner = enc.offsets.slice(1, -1);
    let covered = 0;
    inner.forEach(([s, e], i) => {
      expect(s).toBeLessThanOrEqual(covered);
      if (i > 0) expect(s).toBeGreaterThanOrEqual(inner[i - 1]![0]);
      covered = Math.max(covered, e);
    });
    expect(covered).toBe(text.length);
    // Each token's text, normalised, is what the token spells (where its span overlaps no other).
    for (let i = 1; i < enc.ids.length - 1; i++) {
      const [s, e] = enc.offsets[i]!;
      if ((i > 1 && enc.offsets[i - 1]![1] > s) || (i < enc.ids.length - 2 && enc.offsets[i + 1]![0] < e)) continue;
      const piece = text.slice(...enc.offsets[i]!).normalize('NFKC').normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase();
      expect(enc.tokens[i]!.replace('▁', ' ').trim()).toBe(piece.trim());
    }
  });

  it('characters, words and word pieces', () => {
    const text = 'The earth, 中文!';
    for (const tok of [trained.char, trained.word, trained.wordpiece]) {
      const enc = check(tok, text);
      for (let i = 1; i < enc.ids.length - 1; i++) {
        const piece = text.slice(...enc.offsets[i]!);
        if (enc.tokens[i] !== '<unk>') expect(enc.tokens[i]!.replace(/^##/, '')).toBe(piece);
      }
    }
  });

  it('a special token written in the text has its own span', () => {
    const enc = trained.bpe.encode('a<eos>b', { offsets: true, addSpecial: false });
    expect(enc.offsets[enc.ids.indexOf(2)]).toEqual([1, 6]);
  });

  it('encodeBatch and decodeBatch', () => {
    const tok = trained.bpe;
    expect(tok.encodeBatch(['the', 'earth'])).toEqual([tok.encode('the'), tok.encode('earth')]);
    expect(tok.encodeBatch(['the'], { offsets: true })[0]).toEqual(tok.encode('the', { offsets: true }));
    expect(tok.decodeBatch(tok.encodeBatch(['the earth', '']))).toEqual(['the earth', '']);
  });
});

describe('save and load', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const probes = [...KNOWN, ...UNSEEN, ...CORPUS, 'zebra <eos> Ω'];

  for (const [name, tok] of ALL) {
    it(`${name}: toJSON → fromJSON gives the same class and the same encodings`, async () => {
      const back = Tokenizer.fromJSON(JSON.stringify(tok));
      expect(back.constructor).toBe(tok.constructor);
      expect(back.vocabSize).toBe(tok.vocabSize);
      for (const text of probes) {
        expect(back.encode(text, { offsets: true })).toEqual(tok.encode(text, { offsets: true }));
        expect(back.decode(back.encode(text))).toBe(tok.decode(tok.encode(text)));
      }
      expect(back.toJSON()).toEqual(tok.toJSON());
      const dir = await mkdtemp(join(tmpdir(), 'nodeformer-tok-'));
      dirs.push(dir);
      await tok.save(join(dir, 'tokenizer.json'));
      const loaded = await Tokenizer.load(join(dir, 'tokenizer.json'));
      expect(loaded.encode(probes.join(' '))).toEqual(tok.encode(probes.join(' ')));
      expect(await readdir(dir)).toEqual(['tokenizer.json']);
    });
  }

  it('loading through a subclass checks the kind', () => {
    const json = trained.wordpiece.toJSON();
    expect(WordPieceTokenizer.fromJSON(json)).toBeInstanceOf(WordPieceTokenizer);
    expect(() => BPETokenizer.fromJSON(json)).toThrow(InvalidArgumentError);
    expect(() => BPETokenizer.fromJSON(json)).toThrow(/this JSON is a WordPieceTokenizer tokenizer; load it with Tokenizer.fromJSON/);
  });

  it('a file that is not JSON is a FormatError naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodeformer-tok-'));
    dirs.push(dir);
    const file = join(dir, 'bad.json');
    await writeFile(file, '{"model": ');
    await expect(Tokenizer.load(file)).rejects.toThrow(FormatError);
    await expect(Tokenizer.load(file)).rejects.toThrow(/Expected JSON in .*bad\.json but it does not parse/);
  });
});

describe('training', () => {
  it('is deterministic: the same texts give the same tokenizer', () => {
    for (const T of [CharTokenizer, WordTokenizer, BPETokenizer, WordPieceTokenizer]) {
      expect(JSON.stringify(T.train(CORPUS, { vocabSize: 250 }))).toBe(JSON.stringify(T.train(CORPUS, { vocabSize: 250 })));
    }
    // BPE's merges do not depend on the order of the texts either.
    const reversed = [...CORPUS].reverse();
    expect(BPETokenizer.train(reversed, { vocabSize: 250 }).toJSON()).toEqual(BPETokenizer.train(CORPUS, { vocabSize: 250 }).toJSON());
  });

  it('BPE reaches vocabSize when the corpus allows, stops early when no pair is frequent enough', () => {
    expect(BPETokenizer.train(CORPUS, { vocabSize: 250, minFrequency: 1 }).vocabSize).toBe(250);
    expect(BPETokenizer.train(['ab ab'], { vocabSize: 250, minFrequency: 2 }).vocabSize).toBeLessThan(20);
  });

  it('accepts any iterable of strings, read once', () => {
    function* lines() {
      yield* CORPUS;
    }
    expect(BPETokenizer.train(lines(), { vocabSize: 250 }).toJSON()).toEqual(BPETokenizer.train(CORPUS, { vocabSize: 250 }).toJSON());
  });

  it('reports progress', () => {
    const seen: number[] = [];
    BPETokenizer.train(CORPUS, { vocabSize: 300, minFrequency: 1, onProgress: (p) => seen.push(p.vocabSize) });
    expect(seen.at(-1)).toBe(300);
  });
});

describe('argument errors', () => {
  const tok = trained.bpe;
  it('encode and decode', () => {
    expect(() => tok.encode(42 as unknown as string)).toThrow(/Expected a string for text but received the number 42/);
    expect(() => tok.encode('a', { addSpecial: 'yes' as unknown as boolean })).toThrow(InvalidArgumentError);
    expect(() => tok.encode('a', { offset: true } as never)).toThrow(/Unknown option 'offset' in encode options/);
    expect(() => tok.decode([1, 5, tok.vocabSize])).toThrow(OutOfRangeError);
    expect(() => tok.decode([1, 5, tok.vocabSize])).toThrow(`ids[2] is the number ${tok.vocabSize}: token ids are integers in [0, ${tok.vocabSize})`);
    expect(() => tok.decode([1.5])).toThrow(/ids\[0\] is the number 1.5/);
    expect(() => tok.decode('1 2' as never)).toThrow(/Expected an array of token ids for ids/);
    expect(tok.decode(Int32Array.from(tok.encode('the earth')))).toBe('the earth');
    expect(() => tok.encodeBatch(['a', 3 as never])).toThrow(/texts\[1\]/);
  });

  it('train', () => {
    expect(() => BPETokenizer.train('text' as never)).toThrow(/Expected an array \(or iterable\) of strings for BPETokenizer.train texts/);
    expect(() => BPETokenizer.train(['a', null as never])).toThrow(/BPETokenizer.train texts\[1\]/);
    expect(() => BPETokenizer.train(CORPUS, { vocabSize: 4 })).toThrow(/vocabSize/);
    expect(() => BPETokenizer.train(CORPUS, { vocabSize: 100, byteLevel: true })).toThrow(/all 256 bytes/);
    expect(() => BPETokenizer.train(CORPUS, { vocabsize: 100 } as never)).toThrow(/Unknown option 'vocabsize'/);
    expect(() => WordTokenizer.train(CORPUS, { specialTokens: ['<eos>'] })).toThrow(/a token not already special/);
    expect(() => CharTokenizer.train(CORPUS, { normalization: 'NFX' as never })).toThrow(/one of 'NFC', 'NFD', 'NFKC', 'NFKD'/);
  });
});
