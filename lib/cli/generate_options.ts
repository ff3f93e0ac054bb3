/** The generate options as flags (`--beam-size 4`, `--top-p 0.9`, …), shared by translate and eval. */
import { type Command, Option } from 'commander';

import type { GenerateOptions } from '../decode/options.js';
import { integer, number } from './parse.js';

export interface GenerateFlags {
  strategy?: 'greedy' | 'beam' | 'sample';
  beamSize?: number;
  lengthPenalty?: number;
  maxLength?: number;
  minLength?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  noRepeatNgram?: number;
  repetitionPenalty?: number;
}

export function addGenerateOptions(c: Command): Command {
  return c
    .addOption(new Option('--strategy <name>', 'decoding strategy (default greedy; --beam-size implies beam)').choices(['greedy', 'beam', 'sample']))
    .option('--beam-size <n>', 'beam width', integer('--beam-size', 1))
    .option('--length-penalty <a>', 'α of score = logProb / length^α (beam)', number('--length-penalty', -Infinity))
    .option('--max-length <n>', 'most tokens per translation', integer('--max-length', 1))
    .option('--min-length <n>', 'fewest tokens per translation', integer('--min-length', 0))
    .option('--temperature <t>', 'sampling temperature', number('--temperature', Number.MIN_VALUE))
    .option('--top-k <k>', 'sample among the k likeliest tokens', integer('--top-k', 0))
    .option('--top-p <p>', 'nucleus sampling', number('--top-p', Number.MIN_VALUE, 1))
    .option('--seed <n>', 'sampling seed', integer('--seed', 0, 2 ** 32 - 1))
    .addOption(noRepeatNgram())
    .option('--repetition-penalty <θ>', 'CTRL repetition penalty', number('--repetition-penalty', Number.MIN_VALUE));
}

// Commander reads a flag starting with --no- as the negation of another; this one takes a value.
function noRepeatNgram(): Option {
  const o = new Option('--no-repeat-ngram <n>', 'forbid repeating n-grams of this size').argParser(integer('--no-repeat-ngram', 0));
  o.negate = false;
  return o;
}

/** The flags as generate options (unset ones left out, so generate's defaults apply). */
export function generateOptions(f: GenerateFlags): GenerateOptions {
  const strategy = f.strategy ?? (f.beamSize !== undefined ? 'beam' : f.temperature !== undefined || f.topK !== undefined || f.topP !== undefined ? 'sample' : undefined);
  const o: GenerateOptions = {};
  const keys = ['beamSize', 'lengthPenalty', 'maxLength', 'minLength', 'temperature', 'topK', 'topP', 'seed', 'noRepeatNgram', 'repetitionPenalty'] as const;
  for (const k of keys) if (f[k] !== undefined) (o as Record<string, unknown>)[k] = f[k];
  if (strategy !== undefined) o.strategy = strategy;
  return o;
}
