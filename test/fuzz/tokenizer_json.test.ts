// Fuzzing the tokenizer.json reader (Tokenizer.fromJSON, lib/tokenizer/huggingface.ts), which takes files
// from the Hugging Face hub as well as nodeformer's own: corpus files mutated as bytes, and as JSON (any
// value replaced by any other, a key deleted, deep nesting). It returns a tokenizer or throws a typed
// error, and a tokenizer it accepts encodes and decodes any string (lone surrogates included) and any
// ids within the same promise.
import fc from 'fast-check';
import { describe, it } from 'vitest';

import { NodeformerError } from '../../lib/errors.js';
import { Tokenizer } from '../../lib/index.js';
import { corpus, fuzz, mutatedBytes, TIMEOUT_MS, typedOrOk } from './fuzz.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path in `v` to a value, as keys and indices, down to depth 8 (a tokenizer.json is shallower; a
 *  deeply nested value put in by an earlier edit is replaced whole, not walked). */
function paths(v: Json, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (at.length === 8) return out;
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/** `root` with the value at `path` replaced by `value` (deleted when undefined); copies only the path. */
function replaced(root: Json, path: Array<string | number>, value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const [k, ...rest] = path as [string | number, ...Array<string | number>];
  const copy = (Array.isArray(root) ? [...root] : { ...(root as Record<string, Json>) }) as Record<string | number, Json>;
  if (rest.length > 0) copy[k] = replaced(copy[k] as Json, rest, value);
  else if (value !== undefined) copy[k] = value;
  else if (Array.isArray(copy)) copy.splice(k as number, 1);
  else delete copy[k];
  return copy as Json;
}

// Deep nesting (JSON.stringify itself overflows past a few thousand levels, so 1,500 at most here).
const deep = fc.nat(1500).map((n) => JSON.parse('['.repeat(n + 1) + ']'.repeat(n + 1)) as Json);
const jsonMutated = (seeds: Json[], seedPaths = seeds.map((v) => paths(v))) =>
  fc
    .tuple(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(), fc.option(fc.oneof({ arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, weight: 9 }, { arbitrary: deep, weight: 1 }), { freq: 4 })), { minLength: 1, maxLength: 3 }))
    .map(([i, edits]) => {
      let v: Json = seeds[i]!;
      for (const [at, value] of edits) {
        const all = v === seeds[i] ? seedPaths[i]! : paths(v);
        v = replaced(v, all[at % all.length]!, value ?? undefined);
      }
      return new TextEncoder().encode(JSON.stringify(v));
    });

const anyText = fc.string({ unit: 'binary', maxLength: 40 });

const input = (seeds: Uint8Array[], json: Json[]) =>
  fc.record({ bytes: fc.oneof(mutatedBytes(seeds, 400), jsonMutated(json)), text: anyText, ids: fc.array(fc.oneof(fc.integer({ min: -2, max: 400 }), fc.constantFrom(2 ** 31, 1.5, Number.NaN)), { maxLength: 8 }) });

function check({ bytes, text, ids }: { bytes: Uint8Array; text: string; ids: number[] }): void {
  const tok = typedOrOk(() => Tokenizer.fromJSON(new TextDecoder().decode(bytes)));
  if (tok instanceof NodeformerError) return;
  const enc = typedOrOk(() => tok.encode(text));
  if (!(enc instanceof NodeformerError)) {
    for (const id of enc) {
      if (!Number.isInteger(id) || id < 0 || id >= tok.vocabSize) throw new Error(`encode gave id ${id} outside the vocabulary of ${tok.vocabSize}`);
    }
    typedOrOk(() => tok.decode(enc));
  }
  typedOrOk(() => tok.decode(ids));
}

describe('fuzz: tokenizer.json reader', () => {
  it('returns a working tokenizer or throws a typed error, for byte- and JSON-mutated files', async () => {
    const files = [...corpus('tokenizer_json').values()];
    const json = files.map((b) => JSON.parse(new TextDecoder().decode(b)) as Json);
    await fuzz('tokenizer_json', input(files, json), check, {
      fromBytes: (bytes) => ({ bytes, text: 'In the beginning. ¿Qué? 😀 \ud800', ids: [0, 1, 2, 3, 1000, -1] }),
      toBytes: (i) => i.bytes,
    });
  }, TIMEOUT_MS);
});
