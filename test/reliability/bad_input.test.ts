// The bad-input catalogue of the README (Reliability): one test per row, through the public API. Each
// bad input gets a typed error that says what was wrong, never a crash, an abort or an out-of-memory
// kill, and a failed call leaves the model as it was. (Two rows live with their subjects:
// test/train/trainer.test.ts stops on a non-finite loss; test/native/boundary.test.ts and
// test/fuzz/native.test.ts call the native entry points directly.)
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeSafetensors } from '../../lib/io/safetensors.js';
import {
  BatchedTranslator, createTranslationServer, data, FormatError, InvalidArgumentError, ops, OutOfRangeError, randn, ShapeError, tensor,
  Tokenizer, Transformer, Translator, zeros,
} from '../../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nodeformer-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const model = () => new Transformer({ srcVocabSize: 12, tgtVocabSize: 14, dModel: 8, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 16, maxLength: 8, dropout: 0, seed: 4 });

/** A safetensors file from a header object and `data` bytes, its length field `lengthDelta` off. */
function safetensors(header: unknown, dataBytes = 0, lengthDelta = 0n): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, (BigInt(h.length) + lengthDelta) & (2n ** 64n - 1n), true);
  out.set(h, 8);
  return out;
}

describe('bad input catalogue', () => {
  it('NaN or ±Infinity in a kernel input propagates as IEEE arithmetic, to the outputs it reaches only', () => {
    const x = randn([2, 3], { seed: 1 }).toFloat32Array();
    x[1] = Number.NaN;
    x[4] = Number.POSITIVE_INFINITY;
    const y = ops.linear(tensor(x, [2, 3]), randn([4, 3], { seed: 2 })).toFloat32Array();
    expect([...y.subarray(0, 4)].every(Number.isNaN)).toBe(true); // row 0 holds the NaN
    expect([...y.subarray(4)].every((v) => !Number.isFinite(v))).toBe(true); // row 1 the infinity
    const p = ops.softmax(tensor(Float32Array.of(0, 1, Number.NaN, 0, 1, 2), [2, 3])).toFloat32Array();
    expect([...p.subarray(0, 3)].every(Number.isNaN)).toBe(true);
    expect(p.subarray(3).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
  });

  it('a negative, fractional or NaN dimension is a ShapeError naming it', () => {
    for (const shape of [[-1, 3], [2, 1.5], [Number.NaN]]) expect(() => zeros(shape)).toThrow(ShapeError);
    expect(() => zeros([2, -1])).toThrow(/shape\[1\]/);
  });

  it('a zero dimension is an empty tensor, and kernels take it', () => {
    expect(zeros([0, 3]).size).toBe(0);
    expect(ops.linear(zeros([0, 3]), randn([4, 3], { seed: 1 })).shape).toEqual([0, 4]);
  });

  it('an astronomically large shape is a ShapeError before any allocation, never an abort or an OOM kill', () => {
    expect(() => zeros([2 ** 31, 2 ** 31])).toThrow(ShapeError); // past 2^53 elements
    expect(() => randn([2 ** 40])).toThrow(/Cannot allocate/); // past what a typed array holds
    expect(() => zeros([2 ** 30, 16])).toThrow(ShapeError);
    expect(() => ops.matmul(zeros([0, 2 ** 31]), zeros([2 ** 31, 0]))).toThrow(InvalidArgumentError); // a dim past 2^31 − 1
  });

  it('token ids outside the vocabulary are an OutOfRangeError naming the position', () => {
    const m = model();
    expect(() => m.forward([Int32Array.of(3, 12)], [Int32Array.of(1)])).toThrow(/src\[0\]\[1\] is 12/);
    expect(() => m.forward([Int32Array.of(3)], [Int32Array.of(1, -1)])).toThrow(OutOfRangeError);
    expect(() => ops.embedding(randn([5, 2], { seed: 1 }), tensor(Int32Array.of(0, 5), [2]))).toThrow(OutOfRangeError);
  });

  it('an empty sequence is a ShapeError for the model and an empty translation for the Translator', async () => {
    expect(() => model().forward([Int32Array.of()], [Int32Array.of(1)])).toThrow(ShapeError);
    await expect(model().generate([Int32Array.of()])).rejects.toThrow(ShapeError);
    expect(await (await Translator.default()).translate(['', '   '])).toEqual(['', '']);
  });

  it('a sequence longer than maxLength is a typed error (model, generate, Translator)', async () => {
    const m = model();
    expect(() => m.forward([new Int32Array(9).fill(3)], [Int32Array.of(1)])).toThrow(OutOfRangeError);
    await expect(m.generate([new Int32Array(9).fill(3)])).rejects.toThrow(OutOfRangeError);
    await expect((await Translator.default()).translate('word '.repeat(400))).rejects.toThrow(InvalidArgumentError);
  });

  it('a mismatched state dict (missing, extra, wrong shape or dtype) is a typed error and changes nothing', () => {
    const m = model();
    const before = m.stateDict();
    const bits = (sd: Map<string, { toFloat32Array(): Float32Array }>) => [...sd].map(([k, t]) => `${k}:${Buffer.from(t.toFloat32Array().buffer).toString('base64')}`).join();
    const want = bits(before);
    const altered = (edit: (sd: Map<string, ReturnType<typeof zeros>>) => void) => {
      const sd = new Map([...before].map(([k, t]) => [k, k.endsWith('weight') ? randn(t.shape, { seed: 9 }) : t] as const));
      edit(sd);
      return sd;
    };
    expect(() => m.loadStateDict(altered((sd) => sd.delete('generator.bias')))).toThrow(/Missing/);
    expect(() => m.loadStateDict(altered((sd) => sd.set('bogus', zeros([1]))))).toThrow(/Unexpected 'bogus'/);
    expect(() => m.loadStateDict(altered((sd) => sd.set('generator.bias', zeros([3]))))).toThrow(ShapeError);
    expect(() => m.loadStateDict(altered((sd) => sd.set('generator.bias', tensor(new Int32Array(14), [14]))))).toThrow(/float32/);
    expect(bits(m.stateDict())).toBe(want); // every valid weight before the bad one was left alone too
  });

  it('forged safetensors are a FormatError: header length past the file or near 2^64, offsets out of range or overlapping, lying sizes, overflowing shapes', () => {
    const forged = [
      safetensors({}, 0, 1n), // header length past the file
      safetensors({}, 0, 2n ** 64n - 9n), // near 2^64
      safetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4), // past the data
      safetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), // overlap
      safetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), // 3 floats in 8 bytes
      safetensors({ a: { dtype: 'F16', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 0] } }), // 2^80 elements
      safetensors({ a: { dtype: 'F32', shape: [2 ** 62], data_offsets: [0, 0] } }), // 2^64 bytes, wraps to 0
    ];
    for (const bytes of forged) expect(() => decodeSafetensors(bytes)).toThrow(FormatError);
  });

  it('a malformed tokenizer.json is a FormatError saying where', () => {
    expect(() => Tokenizer.fromJSON('{')).toThrow(FormatError);
    expect(() => Tokenizer.fromJSON('{"model": 3}')).toThrow(/model/);
    expect(() => Tokenizer.fromJSON({ model: { type: 'NoSuchModel' } })).toThrow(FormatError);
    expect(() => Tokenizer.fromJSON('['.repeat(100_000) + ']'.repeat(100_000))).toThrow(FormatError);
  });

  it('a text file that is not UTF-8 is a FormatError with the line number', async () => {
    const file = join(dir, 'latin1.tsv');
    writeFileSync(file, Buffer.concat([Buffer.from('en\tes\nhello\thola\nbad\t'), Buffer.from([0x61, 0xf1, 0x6f]), Buffer.from('\n')]));
    await expect(data.readPairs(file, { srcColumn: 'en', tgtColumn: 'es' })).rejects.toThrow(/line 3 .*not UTF-8/);
  });

  it('lone surrogates in text are encoded as U+FFFD would be, and translated', async () => {
    const t = await Translator.default();
    expect(t.source.encode('a\ud800b')).toEqual(t.source.encode('a\ufffdb'));
    expect(typeof (await t.translate('God\udc00 created'))[0]).toBe('string');
  });

  describe('hostile HTTP bodies get a typed 4xx and the server serves on', () => {
    let url = '';
    let shutdown: () => Promise<void>;
    beforeAll(async () => {
      const s = createTranslationServer(new BatchedTranslator(await Translator.default()), { maxBodyBytes: 4096 });
      s.server.listen(0, '127.0.0.1');
      await once(s.server, 'listening');
      url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}/translate`;
      shutdown = s.shutdown;
    });
    afterAll(() => shutdown());
    const post = async (body: string | Uint8Array<ArrayBuffer>) => {
      const res = await fetch(url, { method: 'POST', body });
      return { status: res.status, body: (await res.json()) as { error: string; type: string } };
    };
    const cases: Array<[string, string | Uint8Array<ArrayBuffer>, number, RegExp]> = [
      ['not JSON', '{"text": ', 400, /not valid JSON/],
      ['not UTF-8', Uint8Array.of(0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d), 400, /not UTF-8/],
      ['not an object', '[1, 2]', 400, /JSON object/],
      ['deeply nested', `${'['.repeat(500)}${']'.repeat(500)}`, 400, /JSON object/],
      ['text not a string', '{"text": {"toString": 1}}', 400, /string for text/],
      ['an unknown key', '{"text": "a", "__proto__": {"x": 1}}', 400, /Unknown key/],
      ['a bad option', '{"text": "a", "beamSize": -3}', 400, /beamSize/],
      ['over the body limit', JSON.stringify({ text: 'a'.repeat(5000) }), 413, /at most 4096 bytes/],
      ['too many tokens', JSON.stringify({ text: 'God '.repeat(400) }), 413, /tokens/],
    ];
    for (const [name, body, status, message] of cases) {
      it(name, async () => {
        const r = await post(body);
        expect(r.status).toBe(status);
        expect(r.body.error).toMatch(message);
        expect((await post('{"text": "God"}')).status).toBe(200);
      });
    }
  });
});
