// lib/quantize/int8.ts and Transformer.quantize / save / load with int8 weights: what quantizing changes
// (every matrix becomes q·s per row, nothing else moves), that the decoder really multiplies in int8,
// that a quantized checkpoint stores I8 and loads back to the same bits, and what a quantized model refuses.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  InvalidArgumentError, NonFiniteError, noGrad, ops, optim, tensor, Transformer, type TransformerConfig,
} from '../../lib/index.js';
import { int8Matrices, int8Values } from '../../lib/quantize/int8.js';
import { logSoftmax, randomModel } from '../decode/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'nodeformer-int8-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CONFIG: TransformerConfig = {
  srcVocabSize: 300, tgtVocabSize: 320, dModel: 64, heads: 4, encoderLayers: 2, decoderLayers: 2, ffnDim: 128, maxLength: 24,
};
const SRC = [Int32Array.of(5, 9, 14, 3, 22, 7), Int32Array.of(40, 41, 2)];
const TGT = [Int32Array.of(1, 30, 31, 32), Int32Array.of(1, 50, 51)];

const logits = (m: Transformer) => noGrad(() => m.forward(SRC, TGT).toFloat32Array());
const same = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describe('Transformer.quantize', () => {
  it('turns every matrix into per-row int8 values times a scale and leaves the rest as it was', () => {
    const m = randomModel(CONFIG, 3);
    const before = new Map([...m.stateDict()].map(([n, t]) => [n, t.toFloat32Array()]));
    expect(m.quantization).toBeNull();
    expect(m.quantize('int8')).toBe(m);
    expect(m.quantization).toBe('int8');
    const matrices = new Map(int8Matrices(m));
    expect([...matrices.keys()].sort()).toEqual([...m.stateDict()].filter(([n, t]) => t.rank === 2 && !n.startsWith('positionalEncoding')).map(([n]) => n).sort());
    for (const [name, t] of m.stateDict()) {
      const now = t.toFloat32Array(), was = before.get(name)!;
      if (!matrices.has(name)) {
        expect(same(now, was), name).toBe(true);
        continue;
      }
      const [rows, k] = t.shape as [number, number];
      const scales = m.int8Scales(t)!;
      const q = int8Values(now, scales, k);
      const bad: string[] = [];
      for (let r = 0; r < rows; r++) {
        const row = was.subarray(r * k, (r + 1) * k), amax = Math.max(...row.map(Math.abs));
        if (scales[r] !== Math.fround(amax / 127)) bad.push(`row ${r}: scale ${scales[r]}`);
        const qr = q.subarray(r * k, (r + 1) * k);
        if (Math.max(...qr.map(Math.abs)) !== 127) bad.push(`row ${r}: no ±127`);
        for (let p = 0; p < k; p++) {
          if (now[r * k + p] !== Math.fround(qr[p]! * scales[r]!)) bad.push(`${r},${p}: not q·s`);
          if (!(Math.abs(now[r * k + p]! - row[p]!) <= scales[r]! * 0.5001)) bad.push(`${r},${p}: more than half a step`);
        }
      }
      expect(bad.slice(0, 5), name).toEqual([]);
    }
    const again = logits(m);
    m.quantize('int8');
    expect(same(logits(m), again)).toBe(true);
  });

  it('decodes with int8 GEMMs: close to the float32 forward on the same weights, but not its bits', async () => {
    const m = randomModel(CONFIG, 5).quantize('int8');
    const hyp = (await m.generate([SRC[0]!], { maxLength: 6, minLength: 6, returnScores: true }))[0]![0];
    // The teacher-forced log-probability of the same tokens by the float32 forward of the dequantized weights.
    const tgt = [Int32Array.of(1, ...hyp!.ids.slice(0, -1))];
    const lp = logSoftmax(noGrad(() => m.forward([SRC[0]!], tgt).toFloat32Array()), CONFIG.tgtVocabSize);
    const teacher = hyp!.ids.reduce((s: number, id: number, i: number) => s + lp[i * CONFIG.tgtVocabSize + id]!, 0);
    expect(Math.abs(hyp!.logProb - teacher)).toBeGreaterThan(1e-4);            // activations quantized per row
    expect(Math.abs(hyp!.logProb - teacher)).toBeLessThan(0.05 * Math.abs(teacher));
  });

  it('refuses training, a state dict and non-finite weights, changing nothing', () => {
    const m = randomModel(CONFIG, 7).quantize('int8');
    const before = logits(m);
    const adam = new optim.Adam(m.parameters(), { lr: 1e-2 });
    expect(() => ops.crossEntropy(m.forward(SRC, TGT).reshape([-1, CONFIG.tgtVocabSize]), new Int32Array(8)).backward()).toThrow(InvalidArgumentError);
    adam.step(); // no gradients: nothing moves
    expect(() => m.loadStateDict(m.stateDict())).toThrow(/quantized/);
    expect(same(logits(m), before)).toBe(true);

    const f = randomModel(CONFIG, 8);
    const w = f.decoder.layers.items[1]!.ffn.linear2.weight, values = w.toFloat32Array();
    values[17] = Number.NaN;
    f.loadStateDict(new Map([...f.stateDict()].map(([n, t]) => [n, t === w ? tensor(values, w.shape) : t])));
    const state = new Map([...f.stateDict()].map(([n, t]) => [n, t.toFloat32Array()]));
    expect(() => f.quantize('int8')).toThrow(NonFiniteError);
    expect(f.quantization).toBeNull();
    for (const [n, t] of f.stateDict()) expect(same(t.toFloat32Array(), state.get(n)!), n).toBe(true);
    expect(() => f.quantize('int4' as never)).toThrow(InvalidArgumentError);
  });
});

describe('int8 checkpoints', () => {
  it('store I8 values and float32 scales, a quarter of the bytes, and load back to the same bits', async () => {
    const m = randomModel({ ...CONFIG, srcVocabSize: 4000, tgtVocabSize: 4000 }, 9);
    const opts = { strategy: 'beam', beamSize: 3, maxLength: 8, returnScores: true } as const;
    const f32 = await m.generate(SRC, opts); // its decoding worker now holds the float32 model
    await m.save(join(tmp, 'f32'));
    m.quantize('int8');
    await m.save(join(tmp, 'int8'));
    const size = (d: string) => statSync(join(tmp, d, 'model.safetensors')).size;
    expect(size('int8') / size('f32')).toBeLessThan(0.3);
    const bytes = readFileSync(join(tmp, 'int8', 'model.safetensors'));
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString()) as Record<string, { dtype: string }>;
    for (const [name] of int8Matrices(m)) {
      expect(header[name]!.dtype, name).toBe('I8');
      expect(header[`${name}.scale`]!.dtype).toBe('F32');
    }
    expect(header['encoder.layers.0.norm1.weight']!.dtype).toBe('F32');

    const back = await Transformer.load(join(tmp, 'int8'));
    expect(back.quantization).toBe('int8');
    expect(same(logits(back), logits(m))).toBe(true);
    // The worker got the quantized weights and their scales: the same bits as a fresh load, not the float32 ones.
    const int8 = await m.generate(SRC, opts);
    expect(await back.generate(SRC, opts)).toEqual(int8);
    expect(int8).not.toEqual(f32);

    // Quantizing on load is quantizing after it.
    const onLoad = await Transformer.load(join(tmp, 'f32'), { quantize: 'int8' });
    expect(same(logits(onLoad), logits(m))).toBe(true);
    await expect(Transformer.load(join(tmp, 'f32'), { quantize: 'int4' } as never)).rejects.toThrow(InvalidArgumentError);
  });

  it('keep the generator in float32 when asked, in memory, in decoding and on disk', async () => {
    const f32 = randomModel(CONFIG, 13);
    await f32.save(join(tmp, 'gen-f32'));
    const generator = f32.generator.weight.toFloat32Array();
    const all = randomModel(CONFIG, 13).quantize('int8');
    const m = f32.quantize('int8', { generator: false });
    expect(same(m.generator.weight.toFloat32Array(), generator)).toBe(true);
    expect(m.int8Scales(m.generator.weight)).toBeNull();
    expect(m.int8Scales(m.decoder.layers.items[0]!.ffn.linear1.weight)).not.toBeNull();
    // Decoding multiplies the float32 generator: other scores than with the int8 one, on the same other weights.
    const opts = { maxLength: 6, minLength: 6, returnScores: true } as const;
    const kept = await m.generate(SRC, opts);
    expect(kept.flat().map((h) => h.logProb)).not.toEqual((await all.generate(SRC, opts)).flat().map((h) => h.logProb));

    await m.save(join(tmp, 'gen-kept'));
    const bytes = readFileSync(join(tmp, 'gen-kept', 'model.safetensors'));
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString()) as Record<string, { dtype: string }>;
    expect([header['generator.weight']!.dtype, header['generator.weight.scale']]).toEqual(['F32', undefined]);
    expect(header['decoder.layers.0.ffn.linear1.weight']!.dtype).toBe('I8');
    for (const back of [await Transformer.load(join(tmp, 'gen-kept')), await Transformer.load(join(tmp, 'gen-f32'), { quantize: 'int8', quantizeGenerator: false })]) {
      expect([back.quantization, back.int8Scales(back.generator.weight)]).toEqual(['int8', null]);
      expect(same(logits(back), logits(m))).toBe(true);
      expect(await back.generate(SRC, opts)).toEqual(kept);
    }
    expect(() => randomModel(CONFIG, 1).quantize('int8', { generator: 'no' } as never)).toThrow(InvalidArgumentError);
    expect(() => randomModel(CONFIG, 1).quantize('int8', { embeddings: false } as never)).toThrow(/embeddings/);
  });

  it('keep a tied generator tied', async () => {
    const m = randomModel({ ...CONFIG, srcVocabSize: 320, tieEmbeddings: true }, 11).quantize('int8');
    await m.save(join(tmp, 'tied'));
    const back = await Transformer.load(join(tmp, 'tied'));
    expect(back.generator.weight).toBe(back.tgtEmbedding.weight);
    expect(same(logits(back), logits(m))).toBe(true);
  });
});
