/**
 * The translator a command works with: `--model dir`, or the model that ships in the package; with
 * `--quantize int8`, quantized as it loads (`--no-quantize-generator`: all but the generator).
 */
import { existsSync } from 'node:fs';

import type { Quantization } from '../nn/transformer.js';
import { DEFAULT_MODEL_DIR, Translator } from '../translator.js';
import { UsageError } from './errors.js';

export interface LoadFlags {
  model?: string;
  quantize?: Quantization;
  /** --no-quantize-generator: with --quantize, the generator stays float32. */
  quantizeGenerator?: boolean;
}

export async function loadTranslator({ model: dir, quantize, quantizeGenerator }: LoadFlags): Promise<Translator> {
  if (dir === undefined && !existsSync(DEFAULT_MODEL_DIR)) {
    throw new UsageError(`the shipped model is missing from ${DEFAULT_MODEL_DIR}: reinstall the package, or pass --model <dir>`);
  }
  if (dir !== undefined && !existsSync(dir)) throw new UsageError(`no such model folder: ${dir}`);
  return Translator.load(dir ?? DEFAULT_MODEL_DIR, quantize === undefined ? undefined : { quantize, quantizeGenerator });
}
