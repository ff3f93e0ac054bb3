/**
 * The errors nodeformer throws. Every one is a {@link NodeformerError} with a stable `code`, so callers
 * can branch on `err.code` or `instanceof` alike; a chained `cause` keeps the underlying error.
 * Native code throws the same classes: lib/native/binding.ts registers them with the addon, whose error
 * codes (native/errors.h) are checked against {@link ERROR_CLASSES} at load.
 *
 * @example
 * try { ops.matmul(a, b); } catch (e) { if (e instanceof ShapeError) console.error(e.message); }
 */
export type ErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_SHAPE'
  | 'ERR_DTYPE'
  | 'ERR_DEVICE'
  | 'ERR_DISPOSED'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_NATIVE'
  | 'ERR_NATIVE_LOAD'
  | 'ERR_FORMAT'
  | 'ERR_ABORTED'
  | 'ERR_NON_FINITE'
  | 'ERR_QUEUE_FULL'
  | 'ERR_CLOSED';

export class NodeformerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A value of the right type but outside what is allowed (a negative thread count, an unknown option). */
export class InvalidArgumentError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_ARGUMENT', message, options);
  }
}

/** Dimensions that do not fit together, or data whose length does not match its shape. */
export class ShapeError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SHAPE', message, options);
  }
}

/** A tensor or typed array of the wrong element type. */
export class DTypeError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DTYPE', message, options);
  }
}

/** A device that is not available here, or tensors on different devices in one operation. */
export class DeviceError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DEVICE', message, options);
  }
}

/** A tensor used after `dispose()`. */
export class DisposedError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DISPOSED', message, options);
  }
}

/** An index (token id, offset) outside the range it indexes. */
export class OutOfRangeError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OUT_OF_RANGE', message, options);
  }
}

/** A failure inside native code that no argument check could foresee (out of memory, ...). */
export class NativeError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NATIVE', message, options);
  }
}

/** The native addon could not be loaded; the message lists every place tried and how to fix it. */
export class NativeLoadError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NATIVE_LOAD', message, options);
  }
}

/**
 * A file whose bytes do not follow its format (a truncated or corrupt safetensors file, ...). Only
 * TypeScript raises it, so it is not in {@link ERROR_CLASSES}.
 */
export class FormatError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_FORMAT', message, options);
  }
}

/**
 * Work cancelled through an `AbortSignal` (a `generate` call whose signal fired). Its name is
 * 'AbortError', as the platform's own aborts; only TypeScript raises it.
 */
export class AbortError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ABORTED', message, options);
  }
}

/**
 * A computation that produced NaN or Inf where it must not go on (a training loss or gradient): the
 * message says where, and what was kept. Only TypeScript raises it.
 */
export class NonFiniteError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NON_FINITE', message, options);
  }
}

/**
 * A request refused because the queue in front of a model is full (backpressure: retry later, or shed
 * load). Only TypeScript raises it.
 */
export class QueueFullError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QUEUE_FULL', message, options);
  }
}

/** A request sent to something that was closed (a BatchedTranslator shutting down). Only TypeScript raises it. */
export class ClosedError extends NodeformerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CLOSED', message, options);
  }
}

/** The class native code instantiates for each code it can raise. */
export const ERROR_CLASSES = {
  ERR_INVALID_ARGUMENT: InvalidArgumentError,
  ERR_SHAPE: ShapeError,
  ERR_DTYPE: DTypeError,
  ERR_DEVICE: DeviceError,
  ERR_DISPOSED: DisposedError,
  ERR_OUT_OF_RANGE: OutOfRangeError,
  ERR_NATIVE: NativeError,
} as const;
