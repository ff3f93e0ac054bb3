// Fuzzing the argument checks of every native entry point (native/bindings/*.cc), called directly, as a
// hostile or careless caller could. Each call starts from a valid one, recorded while the model trains a
// step and decodes, with 1–3 arguments broken: another typed array type, a length off by one or zero, a
// detached buffer, a view of another argument's memory, a number negative, fractional, NaN or huge, a
// forged device array, an object whose getter detaches a buffer while the arguments are read. Exports
// with no recorded call get lists of such values. Every call returns or throws a typed error; under
// scripts/sanitize.sh, any read or write out of bounds stops the run.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { resolveOptions } from '../../lib/decode/options.js';
import { searchSync } from '../../lib/decode/search.js';
import { backend, noGrad, ops, optim, randn } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { randomModel } from '../decode/helpers.js';
import { detached } from '../helpers.js';
import { fuzz, TIMEOUT_MS, typedOrOk } from './fuzz.js';

type Fn = (...args: unknown[]) => unknown;
const nb = native() as unknown as Record<string, Fn>;
// Not fuzzed: registerErrorClasses would swap the error classes every check relies on; fmaPeak measures
// the machine for as long as it is asked to.
const SKIP = new Set(['registerErrorClasses', 'fmaPeak']);
const NAMES = Object.keys(nb).filter((n) => typeof nb[n] === 'function' && !SKIP.has(n)).sort();

const clone = (v: unknown): unknown => (ArrayBuffer.isView(v) ? (v as Float32Array).slice() : Array.isArray(v) ? [...v] : v);

/** Up to 6 valid calls of each export, recorded while a model trains a step and decodes. */
function record(): Map<string, unknown[][]> {
  const calls = new Map<string, unknown[][]>();
  const originals = new Map(NAMES.map((n) => [n, nb[n]!]));
  for (const [name, f] of originals) {
    nb[name] = (...args: unknown[]) => {
      const list = calls.get(name) ?? [];
      if (list.length < 6) list.push(args.map(clone));
      calls.set(name, list);
      return f(...args);
    };
  }
  try {
    const model = randomModel({ srcVocabSize: 20, tgtVocabSize: 24, dModel: 16, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 24, maxLength: 16, dropout: 0.1 }, 7);
    model.train();
    const src = [Int32Array.of(3, 4, 5), Int32Array.of(6, 7)];
    const loss = ops.crossEntropy(model.forward(src, [Int32Array.of(1, 8, 9), Int32Array.of(1, 10, 11)]).reshape([-1, 24]), Int32Array.of(8, 9, 2, 10, 11, 2), { labelSmoothing: 0.1, ignoreIndex: 0 });
    loss.backward();
    new optim.Adam(model.parameters(), { lr: 1e-3 }).step();
    model.eval();
    const { ids, lengths } = model.srcBatch(src);
    for (const strategy of ['greedy', 'beam'] as const) {
      noGrad(() => searchSync(model, ids, lengths, resolveOptions({ strategy, maxLength: 6 }, { maxPositions: 16, tgtVocabSize: 24 }, lengths)));
    }
    model.quantize('int8');  // and the int8 decode path
    noGrad(() => searchSync(model, ids, lengths, resolveOptions({ strategy: 'greedy', maxLength: 6 }, { maxPositions: 16, tgtVocabSize: 24 }, lengths)));
    // The ops the model does not use, forward and backward.
    const x = randn([3, 5], { seed: 1, requiresGrad: true }), b = randn([5], { seed: 2, requiresGrad: true });
    ops.crossEntropy(ops.softmax(ops.relu(ops.addBias(x, b))), Int32Array.of(0, 1, 2)).backward();
  } finally {
    for (const [name, f] of originals) nb[name] = f;
  }
  return calls;
}

/** What replaces an argument: a function of the valid argument and the whole call (for views of another
 *  argument's memory and getters that detach one). */
type Breaker = (valid: unknown, args: unknown[]) => unknown;
const lengthOf = (v: unknown) => (ArrayBuffer.isView(v) ? (v as Float32Array).length : 4);
const firstArray = (args: unknown[]) => args.find((a): a is Float32Array => a instanceof Float32Array && a.length > 0);
const BREAKERS: Breaker[] = [
  () => undefined,
  () => null,
  () => Number.NaN,
  () => -1,
  () => -0,
  () => 0,
  () => 1.5,
  () => 2 ** 31,
  () => 2 ** 53 + 2,
  () => Number.POSITIVE_INFINITY,
  () => 'float32',
  () => ({}),
  () => [1, 2, 3],
  () => [2 ** 40, -1],
  (v) => (typeof v === 'number' ? v + 1 : v),
  (v) => (typeof v === 'number' ? v - 1 : v),
  (v) => (typeof v === 'number' ? v * 2 + 1 : v),
  (v) => (typeof v === 'boolean' ? !v : v),
  (v) => new Float32Array(Math.max(0, lengthOf(v) - 1)),
  (v) => new Float32Array(lengthOf(v) + 1),
  () => new Float32Array(0),
  (v) => new Int32Array(lengthOf(v)),
  (v) => new Float64Array(lengthOf(v)),
  (v) => new Uint8Array(lengthOf(v) * 4),
  (v) => detached(lengthOf(v)),
  // A view into another argument's memory (aliasing), shifted by one element.
  (v, args) => {
    const a = firstArray(args);
    return a === undefined ? v : new Float32Array(a.buffer, a.byteOffset + 4, Math.min(lengthOf(v), a.length - 1));
  },
  (v) => ({ handle: {}, offset: 0, length: lengthOf(v), dtype: 'float32' }),
  () => ({ handle: 12345, offset: -1, length: 2 ** 53, dtype: 'int32' }),
  // A device array whose getters detach the first typed array of the call while the arguments are read.
  (v, args) => {
    const a = firstArray(args);
    const detach = () => a !== undefined && a.buffer.byteLength > 0 && structuredClone(a.buffer, { transfer: [a.buffer] });
    return {
      get handle() {
        detach();
        return {};
      },
      get length() {
        detach();
        return lengthOf(v);
      },
      offset: 0,
      dtype: 'float32',
    };
  },
];

interface Call {
  name: string;
  args: unknown[];
}

const threads = backend.info().threads, simd = backend.info().simd;
const restore = () => {
  backend.setThreads(threads);
  backend.setSimd(simd, { lowPrecision: 'native' });
  backend.setMatmulPrecision('high');
};
afterAll(restore);

describe('fuzz: native entry points', () => {
  const recorded = record();

  it('records a valid call of every kernel export (the rest are fuzzed from random lists)', () => {
    const kernels = NAMES.filter((n) => /Forward|Backward|Update|stridedCopy|matmulPack$/.test(n) && !/^(binary|scale|fill)/.test(n));
    expect(kernels.filter((n) => !recorded.has(n) && !n.endsWith('Naive'))).toEqual([]);
  });

  it('every call returns or throws a typed error, with 1-3 arguments of a valid call broken', async () => {
    const fromTemplate: fc.Arbitrary<Call> = fc
      .tuple(fc.constantFrom(...NAMES), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.nat(BREAKERS.length - 1)), { minLength: 1, maxLength: 3 }), fc.nat(15))
      .map(([name, pick, breaks, arity]) => {
        const templates = recorded.get(name) ?? recorded.get(name.replace(/Naive$/, '')) ?? [Array.from({ length: arity }, () => 0)];
        const args = templates[pick % templates.length]!.map(clone);
        for (const [at, b] of breaks) {
          if (args.length === 0) break;
          const i = at % args.length;
          args[i] = BREAKERS[b]!(args[i], args);
        }
        return { name, args };
      });
    const check = ({ name, args }: Call) => {
      typedOrOk(() => nb[name]!(...args));
      if (name.startsWith('set')) restore();
    };
    const text = new TextEncoder();
    await fuzz('native', fromTemplate, check, {
      // A corpus file is a call as JSON: { name, args } (typed arrays as { f32: [...] } and the like).
      fromBytes: (b) => revive(JSON.parse(new TextDecoder().decode(b)) as { name: string; args: unknown[] }),
      toBytes: (c) => text.encode(JSON.stringify({ name: c.name, args: c.args.map(describeArg) })),
    });
  }, TIMEOUT_MS);
});

/** An argument as JSON for the corpus: typed arrays by kind and length (their values do not matter to a
 *  check), detached ones marked, objects kept as plain fields. */
function describeArg(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) {
    const kind = v.constructor.name;
    return { typed: kind, length: v.buffer.byteLength === 0 ? 0 : (v as Float32Array).length, detached: v.buffer.byteLength === 0 };
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return { number: String(v) };
  return v === undefined ? { undefined: true } : v;
}

function revive({ name, args }: { name: string; args: unknown[] }): Call {
  const kinds: Record<string, new (n: number) => unknown> = { Float32Array, Int32Array, Float64Array, Uint8Array };
  return {
    name,
    args: args.map((a) => {
      if (a === null || typeof a !== 'object' || Array.isArray(a)) return a;
      const o = a as Record<string, unknown>;
      if ('typed' in o) return o.detached ? detached(0) : new kinds[o.typed as string]!(o.length as number);
      if ('number' in o) return Number(o.number);
      if ('undefined' in o) return undefined;
      return o;
    }),
  };
}
