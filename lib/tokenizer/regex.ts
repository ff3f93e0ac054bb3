/**
 * Regular expressions of tokenizer.json files, written for Oniguruma (the Rust library's engine), as
 * JavaScript ones (`u` flag). The shorthand classes differ: in Oniguruma they are Unicode-wide (`\s` is
 * the White_Space property, with U+0085 and without U+FEFF; `\d` every decimal digit; `\w` letters, marks,
 * digits and connectors), in JavaScript ASCII-only or different, so they are spelled out as properties.
 * A construct JavaScript lacks (inline `(?i:…)` groups on Node 20, possessive quantifiers) is an
 * error that names the component and the pattern.
 */
import { InvalidArgumentError } from '../errors.js';

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const WORD = '\\p{L}\\p{M}\\p{Nd}\\p{Pc}';

/** Oniguruma's shorthand classes as JavaScript properties, inside and outside character classes. */
export function fromOniguruma(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) {
      const e = source[++i]!;
      switch (e) {
        case 's': out += '\\p{White_Space}'; break;
        case 'S': out += '\\P{White_Space}'; break;
        case 'd': out += '\\p{Nd}'; break;
        case 'D': out += '\\P{Nd}'; break;
        case 'w': out += inClass ? WORD : `[${WORD}]`; break;
        case 'W':
          // Outside a class this is a negated class; inside one, u-mode JavaScript has no way to say it.
          if (inClass) throw new SyntaxError('\\W inside a character class');
          out += `[^${WORD}]`;
          break;
        default: out += `\\${e}`;
      }
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

/** A tokenizer.json pattern as a global JavaScript RegExp; `where` names the component for errors. */
export function compileRegex(source: string, where: string): RegExp {
  try {
    return new RegExp(fromOniguruma(source), 'gu');
  } catch (e) {
    throw new InvalidArgumentError(`${where}: the regular expression ${JSON.stringify(source)} is not supported here (${(e as Error).message})`, { cause: e });
  }
}
