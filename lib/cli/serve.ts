/**
 * `nodeformer serve [--model dir] [--port 8080] [--host 127.0.0.1]`: the HTTP API of lib/serve/server.ts.
 * stdout carries one line, once listening: `nodeformer: serving <model> on http://HOST:PORT` (the real
 * port when --port 0). SIGTERM or SIGINT drains (every accepted request is answered) and exits 0; a
 * second one exits at once, 143 or 130.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { type BatchOptions, BatchedTranslator } from '../serve/batched.js';
import { createTranslationServer } from '../serve/server.js';
import { UsageError } from './errors.js';
import { type LoadFlags, loadTranslator } from './load.js';

export interface ServeFlags extends LoadFlags {
  port: number;
  host: string;
  maxBatchTokens?: number;
  maxBatchRequests?: number;
  maxWaitMs?: number;
  maxQueue?: number;
  /** false with --no-batching: one request decodes at a time. */
  batching: boolean;
}

const EXIT_ON_SECOND: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export async function serveCommand(flags: ServeFlags): Promise<void> {
  const options = batchOptions(flags);
  const batched = new BatchedTranslator(await loadTranslator(flags), options);
  const name = flags.model ?? 'the shipped model';
  const { server, shutdown } = createTranslationServer(batched, { modelName: name });
  try {
    server.listen(flags.port, flags.host);
    await once(server, 'listening');
  } catch (e) {
    await shutdown();
    throw e;
  }
  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`nodeformer: serving ${name} on http://${address.includes(':') ? `[${address}]` : address}:${port}\n`);

  // A second signal means "now": the requests still running are dropped.
  const now = (signal: NodeJS.Signals) => process.exit(EXIT_ON_SECOND[signal]);
  await new Promise<void>((resolve) => {
    const drain = () => {
      process.off('SIGTERM', drain).off('SIGINT', drain).on('SIGTERM', now).on('SIGINT', now);
      resolve();
    };
    process.on('SIGTERM', drain).on('SIGINT', drain);
  });
  try {
    await shutdown();
  } finally {
    process.off('SIGTERM', now).off('SIGINT', now);
  }
}

function batchOptions(f: ServeFlags): BatchOptions {
  if (!f.batching && f.maxBatchRequests !== undefined && f.maxBatchRequests !== 1) {
    throw new UsageError('--no-batching decodes one request at a time: it cannot go with --max-batch-requests');
  }
  const o: BatchOptions = {};
  if (f.maxBatchTokens !== undefined) o.maxBatchTokens = f.maxBatchTokens;
  if (f.maxBatchRequests !== undefined) o.maxBatchRequests = f.maxBatchRequests;
  if (f.maxWaitMs !== undefined) o.maxWaitMs = f.maxWaitMs;
  if (f.maxQueue !== undefined) o.maxQueue = f.maxQueue;
  if (!f.batching) o.maxBatchRequests = 1;
  return o;
}
