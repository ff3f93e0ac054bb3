// `npm run bench -- precision` (minutes of training, not part of the default run): the Bible recipe of
// bible.ts trained for MINUTES (default 10) each with float32 GEMMs under two seeds (the run-to-run noise)
// and with bf16 GEMMs (precision 'medium') under the first seed, one after another on THREADS threads
// (default 2), then every run's loss curves on one picture, against minutes and against steps
// (precision-curves.svg and .png), and a table of where each run ended. Runs resume from their checkpoints.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { backend } from '../../lib/index.js';
import { movingAverage, panel, renderPng, type Series, svgDocument } from '../../lib/cli/plot.js';
import type { EvalEntry, HistoryEntry, StepEntry } from '../../lib/train/trainer.js';
import { fixed, table } from '../common.js';
import { bibleData, train } from './bible.js';

// The bf16 run's kernel: the training child process runs on this CPU, so it dispatches as this one does.
const { amx, bf16 } = backend.info();
const KERNEL = amx ? 'AMX' : bf16 ? 'VDPBF16PS' : 'emulated';
const RUNS = [
  { name: 'float32, seed 0', precision: 'high', seed: 0, color: '#1f77b4' },
  { name: 'float32, seed 1', precision: 'high', seed: 1, color: '#17becf' },
  { name: `bf16 'medium' (${KERNEL}), seed 0`, precision: 'medium', seed: 0, color: '#d62728' },
] as const;

/** The mean of the last `n` values. */
const tail = (xs: number[], n: number) => xs.slice(-n).reduce((a, b) => a + b, 0) / Math.min(n, xs.length);

export async function benchPrecisionCurves(): Promise<void> {
  const dir = bibleData('precision');
  if (dir === null) return;
  const out = process.env.NODEFORMER_PRECISION_OUT ?? join(tmpdir(), 'nodeformer-precision');
  const minutes = Number(process.env.MINUTES ?? 10), threads = Number(process.env.THREADS ?? 2);
  mkdirSync(out, { recursive: true });
  const histories: Array<{ run: (typeof RUNS)[number]; steps: StepEntry[]; evals: EvalEntry[] }> = [];
  for (const run of RUNS) {
    const folder = join(out, `${run.precision}-seed${run.seed}`);
    const code = await train(dir, folder, minutes, threads, join(out, 'train.log'), ['--precision', run.precision, '--seed', `${run.seed}`]);
    if (code !== 0 && code !== 130) throw new Error(`nodeformer train exited with ${code}; see ${join(out, 'train.log')}`);
    const history = JSON.parse(readFileSync(join(folder, 'checkpoints', 'history.json'), 'utf8')) as HistoryEntry[];
    histories.push({ run, steps: history.filter((e): e is StepEntry => e.kind === 'step'), evals: history.filter((e): e is EvalEntry => e.kind === 'eval') });
  }
  const window = 50;
  const series = (x: (e: StepEntry) => number): Series[] => histories.map(({ run, steps }) => {
    const loss = movingAverage(steps.map((e) => e.loss), window);
    return { name: run.name, color: run.color, points: steps.map((e, i) => [x(e), loss[i]!]) };
  });
  const w = 1200, h = 380;
  const svg = svgDocument(`Bible en→es, ${minutes} minutes each, ${threads} threads: train loss (moving average of ${window} steps)`,
    panel({ title: 'against training time', xLabel: 'minutes', series: series((e) => e.trainSeconds / 60) }, 0, 40, w, h)
    + panel({ title: 'against steps', xLabel: 'step', series: series((e) => e.step) }, 0, 40 + h, w, h), w, 40 + 2 * h);
  writeFileSync(join(out, 'precision-curves.svg'), svg);
  writeFileSync(join(out, 'precision-curves.png'), renderPng(svg));
  table(`Where each run ended after ${minutes} minutes (${threads} threads)`,
    ['run', 'steps', 'train loss (last 50 steps)', 'valid loss (last evaluation)', 'BLEU (200 valid lines)', 'target tokens/s'],
    histories.map(({ run, steps, evals }) => {
      const last = evals.at(-1);
      const seconds = steps.at(-1)?.trainSeconds ?? 0;
      return [run.name, steps.length, fixed(tail(steps.map((e) => e.loss), 50), 3), last ? fixed(last.validLoss, 3) : '—',
        last?.bleu == null ? '—' : fixed(last.bleu, 2), fixed(steps.reduce((n, e) => n + e.targetTokens, 0) / seconds, 0)];
    }));
  console.log(`\nCurves: ${join(out, 'precision-curves.svg')} and .png; log: ${join(out, 'train.log')}`);
}
