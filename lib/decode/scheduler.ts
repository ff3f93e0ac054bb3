/**
 * Continuous batching: the loop that decodes every request of a thread's models together. A request
 * joins the running batch at the next step boundary (it does not wait for the batch to finish) and
 * leaves it the step it finishes or is cancelled, so the decoder's GEMMs always run over every live row.
 *
 * Requests are grouped into batches by what a batch must share: the model, its weights' generation, and
 * the rows per source (1 for greedy and sampling, beamSize for beam search); every other option is per
 * request. The batches take turns, one step each, with a turn of the thread's event loop between rounds
 * (where new requests and cancellations arrive). A request's result is what decoding it alone gives
 * (search.ts), so batching changes when it finishes, never what it says.
 *
 * The decoding worker (worker.ts) runs one for its model; a model on the GPU runs one on the main thread.
 */
import { noGrad } from '../autograd/tape.js';
import { AbortError } from '../errors.js';
import type { Transformer } from '../nn/transformer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ResolvedOptions } from './options.js';
import { type Reply, serializeError } from './protocol.js';
import { BatchSearch, type SearchHooks } from './search.js';

/** One request: a padded batch of sources decoded with one set of options. */
export interface Submission {
  id: number;
  model: Transformer;
  ids: Tensor;
  lengths: Int32Array;
  options: ResolvedOptions;
  /** Send each token as it is decided. */
  stream: boolean;
  /** Non-zero once the caller gave up (checked between steps). */
  cancel: Int32Array;
  /** The weights' write generation where they are written. */
  generation: number;
}

/** Upper bounds of the rows-per-step histogram's buckets (the last: everything above). */
export const ROW_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, Infinity] as const;
/** The shared statistics array: [steps, rows summed over steps, one count per ROW_BUCKETS bucket]. */
export const STATS_LENGTH = 2 + ROW_BUCKETS.length;

interface Batch {
  model: Transformer;
  perSource: number;
  generation: number;
  search: BatchSearch;
  /** The requests in it, with the decoder steps each has run. */
  requests: Map<number, { cancel: Int32Array; steps: number }>;
}

export class Scheduler {
  readonly #send: (reply: Reply) => void;
  readonly #turn: (run: () => void) => void;
  readonly #stats: Float64Array | null;
  readonly #incoming: Submission[] = [];
  #batches: Batch[] = [];
  #scheduled = false;

  /**
   * `send` receives every reply; `turn` runs its argument after a turn of the event loop; `stats` (a
   * STATS_LENGTH array, possibly shared with another thread) counts steps and rows per step.
   */
  constructor(send: (reply: Reply) => void, turn: (run: () => void) => void, stats: Float64Array | null = null) {
    this.#send = send;
    this.#turn = turn;
    this.#stats = stats;
  }

  /** Whether anything is decoding or waiting to. */
  get busy(): boolean {
    return this.#incoming.length > 0 || this.#batches.length > 0;
  }

  submit(s: Submission): void {
    this.#incoming.push(s);
    this.#wake();
  }

  #wake(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#turn(() => {
      this.#scheduled = false;
      this.#round();
      if (this.busy) this.#wake();
    });
  }

  // Admits what arrived, drops what was cancelled, and runs one step of every batch.
  #round(): void {
    for (const s of this.#incoming.splice(0)) this.#admit(s);
    for (const b of this.#batches) {
      for (const [id, r] of b.requests) {
        if (Atomics.load(r.cancel, 0) === 0) continue;
        b.search.remove(id);
        b.requests.delete(id);
        this.#send({ type: 'error', id, error: serializeError(new AbortError('The generate call was aborted')), steps: r.steps });
      }
      if (b.requests.size > 0) this.#step(b);
    }
    this.#batches = this.#batches.filter((b) => {
      if (b.requests.size > 0) return true;
      b.search.dispose();
      return false;
    });
  }

  #admit(s: Submission): void {
    if (Atomics.load(s.cancel, 0) !== 0) {
      this.#send({ type: 'error', id: s.id, error: serializeError(new AbortError('The generate call was aborted')), steps: 0 });
      return;
    }
    const k = s.options.beamSize;
    let b = this.#batches.find((x) => x.model === s.model && x.perSource === k && x.generation === s.generation);
    try {
      if (b === undefined) {
        b = { model: s.model, perSource: k, generation: s.generation, search: new BatchSearch(s.model, k, s.generation), requests: new Map() };
        this.#batches.push(b);
      }
      const record = { cancel: s.cancel, steps: 0 };
      const hooks: SearchHooks = {
        onStep: () => record.steps++,
        ...(s.stream && { onToken: (source: number, token: number) => this.#send({ type: 'token', id: s.id, source, token }) }),
      };
      const search = b.search;
      noGrad(() => search.add(s.id, s.ids, s.lengths, s.options, hooks));
      b.requests.set(s.id, record);
    } catch (e) {
      // A request that cannot start (its encoder pass failed) fails alone.
      this.#send({ type: 'error', id: s.id, error: serializeError(e), steps: 0 });
    }
  }

  #step(b: Batch): void {
    const rows = b.search.rows;
    try {
      for (const done of noGrad(() => b.search.step())) {
        const r = b.requests.get(done.id)!;
        b.requests.delete(done.id);
        this.#send({ type: 'done', id: done.id, result: done.result, steps: r.steps + 1 });
      }
    } catch (e) {
      // A step is every request's: a failure there fails the batch's requests (the next ones start afresh).
      for (const [id, r] of b.requests) this.#send({ type: 'error', id, error: serializeError(e), steps: r.steps });
      b.requests.clear();
    }
    const stats = this.#stats;
    if (stats !== null) {
      stats[0]!++;
      stats[1]! += rows;
      stats[2 + ROW_BUCKETS.findIndex((le) => rows <= le)]!++;
    }
  }
}
