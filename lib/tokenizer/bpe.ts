/**
 * Subwords by byte-pair encoding, trained here or loaded from a tokenizer.json. Two presets:
 * - SentencePiece style (default): "▁" marks where a space was, so decoding restores the text exactly;
 *   a character never seen in training is `<unk>`.
 * - Byte level (`byteLevel: true`, as GPT-2): merges over UTF-8 bytes, so nothing is ever unknown.
 */
import { checkBoolean, checkInteger } from '../check.js';
import { BYTE_ALPHABET } from './byte_level.js';
import { CharTokenizer } from './char.js';
import * as dec from './decoder.js';
import { BpeModel } from './models/bpe.js';
import { trainBpe } from './models/bpe_trainer.js';
import * as norm from './normalizer.js';
import * as pre from './pre_tokenizer.js';
import { bosEosTemplate, checkTrainOptions, countPieces, joinNormalizers, specialTokens, type TrainOptions, UNK } from './train.js';
import { type Pipeline, registerKind, Tokenizer } from './tokenizer.js';
import { Vocab } from './vocab.js';

export interface BPETrainOptions extends TrainOptions {
  /** Merge UTF-8 bytes (GPT-2's scheme) rather than characters. Default false. */
  byteLevel?: boolean;
  /** Keep only this many of the most frequent characters as the base alphabet (characters mode). */
  limitAlphabet?: number;
}

const METASPACE = '▁';

export class BPETokenizer extends Tokenizer {
  static accepts(p: Pipeline): boolean {
    return p.model instanceof BpeModel && !CharTokenizer.accepts(p);
  }

  /**
   * Learns merges from `texts` until the vocabulary has `vocabSize` tokens (default 8,000) or no pair
   * occurs `minFrequency` times (default 2). Deterministic: the same texts and options give the same
   * tokenizer.
   *
   * @example
   * const tok = BPETokenizer.train(lines, { vocabSize: 8000, onProgress: (p) => console.log(p.vocabSize) });
   * tok.decode(tok.encode('Y dijo Dios: Sea la luz')); // 'Y dijo Dios: Sea la luz'
   */
  static train(texts: Iterable<string>, options?: BPETrainOptions): BPETokenizer {
    const name = 'BPETokenizer.train';
    const o = checkTrainOptions(options, name, { vocabSize: 8000, minFrequency: 2 }, ['byteLevel', 'limitAlphabet']);
    const byteLevel = o.raw.byteLevel === undefined ? false : checkBoolean(o.raw.byteLevel, `${name} byteLevel`);
    const limitAlphabet = o.raw.limitAlphabet === undefined ? undefined : checkInteger(o.raw.limitAlphabet, `${name} limitAlphabet`, 1);
    if (byteLevel) checkInteger(o.vocabSize, `${name} vocabSize (byte level: the special tokens and all 256 bytes)`, o.specials.length + 256);
    // Characters mode: "▁" before the text and for every space, each "▁" starting a piece; the decoder
    // turns them back and drops the first, so the text comes back exactly.
    const normalizer = byteLevel ? o.normalizer : joinNormalizers([o.normalizer, norm.prepend(METASPACE)]);
    const preTokenizer = byteLevel ? pre.byteLevel(false, true, false) : pre.metaspace(METASPACE, 'never', true);
    const { tokens, merges } = trainBpe(countPieces(texts, name, normalizer, preTokenizer, byteLevel), {
      vocabSize: o.vocabSize, minFrequency: o.minFrequency, specialTokens: o.specials, onProgress: o.onProgress,
      initialAlphabet: byteLevel ? BYTE_ALPHABET : undefined, limitAlphabet: byteLevel ? undefined : limitAlphabet,
    });
    return new BPETokenizer({
      normalizer, preTokenizer, model: new BpeModel(Vocab.fromList(tokens), merges, { unkToken: UNK }),
      postProcessor: bosEosTemplate(), decoder: byteLevel ? dec.byteLevel() : dec.metaspace(METASPACE, 'always', true),
      addedTokens: specialTokens(o.specials),
    });
  }
}

registerKind(BPETokenizer);
