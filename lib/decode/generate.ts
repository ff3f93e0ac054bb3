/**
 * `model.generate` and `model.stream` (../../README.md, "Decoding"): check the sources and the options
 * on the calling thread (a typed error before any work), then run the search where runner.ts says.
 *
 * @example
 * const [ids] = await model.generate([src], { strategy: 'beam', beamSize: 5 });
 * for await (const id of model.stream(src, { strategy: 'sample', topP: 0.9, seed: 1 })) process.stdout.write(`${id} `);
 */
import { InvalidArgumentError } from '../errors.js';
import type { TokenBatch } from '../nn/batch.js';
import type { Transformer } from '../nn/transformer.js';
import { type GenerateOptions, resolveOptions } from './options.js';
import { runSearch } from './runner.js';
import type { Hypothesis } from './search.js';

/** @internal The padded sources and the resolved options of a call, checked before any work. */
export function prepareDecode(model: Transformer, src: TokenBatch, opts: GenerateOptions | undefined) {
  const { ids, lengths } = model.srcBatch(src);
  const { maxLength, tgtVocabSize } = model.config;
  const o = resolveOptions(opts, { maxPositions: maxLength, tgtVocabSize }, lengths);
  return { ids, lengths, o, signal: opts?.signal };
}

/** Token ids per source (or, with returnScores or returnAttention, the nBest hypotheses per source). */
export async function generate(model: Transformer, src: TokenBatch, opts?: GenerateOptions): Promise<number[][] | Hypothesis[][]> {
  const { ids, lengths, o, signal } = prepareDecode(model, src, opts);
  const hyps = await runSearch(model, ids, lengths, o, signal ? { signal } : {});
  return o.returnScores || o.returnAttention ? hyps : hyps.map((h) => h[0]!.ids);
}

/**
 * The ids of one source as they are decided (greedy and sampling). Leaving the loop early cancels the
 * work; an abort makes the next iteration throw an AbortError.
 */
export async function* stream(model: Transformer, src: TokenBatch, opts?: GenerateOptions): AsyncGenerator<number, void, undefined> {
  const { ids, lengths, o, signal } = prepareDecode(model, src, opts);
  if (lengths.length !== 1) throw new InvalidArgumentError(`Expected one source sequence for stream() but received ${lengths.length}; use generate() for a batch`);
  if (o.strategy === 'beam') throw new InvalidArgumentError("stream() decides tokens one by one: use strategy 'greedy' or 'sample' (beam search settles its ids only at the end)");
  if (o.returnScores || o.returnAttention) throw new InvalidArgumentError('stream() yields ids: use generate() for returnScores and returnAttention');
  // Our own controller: aborted by the caller's signal, or by leaving the loop.
  const stop = new AbortController();
  const forward = () => stop.abort(signal!.reason);
  signal?.addEventListener('abort', forward, { once: true });
  if (signal?.aborted) forward();
  const queue: number[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: unknown = null;
  const onToken = (_: number, token: number) => {
    queue.push(token);
    wake?.();
  };
  runSearch(model, ids, lengths, o, { signal: stop.signal, onToken }).then(
    () => { finished = true; wake?.(); },
    (e: unknown) => { failure = e; finished = true; wake?.(); },
  );
  try {
    for (;;) {
      if (queue.length > 0) yield queue.shift()!;
      else if (failure !== null) throw failure;
      else if (finished) return;
      else await new Promise<void>((resolve) => { wake = resolve; });
      wake = null;
    }
  } finally {
    signal?.removeEventListener('abort', forward);
    if (!finished) stop.abort();
  }
}
