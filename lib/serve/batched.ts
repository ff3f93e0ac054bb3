/**
 * Many concurrent requests, one model: a queue in front of the decoder that admits requests by a token
 * budget, so that they decode together (the throughput of batching) while each gets its own Promise or
 * token stream (the latency of streaming).
 *
 * Continuous batching happens below this class, in the model's decode loop (lib/decode/runner.ts): a
 * request admitted here joins the running decode at its next step boundary and leaves it the step it
 * finishes, whatever the others are doing. This class decides *when* a request is admitted:
 *
 * - at once while fewer than `maxBatchRequests` run and their tokens plus its own stay within
 *   `maxBatchTokens` (a request's tokens: its rows × (source tokens + maxLength), what it can occupy in
 *   the caches; one that is bigger than the budget on its own runs alone);
 * - when nothing runs, the first request waits up to `maxWaitMs` for others to start with it;
 * - otherwise it waits in a queue of at most `maxQueue` requests, first come first served; beyond that
 *   a request is refused at once with a {@link QueueFullError} (backpressure).
 *
 * Every request is checked (its text, its options) before it is queued: a bad request rejects alone and
 * never reaches the batch. An aborted request leaves the queue, or the running decode at its next step.
 * Requests with different options share the decode: greedy and sampling requests share rows one per
 * request; beam requests decode beside them with beamSize rows each (see lib/decode/README.md).
 *
 * @example
 * const batched = new BatchedTranslator(await Translator.default(), { maxBatchTokens: 8192 });
 * const { text } = await batched.translate('Jesus wept.');
 * for await (const piece of batched.stream('In the beginning God created the heavens and the earth.')) process.stdout.write(piece.text);
 */
import { checkInteger, checkNumber, checkOptions, describe, fail } from '../check.js';
import { prepareDecode } from '../decode/generate.js';
import type { GenerateOptions, ResolvedOptions } from '../decode/options.js';
import { type DecodeStats, decodeStats, runSearch } from '../decode/runner.js';
import { ROW_BUCKETS } from '../decode/scheduler.js';
import type { Hypothesis } from '../decode/search.js';
import { AbortError, ClosedError, InvalidArgumentError, QueueFullError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Translator } from '../translator.js';

export interface BatchOptions {
  /** Tokens (rows × (source + maxLength)) of the requests decoding at once (default 16384). */
  maxBatchTokens?: number;
  /** Requests decoding at once (default 64; 1 serves one request at a time, without batching). */
  maxBatchRequests?: number;
  /** How long the first request waits for others when nothing is decoding (default 0 ms). */
  maxWaitMs?: number;
  /** Requests waiting to start; one more is refused with a QueueFullError (default 1024). */
  maxQueue?: number;
}

/** The options of one request: generate's, less those that take token ids or several hypotheses. */
export type RequestOptions = Omit<GenerateOptions, 'prefix' | 'returnScores' | 'nBest'>;

/** One request's translation with the model's scores (as generate's returnScores). */
export interface Translation {
  text: string;
  /** Target token ids (no BOS, no EOS). */
  ids: number[];
  logProb: number;
  score: number;
}

/** One token of a stream: its id and the text it adds (possibly '' while a character is incomplete). */
export interface StreamPiece {
  token: number;
  text: string;
}

/** Counters since the translator was made, and what is queued and running now. */
export interface BatchStats {
  queued: number;
  running: number;
  /** Tokens (as maxBatchTokens counts them) of the running requests. */
  runningTokens: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Refused: the queue was full, or the translator closed. */
  rejected: number;
  /** Target tokens produced by completed requests. */
  generatedTokens: number;
  /**
   * The model's decoder steps (all its decoding, not only this translator's): their count, and rows per
   * step as non-cumulative counts per bucket of upper bound `le`, with their sum and count.
   */
  steps: number;
  batchRows: DecodeStats['batchRows'];
}

interface Job {
  /** The text is blank: nothing to decode. */
  blank: boolean;
  ids: Tensor;
  lengths: Int32Array;
  o: ResolvedOptions;
  cost: number;
  signal: AbortSignal | undefined;
  onToken: ((token: number) => void) | undefined;
  resolve: (h: Hypothesis) => void;
  reject: (e: unknown) => void;
}

const DEFAULTS = { maxBatchTokens: 16384, maxBatchRequests: 64, maxWaitMs: 0, maxQueue: 1024 };
const KNOWN = Object.keys(DEFAULTS);
const REQUEST_ONLY = ['prefix', 'returnScores', 'nBest'];

export class BatchedTranslator {
  readonly translator: Translator;
  readonly options: Readonly<Required<BatchOptions>>;
  readonly #queue: Job[] = [];
  readonly #running = new Set<Job>();
  #runningTokens = 0;
  #closed = false;
  // While nothing runs: when the first queued request stops waiting for others (0: not waiting).
  #holdUntil = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #idle: Array<() => void> = [];
  readonly #counts = { completed: 0, failed: 0, cancelled: 0, rejected: 0, generatedTokens: 0 };

  constructor(translator: Translator, options: BatchOptions = {}) {
    if (translator === null || typeof translator !== 'object' || typeof translator.translate !== 'function') fail('a Translator', 'translator', translator);
    const o = checkOptions<BatchOptions>(options, 'options', KNOWN);
    this.translator = translator;
    this.options = Object.freeze({
      maxBatchTokens: o.maxBatchTokens === undefined ? DEFAULTS.maxBatchTokens : checkInteger(o.maxBatchTokens, 'options.maxBatchTokens', 1),
      maxBatchRequests: o.maxBatchRequests === undefined ? DEFAULTS.maxBatchRequests : checkInteger(o.maxBatchRequests, 'options.maxBatchRequests', 1),
      maxWaitMs: o.maxWaitMs === undefined ? DEFAULTS.maxWaitMs : checkNumber(o.maxWaitMs, 'options.maxWaitMs', 0, 60_000),
      maxQueue: o.maxQueue === undefined ? DEFAULTS.maxQueue : checkInteger(o.maxQueue, 'options.maxQueue', 0),
    });
  }

  /**
   * Translates one text (a blank one to ''); rejects with a QueueFullError when the queue is full, an
   * AbortError when aborted.
   */
  async translate(text: string, options?: RequestOptions): Promise<Translation> {
    const h = await new Promise<Hypothesis>((resolve, reject) => this.#submit(this.#job(text, options, undefined, resolve, reject)));
    return this.#translation(h);
  }

  /**
   * The translation of one text token by token (greedy or sampling), each piece as soon as it is decided;
   * the generator's return value is the whole {@link Translation}. Leaving the loop early cancels the
   * request. The pieces' texts add up to the translation when the tokenizer decodes prefixes stably (ours do).
   */
  async *stream(text: string, options?: RequestOptions): AsyncGenerator<StreamPiece, Translation, undefined> {
    if (options?.strategy === 'beam') {
      throw new InvalidArgumentError("stream() emits tokens one by one: use strategy 'greedy' or 'sample' (beam search settles its ids only at the end)");
    }
    const stop = new AbortController();
    const signal = options?.signal;
    const forward = () => stop.abort(signal!.reason);
    signal?.addEventListener('abort', forward, { once: true });
    if (signal?.aborted) forward();
    const tokens: number[] = [];
    let wake: (() => void) | null = null;
    let result: Hypothesis | null = null;
    let failure: unknown = null;
    const ids: number[] = [];
    let emitted = '';
    const job = this.#job(text, { ...options, signal: stop.signal }, (token) => { tokens.push(token); wake?.(); }, (h) => {
      result = h;
      wake?.();
    }, (e) => {
      failure = e;
      wake?.();
    });
    this.#submit(job);
    try {
      for (;;) {
        if (tokens.length > 0) {
          const token = tokens.shift()!;
          ids.push(token);
          const full = this.translator.target.decode(ids);
          const piece = full.startsWith(emitted) ? full.slice(emitted.length) : '';
          if (piece !== '') emitted = full;
          yield { token, text: piece };
        } else if (failure !== null) throw failure;
        else if (result !== null) return this.#translation(result);
        else await new Promise<void>((resolve) => { wake = resolve; });
        wake = null;
      }
    } finally {
      signal?.removeEventListener('abort', forward);
      if (result === null && failure === null) stop.abort();
    }
  }

  /** What is queued and running, and the counters since this translator was made. */
  stats(): BatchStats {
    const decoding = decodeStats(this.translator.model);
    return {
      queued: this.#queue.length, running: this.#running.size, runningTokens: this.#runningTokens, ...this.#counts,
      steps: decoding?.steps ?? 0,
      batchRows: decoding?.batchRows ?? { le: [...ROW_BUCKETS], counts: ROW_BUCKETS.map(() => 0), sum: 0, count: 0 },
    };
  }

  /**
   * Refuses new requests (ClosedError) and resolves once every queued and running request has settled:
   * what was accepted is finished, not dropped.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#pump();
    if (this.#queue.length === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  get closed(): boolean {
    return this.#closed;
  }

  // Checks and encodes one request (throws its typed error: nothing is queued).
  #job(text: string, options: RequestOptions | undefined, onToken: Job['onToken'], resolve: Job['resolve'], reject: Job['reject']): Job {
    if (typeof text !== 'string') fail('a string', 'text', text);
    if (options !== undefined && (options === null || typeof options !== 'object')) fail('an options object', 'options', options);
    for (const key of REQUEST_ONLY) {
      if (options !== undefined && key in options) {
        throw new InvalidArgumentError(`options.${key} is not an option of a translation request (received ${describe((options as Record<string, unknown>)[key])})`);
      }
    }
    const model = this.translator.model;
    const src = this.translator.source.encode(text, { addSpecial: true }) as number[];
    const { maxLength } = model.config;
    if (src.length > maxLength) throw new InvalidArgumentError(`Expected a text of at most ${maxLength} tokens (the model's maxLength) but it has ${src.length}`);
    const { ids, lengths, o, signal } = prepareDecode(model, [Int32Array.from(src)], { ...options, returnScores: true });
    const cost = o.beamSize * (lengths[0]! + o.maxLength[0]!);
    return { blank: text.trim() === '', ids, lengths, o, cost, signal, onToken, resolve, reject };
  }

  #submit(job: Job): void {
    if (job.blank) {
      // A blank text translates to '' without decoding, as Translator.translate (its options were checked).
      this.#counts.completed++;
      job.resolve({ ids: [], logProb: 0, score: 0 });
      return;
    }
    if (this.#closed) {
      this.#counts.rejected++;
      job.reject(new ClosedError('The translator is closed: it finishes the requests it accepted and takes no more'));
      return;
    }
    if (job.signal?.aborted) {
      this.#counts.cancelled++;
      job.reject(new AbortError('The request was aborted', { cause: job.signal.reason }));
      return;
    }
    if (this.#queue.length >= this.options.maxQueue) {
      this.#counts.rejected++;
      job.reject(new QueueFullError(`The queue is full (${this.options.maxQueue} requests waiting, ${this.#running.size} running): retry later`));
      return;
    }
    const onAbort = () => {
      const i = this.#queue.indexOf(job);
      if (i < 0) return; // running: the decode's own signal handles it
      this.#queue.splice(i, 1);
      this.#counts.cancelled++;
      job.reject(new AbortError('The request was aborted while it waited', { cause: job.signal!.reason }));
      this.#settled();
    };
    job.signal?.addEventListener('abort', onAbort, { once: true });
    const { resolve, reject: fail } = job;
    job.resolve = (h) => { job.signal?.removeEventListener('abort', onAbort); resolve(h); };
    job.reject = (e) => { job.signal?.removeEventListener('abort', onAbort); fail(e); };
    this.#queue.push(job);
    this.#pump();
  }

  // Starts the queued requests that may start now.
  #pump(): void {
    const o = this.options;
    while (this.#queue.length > 0) {
      if (this.#running.size >= o.maxBatchRequests) return;
      const job = this.#queue[0]!;
      if (this.#running.size > 0 && this.#runningTokens + job.cost > o.maxBatchTokens) return;
      if (this.#running.size === 0 && o.maxWaitMs > 0 && !this.#closed && !this.#queueFull()) {
        const now = performance.now();
        if (this.#holdUntil === 0) this.#holdUntil = now + o.maxWaitMs;
        if (now < this.#holdUntil) {
          this.#timer ??= setTimeout(() => { this.#timer = null; this.#pump(); }, this.#holdUntil - now);
          return;
        }
      }
      this.#holdUntil = 0;
      this.#queue.shift();
      this.#start(job);
    }
  }

  // Whether the queued requests would fill a batch (no reason to wait for more).
  #queueFull(): boolean {
    const o = this.options;
    if (this.#queue.length >= o.maxBatchRequests) return true;
    return this.#queue.reduce((sum, j) => sum + j.cost, 0) >= o.maxBatchTokens;
  }

  #start(job: Job): void {
    this.#running.add(job);
    this.#runningTokens += job.cost;
    const onToken = job.onToken;
    runSearch(this.translator.model, job.ids, job.lengths, job.o, {
      ...(job.signal && { signal: job.signal }), ...(onToken && { onToken: (_: number, token: number) => onToken(token) }),
    }).then((hyps) => {
      const h = hyps[0]![0]!;
      this.#counts.completed++;
      this.#counts.generatedTokens += h.ids.length;
      job.resolve(h);
    }, (e: unknown) => {
      if (e instanceof AbortError) this.#counts.cancelled++;
      else this.#counts.failed++;
      job.reject(e);
    }).finally(() => {
      this.#running.delete(job);
      this.#runningTokens -= job.cost;
      job.ids.dispose();
      this.#pump();
      this.#settled();
    });
  }

  #settled(): void {
    if (this.#queue.length > 0 || this.#running.size > 0) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  #translation(h: Hypothesis): Translation {
    return { text: this.translator.target.decode(h.ids), ids: h.ids, logProb: h.logProb, score: h.score };
  }
}
