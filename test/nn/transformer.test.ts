// The Transformer's behaviour beyond the PyTorch match: padding invariance, masks, configuration
// errors, train/eval, weight tying, state dicts, and save/load (atomic, round trip, failures).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  FormatError, InvalidArgumentError, noGrad, ops, OutOfRangeError, ShapeError, tensor, Transformer, type TransformerConfig,
} from '../../lib/index.js';

const SMALL: TransformerConfig = { srcVocabSize: 31, tgtVocabSize: 27, dModel: 16, heads: 4, encoderLayers: 2, decoderLayers: 2, ffnDim: 24, dropout: 0 };
const tmp = mkdtempSync(join(tmpdir(), 'nodeformer-model-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const seq = (...ids: number[]) => Int32Array.from(ids);
const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('forward', () => {
  const model = new Transformer({ ...SMALL, normFirst: true, activation: 'gelu' });

  it('logits of real positions do not depend on padding or on the other sequences of the batch', () => {
    const src = [seq(5, 6, 7, 8, 9), seq(10, 11)], tgt = [seq(1, 4, 5), seq(1, 6, 7, 8, 9, 3)];
    const both = model.forward(src, tgt).toFloat32Array(); // [2, 6, 27]
    const alone = model.forward([src[0]!], [tgt[0]!]).toFloat32Array(); // [1, 3, 27]
    const first = both.subarray(0, 3 * 27);
    expect(maxAbs(first, alone)).toBeLessThanOrEqual(1e-5);
    const alone2 = model.forward([src[1]!], [tgt[1]!]).toFloat32Array();
    expect(maxAbs(both.subarray(6 * 27, 12 * 27), alone2)).toBeLessThanOrEqual(1e-5);
  });

  it('is causal: a later target token does not change earlier logits', () => {
    const a = model.forward([seq(5, 6, 7)], [seq(1, 4, 5)]).toFloat32Array();
    const b = model.forward([seq(5, 6, 7)], [seq(1, 4, 9)]).toFloat32Array();
    expect(maxAbs(a.subarray(0, 2 * 27), b.subarray(0, 2 * 27))).toBe(0);
    expect(maxAbs(a.subarray(2 * 27), b.subarray(2 * 27))).toBeGreaterThan(0);
  });

  it('encode + decode equals forward, and accepts padded int32 tensors', () => {
    const src = [seq(5, 6, 7), seq(8)], tgt = [seq(1, 4), seq(1, 2, 3)];
    const memory = model.encode(src);
    expect(memory.shape).toEqual([2, 3, 16]);
    const logits = model.decode(tgt, memory, new Int32Array([3, 1]));
    expect(logits.toFloat32Array()).toEqual(model.forward(src, tgt).toFloat32Array());
    const padded = tensor(new Int32Array([5, 6, 7, 8, 0, 0]), [2, 3]);
    expect(model.forward(padded, tgt).toFloat32Array()).toEqual(model.forward(src, tgt).toFloat32Array());
  });

  it('builds no graph under noGrad, and dropout is off in eval mode only', () => {
    const m = new Transformer({ ...SMALL, dropout: 0.5 });
    const src = [seq(5, 6, 7)], tgt = [seq(1, 4)];
    expect(noGrad(() => m.forward(src, tgt)).gradFn).toBeNull();
    m.eval();
    expect(m.forward(src, tgt).toFloat32Array()).toEqual(m.forward(src, tgt).toFloat32Array());
    m.train();
    expect(m.forward(src, tgt).toFloat32Array()).not.toEqual(m.forward(src, tgt).toFloat32Array());
  });

  it('rejects bad input with typed errors that name the problem', () => {
    expect(() => model.forward([seq(5, 31)], [seq(1)])).toThrow(/src\[0\]\[1\] is 31/);
    expect(() => model.forward([seq(5, 31)], [seq(1)])).toThrow(OutOfRangeError);
    expect(() => model.forward([seq(5)], [seq(-1)])).toThrow(OutOfRangeError);
    expect(() => model.forward([seq()], [seq(1)])).toThrow(ShapeError);
    expect(() => model.forward([], [])).toThrow(ShapeError);
    expect(() => model.forward([seq(5)], [seq(1), seq(2)])).toThrow(InvalidArgumentError);
    expect(() => model.forward([seq(5)], [new Int32Array(1025).fill(1)])).toThrow(/maxLength 1024/);
    expect(() => model.forward([[1.5]], [seq(1)])).toThrow(OutOfRangeError);
    expect(() => model.forward('abc' as never, [seq(1)])).toThrow(InvalidArgumentError);
    expect(() => model.decode([seq(1)], model.encode([seq(5)]), new Int32Array(2))).toThrow(InvalidArgumentError);
  });
});

describe('config', () => {
  it('defaults to the paper’s base model and rejects what cannot work', () => {
    const c = new Transformer({ srcVocabSize: 10, tgtVocabSize: 10, encoderLayers: 0, decoderLayers: 1 }).config;
    expect(c).toMatchObject({ dModel: 512, heads: 8, ffnDim: 2048, dropout: 0.1, maxLength: 1024, activation: 'relu', normFirst: false, padId: 0, bosId: 1, eosId: 2 });
    expect(() => new Transformer({ ...SMALL, heads: 5 })).toThrow(/multiple of config.heads/);
    expect(() => new Transformer({ ...SMALL, dropout: 1 })).toThrow(InvalidArgumentError);
    expect(() => new Transformer({ ...SMALL, activation: 'tanh' as never })).toThrow(InvalidArgumentError);
    expect(() => new Transformer({ ...SMALL, padId: 27 })).toThrow(InvalidArgumentError);
    expect(() => new Transformer({ ...SMALL, dmodel: 8 } as never)).toThrow(/Unknown option 'dmodel'/);
    expect(() => new Transformer({ tgtVocabSize: 5 } as never)).toThrow(/srcVocabSize/);
  });

  it('the same seed gives the same weights; another seed other weights', () => {
    const w = (seed: number) => new Transformer({ ...SMALL, seed }).encoder.layers.items[0]!.selfAttn.inProjWeight.toFloat32Array();
    expect(w(3)).toEqual(w(3));
    expect(w(3)).not.toEqual(w(4));
  });

  it('tieEmbeddings shares one tensor between the target embedding and the generator', () => {
    const m = new Transformer({ ...SMALL, srcVocabSize: 27, tieEmbeddings: true });
    expect(m.generator.weight).toBe(m.tgtEmbedding.weight);
    expect(m.parameters().length).toBe(new Transformer(SMALL).parameters().length - 1);
    const logits = m.forward([seq(3, 4)], [seq(1, 5)]);
    ops.crossEntropy(logits.reshape([-1, 27]), new Int32Array([5, 6])).backward();
    expect(m.tgtEmbedding.weight.grad).not.toBeNull();
  });
});

describe('state dicts and checkpoints', () => {
  it('save then load gives the same model; files are written atomically (no temp files left)', async () => {
    const m = new Transformer({ ...SMALL, seed: 9, tieEmbeddings: true, srcVocabSize: 27 });
    const dir = join(tmp, 'ckpt');
    await m.save(dir);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']);
    const back = await Transformer.load(dir);
    expect(back.config).toEqual(m.config);
    expect(back.generator.weight).toBe(back.tgtEmbedding.weight);
    const src = [seq(3, 4, 5)], tgt = [seq(1, 2)];
    expect(back.forward(src, tgt).toFloat32Array()).toEqual(m.forward(src, tgt).toFloat32Array());
  });

  it('a failed load changes nothing and says what was wrong', async () => {
    const m = new Transformer(SMALL);
    const before = m.stateDict();
    const snapshot = [...before].map(([n, t]) => [n, t.toFloat32Array()] as const);
    const broken = new Map(before);
    broken.set('generator.bias', tensor(new Float32Array(5), [5]));
    expect(() => m.loadStateDict(broken)).toThrow(ShapeError);
    const missing = new Map(before);
    missing.delete('encoder.norm.weight');
    expect(() => m.loadStateDict(missing)).toThrow(/Missing from the state dict: 'encoder.norm.weight'/);
    expect(() => m.loadStateDict(new Map([...before, ['extra', tensor([1], [1])]]))).toThrow(/Unexpected 'extra'/);
    for (const [n, data] of snapshot) expect(m.stateDict().get(n)!.toFloat32Array(), n).toEqual(data);

    const dir = join(tmp, 'bad');
    await m.save(dir);
    writeFileSync(join(dir, 'config.json'), '{ not json');
    await expect(Transformer.load(dir)).rejects.toThrow(FormatError);
    await expect(Transformer.load(join(tmp, 'nowhere'))).rejects.toThrow(FormatError);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...m.config, dModel: 32 }));
    await expect(Transformer.load(dir)).rejects.toThrow(ShapeError);
  });

  it('loadStateDict copies into the existing tensors (an optimiser holding them stays valid)', () => {
    const a = new Transformer({ ...SMALL, seed: 1 }), b = new Transformer({ ...SMALL, seed: 2 });
    const w = a.generator.weight;
    a.loadStateDict(b.stateDict());
    expect(a.generator.weight).toBe(w);
    expect(w.toFloat32Array()).toEqual(b.generator.weight.toFloat32Array());
  });

  it('names parameters as documented, and in PyTorch form on request', () => {
    const m = new Transformer({ ...SMALL, encoderLayers: 1, decoderLayers: 1 });
    const names = [...m.stateDict().keys()];
    expect(names).toContain('encoder.layers.0.selfAttn.inProjWeight');
    expect(names).toContain('decoder.layers.0.crossAttn.outProj.bias');
    expect(names).toContain('decoder.layers.0.ffn.linear1.weight');
    expect(names).toContain('positionalEncoding.table');
    const torch = m.stateDict({ format: 'pytorch' });
    expect(torch.get('transformer.decoder.layers.0.multihead_attn.in_proj_weight')!.shape).toEqual([48, 16]);
    expect(torch.get('positional_encoding.pos_embedding')!.shape).toEqual([1024, 1, 16]);
    expect(torch.has('transformer.encoder.layers.0.linear2.bias')).toBe(true);
    expect(() => m.stateDict({ format: 'onnx' } as never)).toThrow(InvalidArgumentError);
  });
});
