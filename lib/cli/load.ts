/** The translator a command works with: `--model dir`, or the model that ships in the package. */
import { existsSync } from 'node:fs';

import { DEFAULT_MODEL_DIR, Translator } from '../translator.js';
import { UsageError } from './errors.js';

export async function loadTranslator(dir: string | undefined): Promise<Translator> {
  if (dir === undefined) {
    if (!existsSync(DEFAULT_MODEL_DIR)) throw new UsageError(`the shipped model is missing from ${DEFAULT_MODEL_DIR}: reinstall the package, or pass --model <dir>`);
    return Translator.default();
  }
  if (!existsSync(dir)) throw new UsageError(`no such model folder: ${dir}`);
  return Translator.load(dir);
}
