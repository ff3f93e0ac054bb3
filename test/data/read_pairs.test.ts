// readPairs / readPairsStream: TSV with a header (LF, CRLF, BOM, blank lines), JSONL, format sniffing, lines
// that span read chunks, every error a user can cause (with file and 1-based line), and memory that stays
// bounded while a large file streams.
import { readdirSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FormatError, InvalidArgumentError } from '../../lib/errors.js';
import { data } from '../../lib/index.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'data');
const fixture = (name: string) => join(FIXTURES, name);
const EN_ES = { srcColumn: 'en', tgtColumn: 'es' };

const TSV_PAIRS: Array<[string, string]> = [
  ['In the beginning.', 'En el principio.'],
  ['He said, "Let there be light."', 'Y dijo Dios: Sea la luz.'],
  ['Café naïve — “typographic” quotes', 'Café ingenuo — «comillas»'],
  ['', 'empty source'],
  ['  spaces kept  ', 'espacios'],
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nodeformer-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `content` (text or bytes) to a fresh file in the temporary folder and returns its path. */
let files = 0;
async function temp(name: string, content: string | Uint8Array): Promise<string> {
  const file = join(dir, `${files++}-${name}`);
  await writeFile(file, content);
  return file;
}

async function collect(stream: AsyncIterable<[string, string]>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const p of stream) out.push(p);
  return out;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('TSV', () => {
  it('reads the columns named in the header, skipping blank lines and keeping fields exactly', async () => {
    expect(await data.readPairs(fixture('pairs.tsv'), EN_ES)).toEqual(TSV_PAIRS);
  });

  it('reads CRLF line ends, a UTF-8 BOM and a last line without a newline the same way', async () => {
    expect(await data.readPairs(fixture('pairs_crlf_bom.tsv'), EN_ES)).toEqual(TSV_PAIRS);
  });

  it('picks any two columns, in either order, even the same one twice', async () => {
    const pairs = await data.readPairs(fixture('pairs.tsv'), { srcColumn: 'note', tgtColumn: 'id' });
    expect(pairs.map((p) => p[1])).toEqual(['1', '2', '3', '4', '5']);
    expect(pairs[1]).toEqual(['quotes stay "as is"', '2']);
    const same = await data.readPairs(fixture('pairs.tsv'), { srcColumn: 'es', tgtColumn: 'es' });
    expect(same.every(([a, b]) => a === b)).toBe(true);
  });

  it('the stream gives the same pairs as the array', async () => {
    expect(await collect(data.readPairsStream(fixture('pairs_crlf_bom.tsv'), EN_ES))).toEqual(TSV_PAIRS);
  });

  it('a header alone is zero pairs', async () => {
    expect(await data.readPairs(await temp('header.tsv', 'en\tes\n'), EN_ES)).toEqual([]);
  });

  it('reads lines longer than a read chunk, multi-byte characters and CRLFs split across chunks', async () => {
    // The reader takes 64 KiB at a time. Line 2 is long enough that its "\r" is the chunk's last byte and
    // its "\n" the next chunk's first; line 3 has 4-byte characters across the next boundaries.
    const header = 'en\tes\r\n';
    const src = `${'x'.repeat(65_537 - Buffer.byteLength(header) - '\tabc\r\n'.length - 2)}é`; // 'é' is 2 bytes
    const line2 = `${src}\tabc\r\n`;
    expect(Buffer.byteLength(header + line2)).toBe(65_537); // "\r" at byte 65,535, "\n" at 65,536
    const long = 'a😀'.repeat(50_000); // 250,000 bytes, spans several chunks
    const file = await temp('long.tsv', `${header}${line2}${long}\t${long.slice(0, 999)}\r\nlast\tline`);
    expect(await data.readPairs(file, EN_ES)).toEqual([[src, 'abc'], [long, long.slice(0, 999)], ['last', 'line']]);
  });

  it('reads the Bible corpus layout (reference, three translations)', async () => {
    const file = await temp(
      'bible.tsv',
      'reference\tenglish_web\tspanish_rv1909\tenglish_kjv\nGenesis 1:1\tIn the beginning, God created the heavens and the earth.\t' +
        'EN el principio crió Dios los cielos y la tierra.\tIn the beginning God created the heaven and the earth.\n',
    );
    expect(await data.readPairs(file, { srcColumn: 'english_web', tgtColumn: 'spanish_rv1909' })).toEqual([
      ['In the beginning, God created the heavens and the earth.', 'EN el principio crió Dios los cielos y la tierra.'],
    ]);
  });
});

describe('JSONL', () => {
  it('reads the two keys of each object, ignoring other keys and blank lines', async () => {
    expect(await data.readPairs(fixture('pairs.jsonl'), EN_ES)).toEqual([
      ['In the beginning.', 'En el principio.'],
      ['He said, "Let there be light."', 'Y dijo Dios: Sea la luz.'],
      ['Café naïve\ttab', 'línea\nnueva'],
    ]);
  });

  it('is sniffed from the first non-empty line when the extension says nothing, and forced by format', async () => {
    const lines = '\n{"a": "1", "b": "2"}\n{"a": "3", "b": "4"}';
    expect(await data.readPairs(await temp('rows.data', lines), { srcColumn: 'a', tgtColumn: 'b' })).toEqual([['1', '2'], ['3', '4']]);
    const asTsv = await temp('rows.txt', lines.trimStart());
    expect(await data.readPairs(asTsv, { srcColumn: 'a', tgtColumn: 'b', format: 'jsonl' })).toEqual([['1', '2'], ['3', '4']]);
    expect(await data.readPairs(await temp('tsv.data', 'a\tb\nx\ty\n'), { srcColumn: 'a', tgtColumn: 'b' })).toEqual([['x', 'y']]);
  });
});

describe('errors name the file and the 1-based line (the header is line 1)', () => {
  it('a row with the wrong number of fields', async () => {
    const file = fixture('malformed.tsv');
    const e = await rejection(data.readPairs(file, EN_ES));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toBe(`Expected 4 tab-separated fields (as in the header) on line 4 of ${file} but received 3`);
    // The stream gives the pairs before the bad line, then the same error.
    const seen: string[] = [];
    const e2 = await rejection((async () => {
      for await (const [src] of data.readPairsStream(file, EN_ES)) seen.push(src);
    })());
    expect(seen).toEqual(['In the beginning.', 'He said, "Let there be light."']);
    expect(e2.message).toBe(e.message);
  });

  it('line numbers count blank lines and CRLF lines', async () => {
    const file = await temp('blank.tsv', 'en\tes\r\n\r\na\tb\r\n\r\n\r\nc\td\te\r\n');
    expect((await rejection(data.readPairs(file, EN_ES))).message).toContain('on line 6 of');
  });

  it('a column missing from the header, listing the columns there are', async () => {
    const file = fixture('pairs.tsv');
    const e = await rejection(data.readPairs(file, { srcColumn: 'en', tgtColumn: 'de' }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toBe(
      `Expected a column of the header of ${file} for tgtColumn but received the string "de"; its columns are 'id', 'en', 'es', 'note'`,
    );
  });

  it('a chosen column named twice in the header', async () => {
    const e = await rejection(data.readPairs(await temp('dup.tsv', 'en\tes\ten\nx\ty\tz\n'), EN_ES));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain("names the column 'en' twice (fields 1 and 3)");
  });

  it('an empty TSV, or one whose line 1 is blank', async () => {
    const empty = await temp('empty.tsv', '');
    expect((await rejection(data.readPairs(empty, EN_ES))).message).toBe(`Expected a header row on line 1 of ${empty} (TSV) but the file is empty`);
    const blank = await temp('blank1.tsv', '\nen\tes\n');
    const e = await rejection(data.readPairs(blank, EN_ES));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain('line 1 is empty');
  });

  it('invalid JSON, a line that is not an object, a missing key, a key that is not a string', async () => {
    const cases: Array<[string, string]> = [
      ['{"en": "a", "es": "b"}\n{"en": "a", "es": }\n', 'Expected a JSON object on line 2 of FILE but it is not valid JSON ('],
      ['{"en": "a", "es": "b"}\n\n["a", "b"]\n', 'Expected a JSON object on line 3 of FILE but received an array of length 2'],
      ['{"en": "a", "fr": "b", "id": 3}\n', "Expected a key 'es' on line 1 of FILE but the object has only 'en', 'fr', 'id'"],
      ['{}\n', "Expected a key 'en' on line 1 of FILE but the object has no keys"],
      ['{"en": "a", "es": "b"}\r\n{"en": "a", "es": 7}\r\n', "Expected a string under the key 'es' on line 2 of FILE but received the number 7"],
      ['{"en": null, "es": "b"}\n', "Expected a string under the key 'en' on line 1 of FILE but received null"],
    ];
    for (const [content, message] of cases) {
      const file = await temp('bad.jsonl', content);
      const e = await rejection(data.readPairs(file, EN_ES));
      expect(e, content).toBeInstanceOf(FormatError);
      expect(e.message, content).toContain(message.replace('FILE', file));
    }
  });

  it('bytes that are not UTF-8, and UTF-16', async () => {
    const bad = await temp('latin1.tsv', Buffer.concat([Buffer.from('en\tes\nok\tfine\ncaf'), Buffer.from([0xe9]), Buffer.from('\tx\n')]));
    const e = await rejection(data.readPairs(bad, EN_ES));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toBe(`Expected UTF-8 text on line 3 of ${bad} but it holds bytes that are not UTF-8 (save the file as UTF-8)`);
    // A real U+FFFD in the text is fine.
    expect(await data.readPairs(await temp('fffd.tsv', 'en\tes\n\uFFFD\tx\n'), EN_ES)).toEqual([['\uFFFD', 'x']]);
    const utf16 = await temp('utf16.tsv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('en\tes\n', 'utf16le')]));
    expect((await rejection(data.readPairs(utf16, EN_ES))).message).toContain('UTF-16 byte-order mark');
  });

  it('a missing file or a directory, by its path', async () => {
    const missing = join(dir, 'no-such-file.tsv');
    const e = await rejection(data.readPairs(missing, EN_ES));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toBe(`Expected a readable file for file but received ${JSON.stringify(missing)}: no such file`);
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect((await rejection(data.readPairs(dir, EN_ES))).message).toContain(': it is a directory');
  });

  it('bad arguments', async () => {
    const file = fixture('pairs.tsv');
    const bad: Array<[unknown, unknown, string]> = [
      [42, EN_ES, 'Expected a file path (a non-empty string) for file but received the number 42'],
      [file, undefined, 'Expected a column name (a non-empty string) for readPairs srcColumn but received undefined'],
      [file, { srcColumn: 'en', tgtColumn: '' }, 'for readPairs tgtColumn but received the string ""'],
      [file, { ...EN_ES, format: 'csv' }, "Expected one of 'tsv', 'jsonl' for format but received the string \"csv\""],
      [file, { ...EN_ES, srcColum: 'en' }, "Unknown option 'srcColum' in readPairs options"],
    ];
    for (const [f, o, message] of bad) {
      const e = await rejection(data.readPairs(f as string, o as data.ReadPairsOptions));
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect(e.message).toContain(message);
    }
  });
});

describe('streaming a large file', () => {
  const LINES = 200_000;
  const NOTE = 'n'.repeat(150);
  let big: string;
  let bytes = 0;

  beforeAll(async () => {
    // 200,000 rows of about 270 bytes (a 150-byte column that is never chosen): 54 MB, written in pieces so
    // the test never holds it whole.
    big = join(dir, 'big.tsv');
    const handle = await open(big, 'w');
    await handle.write('id\tsrc\ttgt\tnote\n');
    for (let start = 0; start < LINES; start += 10_000) {
      const rows: string[] = [];
      for (let i = start; i < start + 10_000; i++) rows.push(`${i}\tsource sentence ${i} ${'word '.repeat(8)}\ttarget número ${i} ${'palabra '.repeat(5)}\t${NOTE}\n`);
      const chunk = rows.join('');
      bytes += Buffer.byteLength(chunk);
      await handle.write(chunk);
    }
    await handle.close();
  });

  // V8's gc() for exact live-memory readings (after a full collection, garbage does not count).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const live = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external + m.arrayBuffers;
  };
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

  it('holds a bounded amount of memory while it streams 200,000 lines, and sees every one in order', async () => {
    expect(bytes).toBeGreaterThan(50e6);
    const before = live();
    let count = 0, peak = 0;
    for await (const [src, tgt] of data.readPairsStream(big, { srcColumn: 'src', tgtColumn: 'tgt' })) {
      if (!src.startsWith(`source sentence ${count} `) || !tgt.startsWith(`target número ${count} `)) {
        throw new Error(`row ${count} read as ${JSON.stringify([src.slice(0, 40), tgt.slice(0, 40)])}`);
      }
      if (++count % 20_000 === 0) peak = Math.max(peak, live() - before);
    }
    expect(count).toBe(LINES);
    // A chunk, a partial line and the generators' state: far below the 54 MB file.
    expect(peak, `live memory grew by ${mib(peak)}`).toBeLessThan(8 * 2 ** 20);
  });

  it('the array form holds the two chosen fields of each row, not the lines they came from', async () => {
    const before = live();
    const pairs = await data.readPairs(big, { srcColumn: 'src', tgtColumn: 'tgt' });
    const held = live() - before;
    expect(pairs.length).toBe(LINES);
    // V8 keeps Latin-1 text ('ú' included) at a byte a character.
    const text = pairs.reduce((n, [s, t]) => n + s.length + t.length, 0);
    const message = `${mib(held)} held for ${mib(text)} of text`;
    expect(held, message).toBeGreaterThan(text); // the strings are really there (so the bound above is a real check)
    // Text plus about 125 bytes a pair (the tuple, two string headers, a slot in the array); fields sliced out
    // of whole lines would keep the lines alive, the 30 MB of the unchosen column with them.
    expect(held, message).toBeLessThan(text + LINES * 160);
  });

  it('break closes the file', async () => {
    const fds = () => (process.platform === 'linux' ? readdirSync('/proc/self/fd').length : 0);
    const before = fds();
    let n = 0;
    for await (const _ of data.readPairsStream(big, { srcColumn: 'src', tgtColumn: 'tgt' })) {
      if (n === 0 && process.platform === 'linux') expect(fds()).toBe(before + 1);
      if (++n === 10) break;
    }
    expect(n).toBe(10);
    expect(fds()).toBe(before);
  });
});
