/**
 * Normalizers: Unicode forms, lowercase, accent stripping and BERT's cleaning, as the steps of Hugging
 * Face's `normalizer` (their JSON is the `json` of each step). Every step has two forms that give the same
 * text: `apply` on a plain string (the fast path of `encode`) and `applyAligned`, which also keeps, for each
 * UTF-16 unit of the result, the span of the original text it came from (for `encode(…, { offsets })`).
 */
import { compileRegex, escapeRegExp } from './regex.js';

/** Text plus, for each of its UTF-16 units, the span [starts[i], ends[i]) of the original it came from. */
export interface Aligned {
  readonly text: string;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
}

export function aligned(text: string): Aligned {
  const starts = new Int32Array(text.length);
  const ends = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    starts[i] = i;
    ends[i] = i + 1;
  }
  return { text, starts, ends };
}

export interface NormalizerStep {
  /** The step as Hugging Face's tokenizer.json writes it. */
  readonly json: Record<string, unknown>;
  apply(text: string): string;
  applyAligned(a: Aligned): Aligned;
}

/**
 * Units that normalise independently: a code point with the marks (and Hangul jamo, half-width voicing
 * marks) that can compose onto it. Hangul L+V+T and "ｶﾞ" compose across what Unicode calls starters.
 */
const UNIT = /[\s\S][\p{M}\u1160-\u11ff\uff9e\uff9f]*/gu;
const CHUNK = /\p{White_Space}+|\P{White_Space}+/gu;

/**
 * A step that works unit by unit (NFKC, lowercase, …). Its output for each unit maps to the unit's span.
 * Where whole-text application differs from unit by unit (a context rule), the alignment falls back to
 * whitespace-separated chunks and then to the whole text, so the text always equals `fn(text)`.
 */
function unitStep(json: Record<string, unknown>, fn: (s: string) => string): NormalizerStep {
  return {
    json,
    apply: fn,
    applyAligned(a) {
      const whole = fn(a.text);
      if (whole === a.text) return a;
      for (const pattern of [UNIT, CHUNK]) {
        const mapped = mapPieces(a, pattern, fn);
        if (mapped.text === whole) return mapped;
      }
      return spread(whole, a, 0, a.text.length);
    },
  };
}

function mapPieces(a: Aligned, pattern: RegExp, fn: (s: string) => string): Aligned {
  const parts: Aligned[] = [];
  for (const m of a.text.matchAll(pattern)) parts.push(spread(fn(m[0]), a, m.index, m.index + m[0].length));
  return concat(parts);
}

/**
 * The span of the original text that a.text[from, to) came from; for an empty range, the empty span at
 * that point (where inserted text sits).
 */
export function spanOf(a: Aligned, from: number, to: number): [number, number] {
  if (from < to) return [a.starts[from]!, a.ends[to - 1]!];
  const at = from < a.text.length ? a.starts[from]! : from > 0 ? a.ends[from - 1]! : 0;
  return [at, at];
}

/** `text` standing for a.text[from, to): each of its units maps to the whole span of that range. */
function spread(text: string, a: Aligned, from: number, to: number): Aligned {
  const [start, end] = spanOf(a, from, to);
  return { text, starts: new Int32Array(text.length).fill(start), ends: new Int32Array(text.length).fill(end) };
}

function concat(parts: readonly Aligned[]): Aligned {
  let n = 0;
  for (const p of parts) n += p.text.length;
  const starts = new Int32Array(n);
  const ends = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    starts.set(p.starts, at);
    ends.set(p.ends, at);
    at += p.text.length;
  }
  return { text: parts.map((p) => p.text).join(''), starts, ends };
}

/** a.text[from, to) with its spans. */
function slice(a: Aligned, from: number, to: number): Aligned {
  return { text: a.text.slice(from, to), starts: a.starts.subarray(from, to), ends: a.ends.subarray(from, to) };
}

export type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

export function unicodeForm(form: UnicodeForm): NormalizerStep {
  return unitStep({ type: form }, (s) => s.normalize(form));
}

/**
 * Lowercase code point by code point, as Hugging Face does: no final-sigma rule, so "ΟΔΟΣ" gives "οδοσ"
 * whatever its context (String#toLowerCase would give "οδος").
 */
export function lowercase(): NormalizerStep {
  return unitStep({ type: 'Lowercase' }, lower);
}

function lower(s: string): string {
  if (!s.includes('Σ')) return s.toLowerCase();
  let out = '';
  for (const ch of s) out += ch.toLowerCase();
  return out;
}

const NONSPACING_MARK = /\p{Mn}/gu;

/** Drops non-spacing marks; with NFD before it, that strips accents ("café" → "cafe"). */
export function stripAccents(): NormalizerStep {
  return unitStep({ type: 'StripAccents' }, (s) => s.replace(NONSPACING_MARK, ''));
}

// BERT's "control" (Rust's is_other): Cc, Cf and Co, not unassigned code points, which it keeps.
const CONTROL = /[\0\ufffd]|(?![\t\n\r])[\p{Cc}\p{Cf}\p{Co}]/gu;
const WHITESPACE = /\p{White_Space}/gu;

function isChinese(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function padChinese(s: string): string {
  let out = '';
  for (const ch of s) out += isChinese(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
  return out;
}

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  /** null: strip accents when lowercasing, as BERT's uncased models do. */
  stripAccents: boolean | null;
  lowercase: boolean;
}

/** BERT's normalizer: drop controls, whitespace → " ", spaces around CJK ideographs, strip accents, lowercase. */
export function bertNormalizer(o: BertNormalizerOptions): NormalizerStep {
  const strip = o.stripAccents ?? o.lowercase;
  const fns: Array<(s: string) => string> = [];
  if (o.cleanText) fns.push((s) => s.replace(CONTROL, '').replace(WHITESPACE, ' '));
  if (o.handleChineseChars) fns.push(padChinese);
  if (strip) fns.push((s) => s.normalize('NFD').replace(NONSPACING_MARK, ''));
  if (o.lowercase) fns.push(lower);
  return unitStep(
    {
      type: 'BertNormalizer', clean_text: o.cleanText, handle_chinese_chars: o.handleChineseChars,
      strip_accents: o.stripAccents, lowercase: o.lowercase,
    },
    (s) => fns.reduce((t, fn) => fn(t), s),
  );
}

/** Adds `prefix` before non-empty text; it maps to an empty span at the start. */
export function prepend(prefix: string): NormalizerStep {
  return {
    json: { type: 'Prepend', prepend: prefix },
    apply: (s) => (s ? prefix + s : s),
    applyAligned: (a) => (a.text ? concat([spread(prefix, a, 0, 0), a]) : a),
  };
}

/** Replaces every match of a literal string or a regular expression with `content`. */
export function replace(pattern: { String: string } | { Regex: string }, content: string): NormalizerStep {
  const re = 'String' in pattern ? new RegExp(escapeRegExp(pattern.String), 'gu') : compileRegex(pattern.Regex, 'Replace');
  return {
    json: { type: 'Replace', pattern, content },
    apply: (s) => s.replace(re, () => content),
    applyAligned(a) {
      const parts: Aligned[] = [];
      let last = 0;
      for (const m of a.text.matchAll(re)) {
        parts.push(slice(a, last, m.index), spread(content, a, m.index, m.index + m[0].length));
        last = m.index + m[0].length;
      }
      parts.push(slice(a, last, a.text.length));
      return concat(parts);
    },
  };
}

const SPACE = /\p{White_Space}/u;

/** Removes leading and/or trailing whitespace (Unicode's White_Space, as Rust's `char::is_whitespace`). */
export function strip(left: boolean, right: boolean): NormalizerStep {
  const bounds = (s: string): [number, number] => {
    let a = 0;
    let b = s.length;
    if (left) while (a < b && SPACE.test(s[a]!)) a++;
    if (right) while (b > a && SPACE.test(s[b - 1]!)) b--;
    return [a, b];
  };
  return {
    json: { type: 'Strip', strip_left: left, strip_right: right },
    apply: (s) => s.slice(...bounds(s)),
    applyAligned: (a) => slice(a, ...bounds(a.text)),
  };
}

/** Several steps in order; Hugging Face's `Sequence`. */
export function sequence(steps: readonly NormalizerStep[]): NormalizerStep {
  return {
    json: { type: 'Sequence', normalizers: steps.map((s) => s.json) },
    apply: (s) => steps.reduce((t, step) => step.apply(t), s),
    applyAligned: (a) => steps.reduce((t, step) => step.applyAligned(t), a),
  };
}
