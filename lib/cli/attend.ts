/**
 * `nodeformer attend [--model dir] [--out prefix] [--layer l [--head h]] <text>`: translates one text and
 * draws where the decoder looked in the source (its cross-attention) as <prefix>.svg and <prefix>.png.
 * stdout carries only the translation, as `translate` prints it; the paths of the two pictures go to stderr.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { type GenerateFlags, generateOptions } from './generate_options.js';
import { attentionPng, attentionSvg, selectAttention } from './heatmap.js';
import { type LoadFlags, loadTranslator } from './load.js';

export interface AttendFlags extends GenerateFlags, LoadFlags {
  out: string;
  layer?: number;
  head?: number;
}

export async function attendCommand(text: string, flags: AttendFlags): Promise<void> {
  const translator = await loadTranslator(flags);
  const alignment = await translator.attend(text, generateOptions(flags));
  const { layers, heads } = alignment.attention;
  const weights = selectAttention(alignment.attention, flags.layer, flags.head);
  const which = flags.layer === undefined ? `mean of ${layers} layers × ${heads} heads`
    : flags.head === undefined ? `layer ${flags.layer}, mean of its ${heads} heads` : `layer ${flags.layer}, head ${flags.head}`;
  const svg = attentionSvg(alignment.sourceTokens, alignment.targetTokens, weights, `Cross-attention, ${which}`);
  const paths = [`${flags.out}.svg`, `${flags.out}.png`] as const;
  await mkdir(dirname(flags.out), { recursive: true });
  await writeFile(paths[0], svg);
  await writeFile(paths[1], attentionPng(svg));
  // One line, whatever the model emits, as `translate` prints it.
  process.stdout.write(`${alignment.text.replace(/[\r\n]+/g, ' ')}\n`);
  process.stderr.write(paths.map((p) => `${p}\n`).join(''));
}
