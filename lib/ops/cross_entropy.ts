/**
 * Cross-entropy of logits [N, V] against int32 class targets [N], fused with log-softmax, with the
 * semantics of PyTorch's `F.cross_entropy(logits, targets, label_smoothing=ε, ignore_index=…)`
 * (reduction 'mean'): the target distribution is q_c = (1 − ε)·[c = t] + ε/V, each row's loss is
 * −Σ_c q_c·log softmax(x)_c, and the result is the mean over rows whose target is not `ignoreIndex`
 * (default −100). When every row is ignored the mean is 0/0 = NaN, as in PyTorch.
 *
 * crossEntropyForward (→ loss, per-row logsumexp, kept-row count) and crossEntropyBackward are the pair
 * autograd calls; `naive` selects the reference loops.
 *
 * @example
 * const loss = ops.crossEntropy(logits, targets, { labelSmoothing: 0.1, ignoreIndex: 0 });
 * loss.toFloat32Array()[0];   // the mean loss
 */
import { checkInteger, checkNumber, checkOptions, checkShapeIs, formatShape } from '../check.js';
import { OutOfRangeError, ShapeError } from '../errors.js';
import { native } from '../native/binding.js';
import { record } from '../autograd/tape.js';
import { deviceClone, upload } from '../tensor/device_array.js';
import { allocate, allocateOutput, data, deviceOf, type F32, type I32, Tensor } from '../tensor/tensor.js';

export interface CrossEntropyOptions {
  /** ε in [0, 1]; default 0. */
  labelSmoothing?: number;
  /** Rows with this target are left out of the loss and get zero gradient; default −100. */
  ignoreIndex?: number;
}

export interface CrossEntropyState {
  /** The mean loss, shape []. */
  loss: Tensor;
  /** log Σ_c exp(logits[i, c]) per row, [N] (0 for ignored rows). */
  lse: Tensor;
}

interface Checked {
  logits: F32;
  /** On the logits' device (a host Int32Array is uploaded for GPU logits). */
  targets: I32;
  n: number;
  v: number;
  labelSmoothing: number;
  ignoreIndex: number;
}

function check(logits: Tensor, targets: Int32Array | Tensor, opts: CrossEntropyOptions | undefined): Checked {
  const ld = data(logits, 'logits', 'float32');
  const o = checkOptions<CrossEntropyOptions>(opts, 'options', ['labelSmoothing', 'ignoreIndex']);
  const labelSmoothing = o.labelSmoothing === undefined ? 0 : checkNumber(o.labelSmoothing, 'options.labelSmoothing', 0, 1);
  const ignoreIndex = o.ignoreIndex === undefined ? -100 : checkInteger(o.ignoreIndex, 'options.ignoreIndex', -(2 ** 31), 2 ** 31 - 1);
  if (logits.shape.length !== 2 || logits.shape[1] === 0) {
    throw new ShapeError(`Expected logits of shape [N, V] with V ≥ 1 for logits but received ${formatShape(logits.shape)}`);
  }
  const [n, v] = logits.shape as [number, number];
  let td: I32;
  if (targets instanceof Int32Array) {
    if (targets.length !== n) throw new ShapeError(`Expected ${n} targets (one per row of logits ${formatShape(logits.shape)}) but received ${targets.length}`);
    td = targets;
  } else {
    td = data(targets, 'targets', 'int32');
    checkShapeIs(targets.shape, [n], 'targets');
    deviceOf('crossEntropy', { logits, targets });
  }
  // Targets on the GPU are checked there (the kernel reports the first bad row).
  if (td instanceof Int32Array) {
    for (let i = 0; i < n; i++) {
      const t = td[i]!;
      if (t !== ignoreIndex && (t < 0 || t >= v)) {
        throw new OutOfRangeError(`Expected a class in [0, ${v}) or the ignoreIndex ${ignoreIndex} for targets[${i}] but received ${t}`);
      }
    }
    if (logits.device === 'cuda') td = upload(td);
  }
  return { logits: ld, targets: td, n, v, labelSmoothing, ignoreIndex };
}

/** The mean loss and what backward needs. */
export function crossEntropyForward(
  logits: Tensor, targets: Int32Array | Tensor, opts: CrossEntropyOptions | undefined, naive: boolean,
): CrossEntropyState {
  const c = check(logits, targets, opts);
  const lse = allocate('float32', c.n, [c.n], logits.device);
  const fn = naive ? native().crossEntropyForwardNaive : native().crossEntropyForward;
  const value = fn(lse, c.logits, c.targets, c.n, c.v, c.labelSmoothing, c.ignoreIndex);
  const lseT = new Tensor(lse, Object.freeze([c.n]));
  // Targets and options as they were: a caller may reuse its array or tensor before backward runs (the
  // upload of a host array for GPU logits is already a private copy).
  const own = c.targets instanceof Int32Array ? c.targets.slice() : targets instanceof Tensor ? deviceClone(c.targets) : c.targets;
  const targetsAtForward = new Tensor(own, Object.freeze([c.n]));
  const optsAtForward = { labelSmoothing: c.labelSmoothing, ignoreIndex: c.ignoreIndex };
  const value32 = Float32Array.of(value);
  const loss = record(new Tensor(logits.device === 'cuda' ? upload(value32) : value32, Object.freeze([])), [logits], (g) => [
    crossEntropyBackward(logits, targetsAtForward, lseT, optsAtForward, g.item(), naive),
  ], 'crossEntropy');
  return { loss, lse: lseT };
}

/** ∂(gradOutput · mean loss)/∂logits, [N, V]: (softmax − q)·gradOutput/count on kept rows, 0 on ignored. */
export function crossEntropyBackward(
  logits: Tensor, targets: Int32Array | Tensor, lse: Tensor, opts: CrossEntropyOptions | undefined, gradOutput: number,
  naive: boolean,
): Tensor {
  const c = check(logits, targets, opts);
  const lsed = data(lse, 'lse', 'float32');
  checkShapeIs(lse.shape, [c.n], 'lse');
  checkNumber(gradOutput, 'gradOutput');
  const d = allocateOutput(c.n * c.v, logits.shape, deviceOf('crossEntropyBackward', { logits, lse }));
  const fn = naive ? native().crossEntropyBackwardNaive : native().crossEntropyBackward;
  fn(d, c.logits, c.targets, lsed, c.n, c.v, c.labelSmoothing, c.ignoreIndex, gradOutput);
  return new Tensor(d, logits.shape);
}

/** The mean cross-entropy, a tensor of shape [] (fused log-softmax, SIMD, multi-threaded). */
export function crossEntropy(logits: Tensor, targets: Int32Array | Tensor, opts?: CrossEntropyOptions): Tensor {
  return crossEntropyForward(logits, targets, opts, false).loss;
}

/** The same by the reference loops (std::exp, one thread). */
export function crossEntropyNaive(logits: Tensor, targets: Int32Array | Tensor, opts?: CrossEntropyOptions): Tensor {
  return crossEntropyForward(logits, targets, opts, true).loss;
}
