/**
 * `nodeformer average --out dir ckpt1 ckpt2 …`: the mean of the checkpoints' weights, saved as a
 * translator with the tokenizers of their run (found beside the checkpoints: run/checkpoints/step-… has
 * its tokenizers in run/).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { averageCheckpoints } from '../train/average.js';
import { Translator } from '../translator.js';
import { UsageError } from './errors.js';

export async function averageCommand(checkpoints: string[], f: { out: string }): Promise<void> {
  for (const c of checkpoints) {
    if (!existsSync(join(c, 'model.safetensors'))) throw new UsageError(`not a checkpoint (no model.safetensors): ${c}`);
  }
  const first = checkpoints[0]!;
  const tokenizers = (await Translator.loadTokenizers(first)) ?? (await Translator.loadTokenizers(dirname(dirname(first))));
  if (tokenizers === null) throw new UsageError(`no tokenizer found in ${first} or its run folder ${dirname(dirname(first))}`);
  const model = await averageCheckpoints(checkpoints);
  await new Translator(model, tokenizers.source, tokenizers.target).save(f.out);
  process.stdout.write(`averaged ${checkpoints.length} checkpoints into ${f.out}\n`);
}
