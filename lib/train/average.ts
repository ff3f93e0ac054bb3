/**
 * Checkpoint averaging (as fairseq's average_checkpoints.py and Marian's --average): the element-wise mean
 * of the weights of several checkpoints of one run, summed in float64. The average of the last few
 * checkpoints usually scores a little better than any one of them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { fail } from '../check.js';
import { FormatError } from '../errors.js';
import { loadSafetensors } from '../io/safetensors.js';
import { resolveConfig, type TransformerConfig } from '../nn/config.js';
import { Transformer } from '../nn/transformer.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * A model whose weights are the mean of those of the model directories `dirs` (each holding config.json
 * and model.safetensors, as checkpoints and saved models do). They must share the config.
 */
export async function averageCheckpoints(dirs: readonly string[]): Promise<Transformer> {
  if (!Array.isArray(dirs) || dirs.length === 0 || dirs.some((d) => typeof d !== 'string' || d === '')) {
    fail('a non-empty array of checkpoint directories', 'dirs', dirs);
  }
  const model = await Transformer.load(dirs[0]!);
  const config = JSON.stringify(model.config);
  const sums = new Map<string, Float64Array>();
  for (const dir of dirs) {
    const other = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as TransformerConfig;
    if (JSON.stringify(resolveConfig(other)) !== config) {
      throw new FormatError(`${dir} holds a model of another config than ${dirs[0]}: checkpoints to average must come from one run`);
    }
    const { tensors } = await loadSafetensors(join(dir, 'model.safetensors'));
    for (const [name, t] of tensors) {
      if (t.dtype !== 'float32') continue;
      const values = t.toFloat32Array();
      let sum = sums.get(name);
      if (sum === undefined) {
        sum = new Float64Array(values.length);
        sums.set(name, sum);
      }
      if (sum.length !== values.length) throw new FormatError(`${name} has ${values.length} elements in ${dir} but ${sum.length} in ${dirs[0]}`);
      for (let i = 0; i < values.length; i++) sum[i]! += values[i]!;
    }
  }
  const state = model.stateDict();
  model.loadStateDict(new Map([...state].map(([name, t]) => {
    const sum = sums.get(name);
    return [name, sum === undefined ? t : new Tensor(Float32Array.from(sum, (x) => x / dirs.length), t.shape)] as const;
  })));
  return model;
}
