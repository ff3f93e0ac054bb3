/**
 * The decode loop every strategy shares: encode a request's sources once, then step the incremental
 * decoder over all live rows at once; after each step every source picks its tokens (greedy, sampling,
 * or a beam step), finished sources leave the batch and beams are reordered, both by one gather of the
 * caches. `BatchSearch` takes new requests between steps (continuous batching, scheduler.ts);
 * `searchSync` decodes one request straight through on this thread (tests, benches).
 */
import { AbortError, InvalidArgumentError } from '../errors.js';
import type { Transformer } from '../nn/transformer.js';
import { Rng } from '../tensor/random.js';
import { type Tensor, writeGeneration } from '../tensor/tensor.js';
import { type AttentionMap, attentionMap } from './attention.js';
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
  /** With returnAttention: the cross-attention of each of its tokens over the source tokens. */
  attention?: AttentionMap;
}

export interface SearchHooks {
  /** Called with each token as it is decided (greedy and sampling; not EOS). */
  onToken?: (source: number, token: number) => void;
  /** Called after each decoder step. */
  onStep?: () => void;
}

interface Request {
  id: number;
  o: ResolvedOptions;
  sources: Source[];
  /** Sources still decoding. */
  remaining: number;
  hooks: SearchHooks;
  /** The model's decoder layers and heads (the shape of an attention map). */
  layers: number;
  heads: number;
}

interface Source {
  request: Request;
  /** Position in its request's batch. */
  index: number;
  maxLength: number;
  prefix: readonly number[];
  beams: Beam[];
  finished: Finished[];
  rng: Rng | null;
  /** Tokens decided so far: the position its rows are fed at. */
  t: number;
}

/** A request whose every source has finished, with each source's hypotheses (best first). */
export interface Completed {
  id: number;
  result: Hypothesis[][];
}

/**
 * The decode of many requests at once (continuous batching): `add` puts a request's sources into the
 * running batch before any step, `step` runs one decoder step over every live row and returns the
 * requests that finished with it, `remove` drops one (cancelled). Every request keeps its own options
 * (strategy, penalties, lengths, seed) except the rows per source, which is the batch's: 1 (greedy and
 * sampling) or `beamSize`. A request's result does not depend on what else is in the batch (see
 * incremental.ts), so it is what decoding it alone gives. The model must be in eval mode and the
 * caller inside noGrad.
 */
export class BatchSearch {
  readonly perSource: number;
  readonly #model: Transformer;
  readonly #decoder: IncrementalDecoder;
  readonly #requests = new Map<number, Request>();
  #live: Source[] = [];

  /** `perSource`: rows per source (beamSize for beam search, else 1); `generation`: see IncrementalDecoder. */
  constructor(model: Transformer, perSource: number, generation = writeGeneration()) {
    this.#model = model;
    this.perSource = perSource;
    this.#decoder = new IncrementalDecoder(model, perSource, generation);
  }

  /** Requests decoding. */
  get size(): number {
    return this.#requests.size;
  }

  /** Decoder rows of the next step. */
  get rows(): number {
    return this.#decoder.rows;
  }

  /** Encodes a request's padded sources and adds them to the batch; `id` names it in the results. */
  add(id: number, srcIds: Tensor, srcLengths: Int32Array, o: ResolvedOptions, hooks: SearchHooks = {}): void {
    const k = this.perSource;
    if (o.beamSize !== k) throw new InvalidArgumentError(`Expected a request of ${k} rows per source in this batch but it has ${o.beamSize}`);
    if (this.#requests.has(id)) throw new InvalidArgumentError(`Request ${id} is already decoding`);
    this.#decoder.add(srcIds, srcLengths, Math.max(...o.maxLength));
    const { decoderLayers: layers, heads } = this.#model.config;
    const request: Request = { id, o, sources: [], remaining: srcLengths.length, hooks, layers, heads };
    const attention = o.returnAttention ? [] : undefined;
    request.sources = Array.from(srcLengths, (_, s) => ({
      request,
      index: s,
      maxLength: o.maxLength[s]!,
      prefix: o.prefix[s]!,
      // Beam search starts from one live row per source; the others fill as it branches.
      beams: Array.from({ length: k }, (_, b) => ({ ids: [], logProb: 0, sum: b === 0 ? 0 : -Infinity, ...(attention && { attention: [] }) })),
      finished: [],
      rng: o.strategy === 'sample' ? new Rng(o.seed) : null,
      t: 0,
    }));
    this.#requests.set(id, request);
    this.#live.push(...request.sources);
  }

  /** Drops a request's sources from the batch (it was cancelled); false when it is not decoding. */
  remove(id: number): boolean {
    const request = this.#requests.get(id);
    if (request === undefined) return false;
    this.#requests.delete(id);
    this.#keep(this.#live.flatMap((src, slot) => (src.request === request ? [] : [slot])), null);
    return true;
  }

  /** One decoder step over every live row; returns the requests it finished. */
  step(): Completed[] {
    const { bosId: bos, eosId: eos } = this.#model.config;
    const k = this.perSource, live = this.#live;
    const inputs = new Int32Array(live.length * k), positions = new Int32Array(live.length * k);
    const attend: number[] = [];
    live.forEach((src, slot) => {
      src.beams.forEach((b, j) => {
        inputs[slot * k + j] = b.ids.length > 0 ? b.ids[b.ids.length - 1]! : bos;
        positions[slot * k + j] = src.t;
        if (b.attention !== undefined) attend.push(slot * k + j);
      });
    });
    const { logits, lse, attention } = this.#decoder.step(inputs, positions, Int32Array.from(attend));
    const rowAttention = new Map(attend.map((row, i) => [row, attention[i]!]));
    const v = logits.length / this.#decoder.rows;
    const keepRows: number[] = [];
    const keepSlots: number[] = [];
    const completed: Completed[] = [];
    live.forEach((src, slot) => {
      const o = src.request.o;
      const rows = src.beams.map((beam, b) => {
        const r = slot * k + b;
        return new Row(logits.subarray(r * v, (r + 1) * v), lse[r]!, beam.ids, src.prefix, o, eos, rowAttention.get(r));
      });
      const done = k === 1 ? pickOne(src, rows[0]!, eos, o) : beamOne(src, rows, eos, o, keepRows, slot);
      src.t++;
      if (!done) {
        if (k === 1) keepRows.push(slot);
        keepSlots.push(slot);
        return;
      }
      const request = src.request;
      if (--request.remaining > 0) return;
      this.#requests.delete(request.id);
      completed.push({ id: request.id, result: request.sources.map((s) => results(s, request.o)) });
    });
    this.#keep(keepSlots, keepRows);
    for (const request of this.#requests.values()) request.hooks.onStep?.();
    return completed;
  }

  /** Frees the decoder's buffers (GPU memory back to the allocator at once); the batch is done. */
  dispose(): void {
    this.#decoder.dispose();
  }

  // Keeps the sources at `slots` (in order) with the rows `rows` (null: all their rows as they are).
  #keep(slots: number[], rows: number[] | null): void {
    const k = this.perSource;
    const keepRows = rows ?? slots.flatMap((s) => Array.from({ length: k }, (_, j) => s * k + j));
    const same = keepRows.length === this.#decoder.rows && keepRows.every((r, i) => r === i);
    this.#live = slots.map((s) => this.#live[s]!);
    if (!same) this.#decoder.select(Int32Array.from(keepRows), Int32Array.from(slots));
  }
}

/** Greedy or sampling for a source's one row; true when it has finished. */
function pickOne(src: Source, row: Row, eos: number, o: ResolvedOptions): boolean {
  const beam = src.beams[0]!;
  const v = src.rng === null ? row.argmax() : sampleToken(row, o, src.rng);
  const n = src.t + 1;
  if (v < 0) return finish(src, beam, beam.ids.length, o); // every token forbidden: it ends as it is
  beam.logProb += row.logProb(v);
  if (v === eos) return finish(src, beam, n, o);
  beam.ids.push(v);
  beam.attention?.push(row.attention!);
  src.request.hooks.onToken?.(src.index, v);
  return n === src.maxLength ? finish(src, beam, n, o) : false;
}

function finish(src: Source, beam: Beam, length: number, o: ResolvedOptions): true {
  src.finished.push({
    ids: beam.ids, logProb: beam.logProb, length, rank: lengthScore(beam.logProb, length, o.lengthPenalty),
    ...(beam.attention && { attention: beam.attention }),
  });
  return true;
}

/** A beam step for one source; pushes the rows its next beams come from. True when it has finished. */
function beamOne(src: Source, rows: Row[], eos: number, o: ResolvedOptions, keepRows: number[], slot: number): boolean {
  const step = beamStep(src.beams, rows, src.t, src.maxLength, eos, o, src.finished);
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
  const { layers, heads } = src.request;
  return src.finished.slice(0, o.nBest).map((f) => ({
    ids: f.ids, logProb: f.logProb, score: lengthScore(f.logProb, f.length, o.lengthPenalty),
    ...(f.attention && { attention: attentionMap(f.attention, layers, heads) }),
  }));
}

/**
 * Decodes the padded sources as one request to the end on this thread, checking `cancelled` between
 * steps; returns each source's hypotheses (nBest for beam search, one otherwise), best first.
 * `generation`: the weights' write generation where they are written. The model must be in eval mode
 * and the caller inside noGrad.
 */
export function searchSync(
  model: Transformer, srcIds: Tensor, srcLengths: Int32Array, o: ResolvedOptions, hooks: SearchHooks = {},
  cancelled: () => boolean = () => false, generation = writeGeneration(),
): Hypothesis[][] {
  const search = new BatchSearch(model, o.beamSize, generation);
  try {
    search.add(0, srcIds, srcLengths, o, hooks);
    for (;;) {
      if (cancelled()) throw new AbortError('The generate call was aborted');
      const [done] = search.step();
      if (done !== undefined) return done.result;
    }
  } finally {
    search.dispose();
  }
}
