/**
 * Added tokens (special tokens such as "<eos>" or "[CLS]", and any token added to a trained vocabulary)
 * are found in the raw text before normalisation and stand as one id each; the text between them goes
 * through the normalizer, pre-tokenizer and model. Longest match first.
 */
import { escapeRegExp } from './regex.js';

export interface AddedToken {
  readonly id: number;
  readonly content: string;
  /** Dropped by `decode(…, { skipSpecial: true })`. */
  readonly special: boolean;
  /** Only matched where it is not inside a word. */
  readonly singleWord: boolean;
  /** Takes the whitespace on its left (right) with it. */
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  /** Hugging Face's flag, kept for the file; matching is on the raw text here either way. */
  readonly normalized: boolean;
}

export function special(id: number, content: string): AddedToken {
  return { id, content, special: true, singleWord: false, lstrip: false, rstrip: false, normalized: false };
}

export function addedTokenJson(t: AddedToken): Record<string, unknown> {
  return {
    id: t.id, content: t.content, single_word: t.singleWord, lstrip: t.lstrip, rstrip: t.rstrip,
    normalized: t.normalized, special: t.special,
  };
}

/** A stretch of the text: plain text [from, to), or an added token's match with its id. */
export interface Segment {
  readonly from: number;
  readonly to: number;
  readonly id?: number;
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;
const SPACE = /\p{White_Space}/u;

export class AddedTokens {
  readonly tokens: readonly AddedToken[];
  readonly byContent: ReadonlyMap<string, AddedToken>;
  readonly byId: ReadonlyMap<number, AddedToken>;
  private readonly pattern: RegExp | null;

  constructor(tokens: readonly AddedToken[]) {
    this.tokens = tokens;
    this.byContent = new Map(tokens.map((t) => [t.content, t]));
    this.byId = new Map(tokens.map((t) => [t.id, t]));
    const contents = tokens.map((t) => t.content).filter((c) => c.length > 0).sort((a, b) => b.length - a.length);
    this.pattern = contents.length ? new RegExp(contents.map(escapeRegExp).join('|'), 'gu') : null;
  }

  split(text: string): Segment[] {
    if (!this.pattern || !text) return text ? [{ from: 0, to: text.length }] : [];
    const out: Segment[] = [];
    const re = this.pattern;
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const t = this.byContent.get(m[0])!;
      let from = m.index;
      let to = from + m[0].length;
      if (t.singleWord && ((from > 0 && WORD_CHAR.test(text[from - 1]!)) || (to < text.length && WORD_CHAR.test(text[to]!)))) {
        re.lastIndex = m.index + 1;
        continue;
      }
      if (t.lstrip) while (from > last && SPACE.test(text[from - 1]!)) from--;
      if (t.rstrip) while (to < text.length && SPACE.test(text[to]!)) to++;
      if (from > last) out.push({ from: last, to: from });
      out.push({ from, to, id: t.id });
      last = to;
      re.lastIndex = to;
    }
    if (last < text.length) out.push({ from: last, to: text.length });
    return out;
  }
}
