/**
 * Tokenizers trained from parallel text: one vocabulary for both sides (shared, the default: one embedding
 * table can serve both, `tieEmbeddings`), or one per side. The tokenizers are lib/tokenizer's own presets.
 */
import { checkBoolean, checkOneOf, fail } from '../check.js';
import { InvalidArgumentError } from '../errors.js';
import { type BPETrainOptions, BPETokenizer } from '../tokenizer/bpe.js';
import { CharTokenizer } from '../tokenizer/char.js';
import { WordTokenizer } from '../tokenizer/word.js';
import { WordPieceTokenizer, type WordPieceTrainOptions } from '../tokenizer/wordpiece.js';
import { checkTextPairs, type TextPair } from './pairs.js';

/** The tokenizer each kind trains. */
export interface TokenizerKinds {
  bpe: BPETokenizer;
  wordpiece: WordPieceTokenizer;
  word: WordTokenizer;
  char: CharTokenizer;
}

export type TokenizerKind = keyof TokenizerKinds;

/**
 * The kind, whether both sides share it, and the kind's own training options (`vocabSize`, `minFrequency`,
 * `lowercase`, …; `byteLevel` for BPE, `limitAlphabet` for BPE and WordPiece), which apply to each
 * tokenizer trained. The trainer checks them, so an option its kind lacks is an error.
 */
export type TrainTokenizersOptions<K extends TokenizerKind = 'bpe'> = {
  /** Default 'bpe'. */
  kind?: K;
  /** One tokenizer for both sides, trained on the sources and targets together. Default true. */
  shared?: boolean;
} & BPETrainOptions & WordPieceTrainOptions;

export interface TrainedTokenizers<T> {
  /** For the sources; the same object as `target` when shared. */
  source: T;
  target: T;
}

const KINDS: readonly TokenizerKind[] = ['bpe', 'wordpiece', 'word', 'char'];

/**
 * Tokenizers for `pairs`: shared (the default) learns one vocabulary from every source and target text;
 * `shared: false` learns one from the sources and one from the targets, each of up to `vocabSize` tokens.
 * Deterministic, as the trainers are.
 *
 * @example
 * const { source, target } = data.trainTokenizers(pairs, { kind: 'bpe', vocabSize: 8000 });
 * source === target; // true: shared
 */
export function trainTokenizers<K extends TokenizerKind = 'bpe'>(
  pairs: readonly TextPair[], options: TrainTokenizersOptions<K> = {},
): TrainedTokenizers<TokenizerKinds[K]> {
  checkTextPairs(pairs, 'trainTokenizers pairs');
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail('an options object', 'trainTokenizers options', options);
  const { kind: kindOption, shared: sharedOption, ...trainOptions } = options;
  const kind = checkOneOf(kindOption ?? 'bpe', 'trainTokenizers kind', KINDS);
  const shared = checkBoolean(sharedOption ?? true, 'trainTokenizers shared');
  if (pairs.length === 0) throw new InvalidArgumentError('Expected at least one pair for trainTokenizers pairs but received none');
  const train = (texts: Iterable<string>) => trainKind(kind, texts, trainOptions) as TokenizerKinds[K];
  if (shared) {
    const tokenizer = train(bothSides(pairs));
    return { source: tokenizer, target: tokenizer };
  }
  return { source: train(side(pairs, 0)), target: train(side(pairs, 1)) };
}

function trainKind(kind: TokenizerKind, texts: Iterable<string>, options: BPETrainOptions & WordPieceTrainOptions) {
  switch (kind) {
    case 'bpe':
      return BPETokenizer.train(texts, options);
    case 'wordpiece':
      return WordPieceTokenizer.train(texts, options);
    case 'word':
      return WordTokenizer.train(texts, options);
    case 'char':
      return CharTokenizer.train(texts, options);
  }
}

function* side(pairs: readonly TextPair[], i: 0 | 1): Generator<string> {
  for (const pair of pairs) yield pair[i];
}

function* bothSides(pairs: readonly TextPair[]): Generator<string> {
  for (const [src, tgt] of pairs) {
    yield src;
    yield tgt;
  }
}
