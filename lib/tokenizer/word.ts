/**
 * Words as tokens: text split on whitespace and punctuation (as BERT splits it), the `vocabSize` most
 * frequent words kept and every other word `<unk>`. Short sequences, but a closed vocabulary: decoding
 * rejoins words with single spaces (none before punctuation), so whitespace is not kept exactly.
 */
import * as dec from './decoder.js';
import { WordLevelModel } from './models/word_level.js';
import * as pre from './pre_tokenizer.js';
import { bertCleaning, bosEosTemplate, checkTrainOptions, countPieces, joinNormalizers, specialTokens, type TrainOptions, UNK } from './train.js';
import { type Pipeline, registerKind, Tokenizer } from './tokenizer.js';
import { Vocab } from './vocab.js';

export type WordTrainOptions = TrainOptions;

export class WordTokenizer extends Tokenizer {
  static accepts(p: Pipeline): boolean {
    return p.model instanceof WordLevelModel;
  }

  /**
   * The words of `texts` seen at least `minFrequency` times (default 1), most frequent first, up to
   * `vocabSize` (default 30,000) tokens.
   *
   * @example
   * const tok = WordTokenizer.train(lines, { vocabSize: 10000, lowercase: true });
   */
  static train(texts: Iterable<string>, options?: WordTrainOptions): WordTokenizer {
    const o = checkTrainOptions(options, 'WordTokenizer.train', { vocabSize: 30_000, minFrequency: 1 });
    const normalizer = joinNormalizers([bertCleaning(), o.normalizer]);
    const preTokenizer = pre.bertPreTokenizer();
    const words = [...countPieces(texts, 'WordTokenizer.train', normalizer, preTokenizer)]
      .filter(([w, n]) => n >= o.minFrequency && !o.specials.includes(w))
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, o.vocabSize - o.specials.length)
      .map(([w]) => w);
    return new WordTokenizer({
      normalizer, preTokenizer, model: new WordLevelModel(Vocab.fromList([...o.specials, ...words]), UNK),
      postProcessor: bosEosTemplate(), decoder: dec.wordPiece('##', true), addedTokens: specialTokens(o.specials),
    });
  }
}

registerKind(WordTokenizer);
