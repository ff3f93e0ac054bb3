/**
 * Characters as tokens: one id per Unicode code point (an emoji outside the BMP is one token, not two
 * UTF-16 halves). The longest sequences, no unknown words, only unknown characters.
 */
import * as dec from './decoder.js';
import { BpeModel } from './models/bpe.js';
import { bosEosTemplate, checkTrainOptions, countPieces, specialTokens, type TrainOptions, UNK } from './train.js';
import { type Pipeline, registerKind, Tokenizer } from './tokenizer.js';
import { Vocab } from './vocab.js';

export type CharTrainOptions = TrainOptions;

export class CharTokenizer extends Tokenizer {
  /** A BPE model without merges and no pre-tokenizer is a character tokenizer. */
  static accepts(p: Pipeline): boolean {
    return p.model instanceof BpeModel && p.model.mergeCount === 0 && p.preTokenizer === null;
  }

  /**
   * The characters of `texts`, most frequent first, up to `vocabSize` (default: all) and those seen at
   * least `minFrequency` times (default 1); any other character encodes as `<unk>`.
   *
   * @example
   * const tok = CharTokenizer.train(['hello world']);
   * tok.encode('hold').length; // 4
   */
  static train(texts: Iterable<string>, options?: CharTrainOptions): CharTokenizer {
    const o = checkTrainOptions(options, 'CharTokenizer.train', { vocabSize: 2 ** 21 - 1, minFrequency: 1 });
    const counts = new Map<string, number>();
    for (const [text, n] of countPieces(texts, 'CharTokenizer.train', o.normalizer, null)) {
      for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + n);
    }
    const kept = [...counts]
      .filter(([, n]) => n >= o.minFrequency)
      .sort(([a, x], [b, y]) => y - x || a.codePointAt(0)! - b.codePointAt(0)!)
      .slice(0, o.vocabSize - o.specials.length)
      .map(([ch]) => ch);
    return new CharTokenizer({
      normalizer: o.normalizer, preTokenizer: null, model: new BpeModel(Vocab.fromList([...o.specials, ...kept]), [], { unkToken: UNK }),
      postProcessor: bosEosTemplate(), decoder: dec.fuse(), addedTokens: specialTokens(o.specials),
    });
  }
}

registerKind(CharTokenizer);
