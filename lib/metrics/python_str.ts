/**
 * Python's `str.split()` and `str.rstrip()` with no argument, which sacreBLEU applies to every segment. They cut on
 * Python's whitespace (`str.isspace`), which is not JavaScript's `\s`: Python's has U+001C–U+001F and U+0085 and
 * lacks U+FEFF, and a token containing any of these differs between the two.
 */

// Every code point for which Python 3.11's str.isspace() is true; all are in the BMP, so UTF-16 units suffice.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const NON_SPACE_RUN = new RegExp(`[^${PY_SPACE}]+`, 'gu');
const SPACE = new RegExp(`[${PY_SPACE}]`);

/** `s.split()`: the runs of non-whitespace, in order. */
export function pySplit(s: string): string[] {
  return s.match(NON_SPACE_RUN) ?? [];
}

/** `s.rstrip()`: `s` without its trailing whitespace. */
export function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && SPACE.test(s[end - 1]!)) end--;
  return s.slice(0, end);
}
