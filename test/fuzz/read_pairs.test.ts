// Fuzzing the pair reader (data.readPairs, lib/data/read_pairs.ts + lines.ts) on TSV and JSONL files:
// corpus files mutated byte by byte (tabs, CR/LF, BOMs, bytes that are not UTF-8, JSON fragments),
// read as TSV, as JSONL and sniffed. It returns pairs or throws a typed error; when it returns, the
// pairs are exactly what a plain reference reading of the whole file gives.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';

import { NodeformerError } from '../../lib/errors.js';
import type { TextPair } from '../../lib/data/pairs.js';
import { data } from '../../lib/index.js';
import { corpus, fuzz, mutatedBytes, TIMEOUT_MS, typedOrOkAsync } from './fuzz.js';

const dir = mkdtempSync(join(tmpdir(), 'nodeformer-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FORMATS = ['tsv', 'jsonl', undefined] as const;

/** The reference: the file split into lines of bytes, each parsed on its own; like the reader, only the
 *  header and the kept fields of a TSV must be UTF-8 (the dropped columns are never decoded). */
function reference(bytes: Uint8Array, given: 'tsv' | 'jsonl' | undefined): TextPair[] {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let b = Buffer.from(bytes);
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  const lines: Buffer[] = [];
  for (let start = 0; start < b.length;) {
    const nl = b.indexOf(0x0a, start);
    const end = nl === -1 ? b.length : nl;
    const line = b.subarray(start, end);
    lines.push(line.at(-1) === 0x0d ? line.subarray(0, -1) : line);
    start = end + 1;
  }
  const fields = (line: Buffer) => {
    const out: Buffer[] = [];
    for (let start = 0; ;) {
      const tab = line.indexOf(0x09, start);
      out.push(line.subarray(start, tab === -1 ? line.length : tab));
      if (tab === -1) return out;
      start = tab + 1;
    }
  };
  // Sniffing: JSONL when the first line that is not empty starts with "{".
  const format = given ?? (lines.find((l) => l.length > 0)?.[0] === 0x7b ? 'jsonl' : 'tsv');
  if (format === 'tsv') {
    const header = strict.decode(lines[0]!).split('\t');
    return lines.slice(1).filter((l) => l.length > 0).map((l) => {
      const f = fields(l);
      return [strict.decode(f[header.indexOf('en')]!), strict.decode(f[header.indexOf('es')]!)];
    });
  }
  return lines.map((l) => strict.decode(l)).filter((l) => l.trim() !== '').map((l) => {
    const row = JSON.parse(l) as Record<string, string>;
    return [row.en!, row.es!];
  });
}

async function check({ bytes, format }: { bytes: Uint8Array; format: (typeof FORMATS)[number] }): Promise<void> {
  const file = join(dir, 'pairs'); // no extension: without a format, the reader sniffs
  writeFileSync(file, bytes);
  const pairs = await typedOrOkAsync(() => data.readPairs(file, { srcColumn: 'en', tgtColumn: 'es', format }));
  if (pairs instanceof NodeformerError) return;
  const want = reference(bytes, format);
  if (JSON.stringify(pairs) !== JSON.stringify(want)) throw new Error(`read ${JSON.stringify(pairs)} but the reference reads ${JSON.stringify(want)}`);
}

describe('fuzz: TSV / JSONL pair reader', () => {
  it('returns what a reference reading gives, or throws a typed error, for mutated files in each format', async () => {
    const seeds = [...corpus('read_pairs').values()];
    await fuzz('read_pairs', fc.record({ bytes: mutatedBytes(seeds), format: fc.constantFrom(...FORMATS) }), check, {
      fromBytes: (bytes) => ({ bytes, format: undefined }),
      toBytes: (i) => i.bytes,
    });
  }, TIMEOUT_MS);
});
