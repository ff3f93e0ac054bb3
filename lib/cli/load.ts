/**
 * The translator a command works with: `--model dir`, or the model that ships in the package; with
 * `--quantize int8`, quantized as it loads.
 */
import { existsSync } from 'node:fs';

import type { Quantization } from '../nn/transformer.js';
import { DEFAULT_MODEL_DIR, Translator } from '../translator.js';
import { UsageError } from './errors.js';

export async function loadTranslator(dir: string | undefined, quantize?: Quantization): Promise<Translator> {
  if (dir === undefined && !existsSync(DEFAULT_MODEL_DIR)) {
    throw new UsageError(`the shipped model is missing from ${DEFAULT_MODEL_DIR}: reinstall the package, or pass --model <dir>`);
  }
  if (dir !== undefined && !existsSync(dir)) throw new UsageError(`no such model folder: ${dir}`);
  return Translator.load(dir ?? DEFAULT_MODEL_DIR, quantize === undefined ? undefined : { quantize });
}
