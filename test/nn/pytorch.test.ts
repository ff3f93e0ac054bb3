// The Transformer against PyTorch's tutorial Seq2SeqTransformer (fixtures made by
// test/fixtures/make_torch_fixtures.py with Debian's torch 1.13): the same weights and padded batch must
// give the same logits (≤ 1e-4 abs), label-smoothed loss (≤ 1e-5) and gradients (≤ 1e-3 of each tensor's
// largest entry), and our PyTorch-format state dict must round-trip.
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { FormatError, ops, ShapeError, Transformer, type Tensor, type TransformerConfig } from '../../lib/index.js';
import { decodeSafetensors, loadSafetensors } from '../../lib/io/safetensors.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/torch');
const tmp = mkdtempSync(join(tmpdir(), 'nodeformer-pytorch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fixture(name: string) {
  const model = decodeSafetensors(readFileSync(join(FIXTURES, `${name}.model.safetensors`)));
  const io = decodeSafetensors(readFileSync(join(FIXTURES, `${name}.io.safetensors`))).tensors;
  const config = JSON.parse(model.metadata.config!) as TransformerConfig;
  const rows = (t: Tensor, lengths: Tensor) => {
    const data = t.toInt32Array(), lens = lengths.toInt32Array(), width = t.shape[1]!;
    return Array.from(lens, (len, b) => data.slice(b * width, b * width + len));
  };
  const get = (n: string) => io.get(n)!;
  return {
    config,
    file: join(FIXTURES, `${name}.model.safetensors`),
    src: rows(get('src'), get('src_lengths')),
    tgt: rows(get('tgt_in'), get('tgt_lengths')),
    tgtOut: get('tgt_out').toInt32Array(),
    logits: get('logits'),
    loss: get('loss').item(),
    grads: new Map([...io].filter(([n]) => n.startsWith('grad.')).map(([n, t]) => [n.slice(5), t])),
  };
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe.each(['tutorial', 'prenorm_gelu'])('%s', (name) => {
  const f = fixture(name);
  const model = Transformer.fromPyTorch(f.file, f.config);

  it('gives PyTorch’s logits, loss and gradients', () => {
    const logits = model.forward(f.src, f.tgt);
    expect(logits.shape).toEqual(f.logits.shape);
    // Padded positions too: each sees the same keys as in PyTorch (masks are on keys only).
    expect(maxAbs(logits.toFloat32Array(), f.logits.toFloat32Array())).toBeLessThanOrEqual(1e-4);
    const v = f.config.tgtVocabSize;
    const loss = ops.crossEntropy(logits.reshape([-1, v]), f.tgtOut, { labelSmoothing: 0.1, ignoreIndex: f.config.padId! });
    expect(Math.abs(loss.item() - f.loss)).toBeLessThanOrEqual(1e-5);
    model.zeroGrad();
    loss.backward();
    const grads = model.gradients({ format: 'pytorch' });
    expect(new Set(grads.keys())).toEqual(new Set(f.grads.keys()));
    for (const [n, expected] of f.grads) {
      const e = expected.toFloat32Array();
      const scale = e.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(grads.get(n)!.shape, n).toEqual(expected.shape);
      expect(maxAbs(grads.get(n)!.toFloat32Array(), e), n).toBeLessThanOrEqual(1e-3 * scale);
    }
  });

  it('exports the PyTorch state dict it loaded, name for name and bit for bit', async () => {
    const original = decodeSafetensors(readFileSync(f.file)).tensors;
    const file = join(tmp, `${name}.safetensors`);
    await model.savePyTorch(file);
    const { tensors } = await loadSafetensors(file);
    expect(new Set(tensors.keys())).toEqual(new Set(original.keys()));
    for (const [n, t] of tensors) {
      const o = original.get(n)!;
      // Our positional table keeps maxLength rows of PyTorch's 5000.
      if (n === 'positional_encoding.pos_embedding') expect(o.toFloat32Array().subarray(0, t.size)).toEqual(t.toFloat32Array());
      else expect(t.toFloat32Array(), n).toEqual(o.toFloat32Array());
    }
    const again = Transformer.fromPyTorch(file, f.config);
    expect(maxAbs(again.forward(f.src, f.tgt).toFloat32Array(), f.logits.toFloat32Array())).toBeLessThanOrEqual(1e-4);
  });
});

describe('fromPyTorch refuses weights that do not fit', () => {
  const f = fixture('tutorial');
  it('a config with other sizes, a missing file, a file that is not safetensors', () => {
    expect(() => Transformer.fromPyTorch(f.file, { ...f.config, dModel: 32, heads: 4 })).toThrow(ShapeError);
    expect(() => Transformer.fromPyTorch(f.file, { ...f.config, encoderLayers: 1 })).toThrow(FormatError);
    expect(() => Transformer.fromPyTorch(f.file, { ...f.config, encoderLayers: 3 })).toThrow(/lacks 'transformer\.encoder\.layers\.2/);
    expect(() => Transformer.fromPyTorch(join(tmp, 'missing.safetensors'), f.config)).toThrow(FormatError);
    expect(() => Transformer.fromPyTorch(join(FIXTURES, 'README.md'), f.config)).toThrow(FormatError);
  });
});
