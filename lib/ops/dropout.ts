/**
 * Dropout with a seeded, counter-based mask: element i is kept with probability 1 − p, as a pure function
 * of (seed, offset + i), and kept values are scaled by 1/(1 − p); p = 0 returns a copy, p = 1 zeros. The
 * same seed gives the same mask on any thread count, so a training run is reproducible, and the backward
 * regenerates the mask instead of storing it. Use disjoint `offset` ranges to draw independent masks from
 * one seed (e.g. offset = the elements of earlier tensors in the step).
 *
 * For autograd (issue 4): the forward saves only its options; {@link dropoutBackward}(dy, options) with the
 * same options gives dx.
 *
 * @example
 * const y = ops.dropout(x, { p: 0.1, seed: 1234 });
 * const dx = dropoutBackward(dy, { p: 0.1, seed: 1234 });   // dy·mask/(1 − p), the same mask
 */
import { checkInteger, checkNumber, checkOptions } from '../check.js';
import { native, type NativeBinding } from '../native/binding.js';
import { record } from '../autograd/tape.js';
import { allocateOutput, data, Tensor } from '../tensor/tensor.js';

export interface DropoutOptions {
  /** Probability of zeroing an element, in [0, 1]. */
  p: number;
  /** Integer in [0, 2⁵³): picks the mask. */
  seed: number;
  /** Counter of the first element (integer ≥ 0, default 0): element i draws from offset + i. */
  offset?: number;
}

function checkDropout(opts: unknown): Required<DropoutOptions> {
  const o = checkOptions<DropoutOptions>(opts, 'options', ['p', 'seed', 'offset']);
  return {
    p: checkNumber(o.p, 'options.p', 0, 1),
    seed: checkInteger(o.seed, 'options.seed'),
    offset: o.offset === undefined ? 0 : checkInteger(o.offset, 'options.offset'),
  };
}

function run(fn: NativeBinding['dropoutForward'], x: Tensor, name: string, opts: unknown): Tensor {
  const xd = data(x, name, 'float32');
  const { p, seed, offset } = checkDropout(opts);
  const y = allocateOutput(xd.length, x.shape, x.device);
  fn(y, xd, p, seed, offset);
  return new Tensor(y, x.shape);
}

/** x·mask/(1 − p) with a mask drawn from (seed, offset); multi-threaded, vectorised. */
export function dropout(x: Tensor, opts: DropoutOptions): Tensor {
  const o = checkDropout(opts);
  return record(run(native().dropoutForward, x, 'x', o), [x], (g) => [dropoutBackward(g, o)], 'dropout');
}

/** {@link dropout} one element at a time (the same bits). */
export function dropoutNaive(x: Tensor, opts: DropoutOptions): Tensor {
  const o = checkDropout(opts);
  return record(run(native().dropoutForwardNaive, x, 'x', o), [x], (g) => [dropoutBackwardNaive(g, o)], 'dropout');
}

/** @internal dx = dy·mask/(1 − p), with the mask of the forward's options (recomputed, not stored). */
export function dropoutBackward(dy: Tensor, opts: DropoutOptions): Tensor {
  return run(native().dropoutForward, dy, 'dy', opts);
}

/** @internal {@link dropoutBackward} one element at a time. */
export function dropoutBackwardNaive(dy: Tensor, opts: DropoutOptions): Tensor {
  return run(native().dropoutForwardNaive, dy, 'dy', opts);
}
