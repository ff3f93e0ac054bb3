// Tokenizers on the Bible corpus (../shared/data/bible, English WEB + Spanish RV1909): training time of
// BPE, byte-level BPE and WordPiece to 8,000 tokens; GPT-2 encoding throughput against gpt-tokenizer
// (same ids checked); and tokens per sentence with the <unk> rate of every kind on test.tsv.
import { existsSync, readFileSync } from 'node:fs';

import { encode as gptTokenizerEncode } from 'gpt-tokenizer/encoding/r50k_base';

import { BPETokenizer, CharTokenizer, Tokenizer, WordPieceTokenizer, WordTokenizer } from '../../lib/index.js';
import { byteLevel, preTokenize } from '../../lib/tokenizer/pre_tokenizer.js';
import { gpt2TokenizerJson } from '../../test/tokenizer/gpt2.js';
import { fixed, table } from '../common.js';

const DATA = new URL('../../../shared/data/bible/', import.meta.url);
const VOCAB = 8000;
const ROUNDS = 5; // timed passes per library and mode, alternating ours / theirs
/** Our piece cache (lib/tokenizer/tokenizer.ts CACHE_ENTRIES) and gpt-tokenizer's (DEFAULT_MERGE_CACHE_SIZE). */
const OUR_CACHE = 65_536, THEIR_CACHE = 100_000;

interface Corpus {
  english: string[];
  spanish: string[];
}

/** The english_web and spanish_rv1909 columns of a Bible TSV (header row first). */
function readBible(name: string): Corpus {
  const lines = readFileSync(new URL(name, DATA), 'utf8').split('\n').filter((l) => l !== '');
  const header = lines[0]!.split('\t');
  const en = header.indexOf('english_web'), es = header.indexOf('spanish_rv1909');
  if (en < 0 || es < 0) throw new Error(`${name}: expected columns english_web and spanish_rv1909, found ${header.join(', ')}`);
  const rows = lines.slice(1).map((l) => l.split('\t'));
  return { english: rows.map((r) => r[en]!), spanish: rows.map((r) => r[es]!) };
}

const megabytes = (texts: readonly string[]): number => texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0) / 1e6;

function seconds<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const out = fn();
  return [out, (performance.now() - t) / 1000];
}

function sameIds(a: readonly number[], b: readonly number[], what: string): void {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) throw new Error(`GPT-2 ids differ from gpt-tokenizer's on ${what} at token ${i}: ${a[i]} vs ${b[i]}`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchTokenizer(): Promise<void> {
  if (!existsSync(new URL('train.tsv', DATA)) || !existsSync(new URL('test.tsv', DATA))) {
    console.log(`\nThe tokenizer bench needs the Bible corpus (train.tsv, test.tsv) in ${DATA.pathname}; skipped.`);
    return;
  }
  const train = readBible('train.tsv'), test = readBible('test.tsv');
  const texts = [...train.english, ...train.spanish];
  const mb = megabytes(texts);

  // 1. Training: one run each (seconds apiece), on this one thread.
  const trained: Array<[string, Tokenizer]> = [];
  const trainRows: Array<Array<string | number>> = [];
  for (const [name, fn] of [
    ['BPE', () => BPETokenizer.train(texts, { vocabSize: VOCAB })],
    ['BPE, byte level', () => BPETokenizer.train(texts, { vocabSize: VOCAB, byteLevel: true })],
    ['WordPiece', () => WordPieceTokenizer.train(texts, { vocabSize: VOCAB })],
  ] as const) {
    const [tok, s] = seconds(fn);
    trained.push([`${name} ${VOCAB / 1000}k`, tok]);
    trainRows.push([name, tok.vocabSize, fixed(mb, 2), fixed(s, 2), fixed(mb / s, 2)]);
  }
  table(
    `Training to vocab ${VOCAB} on Bible train.tsv (english_web + spanish_rv1909, ${texts.length} lines), one run, one core; target: BPE ≤ 30 s`,
    ['tokenizer', 'vocab', 'MB of text', 's', 'MB/s'],
    trainRows,
  );

  // 2. GPT-2 encoding, ours against gpt-tokenizer (r50k_base is GPT-2's encoding), same text, alternating.
  const gpt2 = Tokenizer.fromHuggingFace(gpt2TokenizerJson());
  const whole = texts.join('\n');
  const ours = (t: string) => gpt2.encode(t, { addSpecial: false });
  const modes = [
    ['one line at a time', () => texts.map(ours), () => texts.map((t) => gptTokenizerEncode(t))],
    ['whole corpus as one string', () => [ours(whole)], () => [gptTokenizerEncode(whole)]],
  ] as const;
  const pieces = new Set<string>();
  const gpt2Pieces = byteLevel(false, true, true);
  for (const t of texts) for (const p of preTokenize(gpt2Pieces, t)) pieces.add(p.text);
  const encodeRows: Array<Array<string | number>> = [];
  for (const [mode, mine, theirs] of modes) {
    // The warm-up pass fills both word caches and is the one whose ids are compared.
    const a = mine(), b = theirs();
    if (a.length !== b.length) throw new Error(`GPT-2 encode ${mode}: ${a.length} results vs ${b.length}`);
    a.forEach((ids, i) => sameIds(ids, b[i]!, `${mode}, text ${i}`));
    const tokens = a.reduce((n, ids) => n + ids.length, 0);
    const times: [number[], number[]] = [[], []];
    for (let r = 0; r < ROUNDS; r++) {
      times[0].push(seconds(mine)[1]);
      times[1].push(seconds(theirs)[1]);
    }
    const [us, them] = [mb / median(times[0]), mb / median(times[1])];
    encodeRows.push([mode, tokens, fixed(us, 2), fixed(them, 2), fixed(us / them, 2)]);
  }
  table(
    `GPT-2 encoding of Bible train.tsv (${fixed(mb, 2)} MB UTF-8), warm: median of ${ROUNDS} alternating passes after an untimed one; ids identical`,
    ['input', 'tokens', 'nodeformer MB/s', 'gpt-tokenizer MB/s', 'ours / theirs'],
    encodeRows,
  );
  console.log(`\nWarm means both word caches are filled: the corpus has ${pieces.size} distinct pieces; ours holds ${OUR_CACHE} (cleared when full), gpt-tokenizer's LRU ${THEIR_CACHE}.`);

  // 3. Tokens per sentence on test.tsv, trained on train.tsv (GPT-2 pretrained, for reference).
  const kinds: Array<[string, Tokenizer]> = [
    ['Char (all characters)', CharTokenizer.train(texts)],
    ['Word 8k', WordTokenizer.train(texts, { vocabSize: VOCAB })],
    ['Word, default vocab (30k)', WordTokenizer.train(texts)],
    ['Word, every word', WordTokenizer.train(texts, { vocabSize: 2 ** 21 - 1 })],
    ...trained,
    ['GPT-2 (pretrained)', gpt2],
  ];
  const perSentence = (tok: Tokenizer, lines: readonly string[]) => {
    let tokens = 0, unk = 0;
    for (const line of lines) {
      for (const id of tok.encode(line, { addSpecial: false })) {
        tokens++;
        if (id === tok.unkId) unk++;
      }
    }
    return [fixed(tokens / lines.length, 1), tok.unkId === undefined ? '— (none)' : `${fixed((100 * unk) / tokens, 2)}%`];
  };
  table(
    `Tokens per sentence on Bible test.tsv (${test.english.length} verses; trained on train.tsv, both languages), without special tokens; <unk> as a share of tokens`,
    ['tokenizer', 'vocab', 'English tok/sentence', 'English <unk>', 'Spanish tok/sentence', 'Spanish <unk>'],
    kinds.map(([name, tok]) => [name, tok.vocabSize, ...perSentence(tok, test.english), ...perSentence(tok, test.spanish)]),
  );
}
