/**
 * The decode loop every strategy shares: encode the sources once, then step the incremental decoder
 * over all live rows at once; after each step every source picks its tokens (greedy, sampling, or a
 * beam step), finished sources leave the batch and beams are reordered, both by one gather of the caches.
 *
 * `searchSteps` is a generator that yields after each decoder step, so one loop serves every runner:
 * the decoding worker drives it straight through (checking for cancellation between steps), and a model
 * on the GPU is driven from the main thread with a turn of the event loop between steps.
 */
import { AbortError } from '../errors.js';
import type { Transformer } from '../nn/transformer.js';
import { Rng } from '../tensor/random.js';
import { type Tensor, writeGeneration } from '../tensor/tensor.js';
import { type Beam, beamStep, type Finished, lengthScore } from './beam.js';
import { IncrementalDecoder } from './incremental.js';
import type { ResolvedOptions } from './options.js';
import { Row } from './row.js';
import { sampleToken } from './sample.js';

/** One decoded hypothesis: its ids (no BOS, no EOS), the model's log-probability and the score. */
export interface Hypothesis {
  ids: number[];
  logProb: number;
  score: number;
}

export interface SearchHooks {
  /** Called with each token as it is decided (greedy and sampling; not EOS). */
  onToken?: (source: number, token: number) => void;
  /** Called after each decoder step. */
  onStep?: () => void;
}

interface Source {
  /** Position in the caller's batch. */
  index: number;
  maxLength: number;
  prefix: readonly number[];
  beams: Beam[];
  finished: Finished[];
  rng: Rng | null;
}

/**
 * Decodes the padded sources; yields after each decoder step and returns each source's hypotheses
 * (nBest for beam search, one otherwise), best first. The model must be in eval mode and the caller
 * inside noGrad.
 */
export function* searchSteps(
  model: Transformer, srcIds: Tensor, srcLengths: Int32Array, o: ResolvedOptions, hooks: SearchHooks = {}, generation = writeGeneration(),
): Generator<void, Hypothesis[][]> {
  const { bosId: bos, eosId: eos } = model.config;
  const k = o.beamSize;
  const capacity = Math.max(...o.maxLength);
  const decoder = new IncrementalDecoder(model, srcIds, srcLengths, k, capacity, generation);
  const all: Source[] = Array.from(srcLengths, (_, s) => ({
    index: s,
    maxLength: o.maxLength[s]!,
    prefix: o.prefix[s]!,
    // Beam search starts from one live row per source; the others fill as it branches.
    beams: Array.from({ length: k }, (_, b) => ({ ids: [], logProb: 0, sum: b === 0 ? 0 : -Infinity })),
    finished: [],
    rng: o.strategy === 'sample' ? new Rng(o.seed) : null,
  }));
  let live = all;
  let inputs = new Int32Array(live.length * k).fill(bos);
  // On the GPU a decode's buffers go back to the cache at once, also when the caller stops early (return()).
  try {
    for (let t = 0; live.length > 0; t++) {
      const { logits, lse } = decoder.step(inputs, t);
      const v = logits.length / decoder.rows;
      const keepRows: number[] = [];
      const keepSources: number[] = [];
      const next: Source[] = [];
      live.forEach((src, slot) => {
        const rows = src.beams.map((beam, b) => {
          const r = slot * k + b;
          return new Row(logits.subarray(r * v, (r + 1) * v), lse[r]!, beam.ids, src.prefix, o, eos);
        });
        const done = k === 1 ? pickOne(src, rows[0]!, t, eos, o, hooks) : beamOne(src, rows, t, eos, o, keepRows, slot);
        if (done) return;
        if (k === 1) keepRows.push(slot);
        keepSources.push(slot);
        next.push(src);
      });
      const same = keepRows.length === decoder.rows && keepRows.every((r, i) => r === i);
      if (!same && next.length > 0) decoder.select(Int32Array.from(keepRows), Int32Array.from(keepSources));
      live = next;
      inputs = Int32Array.from(live.flatMap((s) => s.beams.map((b) => b.ids.length > 0 ? b.ids[b.ids.length - 1]! : bos)));
      hooks.onStep?.();
      yield;
    }
  } finally {
    decoder.dispose();
  }
  return all.map((src) => results(src, o));
}

/** Greedy or sampling for a source's one row; true when it has finished. */
function pickOne(src: Source, row: Row, t: number, eos: number, o: ResolvedOptions, hooks: SearchHooks): boolean {
  const beam = src.beams[0]!;
  const v = src.rng === null ? row.argmax() : sampleToken(row, o, src.rng);
  const n = t + 1;
  if (v < 0) return finish(src, beam, beam.ids.length, o); // every token forbidden: it ends as it is
  beam.logProb += row.logProb(v);
  if (v === eos) return finish(src, beam, n, o);
  beam.ids.push(v);
  hooks.onToken?.(src.index, v);
  return n === src.maxLength ? finish(src, beam, n, o) : false;
}

function finish(src: Source, beam: Beam, length: number, o: ResolvedOptions): true {
  src.finished.push({ ids: beam.ids, logProb: beam.logProb, length, rank: lengthScore(beam.logProb, length, o.lengthPenalty) });
  return true;
}

/** A beam step for one source; pushes the rows its next beams come from. True when it has finished. */
function beamOne(src: Source, rows: Row[], t: number, eos: number, o: ResolvedOptions, keepRows: number[], slot: number): boolean {
  const step = beamStep(src.beams, rows, t, src.maxLength, eos, o, src.finished);
  if (step.done) {
    // A source whose every extension was forbidden ends with its live beams as they are.
    if (src.finished.length === 0) for (const b of src.beams) if (b.sum > -Infinity) finish(src, b, b.ids.length, o);
    return true;
  }
  src.beams = step.beams;
  for (const p of step.parents) keepRows.push(slot * o.beamSize + p);
  return false;
}

function results(src: Source, o: ResolvedOptions): Hypothesis[] {
  return src.finished.slice(0, o.nBest).map((f) => ({ ids: f.ids, logProb: f.logProb, score: lengthScore(f.logProb, f.length, o.lengthPenalty) }));
}

/**
 * Runs {@link searchSteps} to the end on this thread, checking `cancelled` between steps; `generation`:
 * the weights' write generation where they are written (another thread's, for the worker).
 */
export function searchSync(
  model: Transformer, srcIds: Tensor, srcLengths: Int32Array, o: ResolvedOptions, hooks: SearchHooks = {},
  cancelled: () => boolean = () => false, generation = writeGeneration(),
): Hypothesis[][] {
  const steps = searchSteps(model, srcIds, srcLengths, o, hooks, generation);
  for (;;) {
    if (cancelled()) {
      steps.return([]);
      throw new AbortError('The generate call was aborted');
    }
    const r = steps.next();
    if (r.done) return r.value;
  }
}
