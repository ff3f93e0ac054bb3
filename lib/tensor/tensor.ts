/**
 * Tensor: a shape, a dtype and a device over storage. CPU storage is a JS-owned typed array that native
 * kernels borrow for the length of a call; future device storage (CUDA) is a native handle, which is why
 * code outside this module never assumes "the data is a Float32Array" and goes through
 * {@link Tensor.toFloat32Array} (a copy to the host) or {@link cpuData} (ops, on CPU tensors only).
 */
import { inspect } from 'node:util';

import { describe, formatShape } from '../check.js';
import { DeviceError, DisposedError, DTypeError, InvalidArgumentError, ShapeError } from '../errors.js';
import { cudaUnavailable, DEVICES, type Device } from '../backend.js';
import { backward, type GradFn } from '../autograd/tape.js';
import { add, mean, mul, sub, sum, type ReduceOptions } from '../ops/arith.js';
import { matmul, type MatmulOptions } from '../ops/matmul.js';
import { detach, permute, reshape, transpose } from '../ops/shape.js';

export type DType = 'float32' | 'int32';
export type TypedData = Float32Array | Int32Array;

let readData: (t: Tensor) => TypedData | null;

export class Tensor {
  /** The dimensions, outermost first. Frozen. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
  /** Whether gradients flow to this tensor (autograd builds on this). */
  requiresGrad: boolean;
  /** The gradient accumulated by backward(), or null. */
  grad: Tensor | null = null;
  /** The op that made this tensor, when it was recorded for autograd; null for leaves (lib/autograd). */
  gradFn: GradFn | null = null;
  #data: TypedData | null;

  static {
    readData = (t) => t.#data;
  }

  /** @internal Use tensor(), zeros(), ones() or randn(): they validate; this trusts its arguments. */
  constructor(data: TypedData, shape: readonly number[], requiresGrad = false) {
    this.#data = data;
    this.shape = shape;
    this.dtype = data instanceof Float32Array ? 'float32' : 'int32';
    this.device = 'cpu';
    this.requiresGrad = requiresGrad;
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.#data === null;
  }

  /** A copy of the elements on the host, as float32 (int32 tensors are converted). */
  toFloat32Array(): Float32Array {
    const data = this.#live('toFloat32Array');
    return data instanceof Float32Array ? data.slice() : Float32Array.from(data);
  }

  /** A copy of the elements of an int32 tensor. */
  toInt32Array(): Int32Array {
    const data = this.#live('toInt32Array');
    if (!(data instanceof Int32Array)) {
      throw new DTypeError(`Expected an int32 tensor for toInt32Array() but this tensor is ${this.dtype}`);
    }
    return data.slice();
  }

  /** The tensor on `device` (this tensor itself if it is already there). */
  to(device: Device): Tensor {
    this.#live('to');
    if (!DEVICES.includes(device)) {
      throw new InvalidArgumentError(`Expected 'cpu' or 'cuda' for device but received ${describe(device)}`);
    }
    if (device === 'cuda') throw cudaUnavailable();
    return this;
  }

  /**
   * Backpropagates from this tensor: fills `.grad` of every leaf it depends on that requires grad (adding
   * to what is there). `gradient` (the same shape) defaults to 1 for a one-element tensor, such as a loss.
   */
  backward(gradient?: Tensor): void {
    backward(this, gradient);
  }

  /** The same elements viewed with another shape (no copy); one dimension may be −1 (inferred). */
  reshape(shape: readonly number[]): Tensor {
    return reshape(this, shape);
  }

  /** A copy with dimensions `a` and `b` swapped (negative dims count from the end). */
  transpose(a: number, b: number): Tensor {
    return transpose(this, a, b);
  }

  /** A copy with the dimensions reordered: result.shape[i] = this.shape[perm[i]]. */
  permute(perm: readonly number[]): Tensor {
    return permute(this, perm);
  }

  /** this + other, with NumPy broadcasting (other may be a number). */
  add(other: Tensor | number): Tensor {
    return add(this, other);
  }

  /** this − other, with NumPy broadcasting (other may be a number). */
  sub(other: Tensor | number): Tensor {
    return sub(this, other);
  }

  /** this · other element-wise, with NumPy broadcasting (other may be a number). */
  mul(other: Tensor | number): Tensor {
    return mul(this, other);
  }

  /** The sum over all elements (shape []), or over `options.dims`. */
  sum(options?: ReduceOptions): Tensor {
    return sum(this, options);
  }

  /** The mean over all elements (shape []), or over `options.dims`. */
  mean(options?: ReduceOptions): Tensor {
    return mean(this, options);
  }

  /** The matrix product this · other (see ops.matmul). */
  matmul(other: Tensor, options?: MatmulOptions): Tensor {
    return matmul(this, other, options);
  }

  /** The same storage without a gradient history (requiresGrad false). */
  detach(): Tensor {
    return detach(this);
  }

  /** The value of a one-element tensor as a number. */
  item(): number {
    const data = this.#live('item');
    if (data.length !== 1) throw new ShapeError(`item() needs a one-element tensor but ${this.toString()} has ${data.length}`);
    return data[0]!;
  }

  /** Releases the storage now; any later use throws DisposedError. Safe to call twice. */
  dispose(): void {
    this.#data = null;
    this.grad = null;
    this.gradFn = null;
  }

  toString(): string {
    const grad = this.gradFn !== null ? `, gradFn=${this.gradFn.name}` : this.requiresGrad ? ', requiresGrad' : '';
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}, ${this.device}${grad}${this.disposed ? ', disposed' : ''})`;
  }

  [inspect.custom](): string {
    if (this.disposed) return this.toString();
    const data = this.#data as TypedData;
    const head = Array.from(data.subarray(0, 8), (x) => +x.toPrecision(5)).join(', ');
    return `${this.toString().slice(0, -1)}, [${head}${data.length > 8 ? ', …' : ''}])`;
  }

  #live(what: string): TypedData {
    if (this.#data === null) throw new DisposedError(`${what}() called on a disposed ${this.toString()}`);
    return this.#data;
  }
}

/**
 * @internal The CPU storage of `t`, checked: not disposed, on the CPU, of `dtype`. `name` is the
 * argument's name in error messages.
 */
export function cpuData(t: unknown, name: string, dtype: 'float32'): Float32Array;
export function cpuData(t: unknown, name: string, dtype: 'int32'): Int32Array;
export function cpuData(t: unknown, name: string, dtype: DType): TypedData {
  if (!(t instanceof Tensor)) {
    throw new InvalidArgumentError(`Expected a Tensor for ${name} but received ${describe(t)}`);
  }
  const data = readData(t);
  if (data === null) throw new DisposedError(`Expected a live tensor for ${name} but it was disposed`);
  if (t.device !== 'cpu') throw new DeviceError(`Expected a cpu tensor for ${name} but it is on ${t.device}`);
  if (t.dtype !== dtype) throw new DTypeError(`Expected a ${dtype} tensor for ${name} but received ${t.dtype}`);
  return data;
}

/**
 * @internal Zeroed storage for `size` elements of `dtype`; a size no typed array can hold is a ShapeError
 * naming the shape (not the bare RangeError of the typed array constructor).
 */
export function allocate(dtype: 'float32', size: number, shape: readonly number[]): Float32Array;
export function allocate(dtype: DType, size: number, shape: readonly number[]): TypedData;
export function allocate(dtype: DType, size: number, shape: readonly number[]): TypedData {
  try {
    return dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
  } catch (cause) {
    throw new ShapeError(`Cannot allocate a ${dtype} tensor of shape ${formatShape(shape)} (${size} elements)`, { cause });
  }
}

/**
 * @internal Storage for a kernel's output that the kernel writes in full: not zeroed first. Zeroing costs
 * a pass over memory the kernel is about to overwrite anyway (a few MB per activation of a Transformer).
 * Only for outputs whose every element the kernel writes; everything else uses {@link allocate}.
 */
export function allocateOutput(size: number, shape: readonly number[]): Float32Array {
  // Small buffers come from V8's own zeroed pool faster than from Buffer.
  if (size < 1 << 14) return allocate('float32', size, shape);
  let bytes: Buffer;
  try {
    bytes = Buffer.allocUnsafeSlow(size * 4);
  } catch (cause) {
    throw new ShapeError(`Cannot allocate a float32 tensor of shape ${formatShape(shape)} (${size} elements)`, { cause });
  }
  return new Float32Array(bytes.buffer, bytes.byteOffset, size);
}
