/**
 * WordPiece (BERT's subwords): words split on whitespace and punctuation, then greedy longest match with
 * "##" on pieces after the first; a word that no pieces cover is one `<unk>`. Trained as Hugging Face
 * trains it: BPE merges with the "##" prefix, whose tokens become the vocabulary.
 */
import { checkInteger } from '../check.js';
import * as dec from './decoder.js';
import { trainBpe } from './models/bpe_trainer.js';
import { WordPieceModel } from './models/wordpiece.js';
import * as pre from './pre_tokenizer.js';
import { bertCleaning, bosEosTemplate, checkTrainOptions, countPieces, joinNormalizers, specialTokens, type TrainOptions, UNK } from './train.js';
import { type Pipeline, registerKind, Tokenizer } from './tokenizer.js';
import { Vocab } from './vocab.js';

export interface WordPieceTrainOptions extends TrainOptions {
  /** Keep only this many of the most frequent characters as the base alphabet. */
  limitAlphabet?: number;
}

const PREFIX = '##';

export class WordPieceTokenizer extends Tokenizer {
  static accepts(p: Pipeline): boolean {
    return p.model instanceof WordPieceModel;
  }

  /**
   * Learns a vocabulary of `vocabSize` pieces (default 8,000) from `texts`, merging pairs seen at least
   * `minFrequency` times (default 2).
   *
   * @example
   * const tok = WordPieceTokenizer.train(lines, { vocabSize: 8000, lowercase: true });
   * tok.encode('unaffable', { offsets: true }).tokens; // e.g. ['un', '##aff', '##able']
   */
  static train(texts: Iterable<string>, options?: WordPieceTrainOptions): WordPieceTokenizer {
    const name = 'WordPieceTokenizer.train';
    const o = checkTrainOptions(options, name, { vocabSize: 8000, minFrequency: 2 }, ['limitAlphabet']);
    const limitAlphabet = o.raw.limitAlphabet === undefined ? undefined : checkInteger(o.raw.limitAlphabet, `${name} limitAlphabet`, 1);
    const normalizer = joinNormalizers([bertCleaning(), o.normalizer]);
    const preTokenizer = pre.bertPreTokenizer();
    const { tokens } = trainBpe(countPieces(texts, name, normalizer, preTokenizer), {
      vocabSize: o.vocabSize, minFrequency: o.minFrequency, specialTokens: o.specials, onProgress: o.onProgress,
      limitAlphabet, continuingSubwordPrefix: PREFIX,
    });
    return new WordPieceTokenizer({
      normalizer, preTokenizer, model: new WordPieceModel(Vocab.fromList(tokens), UNK, PREFIX),
      postProcessor: bosEosTemplate(), decoder: dec.wordPiece(PREFIX, true), addedTokens: specialTokens(o.specials),
    });
  }
}

registerKind(WordPieceTokenizer);
