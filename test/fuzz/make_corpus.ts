// Writes the fuzzing harnesses' seed corpora (test/fuzz/corpus/<name>/seed-*): small valid inputs of
// every kind each parser reads, for the mutators to start from. Run once; the files are committed, and
// the failing inputs the harnesses find are kept beside them.
//   npx tsx test/fuzz/make_corpus.ts
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { encodeSafetensors } from '../../lib/io/safetensors.js';
import { BPETokenizer, CharTokenizer, randn, tensor, WordPieceTokenizer, WordTokenizer } from '../../lib/index.js';
import { CORPUS } from './fuzz.js';

const put = (name: string, file: string, bytes: Uint8Array | string) => {
  mkdirSync(join(CORPUS, name), { recursive: true });
  writeFileSync(join(CORPUS, name, file), bytes);
};

// safetensors: every dtype the reader takes, metadata, a scalar, an empty tensor, no tensors at all.
const f32 = { w: randn([2, 3], { seed: 1 }), b: randn([3], { seed: 2 }), ids: tensor(Int32Array.of(1, 2, 3), [3]) };
put('safetensors', 'seed-f32.bin', encodeSafetensors(f32, { format: 'pt' }));
put('safetensors', 'seed-f16.bin', encodeSafetensors(f32, undefined, { dtype: 'F16' }));
put('safetensors', 'seed-bf16.bin', encodeSafetensors(f32, undefined, { dtype: 'BF16' }));
put('safetensors', 'seed-scalar-empty.bin', encodeSafetensors({ s: tensor(Float32Array.of(7), []), e: tensor(new Float32Array(0), [0, 4]) }));
put('safetensors', 'seed-none.bin', encodeSafetensors({}));
/** F64 and I64 (written by PyTorch, read and narrowed by nodeformer), by hand. */
function wide(): Uint8Array {
  const header = JSON.stringify({ d: { dtype: 'F64', shape: [2], data_offsets: [0, 16] }, i: { dtype: 'I64', shape: [1, 2], data_offsets: [16, 32] } });
  const padded = header.padEnd(Math.ceil(header.length / 8) * 8, ' ');
  const out = new Uint8Array(8 + padded.length + 32);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded.length), true);
  out.set(new TextEncoder().encode(padded), 8);
  const data = 8 + padded.length;
  view.setFloat64(data, 1.5, true);
  view.setFloat64(data + 8, -2.25, true);
  view.setBigInt64(data + 16, 3n, true);
  view.setBigInt64(data + 24, -4n, true);
  return out;
}
put('safetensors', 'seed-f64-i64.bin', wide());

// tokenizer.json: one of each kind nodeformer writes, trained on a few lines.
const texts = ['In the beginning God created the heaven and the earth.', 'Y la tierra estaba desordenada y vacía; ¡luz! «fin»', 'naïve café 東京 😀'];
put('tokenizer_json', 'seed-bpe.json', JSON.stringify(BPETokenizer.train(texts, { vocabSize: 80 }).toJSON()));
put('tokenizer_json', 'seed-bpe-bytelevel.json', JSON.stringify(BPETokenizer.train(texts, { vocabSize: 300, byteLevel: true }).toJSON()));
put('tokenizer_json', 'seed-wordpiece.json', JSON.stringify(WordPieceTokenizer.train(texts, { vocabSize: 80 }).toJSON()));
put('tokenizer_json', 'seed-char.json', JSON.stringify(CharTokenizer.train(texts).toJSON()));
put('tokenizer_json', 'seed-word.json', JSON.stringify(WordTokenizer.train(texts).toJSON()));

// Pairs: the data tests' TSV (plain, CRLF with a BOM, malformed) and JSONL files.
for (const f of ['pairs.tsv', 'pairs_crlf_bom.tsv', 'malformed.tsv', 'pairs.jsonl']) {
  mkdirSync(join(CORPUS, 'read_pairs'), { recursive: true });
  copyFileSync(new URL(`../fixtures/data/${f}`, import.meta.url), join(CORPUS, 'read_pairs', `seed-${f}`));
}
