/** What a tokenizer's model does: turn one pre-tokenized piece into token ids. */
import { OutOfRangeError } from '../../errors.js';
import type { Vocab } from '../vocab.js';

export interface Model {
  readonly vocab: Vocab;
  readonly unkToken: string | null;
  /** Whether a piece → ids cache pays (a model that only looks the piece up does not need one). */
  readonly cacheable: boolean;
  /** The model as Hugging Face's tokenizer.json writes it. */
  json(): Record<string, unknown>;
  /**
   * Appends the ids of `word`'s tokens to `ids`, and to `ends` (when given) where each token ends in
   * `word`, in UTF-16 units.
   */
  tokenize(word: string, ids: number[], ends?: number[]): void;
}

/** The unk token's id, or a clear error when the model has none: the character cannot be encoded. */
export function unknown(vocab: Vocab, unkToken: string | null, what: string): number {
  const id = unkToken === null ? undefined : vocab.id(unkToken);
  if (id === undefined) throw new OutOfRangeError(`${what} is not in the vocabulary, and the tokenizer has no unknown token to stand for it`);
  return id;
}
