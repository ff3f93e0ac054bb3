/**
 * Pre-tokenizers: how normalised text is cut into the pieces ("words") that the model then splits into
 * tokens, as Hugging Face's `pre_tokenizer` components (each step's `json` is its tokenizer.json form).
 * Merges never cross a piece boundary, and the model's cache is keyed by piece.
 */
import { compileRegex, escapeRegExp } from './regex.js';

/**
 * A piece: its text, and where it starts in the normalised text. The first `pad` units of `text` were
 * inserted (a prefix space or "▁") and stand for no text at all; the rest is the normalised text from
 * `start` on, unit for unit (a replaced " " → "▁" keeps its length).
 */
export interface Piece {
  readonly text: string;
  readonly start: number;
  readonly pad: number;
}

export interface PreTokenizerStep {
  readonly json: Record<string, unknown>;
  /** The model sees each piece as UTF-8 byte characters (a ByteLevel step is in it). */
  readonly byteLevel?: boolean;
  /** Calls `emit` with each piece of `piece`, in order (a callback, so a long text's pieces are never all held). */
  split(piece: Piece, emit: (p: Piece) => void): void;
}

/** Calls `emit` with each piece of normalised text: all of it as one piece when there is no pre-tokenizer. */
export function forEachPiece(step: PreTokenizerStep | null, text: string, emit: (p: Piece) => void): void {
  const all: Piece = { text, start: 0, pad: 0 };
  if (step) step.split(all, emit);
  else if (text) emit(all);
}

/** The pieces of normalised text, as an array. */
export function preTokenize(step: PreTokenizerStep | null, text: string): Piece[] {
  const out: Piece[] = [];
  forEachPiece(step, text, (p) => out.push(p));
  return out;
}

/** Normalised-text position of `text` index i of a piece (an inserted unit sits at the piece's start). */
export function positionIn(p: Piece, i: number): number {
  return p.start + Math.max(0, i - p.pad);
}

function sub(p: Piece, a: number, b: number): Piece {
  return { text: p.text.slice(a, b), start: positionIn(p, a), pad: Math.max(0, Math.min(b, p.pad) - a) };
}

export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
export const SPLIT_BEHAVIORS: readonly SplitBehavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

/**
 * Cuts a piece at the matches of `re` (global), keeping or merging them as `behavior` says; with
 * `invert`, the text between matches is what is split on. Empty pieces are dropped.
 */
function splitOn(p: Piece, re: RegExp, behavior: SplitBehavior, invert: boolean, out: (p: Piece) => void): void {
  // The matches, then the ranges between and of them, each marked as delimiter or not.
  const cuts: Array<[number, number]> = [];
  for (const m of p.text.matchAll(re)) if (m[0].length) cuts.push([m.index, m.index + m[0].length]);
  const ranges: Array<[number, number, boolean]> = []; // [from, to, isDelimiter]
  let last = 0;
  for (const [a, b] of cuts) {
    if (a > last) ranges.push([last, a, invert]);
    ranges.push([a, b, !invert]);
    last = b;
  }
  if (last < p.text.length) ranges.push([last, p.text.length, invert]);

  let open = -1; // start of a piece being merged
  const emit = (a: number, b: number): void => {
    if (b > a) out(sub(p, a, b));
  };
  for (let i = 0; i < ranges.length; i++) {
    const [a, b, delimiter] = ranges[i]!;
    switch (behavior) {
      case 'Removed':
        if (!delimiter) emit(a, b);
        break;
      case 'Isolated':
        emit(a, b);
        break;
      case 'MergedWithPrevious':
        if (open < 0) open = a;
        if (delimiter || i === ranges.length - 1) {
          emit(open, b);
          open = -1;
        }
        break;
      case 'MergedWithNext':
        if (delimiter && open >= 0) emit(open, a);
        if (delimiter || open < 0) open = a;
        if (i === ranges.length - 1) emit(open, b);
        break;
      case 'Contiguous': {
        const next = ranges[i + 1];
        if (open < 0) open = a;
        if (!next || !delimiter || !next[2]) {
          emit(open, b);
          open = -1;
        }
        break;
      }
    }
  }
}

/**
 * GPT-2's pattern: contractions, letters, numbers, other symbols, each with at most one leading space.
 * Its `\s` is Oniguruma's (see regex.ts), so U+0085 is whitespace and U+FEFF is not, as in the Rust library.
 */
const GPT2_PATTERN = compileRegex("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", 'ByteLevel');

/**
 * Byte level (GPT-2, RoBERTa): optionally a space before each piece that has none, then GPT-2's pattern.
 * Turning the text into byte characters is the model's input step (the tokenizer does it per piece).
 */
export function byteLevel(addPrefixSpace: boolean, useRegex: boolean, trimOffsets: boolean): PreTokenizerStep {
  return {
    json: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: useRegex },
    byteLevel: true,
    split(p, out) {
      if (addPrefixSpace && !p.text.startsWith(' ')) p = { text: ` ${p.text}`, start: p.start, pad: p.pad + 1 };
      if (!useRegex) {
        out(p);
        return;
      }
      // exec on the shared pattern, its position kept here: `out` may run another byte-level split.
      const re = GPT2_PATTERN;
      for (let at = 0; ; ) {
        re.lastIndex = at;
        const m = re.exec(p.text);
        if (!m) break;
        at = re.lastIndex;
        out(sub(p, m.index, at));
      }
    },
  };
}

/** What BERT calls punctuation: ASCII symbols and punctuation, and Unicode's P* categories. */
const BERT_PUNCTUATION = '[!-/:-@\\[-`{-~\\p{P}]';
const WHITESPACE = '\\p{White_Space}';

/** BERT: split on whitespace (dropped) and put every punctuation character in a piece of its own. */
export function bertPreTokenizer(): PreTokenizerStep {
  const spaces = new RegExp(`${WHITESPACE}+`, 'gu');
  const punct = new RegExp(BERT_PUNCTUATION, 'gu');
  return {
    json: { type: 'BertPreTokenizer' },
    split(p, out) {
      splitOn(p, spaces, 'Removed', false, (w) => splitOn(w, punct, 'Isolated', false, out));
    },
  };
}

/** Hugging Face's `Whitespace`: runs of word characters, and runs of other non-space characters. */
export function whitespace(): PreTokenizerStep {
  const re = compileRegex('\\w+|[^\\w\\s]+', 'Whitespace');
  return { json: { type: 'Whitespace' }, split: (p, out) => splitOn(p, re, 'Removed', true, out) };
}

/** Split on whitespace only. */
export function whitespaceSplit(): PreTokenizerStep {
  const re = new RegExp(`${WHITESPACE}+`, 'gu');
  return { json: { type: 'WhitespaceSplit' }, split: (p, out) => splitOn(p, re, 'Removed', false, out) };
}

export type PrependScheme = 'always' | 'first' | 'never';

/**
 * SentencePiece's convention: " " becomes `replacement` ("▁"), "▁" is prepended (always, to the first
 * piece only, or never) unless there already, and with `split` each "▁" starts a new piece.
 */
export function metaspace(replacement: string, prependScheme: PrependScheme, split: boolean): PreTokenizerStep {
  const re = new RegExp(escapeRegExp(replacement), 'gu');
  return {
    json: { type: 'Metaspace', replacement, prepend_scheme: prependScheme, split },
    split(p, out) {
      let text = p.text.replaceAll(' ', replacement);
      let pad = p.pad;
      const first = p.start === 0 && p.pad === 0;
      if (!text.startsWith(replacement) && (prependScheme === 'always' || (prependScheme === 'first' && first))) {
        text = replacement + text;
        pad++;
      }
      const q = { text, start: p.start, pad };
      if (split) splitOn(q, re, 'MergedWithNext', false, out);
      else out(q);
    },
  };
}

/** Digits apart from the rest: each digit on its own, or runs of digits. */
export function digits(individual: boolean): PreTokenizerStep {
  const re = individual ? /\p{N}/gu : /\p{N}+/gu;
  return { json: { type: 'Digits', individual_digits: individual }, split: (p, out) => splitOn(p, re, 'Isolated', false, out) };
}

/** Punctuation characters (BERT's definition) apart from the rest. */
export function punctuation(behavior: SplitBehavior): PreTokenizerStep {
  const re = new RegExp(BERT_PUNCTUATION, 'gu');
  return { json: { type: 'Punctuation', behavior }, split: (p, out) => splitOn(p, re, behavior, false, out) };
}

/** Split on a single delimiter character, which is dropped. */
export function charDelimiterSplit(delimiter: string): PreTokenizerStep {
  const re = new RegExp(escapeRegExp(delimiter), 'gu');
  return { json: { type: 'CharDelimiterSplit', delimiter }, split: (p, out) => splitOn(p, re, 'Removed', false, out) };
}

/** Split on a literal string or a regular expression. */
export function splitPattern(pattern: { String: string } | { Regex: string }, behavior: SplitBehavior, invert: boolean): PreTokenizerStep {
  const re = 'String' in pattern ? new RegExp(escapeRegExp(pattern.String), 'gu') : compileRegex(pattern.Regex, 'Split');
  return {
    json: { type: 'Split', pattern, behavior, invert },
    split: (p, out) => splitOn(p, re, behavior, invert, out),
  };
}

/** Several pre-tokenizers, each applied to every piece the one before produced. */
export function sequence(steps: readonly PreTokenizerStep[]): PreTokenizerStep {
  return {
    json: { type: 'Sequence', pretokenizers: steps.map((s) => s.json) },
    byteLevel: steps.some((s) => s.byteLevel),
    split(p, out) {
      const run = (k: number, q: Piece): void => (k === steps.length ? out(q) : steps[k]!.split(q, (r) => run(k + 1, r)));
      run(0, p);
    },
  };
}
