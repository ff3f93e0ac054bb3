/**
 * A text file as lines of bytes, read in chunks so that memory stays at one chunk plus the line being
 * completed, however large the file. Lines end at "\n"; a "\r" before it (CRLF) is dropped, as is a UTF-8
 * byte-order mark at the start of the file. Lines come as bytes because "\t" and "\n" never occur inside a
 * multi-byte UTF-8 character: the TSV reader splits on bytes and decodes only the fields it keeps, so the
 * columns it drops are never turned into strings.
 */
import { type FileHandle, open } from 'node:fs/promises';

import { FormatError, InvalidArgumentError } from '../errors.js';

/** Bytes read per call: large enough that a read costs little per line, small enough to never matter. */
const CHUNK_BYTES = 1 << 16;
const LF = 0x0a;
const CR = 0x0d;

/**
 * The lines of `file` in order, in groups (every complete line of one chunk, so an async step is paid per
 * chunk, not per line). Every line is yielded, empty ones included, so the caller's count of lines is the
 * 1-based line number. The last line needs no "\n". Buffers stay valid (each chunk is a fresh allocation).
 */
export async function* byteLines(file: string): AsyncGenerator<Buffer[], void, undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw fileError(e, file);
  }
  try {
    let pending: Buffer[] = []; // the start of a line that began in an earlier chunk
    let first = true;
    for (;;) {
      let chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null));
      } catch (e) {
        throw fileError(e, file);
      }
      if (bytesRead === 0) break;
      chunk = chunk.subarray(0, bytesRead);
      if (first) {
        chunk = skipBom(chunk, file);
        first = false;
      }
      const lines: Buffer[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(LF); nl !== -1; nl = chunk.indexOf(LF, start)) {
        let line = chunk.subarray(start, nl);
        if (pending.length > 0) {
          line = Buffer.concat([...pending, line]);
          pending = [];
        }
        lines.push(stripCr(line));
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
      if (lines.length > 0) yield lines;
    }
    if (pending.length > 0) yield [stripCr(Buffer.concat(pending))];
  } finally {
    await handle.close();
  }
}

/**
 * The text of UTF-8 bytes. A byte sequence that is not UTF-8 is a FormatError naming `where` (decoding
 * would otherwise turn it silently into U+FFFD); the strict check only runs when a U+FFFD shows up.
 */
export function utf8(bytes: Buffer, where: string): string {
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD')) {
    try {
      STRICT.decode(bytes);
    } catch (e) {
      throw new FormatError(`Expected UTF-8 text ${where} but it holds bytes that are not UTF-8 (save the file as UTF-8)`, { cause: e });
    }
  }
  return text;
}

const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function stripCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

function skipBom(chunk: Buffer, file: string): Buffer {
  if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) return chunk.subarray(3);
  if ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff)) {
    throw new FormatError(`Expected UTF-8 text in ${file} but it starts with a UTF-16 byte-order mark (save it as UTF-8)`);
  }
  return chunk;
}

/** A file-system error as our typed error: the path, what went wrong, and the original as `cause`. */
function fileError(e: unknown, file: string): Error {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : undefined;
  if (why === undefined) return e instanceof Error ? e : new Error(String(e));
  return new InvalidArgumentError(`Expected a readable file for file but received ${JSON.stringify(file)}: ${why}`, { cause: e });
}
