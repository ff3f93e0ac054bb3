/** Whole pieces as tokens: a piece not in the vocabulary is the unknown token. */
import type { Vocab } from '../vocab.js';
import { type Model, unknown } from './model.js';

export class WordLevelModel implements Model {
  readonly cacheable = false;
  constructor(
    readonly vocab: Vocab,
    readonly unkToken: string | null,
  ) {}

  json(): Record<string, unknown> {
    return { type: 'WordLevel', vocab: this.vocab.toObject(), unk_token: this.unkToken };
  }

  tokenize(word: string, ids: number[], ends?: number[]): void {
    ids.push(this.vocab.id(word) ?? unknown(this.vocab, this.unkToken, `the word ${JSON.stringify(word)}`));
    ends?.push(word.length);
  }
}
