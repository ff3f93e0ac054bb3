/**
 * What `GET /metrics` reports of a translation server: requests by status and their latency, the
 * batcher's queue and batch sizes, tokens generated, and the delay of this process's event loop (a
 * load test reads it to show that decoding, off the main thread, never stalls the server).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

import type { BatchedTranslator } from './batched.js';
import { Buckets, LabelledCounter, Registry } from './metrics.js';

/** Seconds of generation that nodeformer_tokens_per_second averages over. */
const RATE_WINDOW_S = 10;
const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface ServerMetrics {
  readonly registry: Registry;
  /** One answered POST /translate: its status ('499': the client left first) and seconds taken. */
  request(status: number, seconds: number): void;
  /** Target tokens of a translation the server finished. */
  generated(tokens: number): void;
  /** Stops sampling the event loop. */
  stop(): void;
}

export function serverMetrics(batched: BatchedTranslator): ServerMetrics {
  const requests = new LabelledCounter();
  const latency = new Buckets(LATENCY_BUCKETS_S);
  const rate = new TokenRate();
  let tokens = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  const registry = new Registry();
  registry.counter('nodeformer_requests_total', 'POST /translate requests by HTTP status (499: the client left before the answer)', () => requests.samples());
  registry.histogram('nodeformer_request_duration_seconds', 'Latency of POST /translate requests answered 200, queueing included, to the last byte', () => latency.snapshot());
  registry.gauge('nodeformer_queue_depth', 'Requests waiting for a decode slot', () => [{ labels: {}, value: batched.stats().queued }]);
  registry.gauge('nodeformer_running_requests', 'Requests decoding now', () => [{ labels: {}, value: batched.stats().running }]);
  registry.counter('nodeformer_generated_tokens_total', 'Target tokens of the translations this server finished', () => [{ labels: {}, value: tokens }]);
  registry.gauge('nodeformer_tokens_per_second', `Target tokens of the translations finished in the last ${RATE_WINDOW_S} s, per second`, () => [{ labels: {}, value: rate.perSecond() }]);
  // Left out by a batcher that does not report its decoder's batch sizes.
  registry.histogram('nodeformer_batch_rows', 'Decoder rows per decode step', () => batched.stats().batchRows);
  registry.gauge('nodeformer_event_loop_delay_seconds', "Delay of the server's event loop since the previous scrape (sampled every 10 ms): its max and 99th percentile", () => {
    const samples = [{ labels: { stat: 'max' }, value: loop.max / 1e9 }, { labels: { stat: 'p99' }, value: loop.percentile(99) / 1e9 }];
    loop.reset();
    return samples;
  });

  return {
    registry,
    request(status, seconds) {
      requests.inc({ status: String(status) });
      if (status === 200) latency.observe(seconds);
    },
    generated(n) {
      tokens += n;
      rate.add(n);
    },
    stop: () => loop.disable(),
  };
}

/** Tokens per second over the last RATE_WINDOW_S seconds (or since the start, when more recent). */
class TokenRate {
  readonly #start = performance.now();
  // [time in ms, tokens], oldest first.
  readonly #events: Array<[number, number]> = [];

  add(tokens: number): void {
    const now = performance.now();
    this.#events.push([now, tokens]);
    this.#forget(now);
  }

  perSecond(): number {
    const now = performance.now();
    this.#forget(now);
    const window = Math.min(RATE_WINDOW_S, (now - this.#start) / 1000);
    return window > 0 ? this.#events.reduce((sum, [, n]) => sum + n, 0) / window : 0;
  }

  #forget(now: number): void {
    while (this.#events.length > 0 && this.#events[0]![0] < now - RATE_WINDOW_S * 1000) this.#events.shift();
  }
}
