/**
 * Parallel text from a file: (source, target) pairs out of a TSV with a header row or a JSONL file, the
 * columns named by the header (TSV) or the keys (JSONL).
 *
 * - TSV is plain tab-separated: no quoting and no escapes, so a field holds any character but a tab or a
 *   newline, quotes included. Line 1 is the header; every row has as many fields as the header.
 * - JSONL is one JSON object per line; the two keys must hold strings, other keys are ignored.
 * - Both: UTF-8 (a byte-order mark is skipped), "\n" or "\r\n" line ends, a missing last "\n" is fine.
 *   Empty lines are skipped (in JSONL, lines of only whitespace too) and still counted, so the line number
 *   in an error is the one an editor shows. Fields are kept exactly as written (no trimming).
 *
 * Pairs are `[source, target]` tuples, the shape `Trainer.fit` takes once encoded (`[number[], number[]]`).
 */
import { checkOneOf, checkOptions, describe, fail, quoteList } from '../check.js';
import { FormatError, InvalidArgumentError } from '../errors.js';
import { byteLines, utf8 } from './lines.js';
import type { TextPair } from './pairs.js';

export type PairFormat = 'tsv' | 'jsonl';

export interface ReadPairsOptions {
  /** The source column: a name in the TSV header, or a JSONL key. */
  srcColumn: string;
  /** The target column, as `srcColumn`. */
  tgtColumn: string;
  /**
   * Default: from the extension (.tsv, .tab, .txt → TSV; .jsonl, .ndjson → JSONL), otherwise JSONL when
   * the first non-empty line starts with "{" and TSV when not.
   */
  format?: PairFormat;
}

const FORMATS: readonly PairFormat[] = ['tsv', 'jsonl'];
const TAB = 0x09;

/**
 * Every pair of `file`, in file order. The file is streamed (one 64 KiB chunk at a time) into the array,
 * never held whole beside it, and a TSV's other columns are never decoded.
 *
 * @example
 * const pairs = await data.readPairs('train.tsv', { srcColumn: 'english_web', tgtColumn: 'spanish_rv1909' });
 * pairs[0]; // ['In the beginning, God created the heavens and the earth.', 'EN el principio crió Dios …']
 */
export async function readPairs(file: string, options: ReadPairsOptions): Promise<TextPair[]> {
  const pairs: TextPair[] = [];
  for await (const group of pairGroups(file, options)) {
    for (const pair of group) pairs.push(pair);
  }
  return pairs;
}

/**
 * The pairs of `file` one at a time, holding only the chunk being read: for files too large to keep, or to
 * stop early (`break` closes the file). Same checks and errors as {@link readPairs}.
 *
 * @example
 * for await (const [src, tgt] of data.readPairsStream('big.jsonl', { srcColumn: 'en', tgtColumn: 'de' })) { … }
 */
export async function* readPairsStream(file: string, options: ReadPairsOptions): AsyncGenerator<TextPair, void, undefined> {
  for await (const group of pairGroups(file, options)) yield* group;
}

/** The pairs of each chunk of the file: one await per chunk rather than per line. */
async function* pairGroups(file: string, options: ReadPairsOptions): AsyncGenerator<TextPair[], void, undefined> {
  if (typeof file !== 'string' || file === '') fail('a file path (a non-empty string)', 'file', file);
  const o = checkOptions<ReadPairsOptions>(options, 'readPairs options', ['srcColumn', 'tgtColumn', 'format']);
  const srcColumn = checkColumn(o.srcColumn, 'srcColumn');
  const tgtColumn = checkColumn(o.tgtColumn, 'tgtColumn');
  let format = o.format === undefined ? formatOfName(file) : checkOneOf(o.format, 'format', FORMATS);
  let parse: ((line: Buffer, lineNumber: number) => TextPair | undefined) | undefined;
  let lineNumber = 0;
  for await (const lines of byteLines(file)) {
    const pairs: TextPair[] = [];
    for (const line of lines) {
      lineNumber++;
      if (parse === undefined) {
        if (line.length === 0 && format !== 'tsv') continue; // sniffing: wait for a line with something on it
        format ??= line[0] === 0x7b ? 'jsonl' : 'tsv'; // "{"
        if (format === 'jsonl') {
          parse = jsonlRow(file, srcColumn, tgtColumn);
        } else {
          // The header: line 1 by definition.
          if (lineNumber !== 1 || line.length === 0) {
            throw new FormatError(`Expected a header row on line 1 of ${file} (TSV) but line 1 is empty`);
          }
          parse = tsvRow(file, utf8(line, `in the header (line 1) of ${file}`).split('\t'), srcColumn, tgtColumn);
          continue;
        }
      }
      let pair: TextPair | undefined;
      try {
        pair = parse(line, lineNumber);
      } catch (e) {
        if (pairs.length > 0) yield pairs; // the pairs before the bad line first, as a line-by-line reader would
        throw e;
      }
      if (pair !== undefined) pairs.push(pair);
    }
    if (pairs.length > 0) yield pairs;
  }
  if (parse === undefined && (format ?? 'tsv') === 'tsv') {
    throw new FormatError(`Expected a header row on line 1 of ${file} (TSV) but the file is empty`);
  }
}

function checkColumn(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') fail('a column name (a non-empty string)', `readPairs ${name}`, value);
  return value;
}

function formatOfName(file: string): PairFormat | undefined {
  const ext = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase();
  if (ext === 'tsv' || ext === 'tab' || ext === 'txt') return 'tsv';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  return undefined;
}

/** A TSV row's parser for the header `columns`: checks the field count, decodes only the two fields kept. */
function tsvRow(file: string, columns: string[], srcColumn: string, tgtColumn: string) {
  const src = columnIndex(file, columns, srcColumn, 'srcColumn');
  const tgt = columnIndex(file, columns, tgtColumn, 'tgtColumn');
  const n = columns.length;
  return (line: Buffer, lineNumber: number): TextPair | undefined => {
    if (line.length === 0) return undefined;
    let srcText: string | undefined, tgtText: string | undefined;
    let field = 0, start = 0;
    for (;;) {
      const tab = line.indexOf(TAB, start);
      const end = tab === -1 ? line.length : tab;
      if (field === src || field === tgt) {
        const text = utf8(line.subarray(start, end), `on line ${lineNumber} of ${file}`);
        if (field === src) srcText = text;
        if (field === tgt) tgtText = text;
      }
      field++;
      if (tab === -1) break;
      start = tab + 1;
    }
    if (field !== n) {
      throw new FormatError(
        `Expected ${n} tab-separated fields (as in the header) on line ${lineNumber} of ${file} but received ${field}`,
      );
    }
    return [srcText!, tgtText!];
  };
}

function columnIndex(file: string, columns: string[], name: string, option: string): number {
  const i = columns.indexOf(name);
  if (i === -1) {
    throw new InvalidArgumentError(
      `Expected a column of the header of ${file} for ${option} but received ${describe(name)}; its columns are ${quoteList(columns)}`,
    );
  }
  const again = columns.indexOf(name, i + 1);
  if (again !== -1) {
    throw new FormatError(`The header of ${file} names the column '${name}' twice (fields ${i + 1} and ${again + 1}), so ${option} is ambiguous`);
  }
  return i;
}

/** A JSONL line's parser: one object with a string under each of the two keys. */
function jsonlRow(file: string, srcKey: string, tgtKey: string) {
  return (line: Buffer, lineNumber: number): TextPair | undefined => {
    const where = `on line ${lineNumber} of ${file}`;
    const text = utf8(line, where);
    if (text.trim() === '') return undefined;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (e) {
      throw new FormatError(`Expected a JSON object ${where} but it is not valid JSON (${(e as Error).message})`, { cause: e });
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new FormatError(`Expected a JSON object ${where} but received ${describe(row)}`);
    }
    return [field(row as Record<string, unknown>, srcKey, where), field(row as Record<string, unknown>, tgtKey, where)];
  };
}

function field(row: Record<string, unknown>, key: string, where: string): string {
  if (!Object.hasOwn(row, key)) {
    const keys = Object.keys(row);
    throw new FormatError(
      `Expected a key '${key}' ${where} but the object has ${keys.length === 0 ? 'no keys' : `only ${quoteList(keys, 10)}`}`,
    );
  }
  const value = row[key];
  if (typeof value !== 'string') throw new FormatError(`Expected a string under the key '${key}' ${where} but received ${describe(value)}`);
  return value;
}
