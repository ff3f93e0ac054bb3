/**
 * Decoders: token strings back to text, as Hugging Face's `decoder` components. Each step maps the list
 * of token strings to a new list; the result is their concatenation.
 */
import { fromByteChars } from './byte_level.js';
import { compileRegex, escapeRegExp } from './regex.js';
import type { PrependScheme } from './pre_tokenizer.js';

export interface DecoderStep {
  readonly json: Record<string, unknown>;
  decode(tokens: string[]): string[];
}

export function byteLevel(): DecoderStep {
  return { json: { type: 'ByteLevel' }, decode: (tokens) => [fromByteChars(tokens.join(''))] };
}

/**
 * WordPiece: continuation pieces ("##ing") join the piece before, others get a space; `cleanup` removes
 * the space this puts before punctuation and English contractions (" ." → ".", " n't" → "n't").
 */
export function wordPiece(prefix: string, cleanup: boolean): DecoderStep {
  return {
    json: { type: 'WordPiece', prefix, cleanup },
    decode: (tokens) =>
      tokens.map((t, i) => {
        const s = i === 0 ? t : t.startsWith(prefix) ? t.slice(prefix.length) : ` ${t}`;
        return cleanup ? cleanUp(s) : s;
      }),
  };
}

/** Hugging Face's `clean_up_tokenization`. */
function cleanUp(s: string): string {
  return s
    .replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',').replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

/** "▁" back to " "; the first token loses the space the pre-tokenizer prepended (unless it prepends never). */
export function metaspace(replacement: string, prependScheme: PrependScheme, split: boolean): DecoderStep {
  return {
    json: { type: 'Metaspace', replacement, prepend_scheme: prependScheme, split },
    decode: (tokens) =>
      tokens.map((t, i) => {
        const s = t.replaceAll(replacement, ' ');
        return i === 0 && prependScheme !== 'never' && s.startsWith(' ') ? s.slice(1) : s;
      }),
  };
}

/** Classic BPE: the end-of-word suffix ("</w>") becomes a space, except on the last token. */
export function bpeDecoder(suffix: string): DecoderStep {
  return {
    json: { type: 'BPEDecoder', suffix },
    decode: (tokens) => tokens.map((t, i) => t.replaceAll(suffix, i === tokens.length - 1 ? '' : ' ')),
  };
}

export function fuse(): DecoderStep {
  return { json: { type: 'Fuse' }, decode: (tokens) => [tokens.join('')] };
}

/** Removes up to `start` copies of `content` from the front of each token and up to `stop` from the back. */
export function strip(content: string, start: number, stop: number): DecoderStep {
  return {
    json: { type: 'Strip', content, start, stop },
    decode: (tokens) =>
      tokens.map((t) => {
        let a = 0;
        let b = t.length;
        for (let k = 0; k < start && t.startsWith(content, a); k++) a += content.length;
        for (let k = 0; k < stop && b - content.length >= a && t.startsWith(content, b - content.length); k++) b -= content.length;
        return t.slice(a, b);
      }),
  };
}

export function replace(pattern: { String: string } | { Regex: string }, content: string): DecoderStep {
  const re = 'String' in pattern ? new RegExp(escapeRegExp(pattern.String), 'gu') : compileRegex(pattern.Regex, 'Replace decoder');
  return { json: { type: 'Replace', pattern, content }, decode: (tokens) => tokens.map((t) => t.replace(re, () => content)) };
}

const BYTE_TOKEN = /^<0x([0-9A-F]{2})>$/;

/** Runs of `<0xXX>` tokens back to the text their bytes spell (U+FFFD for each byte of an invalid run). */
export function byteFallback(): DecoderStep {
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return {
    json: { type: 'ByteFallback' },
    decode(tokens) {
      const out: string[] = [];
      let bytes: number[] = [];
      const flush = (): void => {
        if (!bytes.length) return;
        try {
          out.push(utf8.decode(new Uint8Array(bytes)));
        } catch {
          out.push(...bytes.map(() => '\ufffd'));
        }
        bytes = [];
      };
      for (const t of tokens) {
        const m = BYTE_TOKEN.exec(t);
        if (m) bytes.push(parseInt(m[1]!, 16));
        else {
          flush();
          out.push(t);
        }
      }
      flush();
      return out;
    },
  };
}

export function sequence(steps: readonly DecoderStep[]): DecoderStep {
  return {
    json: { type: 'Sequence', decoders: steps.map((s) => s.json) },
    decode: (tokens) => steps.reduce((t, step) => step.decode(t), tokens),
  };
}
