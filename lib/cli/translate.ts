/**
 * `nodeformer translate [--model dir] [text…]`: stdout carries only translations, one line per input in
 * input order (an empty translation is an empty line); with no text, one input per stdin line.
 */
import { createInterface } from 'node:readline';

import type { Translator } from '../translator.js';
import { type GenerateFlags, generateOptions } from './generate_options.js';
import { type LoadFlags, loadTranslator } from './load.js';

/** Texts per translate call when reading stdin: a batch big enough to decode efficiently, output as it goes. */
const STDIN_BATCH = 64;

export async function translateCommand(texts: string[], flags: GenerateFlags & LoadFlags): Promise<void> {
  const translator = await loadTranslator(flags);
  const options = generateOptions(flags);
  if (texts.length > 0) {
    await write(await translate(translator, texts, options));
    return;
  }
  let batch: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    batch.push(line);
    if (batch.length === STDIN_BATCH) {
      await write(await translate(translator, batch, options));
      batch = [];
    }
  }
  if (batch.length > 0) await write(await translate(translator, batch, options));
}

async function translate(t: Translator, texts: string[], options: ReturnType<typeof generateOptions>): Promise<string[]> {
  // One line per input, whatever the model emits.
  return (await t.translate(texts, options)).map((s) => s.replace(/[\r\n]+/g, ' '));
}

function write(lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(lines.map((l) => `${l}\n`).join(''), (err) => (err ? reject(err) : resolve())));
}
