/**
 * GPT-2's reversible map from bytes to printable characters. Byte-level BPE works on UTF-8 bytes, so
 * nothing is ever unknown; each byte is shown as a visible code point so that vocabulary files stay text:
 * printable Latin-1 bytes map to themselves, the other 68 (controls, space, 0x7F–0xA0, 0xAD) to U+0100….
 */
const BYTE_TO_CHAR: string[] = [];
const CHAR_TO_BYTE = new Map<number, number>();
{
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    const cp = printable ? b : 256 + extra++;
    BYTE_TO_CHAR.push(String.fromCodePoint(cp));
    CHAR_TO_BYTE.set(cp, b);
  }
}

const utf8 = new TextEncoder();
// ignoreBOM: a byte order mark in the text is text, and decoding keeps it.
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The 256 byte characters, in byte order: a byte-level vocabulary starts with all of them. */
export const BYTE_ALPHABET: readonly string[] = BYTE_TO_CHAR;

/** `text` as UTF-8 bytes, each shown as its byte character. ASCII (most pieces) skips the encoder. */
export function toByteChars(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return out + bytesToChars(utf8.encode(text.slice(i)));
    out += BYTE_TO_CHAR[c]!;
  }
  return out;
}

function bytesToChars(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += BYTE_TO_CHAR[b]!;
  return out;
}

/**
 * Byte characters back to text. A character outside the table (an added token's own text) is kept as
 * its UTF-8; an incomplete multi-byte sequence decodes to U+FFFD, as Hugging Face's decoder does.
 */
export function fromByteChars(chars: string): string {
  const bytes: number[] = [];
  for (const ch of chars) {
    const b = CHAR_TO_BYTE.get(ch.codePointAt(0)!);
    if (b !== undefined) bytes.push(b);
    else bytes.push(...utf8.encode(ch));
  }
  return utf8Decoder.decode(new Uint8Array(bytes));
}

/**
 * For offsets: where each UTF-8 byte boundary of `text` falls in UTF-16 units. A token covering bytes
 * [a, b) covers text [start[a], end[b]): `start` rounds into the character a byte belongs to, `end` out to
 * the end of it, so a token holding part of a character's bytes still owns that character.
 */
export function byteOffsets(text: string): { start: Int32Array; end: Int32Array } {
  const n = utf8.encode(text).length;
  const start = new Int32Array(n + 1);
  const end = new Int32Array(n + 1);
  let byte = 0;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < bytes; k++) {
      start[byte + k] = i;
      end[byte + k + 1] = i + units;
    }
    byte += bytes;
    i += units;
  }
  start[n] = text.length;
  return { start, end };
}
