// The time-to-quality benchmark (npm run bench -- bible): English→Spanish on the Bible (../shared/data/bible,
// or $NODEFORMER_BIBLE_DATA), MINUTES (default 45) of training on THREADS (default 2) threads, evaluation
// time excluded, then test.tsv BLEU (greedy). The run is `nodeformer train` itself, in a child process
// writing to $NODEFORMER_BIBLE_OUT (default <tmp>/nodeformer-bible): run the bench again and it resumes.
//
// 1. Throughput on the same batches, before the run (a quiet machine): 14 batches of the run's first epoch,
//    trained by our Trainer and by PyTorch 1.13's tutorial recipe (bench/peers/torch_bible_steps.py, when
//    python3-torch is installed), target tokens/s of the last 12.
// 2. The run, validation BLEU (first 200 lines) every 10 minutes of training.
// 3. Test BLEU, the curve (minutes, steps, loss, BLEU) as a table, and curves.svg / curves.png.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { backend, data, metrics, Trainer, Translator, Transformer, type TransformerConfig } from '../../lib/index.js';
import { listCheckpoints } from '../../lib/train/checkpoint.js';
import type { EvalEntry, HistoryEntry } from '../../lib/train/trainer.js';
import { fixed, ROOT, table } from '../common.js';


/**
 * The recipe: PyTorch's tutorial recipe, the peer's (post-norm, dModel 256, 3+3 layers, separate source,
 * target and generator matrices over one shared BPE vocabulary, Noam factor 2 with 2,000 warm-up steps,
 * ~4,000-target-token batches). A first run with tied embeddings and a short warm-up (peak 2.2e-3 at step
 * 500, 3,000-token batches) learned far less per step: 8.45 test BLEU after 45 minutes, its greedy output
 * fluent Spanish loosely tied to the source, so the gentle ramp stays.
 */
export const RECIPE = {
  vocab: 8000, tokenizer: 'bpe', dModel: 256, heads: 4, layers: 3, ffn: 1024, dropout: 0.1, tieEmbeddings: false, normFirst: false,
  lr: 2, warmup: 2000, schedule: 'noam', labelSmoothing: 0.1, batchTokens: 4000, maxLength: 128, seed: 0,
} as const;

export const COLUMNS = { srcColumn: 'english_web', tgtColumn: 'spanish_rv1909' };

function recipeFlags(): string[] {
  const r = RECIPE;
  return [
    '--vocab', `${r.vocab}`, '--tokenizer', r.tokenizer, '--d-model', `${r.dModel}`, '--heads', `${r.heads}`, '--layers', `${r.layers}`,
    '--ffn', `${r.ffn}`, '--dropout', `${r.dropout}`, ...(r.tieEmbeddings ? ['--tie-embeddings'] : []), ...(r.normFirst ? ['--norm-first'] : []),
    '--lr', `${r.lr}`, '--warmup', `${r.warmup}`, '--schedule', r.schedule, '--label-smoothing', `${r.labelSmoothing}`,
    '--batch-tokens', `${r.batchTokens}`, '--max-length', `${r.maxLength}`, '--seed', `${r.seed}`,
  ];
}

/** Target tokens/s of ours and of PyTorch on the same 14 batches (the first two warm up). */
async function sameBatches(dir: string, out: string, threads: number): Promise<Array<[string, number]>> {
  const text = await data.readPairs(join(dir, 'train.tsv'), COLUMNS);
  const { source } = data.trainTokenizers(text, { kind: RECIPE.tokenizer, vocabSize: RECIPE.vocab });
  const encoded = data.filterByLength(data.encodePairs(text, { source, target: source }), { maxSrc: RECIPE.maxLength, maxTgt: RECIPE.maxLength, minLength: 3 }).pairs;
  // Pairs of 14 batches spread over the first epoch's order, re-batched exactly as the Trainer will batch them.
  const epoch = data.batchByTokens(encoded, { batchTokens: RECIPE.batchTokens, seed: RECIPE.seed });
  const subset = Array.from({ length: 14 }, (_, i) => epoch[Math.floor((i * epoch.length) / 14)]!.pairs).flat();
  const batches = data.batchByTokens(subset, { batchTokens: RECIPE.batchTokens, seed: RECIPE.seed });
  const config: TransformerConfig = {
    srcVocabSize: source.vocabSize, tgtVocabSize: source.vocabSize, dModel: RECIPE.dModel, heads: RECIPE.heads, encoderLayers: RECIPE.layers,
    decoderLayers: RECIPE.layers, ffnDim: RECIPE.ffn, dropout: RECIPE.dropout, tieEmbeddings: RECIPE.tieEmbeddings, maxLength: 256,
  };
  backend.setThreads(threads);
  const history = await new Trainer(new Transformer(config), { warmupSteps: RECIPE.warmup, batchTokens: RECIPE.batchTokens, seed: RECIPE.seed })
    .fit(subset, { maxSteps: batches.length });
  const steps = history.filter((e) => e.kind === 'step').slice(2);
  const ours = steps.reduce((n, e) => n + e.targetTokens, 0) / steps.reduce((s, e) => s + e.targetTokens / e.tokensPerSecond, 0);
  const rows: Array<[string, number]> = [[`nodeformer (${backend.info().simd})`, ours]];
  const spec = join(out, 'batches.json');
  writeFileSync(spec, JSON.stringify({
    vocab: source.vocabSize, dModel: RECIPE.dModel, heads: RECIPE.heads, layers: RECIPE.layers, ffn: RECIPE.ffn, dropout: RECIPE.dropout,
    tieEmbeddings: RECIPE.tieEmbeddings, batches: batches.map((b) => ({ src: b.pairs.map(([s]) => s), tgt: b.pairs.map(([, t]) => t) })),
  }));
  try {
    const peer = JSON.parse(execFileSync('/usr/bin/python3', [join(ROOT, 'bench/peers/torch_bible_steps.py'), spec, `${threads}`], { encoding: 'utf8' })) as { framework: string; tokensPerSecond: number };
    rows.push([peer.framework, peer.tokensPerSecond]);
  } catch (e) {
    console.log(`(PyTorch peer not run: ${(e as Error).message.split('\n')[0]})`);
  }
  return rows;
}

/**
 * Runs (or resumes) `nodeformer train` for `minutes` of training with the recipe (`extra` flags override
 * it); its output goes to `log`.
 */
export function train(dir: string, run: string, minutes: number, threads: number, log: string, extra: string[] = []): Promise<number> {
  const args = [
    '--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(ROOT, 'lib/cli/bin.ts'), 'train',
    '--data', join(dir, 'train.tsv'), '--valid', join(dir, 'valid.tsv'), '--src-column', COLUMNS.srcColumn, '--tgt-column', COLUMNS.tgtColumn,
    '--out', run, '--minutes', `${minutes}`, '--eval-every', '1000000', '--eval-every-minutes', '10', '--bleu-samples', '200',
    '--threads', `${threads}`, ...recipeFlags(), ...extra,
  ];
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd] });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

/** The Bible data folder (NODEFORMER_BIBLE_DATA, else ../shared/data/bible), or null, said, when absent. */
export function bibleData(bench: string): string | null {
  const dir = process.env.NODEFORMER_BIBLE_DATA ?? join(ROOT, '..', 'shared', 'data', 'bible');
  if (existsSync(join(dir, 'train.tsv'))) return dir;
  console.log(`(${bench}: no data at ${dir}; set NODEFORMER_BIBLE_DATA)`);
  return null;
}

export async function benchBible(): Promise<void> {
  const dir = bibleData('bible');
  if (dir === null) return;
  const out = process.env.NODEFORMER_BIBLE_OUT ?? join(tmpdir(), 'nodeformer-bible');
  const minutes = Number(process.env.MINUTES ?? 45), threads = Number(process.env.THREADS ?? 2);
  const run = join(out, 'run');
  mkdirSync(out, { recursive: true });
  if (listCheckpoints(join(run, 'checkpoints')).length === 0) {
    const rows = await sameBatches(dir, out, threads);
    table(`Training throughput on the same 12 batches (≤ ${RECIPE.batchTokens} padded tokens), ${threads} threads, target tokens/s`,
      ['framework', 'tokens/s', 'vs PyTorch'], rows.map(([name, tps]) => [name, fixed(tps, 0), rows.length > 1 ? `${fixed(tps / rows[1]![1], 2)}×` : '—']));
  }
  const code = await train(dir, run, minutes, threads, join(out, 'train.log'));
  if (code !== 0 && code !== 130) throw new Error(`nodeformer train exited with ${code}; see ${join(out, 'train.log')}`);

  const history = JSON.parse(readFileSync(join(run, 'checkpoints', 'history.json'), 'utf8')) as HistoryEntry[];
  const steps = history.filter((e) => e.kind === 'step');
  const evals = history.filter((e): e is EvalEntry => e.kind === 'eval');
  table(`Validation during training (first 200 lines of valid.tsv, greedy), ${threads} threads`,
    ['training minutes', 'step', 'epoch', 'valid loss', 'BLEU'],
    evals.map((e) => [fixed(e.trainSeconds / 60, 1), e.step, e.epoch + 1, fixed(e.validLoss, 3), e.bleu === null ? '—' : fixed(e.bleu, 2)]));

  const translator = await Translator.load(run);
  const test = await data.readPairs(join(dir, 'test.tsv'), COLUMNS);
  const t0 = performance.now();
  const hypotheses = await translator.translate(test.map(([s]) => s));
  const decodeSeconds = (performance.now() - t0) / 1000;
  const b = metrics.bleu(hypotheses, test.map(([, t]) => t));
  writeFileSync(join(out, 'test.hyp.es'), `${hypotheses.join('\n')}\n`);
  const trainSeconds = steps.at(-1)?.trainSeconds ?? 0;
  const tokens = steps.reduce((n, e) => n + e.targetTokens, 0);
  table(`Test BLEU after ${fixed(trainSeconds / 60, 1)} minutes of training (greedy, ${test.length} lines, sacreBLEU 2.x defaults)`,
    ['BLEU', 'precisions', 'BP', 'ratio', 'steps', 'target tokens/s (whole run)', 'decode s'],
    [[fixed(b.score, 2), b.precisions.map((p) => fixed(p, 1)).join('/'), fixed(b.bp, 3), fixed(b.ratio, 3), steps.length, fixed(tokens / trainSeconds, 0), fixed(decodeSeconds, 1)]]);
  console.log(`\nCurves: ${join(run, 'curves.svg')} and curves.png; log: ${join(out, 'train.log')}; PyTorch 1.13 published 12.49 BLEU after 45 minutes on a 2-vCPU Xeon.`);
}
