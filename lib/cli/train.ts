/**
 * `nodeformer train`: a TSV/JSONL file → tokenizers trained on it → a Transformer trained by the Trainer →
 * a translator folder. The output folder holds the translator (loadable by `translate --model`),
 * `checkpoints/` (with the run's `history.json`), `curves.svg` and `curves.png`. Run it again on the same folder and it
 * resumes where the last run stopped (the tokenizers and the model's shape come from the folder).
 * Ctrl-C finishes the current step, writes a checkpoint, the translator and the curves, and exits 130.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { backend, type MatmulPrecision } from '../backend.js';
import { encodePairs } from '../data/encode.js';
import { filterByLength } from '../data/filter.js';
import { readPairs } from '../data/read_pairs.js';
import { trainTokenizers, type TokenizerKind } from '../data/vocab.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { TransformerConfig } from '../nn/config.js';
import { Transformer } from '../nn/transformer.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { checkpointName, listCheckpoints } from '../train/checkpoint.js';
import { Trainer } from '../train/trainer.js';
import { Translator } from '../translator.js';
import { UsageError } from './errors.js';
import { curvesSvg, renderPng } from './plot.js';
import { Progress } from './progress.js';

export interface TrainFlags {
  data: string; valid?: string; srcColumn: string; tgtColumn: string; out: string;
  minutes?: number; maxSteps?: number; epochs?: number;
  vocab: number; tokenizer: TokenizerKind; separateVocab?: boolean;
  dModel: number; heads: number; layers: number; ffn: number; dropout: number; normFirst?: boolean; tieEmbeddings?: boolean;
  maxLength: number; lr: number; warmup: number; schedule: 'noam' | 'constant' | 'cosine'; labelSmoothing: number;
  batchTokens: number; accumulate: number; evalEvery: number; evalEveryMinutes?: number; bleuSamples: number; keep: number; seed: number; threads?: number;
  precision: MatmulPrecision;
}

export async function trainCommand(f: TrainFlags): Promise<void> {
  if (f.threads !== undefined) backend.setThreads(f.threads);
  backend.setMatmulPrecision(f.precision);
  for (const file of [f.data, f.valid]) if (file !== undefined && !existsSync(file)) throw new UsageError(`no such file: ${file}`);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const columns = { srcColumn: f.srcColumn, tgtColumn: f.tgtColumn };
  const trainText = await readPairs(f.data, columns);
  const validText = f.valid === undefined ? null : await readPairs(f.valid, columns);
  const checkpoints = join(f.out, 'checkpoints');
  await mkdir(f.out, { recursive: true });

  // A run to resume keeps its tokenizers and model shape; a new one trains tokenizers and saves them first.
  const steps = listCheckpoints(checkpoints);
  let tokenizers: { source: Tokenizer; target: Tokenizer };
  let config: TransformerConfig;
  if (steps.length > 0) {
    const saved = await Translator.loadTokenizers(f.out);
    if (saved === null) throw new UsageError(`${f.out} has checkpoints but no tokenizer to resume with`);
    tokenizers = saved;
    config = JSON.parse(await readFile(join(checkpoints, checkpointName(steps[steps.length - 1]!), 'config.json'), 'utf8')) as TransformerConfig;
    say(`resuming the run in ${f.out} from step ${steps[steps.length - 1]}`);
  } else {
    say(`training ${f.separateVocab ? 'separate' : 'a shared'} ${f.tokenizer} vocabulary of ${f.vocab} on ${trainText.length} pairs`);
    tokenizers = trainTokenizers(trainText, { kind: f.tokenizer, vocabSize: f.vocab, shared: !f.separateVocab });
    await Translator.saveTokenizers(f.out, tokenizers.source, tokenizers.target);
    config = {
      srcVocabSize: tokenizers.source.vocabSize, tgtVocabSize: tokenizers.target.vocabSize, dModel: f.dModel, heads: f.heads,
      encoderLayers: f.layers, decoderLayers: f.layers, ffnDim: f.ffn, dropout: f.dropout, maxLength: Math.max(f.maxLength, 256),
      normFirst: f.normFirst === true, tieEmbeddings: f.tieEmbeddings === true, seed: f.seed,
    };
  }
  const model = new Transformer(config);
  const filter = (text: typeof trainText, name: string) => {
    const { pairs, report } = filterByLength(encodePairs(text, tokenizers), { maxSrc: f.maxLength, maxTgt: f.maxLength, minLength: 3 });
    say(`${name}: kept ${report.kept} of ${report.total} pairs (${report.tooLong} over ${f.maxLength} tokens, ${report.tooShort} empty)`);
    return pairs;
  };
  const train = filter(trainText, f.data);
  if (train.length === 0) throw new UsageError(`${f.data}: no pair left to train on after length filtering`);
  const valid = validText === null ? undefined : filter(validText, f.valid!);

  const trainer = new Trainer(model, {
    lr: f.lr, warmupSteps: f.warmup, schedule: f.schedule, labelSmoothing: f.labelSmoothing, batchTokens: f.batchTokens,
    accumulate: f.accumulate, seed: f.seed, checkpointDir: checkpoints, evalEvery: f.evalEvery, evalEveryMinutes: f.evalEveryMinutes || undefined, keepCheckpoints: f.keep,
    bleuSamples: f.bleuSamples, detokenize: (ids) => tokenizers.target.decode(ids),
  });
  const progress = new Progress({ maxSteps: f.maxSteps, minutes: f.minutes }, process.stdout.isTTY === true);
  const controller = new AbortController();
  const curves = async () => {
    const svg = curvesSvg(trainer.history, `nodeformer train: ${f.out}`);
    await writeFileAtomic(join(f.out, 'curves.svg'), svg);
    await writeFileAtomic(join(f.out, 'curves.png'), renderPng(svg));
  };
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C: stop now
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    await trainer.fit(train, {
      maxSteps: f.maxSteps, maxMinutes: f.minutes, epochs: f.epochs ?? (f.maxSteps === undefined && f.minutes === undefined ? 1 : undefined),
      valid, signal: controller.signal,
      onStep: (e) => progress.step(e),
      onEval: (e) => {
        progress.eval(e);
        void curves();
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
    progress.stop();
  }
  await new Translator(model, tokenizers.source, tokenizers.target).save(f.out);
  await curves();
  const history = trainer.history;
  const last = history.filter((e) => e.kind === 'eval').pop();
  say(`${controller.signal.aborted ? 'interrupted' : 'done'} at step ${history.at(-1)?.step ?? 0}` +
    (last === undefined ? '' : `; last evaluation: valid loss ${last.validLoss.toFixed(4)}${last.bleu === null ? '' : `, BLEU ${last.bleu.toFixed(2)}`}`) +
    `; translator in ${f.out}`);
  if (controller.signal.aborted) process.exitCode = 130;
}
