/**
 * Where a decode runs, so that `generate` never blocks the event loop.
 *
 * - A model on the CPU decodes in its own worker thread (worker.ts), started on the first call. Its
 *   weights are in shared memory (Module puts parameters and buffers there; others are moved there in
 *   place on the first call), and optimiser steps or loadStateDict write into that memory, so the
 *   worker always reads the current weights without a copy.
 *   Concurrent calls decode together in the worker (continuous batching, scheduler.ts). Why a worker
 *   and not native async work: the decode loop (the strategies, the cache bookkeeping) is TypeScript
 *   over the same kernels as everything else; moving the loop moves all of it off the main thread.
 * - A model on the GPU runs the same scheduler on the main thread with a turn of the event loop between
 *   steps: its tensors live in this thread's addon instance, and the GPU does the heavy work anyway.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { AbortError, NativeError } from '../errors.js';
import type { Transformer } from '../nn/transformer.js';
import { cpuData, shareStorage, type Tensor, writeGeneration } from '../tensor/tensor.js';
import type { ResolvedOptions } from './options.js';
import { type Reply, type Request, reviveError } from './protocol.js';
import { ROW_BUCKETS, Scheduler, STATS_LENGTH } from './scheduler.js';
import type { Hypothesis, SearchHooks } from './search.js';

export interface RunOptions {
  signal?: AbortSignal;
  onToken?: SearchHooks['onToken'];
}

/**
 * Decodes the padded batch off the main thread's critical path, batched with whatever else the model is
 * decoding; rejects with an AbortError on abort.
 */
export function runSearch(model: Transformer, ids: Tensor, lengths: Int32Array, o: ResolvedOptions, r: RunOptions): Promise<Hypothesis[][]> {
  if (r.signal?.aborted) return Promise.reject(abortError(r.signal));
  let c = channels.get(model);
  if (c === undefined || c.dead) {
    c = model.device === 'cuda' ? new MainThreadChannel(model) : new WorkerChannel();
    channels.set(model, c);
    if (c instanceof WorkerChannel) stopWhenCollected.register(model, c);
  }
  return c.run(model, ids, lengths, o, r);
}

const channels = new WeakMap<Transformer, Channel>();

/** @internal What a model's decoding has done: requests finished and cancelled, steps and rows per step. */
export interface DecodeStats {
  completed: number;
  cancelled: number;
  /** Decoder steps the last cancelled request ran before it noticed (-1: none yet). */
  lastCancelledSteps: number;
  /** Decoder steps run, over all batches. */
  steps: number;
  /** Rows per step: non-cumulative counts per bucket of upper bound `le`, their sum and count. */
  batchRows: { le: number[]; counts: number[]; sum: number; count: number };
}

/** @internal The stats of `model`'s decoding (tests check that cancelled work stops; the server reports them). */
export function decodeStats(model: Transformer): DecodeStats | undefined {
  const c = channels.get(model);
  if (c === undefined) return undefined;
  const s = c.stats;
  return {
    ...c.counts, steps: s[0]!,
    batchRows: { le: [...ROW_BUCKETS], counts: Array.from(s.subarray(2)), sum: s[1]!, count: s[0]! },
  };
}
// A model that is garbage-collected takes its idle worker with it.
const stopWhenCollected = new FinalizationRegistry<WorkerChannel>((w) => w.stop());

function abortError(signal: AbortSignal): AbortError {
  return new AbortError('The generate call was aborted', { cause: signal.reason });
}

/** A generate request but its ids, which travel as a host array to the worker and as a tensor in this thread. */
type Generate = Omit<Extract<Request, { type: 'generate' }>, 'ids'>;

interface Pending {
  resolve: (h: Hypothesis[][]) => void;
  reject: (e: Error) => void;
  onToken: RunOptions['onToken'];
}

/** Requests out to a scheduler, and the replies back to their promises. */
abstract class Channel {
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  dead = false;
  readonly counts = { completed: 0, cancelled: 0, lastCancelledSteps: -1 };
  readonly stats = new Float64Array(new SharedArrayBuffer(STATS_LENGTH * 8));

  /** Hands a request (its padded sources as `ids`) to the scheduler. */
  protected abstract send(model: Transformer, request: Generate, ids: Tensor): void;
  /** The first request pending (keep the process alive, enter eval mode), and the last settled. */
  protected abstract busy(model: Transformer, busy: boolean): void;

  run(model: Transformer, ids: Tensor, lengths: Int32Array, o: ResolvedOptions, r: RunOptions): Promise<Hypothesis[][]> {
    const id = this.#nextId++;
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    return new Promise<Hypothesis[][]>((resolve, reject) => {
      const onAbort = () => {
        Atomics.store(cancel, 0, 1);
        settle();
        reject(abortError(r.signal!));
      };
      const settle = () => {
        r.signal?.removeEventListener('abort', onAbort);
        if (this.#pending.delete(id) && this.#pending.size === 0) this.busy(model, false);
      };
      if (this.#pending.size === 0) this.busy(model, true);
      this.#pending.set(id, {
        resolve: (h) => { settle(); resolve(h); },
        reject: (e) => { settle(); reject(e); },
        onToken: r.onToken,
      });
      r.signal?.addEventListener('abort', onAbort, { once: true });
      this.send(model, { type: 'generate', id, lengths, options: o, cancel, stream: r.onToken !== undefined, generation: writeGeneration() }, ids);
    });
  }

  protected receive(m: Reply): void {
    if (m.type === 'done') this.counts.completed++;
    else if (m.type === 'error' && m.error.name === 'AbortError') {
      this.counts.cancelled++;
      this.counts.lastCancelledSteps = m.steps;
    }
    const p = this.#pending.get(m.id);
    if (p === undefined) return; // a call already settled (aborted): its late messages are dropped
    if (m.type === 'token') p.onToken?.(m.source, m.token);
    else if (m.type === 'done') p.resolve(m.result);
    else p.reject(reviveError(m.error));
  }

  protected fail(e: Error): void {
    this.dead = true;
    for (const p of [...this.#pending.values()]) p.reject(e);
  }
}

/** A CPU model: its decoding worker thread, the weights shared with it. */
class WorkerChannel extends Channel {
  readonly #worker: Worker;
  #sent: Float32Array[] = [];
  #sentInt8 = false;

  constructor() {
    super();
    this.#worker = startWorker(this.stats);
    this.#worker.unref();
    this.#worker.on('message', (m: Reply) => this.receive(m));
    this.#worker.on('error', (e) => this.fail(new NativeError(`The decoding worker failed: ${e.message}`, { cause: e })));
    this.#worker.on('exit', (code) => this.fail(new NativeError(`The decoding worker exited (code ${code})`)));
  }

  protected send(model: Transformer, request: Generate, ids: Tensor): void {
    this.#shareWeights(model);
    this.#worker.postMessage({ ...request, ids: cpuData(ids, 'ids', 'int32').slice() });
  }

  // A pending call keeps the process alive until it settles.
  protected busy(_: Transformer, busy: boolean): void {
    if (busy) this.#worker.ref();
    else this.#worker.unref();
  }

  stop(): void {
    this.dead = true;
    void this.#worker.terminate();
  }

  // Sends the weights when the worker has not seen these exact arrays (first call, or storage replaced) or
  // the model has been quantized since (in place: the same arrays).
  #shareWeights(model: Transformer): void {
    const named = [...model.stateDict()].map(([name, t]) => [name, shareStorage(t)] as const);
    const int8 = model.quantization === 'int8';
    if (int8 === this.#sentInt8 && named.length === this.#sent.length && named.every(([, a], i) => a === this.#sent[i])) return;
    this.#sent = named.map(([, a]) => a);
    this.#sentInt8 = int8;
    const request: Request = { type: 'model', config: model.config, weights: Object.fromEntries(named), int8: model.int8ScalesByName() };
    this.#worker.postMessage(request);
  }
}

/**
 * A GPU model: the scheduler on the main thread, a turn of the event loop between rounds (its tensors
 * live in this thread's addon instance, and the GPU does the heavy work anyway). Eval mode is set for
 * the first pending request and restored after the last.
 */
class MainThreadChannel extends Channel {
  readonly #scheduler = new Scheduler((m) => this.receive(m), (run) => setImmediate(run), this.stats);
  #training = false;

  constructor(model: Transformer) {
    super();
    this.#training = model.training;
  }

  protected send(model: Transformer, request: Generate, ids: Tensor): void {
    this.#scheduler.submit({ ...request, model, ids });
  }

  protected busy(model: Transformer, busy: boolean): void {
    if (busy) {
      this.#training = model.training;
      model.eval();
    } else model.train(this.#training);
  }
}

/**
 * The worker thread: dist/decode/worker.js in the package; from the TypeScript sources (tests, benches)
 * the .ts entry is loaded through tsx, a development dependency.
 */
function startWorker(stats: Float64Array): Worker {
  const workerData = { stats };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  // tsx's ESM API (its package exports resolve to the CommonJS build under require).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`, { eval: true, workerData });
}
