// The layers on their own: multi-head attention (self, masked, cross) against finite differences and a
// composition of plain ops, the sinusoid table against the paper's formula and PyTorch's buffer, and the
// Module bookkeeping (names, train/eval, tied parameters listed once).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { nn, ops, tensor, type Tensor } from '../../lib/index.js';
import { decodeSafetensors } from '../../lib/io/safetensors.js';
import { sliceRows } from '../../lib/ops/shape.js';
import { Rng } from '../../lib/tensor/random.js';
import { gradcheck, param } from '../autograd/gradcheck.js';

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

/** Multi-head attention written with the plain ops: per-head projections by slicing, then concat. */
function composed(mha: nn.MultiHeadAttention, x: Tensor, memory: Tensor | null, masks: nn.AttentionMasks): Tensor {
  const d = mha.dModel, h = mha.heads, dh = d / h;
  const kvIn = memory ?? x;
  const proj = (input: Tensor, block: number) =>
    ops.linear(input, sliceRows(mha.inProjWeight, block * d, d), sliceRows(mha.inProjBias, block * d, d));
  const heads = (t: Tensor) => t.reshape([t.shape[0]!, t.shape[1]!, h, dh]).transpose(1, 2);
  const ctx = ops.scaledDotProductAttention(heads(proj(x, 0)), heads(proj(kvIn, 1)), heads(proj(kvIn, 2)), masks);
  return mha.outProj.forward(ctx.transpose(1, 2).reshape([x.shape[0]!, x.shape[1]!, d]));
}

describe('MultiHeadAttention', () => {
  const mha = new nn.MultiHeadAttention(12, 3, new Rng(1));
  const cases: Array<[string, boolean, nn.AttentionMasks]> = [
    ['self', false, {}],
    ['masked self with padding', false, { causal: true, kvLengths: new Int32Array([2, 4]) }],
    ['cross with padding', true, { kvLengths: new Int32Array([5, 1]) }],
  ];
  for (const [name, cross, masks] of cases) {
    it(`${name}: equals the composition of plain ops and passes a finite-difference check`, () => {
      const x = param([2, 4, 12], 1), memory = cross ? param([2, 5, 12], 2) : null;
      const fused = mha.forward(x, memory, masks).toFloat32Array();
      expect(maxAbs(fused, composed(mha, x, memory, masks).toFloat32Array())).toBeLessThanOrEqual(1e-5);
      gradcheck((a, m) => mha.forward(a, cross ? m! : null, masks), memory ? [x, memory] : [x]);
    });
  }

  it('one position per sequence (decoding): heads are views, the results the same as the composed ops', () => {
    for (const [b, cross] of [[1, false], [3, false], [1, true], [3, true]] as const) {
      const x = param([b, 1, 12], 5), memory = cross ? param([b, 4, 12], 6) : null;
      const fused = mha.forward(x, memory, {}).toFloat32Array();
      expect(maxAbs(fused, composed(mha, x, memory, {}).toFloat32Array())).toBeLessThanOrEqual(1e-5);
      gradcheck((a, m) => mha.forward(a, cross ? m! : null, {}), memory ? [x, memory] : [x]);
    }
  });

  it('fills the gradient of every parameter, including the sliced projection rows of cross-attention', () => {
    const m = new nn.MultiHeadAttention(8, 2, new Rng(2));
    m.forward(param([1, 3, 8], 3), param([1, 2, 8], 4)).sum().backward();
    const grads = m.namedParameters().map(([n, p]) => [n, p.grad?.toFloat32Array().some((v) => v !== 0)]);
    expect(grads).toEqual([['inProjWeight', true], ['inProjBias', true], ['outProj.weight', true], ['outProj.bias', true]]);
  });
});

describe('PositionalEncoding', () => {
  it('is the paper’s sin/cos table and agrees with PyTorch’s float32 buffer', () => {
    const pe = new nn.PositionalEncoding(16, 64, 0, new Rng(0));
    const t = pe.table.toFloat32Array();
    expect(t[0]).toBe(0);
    expect(t[1]).toBe(1);
    expect(t[3 * 16 + 4]).toBeCloseTo(Math.sin(3 / 10000 ** (4 / 16)), 6);
    expect(t[3 * 16 + 5]).toBeCloseTo(Math.cos(3 / 10000 ** (4 / 16)), 6);
    const torch = decodeSafetensors(readFileSync(join(import.meta.dirname, '../fixtures/torch/tutorial.model.safetensors')))
      .tensors.get('positional_encoding.pos_embedding')!.toFloat32Array().subarray(0, 64 * 16);
    expect(maxAbs(t, torch)).toBeLessThanOrEqual(1e-5);
  });

  it('adds the rows of the positions it is given (a decoding offset) and refuses to run past maxLength', () => {
    const pe = new nn.PositionalEncoding(4, 8, 0, new Rng(0));
    const zero = tensor(new Float32Array(2 * 4), [1, 2, 4]);
    expect(pe.forward(zero, 3).toFloat32Array()).toEqual(pe.table.toFloat32Array().subarray(12, 20));
    expect(() => pe.forward(zero, 7)).toThrow(/maxLength 8/);
  });
});

describe('Module', () => {
  it('lists nested parameters once with dotted names, and train/eval reach every child', () => {
    const layer = new nn.EncoderLayer({ dModel: 8, heads: 2, ffnDim: 16, dropout: 0.1, activation: 'relu', normFirst: false }, new Rng(0));
    const names = layer.namedParameters().map(([n]) => n);
    expect(names).toEqual([
      'selfAttn.inProjWeight', 'selfAttn.inProjBias', 'selfAttn.outProj.weight', 'selfAttn.outProj.bias',
      'ffn.linear1.weight', 'ffn.linear1.bias', 'ffn.linear2.weight', 'ffn.linear2.bias',
      'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
    ]);
    layer.eval();
    expect(layer.namedModules().every(([, m]) => !m.training)).toBe(true);
    layer.train();
    expect(layer.namedModules().every(([, m]) => m.training)).toBe(true);
  });
});
