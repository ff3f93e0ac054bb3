// Bench vocabulary: a median timing through tinybench, and Markdown tables (paste-able into notes).
import { fileURLToPath } from 'node:url';

import { Bench } from 'tinybench';

/** The repository root (benches read peers' scripts and ../shared/data from it). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Median milliseconds per call of fn, after warm-up; `time` is the measuring budget in ms. */
export async function medianMs(fn: () => unknown, opts: { time?: number; iterations?: number } = {}): Promise<number> {
  const bench = new Bench({
    time: opts.time ?? 300,
    iterations: opts.iterations ?? 5,
    warmupTime: Math.min(100, opts.time ?? 300),
    warmupIterations: 1,
  });
  bench.add('task', fn);
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`bench task ended in state ${result.state}`);
  return result.latency.p50;
}

export function table(title: string, header: string[], rows: Array<Array<string | number>>): void {
  console.log(`\n### ${title}\n`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

export const fixed = (x: number, digits = 1): string => x.toFixed(digits);
