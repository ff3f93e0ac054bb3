/**
 * Text pairs to token ids, as the Transformer is trained on them: both sides wrapped in the tokenizer's
 * special tokens (`<bos> … <eos>` for this package's tokenizers). The decoder is then fed the target
 * without its last token and learns to predict it without its first (see prepare.ts), and a source is
 * encoded the same way at translation time.
 */
import { fail } from '../check.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { checkTextPairs, type EncodedPair, type TextPair } from './pairs.js';

export interface PairTokenizers {
  source: Tokenizer;
  target: Tokenizer;
}

/**
 * The ids of each pair: `[source.encode(src, { addSpecial: true }), target.encode(tgt, { addSpecial: true })]`.
 *
 * @example
 * const encoded = data.encodePairs(pairs, data.trainTokenizers(pairs, { vocabSize: 8000 }));
 * encoded[0]; // [[1, 312, …, 2], [1, 87, …, 2]]
 */
export function encodePairs(pairs: readonly TextPair[], tokenizers: PairTokenizers): EncodedPair[] {
  checkTextPairs(pairs, 'encodePairs pairs');
  if (tokenizers === null || typeof tokenizers !== 'object') fail('{ source, target } tokenizers', 'encodePairs tokenizers', tokenizers);
  const { source, target } = tokenizers;
  if (!(source instanceof Tokenizer)) fail('a Tokenizer', 'encodePairs tokenizers.source', source);
  if (!(target instanceof Tokenizer)) fail('a Tokenizer', 'encodePairs tokenizers.target', target);
  const special = { addSpecial: true } as const;
  return pairs.map(([src, tgt]): EncodedPair => [source.encode(src, special), target.encode(tgt, special)]);
}
