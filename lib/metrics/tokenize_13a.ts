/**
 * sacreBLEU's default BLEU tokenizer '13a' (sacrebleu/tokenizers/tokenizer_13a.py and tokenizer_re.py), itself the
 * tokenisation of mteval-v13a.pl, the script WMT scored with: unescape a few entities, then put spaces around
 * punctuation, around '.' and ',' unless they sit between digits, and after a '-' that follows a digit.
 */
import { pySplit } from './python_str.js';

// tokenizer_re.py's four substitutions, in its order. The first class is its [\{-\~\[-\` -\&\(-\+\:-\@\/]: every
// ASCII punctuation mark except ' , - . (and the space itself, which only widens a gap).
const PUNCTUATION = /([{-~[-` -&(-+:-@/])/gu;
const PERIOD_COMMA_AFTER_NON_DIGIT = /([^0-9])([.,])/gu;
const PERIOD_COMMA_BEFORE_NON_DIGIT = /([.,])([^0-9])/gu;
const DASH_AFTER_DIGIT = /([0-9])(-)/gu;

/** The tokens of one segment, as sacreBLEU's `Tokenizer13a()(line).split()`. */
export function tokenize13a(line: string): string[] {
  const text = line
    .replaceAll('<skipped>', '')
    .replaceAll('-\n', '')
    .replaceAll('\n', ' ')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>');
  // The padding spaces let the digit-context rules see a neighbour at both ends, as mteval does.
  const spaced = ` ${text} `
    .replace(PUNCTUATION, ' $1 ')
    .replace(PERIOD_COMMA_AFTER_NON_DIGIT, '$1 $2 ')
    .replace(PERIOD_COMMA_BEFORE_NON_DIGIT, ' $1 $2')
    .replace(DASH_AFTER_DIGIT, '$1 $2 ');
  return pySplit(spaced);
}
