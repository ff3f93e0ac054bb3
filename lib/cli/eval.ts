/**
 * `nodeformer eval --model dir --data test.tsv --src-column C --tgt-column C`: translates every row
 * (greedy unless generate flags say otherwise) and prints BLEU (sacreBLEU's defaults), chrF2, ROUGE-1/2/L
 * F-measures, and the perplexity of the references under the model (teacher forcing).
 */
import { existsSync } from 'node:fs';

import { encodePairs } from '../data/encode.js';
import { readPairs } from '../data/read_pairs.js';
import { bleu } from '../metrics/bleu.js';
import { chrf } from '../metrics/chrf.js';
import { rouge } from '../metrics/rouge.js';
import { evaluate } from '../train/evaluate.js';
import { UsageError } from './errors.js';
import { type GenerateFlags, generateOptions } from './generate_options.js';
import { type LoadFlags, loadTranslator } from './load.js';

export async function evalCommand(f: GenerateFlags & LoadFlags & { data: string; srcColumn: string; tgtColumn: string }): Promise<void> {
  if (!existsSync(f.data)) throw new UsageError(`no such file: ${f.data}`);
  const translator = await loadTranslator(f);
  const pairs = await readPairs(f.data, { srcColumn: f.srcColumn, tgtColumn: f.tgtColumn });
  if (pairs.length === 0) throw new UsageError(`${f.data} has no rows to evaluate`);
  const t0 = performance.now();
  const hypotheses = await translator.translate(pairs.map(([s]) => s), generateOptions(f));
  const seconds = (performance.now() - t0) / 1000;
  const references = pairs.map(([, t]) => t);
  const b = bleu(hypotheses, references);
  const r = rouge(hypotheses, references);
  const maxLength = translator.model.config.maxLength;
  const encoded = encodePairs(pairs, translator).filter(([s, t]) => s.length <= maxLength && t.length <= maxLength);
  const { perplexity } = await evaluate(translator.model, encoded, { batchTokens: 4000, bleuSamples: 0, detokenize: (ids) => ids.join(' ') });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`${pairs.length} rows translated in ${seconds.toFixed(1)} s`);
  say(`BLEU ${b.score.toFixed(2)} (${b.precisions.map((p) => p.toFixed(1)).join('/')}, BP = ${b.bp.toFixed(3)}, ratio = ${b.ratio.toFixed(3)}, hyp_len = ${b.hypLen}, ref_len = ${b.refLen})`);
  say(`chrF2 ${chrf(hypotheses, references).score.toFixed(2)}`);
  say(`ROUGE-1 ${(100 * r.rouge1.f).toFixed(2)}  ROUGE-2 ${(100 * r.rouge2.f).toFixed(2)}  ROUGE-L ${(100 * r.rougeL.f).toFixed(2)} (F-measure × 100)`);
  say(`perplexity ${perplexity.toFixed(2)} (references under the model, ${encoded.length} pairs)`);
}
