/**
 * What the four trainable tokenizers share: the special tokens (`<pad>`=0, `<bos>`=1, `<eos>`=2,
 * `<unk>`=3, then any extra ones), the normalisation options, the "<bos> $A <eos>" template, and counting
 * the pieces of a corpus.
 */
import { checkBoolean, checkInteger, checkOneOf, checkOptions, fail } from '../check.js';
import { type AddedToken, special } from './added_tokens.js';
import { toByteChars } from './byte_level.js';
import type { TrainProgress } from './models/bpe_trainer.js';
import * as norm from './normalizer.js';
import { template, type PostProcessor } from './post_processor.js';
import { preTokenize, type PreTokenizerStep } from './pre_tokenizer.js';

export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;
export const UNK = '<unk>';

export interface TrainOptions {
  /** Upper bound on the vocabulary, special tokens included. */
  vocabSize?: number;
  /** Occurrences needed to enter the vocabulary (a character, a word, a merge). */
  minFrequency?: number;
  /** A Unicode normal form applied first (NFKC folds compatibility characters: "ﬁ" → "fi", full-width → ASCII). */
  normalization?: norm.UnicodeForm | null;
  lowercase?: boolean;
  /** Remove accents (NFD, then drop non-spacing marks): "café" → "cafe". */
  stripAccents?: boolean;
  /** More special tokens after the four standard ones (ids 4, 5, …); matched whole in text. */
  specialTokens?: readonly string[];
  /** Called as training advances (BPE and WordPiece merges). */
  onProgress?: (p: TrainProgress) => void;
}

const TRAIN_OPTIONS = ['vocabSize', 'minFrequency', 'normalization', 'lowercase', 'stripAccents', 'specialTokens', 'onProgress'] as const;

export interface CheckedTrainOptions {
  vocabSize: number;
  minFrequency: number;
  specials: string[];
  normalizer: norm.NormalizerStep | null;
  onProgress: ((p: TrainProgress) => void) | undefined;
}

/** Checks the shared options (and allows `extra` keys, which the caller checks). */
export function checkTrainOptions<T extends TrainOptions>(
  options: T | undefined, name: string, defaults: { vocabSize: number; minFrequency: number }, extra: readonly string[] = [],
): CheckedTrainOptions & { raw: Partial<T> } {
  const o = checkOptions<T>(options, `${name} options`, [...TRAIN_OPTIONS, ...extra]);
  const specials: string[] = [...SPECIAL_TOKENS];
  if (o.specialTokens !== undefined) {
    if (!Array.isArray(o.specialTokens)) fail('an array of strings', `${name} specialTokens`, o.specialTokens);
    for (const [i, t] of o.specialTokens.entries()) {
      if (typeof t !== 'string' || !t) fail('a non-empty string', `${name} specialTokens[${i}]`, t);
      if (specials.includes(t)) fail('a token not already special', `${name} specialTokens[${i}]`, t);
      specials.push(t);
    }
  }
  const vocabSize = checkInteger(o.vocabSize ?? defaults.vocabSize, `${name} vocabSize`, specials.length + 1, 2 ** 21 - 1);
  const minFrequency = checkInteger(o.minFrequency ?? defaults.minFrequency, `${name} minFrequency`, 0);
  const steps: norm.NormalizerStep[] = [];
  if (o.normalization !== undefined && o.normalization !== null) {
    steps.push(norm.unicodeForm(checkOneOf(o.normalization, `${name} normalization`, ['NFC', 'NFD', 'NFKC', 'NFKD'])));
  }
  if (o.stripAccents !== undefined && checkBoolean(o.stripAccents, `${name} stripAccents`)) steps.push(norm.unicodeForm('NFD'), norm.stripAccents());
  if (o.lowercase !== undefined && checkBoolean(o.lowercase, `${name} lowercase`)) steps.push(norm.lowercase());
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') fail('a function', `${name} onProgress`, o.onProgress);
  return { vocabSize, minFrequency, specials, onProgress: o.onProgress, raw: o, normalizer: joinNormalizers(steps) };
}

/** The special tokens as added tokens, ids in order from 0. */
export function specialTokens(specials: readonly string[]): AddedToken[] {
  return specials.map((t, i) => special(i, t));
}

export function bosEosTemplate(): PostProcessor {
  return template(['<bos>', 1], ['<eos>', 2]);
}

/** BERT's cleaning (controls dropped, CJK ideographs split apart), before the user's normalisation. */
export function bertCleaning(): norm.NormalizerStep {
  return norm.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false });
}

/** Normalizer steps joined, or the one step, or none. */
export function joinNormalizers(steps: ReadonlyArray<norm.NormalizerStep | null>): norm.NormalizerStep | null {
  const present = steps.filter((s): s is norm.NormalizerStep => s !== null);
  return present.length === 0 ? null : present.length === 1 ? present[0]! : norm.sequence(present);
}

/**
 * How often each piece occurs in `texts` after normalisation and pre-tokenisation (as byte characters
 * for byte-level models). `texts` may be any iterable of strings, read once.
 */
export function countPieces(
  texts: Iterable<string>, name: string, normalizer: norm.NormalizerStep | null, preTokenizer: PreTokenizerStep | null, byteLevel = false,
): Map<string, number> {
  const counts = new Map<string, number>();
  let i = 0;
  for (const text of checkTexts(texts, name)) {
    if (typeof text !== 'string') fail('a string', `${name} texts[${i}]`, text);
    i++;
    for (const piece of preTokenize(preTokenizer, normalizer ? normalizer.apply(text) : text)) {
      const key = byteLevel ? toByteChars(piece.text) : piece.text;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

function checkTexts(texts: unknown, name: string): Iterable<unknown> {
  if (typeof texts === 'string' || texts === null || typeof texts !== 'object' || !(Symbol.iterator in texts)) {
    fail('an array (or iterable) of strings', `${name} texts`, texts);
  }
  return texts as Iterable<unknown>;
}
