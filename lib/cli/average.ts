/**
 * `nodeformer average --out dir [--dtype f16] ckpt1 ckpt2 …`: the mean of the checkpoints' weights, saved as a
 * translator (in half precision with --dtype f16 or bf16: how the shipped model is made) with the tokenizers of their run (found beside the checkpoints: run/checkpoints/step-… has
 * its tokenizers in run/).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { averageCheckpoints } from '../train/average.js';
import { Translator } from '../translator.js';
import { UsageError } from './errors.js';

export async function averageCommand(checkpoints: string[], f: { out: string; dtype: 'f32' | 'f16' | 'bf16' }): Promise<void> {
  for (const c of checkpoints) {
    if (!existsSync(join(c, 'model.safetensors'))) throw new UsageError(`not a checkpoint (no model.safetensors): ${c}`);
  }
  const first = checkpoints[0]!;
  const tokenizers = (await Translator.loadTokenizers(first)) ?? (await Translator.loadTokenizers(dirname(dirname(first))));
  if (tokenizers === null) throw new UsageError(`no tokenizer found in ${first} or its run folder ${dirname(dirname(first))}`);
  const model = await averageCheckpoints(checkpoints);
  await new Translator(model, tokenizers.source, tokenizers.target).save(f.out, { dtype: f.dtype.toUpperCase() as 'F32' | 'F16' | 'BF16' });
  process.stdout.write(`averaged ${checkpoints.length} checkpoint${checkpoints.length === 1 ? '' : 's'} into ${f.out} (${f.dtype} weights)\n`);
}
