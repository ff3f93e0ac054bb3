// The fuzzing harnesses' shared engine (issue 16). Each harness (test/fuzz/*.test.ts) replays its corpus
// (test/fuzz/corpus/<name>/: seeds, and every failing input found, kept as a regression case), then runs
// fast-check for a fixed time on inputs made by mutating the corpus and by structure-aware generators.
// The property is the README's promise for bad input: the call returns, or throws a typed
// NodeformerError; any other exception (a TypeError, a RangeError, a stack overflow) fails the harness,
// and a crash of the addon kills the test process (under scripts/sanitize.sh, so does any memory error).
//
//   NODEFORMER_FUZZ_SECONDS=600 npx vitest run test/fuzz     a long run (CI: 8 s per harness)
//   NODEFORMER_FUZZ_SEED=n                                   replay one run's inputs
// A failing input is written to the harness's corpus folder as found-<sha1>.bin before the test fails.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';

import { NodeformerError } from '../../lib/errors.js';

export const CORPUS = new URL('./corpus/', import.meta.url).pathname;
const SECONDS = Number(process.env.NODEFORMER_FUZZ_SECONDS ?? 8);
const SEED = process.env.NODEFORMER_FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.NODEFORMER_FUZZ_SEED);
/** vitest's timeout for a harness: the fuzzing time plus room for the corpus and the shrinking. */
export const TIMEOUT_MS = SECONDS * 1000 + 120_000;

/** The files of a harness's corpus, by name. */
export function corpus(name: string): Map<string, Uint8Array> {
  const dir = join(CORPUS, name);
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  return new Map(files.map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
}

/** Runs `f`: fine if it returns or throws a NodeformerError, rethrown otherwise. */
export function typedOrOk<T>(f: () => T): T | NodeformerError {
  try {
    return f();
  } catch (e) {
    if (e instanceof NodeformerError) return e;
    throw e;
  }
}

export async function typedOrOkAsync<T>(f: () => Promise<T>): Promise<T | NodeformerError> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof NodeformerError) return e;
    throw e;
  }
}

/**
 * Fuzzes `check` for the configured time with inputs from `arb`, after replaying the corpus through it
 * (as bytes: `fromBytes` turns a corpus file into an input). Returns the executions run; logs them.
 */
export async function fuzz<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  check: (input: T) => void | Promise<void>,
  io: { fromBytes: (b: Uint8Array) => T; toBytes: (input: T) => Uint8Array },
): Promise<number> {
  for (const [file, bytes] of corpus(name)) {
    try {
      await check(io.fromBytes(bytes));
    } catch (e) {
      throw new Error(`fuzz ${name}: corpus file ${file} fails`, { cause: e });
    }
  }
  let runs = 0;
  const start = performance.now();
  const property = fc.asyncProperty(arb, async (input) => {
    runs++;
    try {
      await check(input);
    } catch (e) {
      const bytes = io.toBytes(input);
      const dir = join(CORPUS, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `found-${createHash('sha1').update(bytes).digest('hex')}.bin`), bytes);
      throw e;
    }
  });
  await fc.assert(property, { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, seed: SEED });
  const s = (performance.now() - start) / 1000;
  console.log(`fuzz ${name}: ${runs} executions in ${s.toFixed(1)} s (${Math.round(runs / s)}/s), seed ${SEED}, corpus ${corpus(name).size} files`);
  return runs;
}

const text = new TextEncoder();
/** Tokens that break parsers of numbers and JSON: limits of the integer types, signs, fractions, nesting. */
const INTERESTING = [
  '0', '-1', '-0', '1.5', '1e308', '-1e308', 'NaN', '4294967296', '2147483648', '9007199254740993',
  '18446744073709551615', '18446744073709551616', '9223372036854775807', '""', 'null', 'true', '[]', '{}',
  '[[[[[[[[[[[[[[[[', '"\\ud800"', '"\\u0000"', '"F16"', '"BF16"', '"F64"', '"I64"', '"I32"', '"U8"', '\t', '\r\n',
].map((s) => text.encode(s));
const BYTES = [0x00, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x39, 0x2d, 0x0a, 0x09, 0x0d, 0x5c, 0xc0, 0xed, 0xf4, 0xef];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'copy'; from: number; length: number; to: number }
  | { kind: 'splice'; seed: number; from: number; to: number }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(...BYTES) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.constantFrom(...INTERESTING)) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ kind: fc.constant('copy' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 64 }), to: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), seed: fc.nat(), from: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(seed: Uint8Array, mutations: Mutation[], seeds: Uint8Array[], focus: number): Uint8Array {
  let b = seed;
  // Positions land in the first `focus` bytes (a header, say) half the time, anywhere the other half.
  const pos = (at: number, n: number) => (n === 0 ? 0 : (at & 1 ? at >>> 1 : (at >>> 1) % Math.max(1, Math.min(focus, n))) % n);
  for (const m of mutations) {
    const n = b.length;
    switch (m.kind) {
      case 'flip':
        if (n > 0) (b = b.slice()), (b[pos(m.at, n)]! ^= 1 << m.bit);
        break;
      case 'set':
        if (n > 0) (b = b.slice()), (b[pos(m.at, n)] = m.byte);
        break;
      case 'insert': {
        const at = pos(m.at, n + 1);
        b = concat(b.subarray(0, at), m.bytes, b.subarray(at));
        break;
      }
      case 'delete': {
        const at = pos(m.at, n);
        b = concat(b.subarray(0, at), b.subarray(at + m.length));
        break;
      }
      case 'copy': {
        const from = pos(m.from, n), to = pos(m.to, n + 1);
        b = concat(b.subarray(0, to), b.subarray(from, from + m.length), b.subarray(to));
        break;
      }
      case 'splice': {
        const other = seeds[m.seed % seeds.length]!;
        b = concat(b.subarray(0, pos(m.from, n)), other.subarray(pos(m.to, other.length)));
        break;
      }
      case 'truncate':
        b = b.subarray(0, pos(m.at, n));
        break;
    }
  }
  return b;
}

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

/** Inputs made from `seeds` by 1–6 byte-level mutations (bit flips, interesting bytes and tokens, cuts,
 *  copies, splices with another seed); `focus` biases positions to the first bytes. */
export function mutatedBytes(seeds: Uint8Array[], focus = Infinity): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new Error('mutatedBytes needs at least one seed');
  return fc
    .tuple(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 6 }))
    .map(([i, ms]) => mutate(seeds[i]!, ms, seeds, focus));
}
