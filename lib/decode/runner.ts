/**
 * Where a decode runs, so that `generate` never blocks the event loop.
 *
 * - A model on the CPU decodes in its own worker thread (worker.ts), started on the first call. Its
 *   weights are in shared memory (Module puts parameters and buffers there; others are moved there in
 *   place on the first call), and optimiser steps or loadStateDict write into that memory, so the
 *   worker always reads the current weights without a copy.
 *   Requests are queued in the worker and run one at a time, so concurrent calls are safe. Why a worker
 *   and not native async work: the decode loop (the strategies, the cache bookkeeping) is TypeScript
 *   over the same kernels as everything else; moving the loop moves all of it off the main thread.
 * - A model on the GPU decodes on the main thread with a turn of the event loop between steps: its
 *   tensors live in this thread's addon instance, and the GPU does the heavy work anyway.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

import { noGrad } from '../autograd/tape.js';
import { AbortError, NativeError } from '../errors.js';
import type { Transformer } from '../nn/transformer.js';
import { cpuData, shareStorage, type Tensor, writeGeneration } from '../tensor/tensor.js';
import type { ResolvedOptions } from './options.js';
import { type Reply, type Request, reviveError } from './protocol.js';
import { type Hypothesis, type SearchHooks, searchSteps } from './search.js';

export interface RunOptions {
  signal?: AbortSignal;
  onToken?: SearchHooks['onToken'];
}

/** Decodes the padded batch off the main thread's critical path; rejects with an AbortError on abort. */
export function runSearch(model: Transformer, ids: Tensor, lengths: Int32Array, o: ResolvedOptions, r: RunOptions): Promise<Hypothesis[][]> {
  if (r.signal?.aborted) return Promise.reject(abortError(r.signal));
  if (model.device === 'cuda') return runOnMainThread(model, ids, lengths, o, r);
  let w = workers.get(model);
  if (w === undefined || w.dead) {
    w = new DecodeWorker();
    workers.set(model, w);
    stopWhenCollected.register(model, w);
  }
  return w.run(model, ids, lengths, o, r);
}

const workers = new WeakMap<Transformer, DecodeWorker>();

/** @internal What a model's decoding worker has done: requests finished, and steps run by the last cancelled one. */
export interface DecodeStats {
  completed: number;
  cancelled: number;
  /** Decoder steps the last cancelled request ran before it noticed (-1: none yet). */
  lastCancelledSteps: number;
}

/** @internal The stats of `model`'s worker (tests check that cancelled work stops). */
export function decodeStats(model: Transformer): DecodeStats | undefined {
  return workers.get(model)?.stats;
}
// A model that is garbage-collected takes its idle worker with it.
const stopWhenCollected = new FinalizationRegistry<DecodeWorker>((w) => w.stop());

function abortError(signal: AbortSignal): AbortError {
  return new AbortError('The generate call was aborted', { cause: signal.reason });
}

interface Pending {
  resolve: (h: Hypothesis[][]) => void;
  reject: (e: Error) => void;
  onToken: RunOptions['onToken'];
}

class DecodeWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #sent: Float32Array[] = [];
  dead = false;
  readonly stats: DecodeStats = { completed: 0, cancelled: 0, lastCancelledSteps: -1 };

  constructor() {
    this.#worker = startWorker();
    this.#worker.unref();
    this.#worker.on('message', (m: Reply) => this.#receive(m));
    this.#worker.on('error', (e) => this.#fail(new NativeError(`The decoding worker failed: ${e.message}`, { cause: e })));
    this.#worker.on('exit', (code) => this.#fail(new NativeError(`The decoding worker exited (code ${code})`)));
  }

  run(model: Transformer, ids: Tensor, lengths: Int32Array, o: ResolvedOptions, r: RunOptions): Promise<Hypothesis[][]> {
    this.#shareWeights(model);
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
        if (this.#pending.delete(id) && this.#pending.size === 0) this.#worker.unref();
      };
      this.#pending.set(id, {
        resolve: (h) => { settle(); resolve(h); },
        reject: (e) => { settle(); reject(e); },
        onToken: r.onToken,
      });
      r.signal?.addEventListener('abort', onAbort, { once: true });
      this.#worker.ref(); // a pending call keeps the process alive until it settles
      const request: Request = {
        type: 'generate', id, ids: cpuData(ids, 'ids', 'int32').slice(), lengths, options: o, cancel, stream: r.onToken !== undefined,
        generation: writeGeneration(),
      };
      this.#worker.postMessage(request);
    });
  }

  stop(): void {
    this.dead = true;
    void this.#worker.terminate();
  }

  // Sends the weights when the worker has not seen these exact arrays (first call, or storage replaced).
  #shareWeights(model: Transformer): void {
    const named = [...model.stateDict()].map(([name, t]) => [name, shareStorage(t)] as const);
    if (named.length === this.#sent.length && named.every(([, a], i) => a === this.#sent[i])) return;
    this.#sent = named.map(([, a]) => a);
    const request: Request = { type: 'model', config: model.config, weights: Object.fromEntries(named) };
    this.#worker.postMessage(request);
  }

  #receive(m: Reply): void {
    if (m.type === 'done') this.stats.completed++;
    else if (m.type === 'error' && m.error.name === 'AbortError') {
      this.stats.cancelled++;
      this.stats.lastCancelledSteps = m.steps;
    }
    const p = this.#pending.get(m.id);
    if (p === undefined) return; // a call already settled (aborted): its late messages are dropped
    if (m.type === 'token') p.onToken?.(m.source, m.token);
    else if (m.type === 'done') p.resolve(m.result);
    else p.reject(reviveError(m.error));
  }

  #fail(e: Error): void {
    this.dead = true;
    for (const p of [...this.#pending.values()]) p.reject(e);
  }
}

/**
 * The worker thread: dist/decode/worker.js in the package; from the TypeScript sources (tests, benches)
 * the .ts entry is loaded through tsx, a development dependency.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url));
  // tsx's ESM API (its package exports resolve to the CommonJS build under require).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`, { eval: true });
}

// GPU models currently decoding on the main thread: eval mode is set for the first and restored after the last.
const gpuDecodes = new WeakMap<Transformer, { count: number; training: boolean }>();

async function runOnMainThread(model: Transformer, ids: Tensor, lengths: Int32Array, o: ResolvedOptions, r: RunOptions): Promise<Hypothesis[][]> {
  const state = gpuDecodes.get(model) ?? { count: 0, training: model.training };
  if (state.count++ === 0) {
    state.training = model.training;
    gpuDecodes.set(model, state);
    model.eval();
  }
  const steps = searchSteps(model, ids, lengths, o, r.onToken ? { onToken: r.onToken } : {});
  try {
    for (;;) {
      const step = noGrad(() => steps.next());
      if (step.done) return step.value;
      await nextTurn();
      if (r.signal?.aborted) throw abortError(r.signal);
    }
  } finally {
    steps.return([]); // frees the decode's GPU buffers when it stopped early
    if (--state.count === 0) model.train(state.training);
  }
}
