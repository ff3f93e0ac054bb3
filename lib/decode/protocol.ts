/**
 * The messages between the main thread and a model's decoding worker (runner.ts ↔ worker.ts), and how an
 * error crosses between them with its class intact.
 */
import * as errors from '../errors.js';
import type { ResolvedConfig } from '../nn/config.js';
import type { ResolvedOptions } from './options.js';
import type { Hypothesis } from './search.js';

/** Main → worker. */
export type Request =
  /**
   * The model: its config and every parameter and buffer by name, in shared memory (no copy), and the
   * int8 scales of a quantized model's matrices by name (copied: a few KiB).
   */
  | { type: 'model'; config: ResolvedConfig; weights: Record<string, Float32Array>; int8: Record<string, Float32Array> | null }
  | {
    type: 'generate';
    id: number;
    /** Padded source ids [B, L], row-major, and each row's length. */
    ids: Int32Array;
    lengths: Int32Array;
    options: ResolvedOptions;
    /** Shared flag: non-zero once the caller gave up (abort, or a stream left early). */
    cancel: Int32Array;
    /** Whether to send each token as it is decided. */
    stream: boolean;
    /** The weights' write generation on the main thread (packed weights older than it are rebuilt). */
    generation: number;
  };

/** Worker → main. */
export type Reply =
  | { type: 'token'; id: number; source: number; token: number }
  | { type: 'done'; id: number; result: Hypothesis[][]; steps: number }
  /** A failed or cancelled request; `steps`: the decoder steps it ran before it stopped. */
  | { type: 'error'; id: number; error: SerializedError; steps: number };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message, ...(e.stack !== undefined && { stack: e.stack }) };
  return { name: 'Error', message: String(e) };
}

/** The error again, as an instance of its nodeformer class when it had one. */
export function reviveError(s: SerializedError): Error {
  const cls = (errors as Record<string, unknown>)[s.name];
  const e = typeof cls === 'function' && cls.prototype instanceof errors.NodeformerError
    ? new (cls as new (message: string) => Error)(s.message)
    : Object.assign(new Error(s.message), { name: s.name });
  if (s.stack !== undefined) e.stack = s.stack;
  return e;
}
