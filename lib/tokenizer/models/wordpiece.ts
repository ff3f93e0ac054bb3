/**
 * WordPiece (BERT): greedy longest match from the left; pieces after the first carry the continuation
 * prefix ("##"). A word with a character no piece covers, or longer than `maxInputCharsPerWord` code
 * points, is one unknown token, as in BERT.
 */
import type { Vocab } from '../vocab.js';
import { type Model, unknown } from './model.js';

export class WordPieceModel implements Model {
  readonly cacheable = true;
  /** The longest token in UTF-16 units: no match is tried beyond it. */
  private readonly longest: number;

  constructor(
    readonly vocab: Vocab,
    readonly unkToken: string,
    readonly continuingSubwordPrefix = '##',
    readonly maxInputCharsPerWord = 100,
  ) {
    this.longest = vocab.tokens.reduce((m, t) => Math.max(m, t.length), 0);
  }

  json(): Record<string, unknown> {
    return {
      type: 'WordPiece', unk_token: this.unkToken, continuing_subword_prefix: this.continuingSubwordPrefix,
      max_input_chars_per_word: this.maxInputCharsPerWord, vocab: this.vocab.toObject(),
    };
  }

  tokenize(word: string, ids: number[], ends?: number[]): void {
    const found: number[] = [];
    const at: number[] = [];
    let codePoints = 0;
    for (let i = 0; i < word.length; i++, codePoints++) if (isHigh(word.charCodeAt(i)) && i + 1 < word.length) i++;
    if (codePoints <= this.maxInputCharsPerWord) {
      for (let start = 0; start < word.length; ) {
        const prefix = start > 0 ? this.continuingSubwordPrefix : '';
        let end = Math.min(word.length, start + this.longest - prefix.length);
        if (end < word.length && isLow(word.charCodeAt(end))) end--;
        let id: number | undefined;
        for (; end > start; end -= end - 2 >= start && isLow(word.charCodeAt(end - 1)) ? 2 : 1) {
          id = this.vocab.id(prefix + word.slice(start, end));
          if (id !== undefined) break;
        }
        if (id === undefined) break;
        found.push(id);
        at.push(end);
        start = end;
      }
    }
    if (at.length === 0 || at[at.length - 1] !== word.length) {
      ids.push(unknown(this.vocab, this.unkToken, `the word ${JSON.stringify(word)}`));
      ends?.push(word.length);
      return;
    }
    ids.push(...found);
    ends?.push(...at);
  }
}

function isHigh(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}

function isLow(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}
