/**
 * Tensor: a shape, a dtype and a device over storage. CPU storage is a JS-owned typed array that native
 * kernels borrow for the length of a call; CUDA storage is a {@link DeviceArray}, a view of GPU memory
 * that the same native kernels accept in its place. Ops read storage through {@link data} (either
 * device, checked) or {@link cpuData} (code that loops over elements in JS), and allocate results on
 * their inputs' device ({@link deviceOf}, {@link allocate}, {@link allocateOutput}).
 *
 * GPU memory is freed when the last tensor holding it is disposed; `dispose()` is the way to free it
 * promptly, and a FinalizationRegistry frees what collected tensors held (the safety net).
 */
import { inspect } from 'node:util';

import { describe, formatShape } from '../check.js';
import { DeviceError, DisposedError, DTypeError, InvalidArgumentError, ShapeError } from '../errors.js';
import { checkCuda, DEVICES, type Device } from '../backend.js';
import { backward, record, type GradFn } from '../autograd/tape.js';
import { add, mean, mul, sub, sum, type ReduceOptions } from '../ops/arith.js';
import { matmul, type MatmulOptions } from '../ops/matmul.js';
import { detach, permute, reshape, transpose } from '../ops/shape.js';
import { native } from '../native/binding.js';
import { deviceAlloc, DeviceArray, deviceClone, download, release, retain, upload } from './device_array.js';

export type DType = 'float32' | 'int32';
export type TypedData = Float32Array | Int32Array;
/** What a float32 tensor's storage is on either device (what native kernels take). */
export type F32 = Float32Array | DeviceArray;
/** What an int32 tensor's storage is on either device. */
export type I32 = Int32Array | DeviceArray;
export type Storage = TypedData | DeviceArray;

let readData: (t: Tensor) => Storage | null;
let swapData: (t: Tensor, d: Storage) => void;

// GPU memory of tensors collected without dispose() goes back through here.
const collected = new FinalizationRegistry<DeviceArray>(release);

export class Tensor {
  /** The dimensions, outermost first. Frozen. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Whether gradients flow to this tensor (autograd builds on this). */
  requiresGrad: boolean;
  /** The gradient accumulated by backward(), or null. */
  grad: Tensor | null = null;
  /** The op that made this tensor, when it was recorded for autograd; null for leaves (lib/autograd). */
  gradFn: GradFn | null = null;
  #data: Storage | null;

  static {
    readData = (t) => t.#data;
    swapData = (t, d) => {
      const old = t.#data;
      t.#data = null;
      if (old instanceof DeviceArray) {
        collected.unregister(t);
        release(old);
      }
      t.#hold(d);
    };
  }

  /** Where the storage lives ('cpu' or 'cuda'). */
  get device(): Device {
    return this.#data instanceof DeviceArray ? 'cuda' : 'cpu';
  }

  /** @internal Use tensor(), zeros(), ones() or randn(): they validate; this trusts its arguments. */
  constructor(data: Storage, shape: readonly number[], requiresGrad = false) {
    this.#data = null;
    this.#hold(data);
    this.shape = shape;
    this.dtype = data instanceof DeviceArray ? data.dtype : data instanceof Float32Array ? 'float32' : 'int32';
    this.requiresGrad = requiresGrad;
  }

  /** Takes `d` as this tensor's storage; GPU storage counts this tensor as one of its holders. */
  #hold(d: Storage): void {
    this.#data = d;
    if (d instanceof DeviceArray) {
      retain(d);
      collected.register(this, d, this);
    }
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
    const data = this.#host('toFloat32Array');
    return data instanceof Float32Array ? data : Float32Array.from(data);
  }

  /** A copy of the elements of an int32 tensor. */
  toInt32Array(): Int32Array {
    const data = this.#host('toInt32Array');
    if (!(data instanceof Int32Array)) {
      throw new DTypeError(`Expected an int32 tensor for toInt32Array() but this tensor is ${this.dtype}`);
    }
    return data;
  }

  /**
   * The tensor on `device`: this tensor itself if it is already there, else a copy (differentiable: the
   * gradient goes back to this tensor's device). 'cuda' throws a DeviceError saying why when no GPU can
   * be used.
   */
  to(device: Device): Tensor {
    const data = this.#live('to');
    if (!DEVICES.includes(device)) {
      throw new InvalidArgumentError(`Expected 'cpu' or 'cuda' for device but received ${describe(device)}`);
    }
    if (device === this.device) return this;
    if (device === 'cuda') checkCuda();
    const moved = new Tensor(data instanceof DeviceArray ? download(data) : upload(data), this.shape);
    const from = this.device;
    return record(moved, [this], (g) => [g.to(from)], 'to');
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
    return (data instanceof DeviceArray ? download(data) : data)[0]!;
  }

  /**
   * Releases the storage now; any later use throws DisposedError. Safe to call twice. GPU memory goes
   * back to the cache when no other tensor (a view such as a reshape) still uses it. The gradient is
   * not disposed (it may be in use elsewhere); dispose it too if it is yours.
   */
  dispose(): void {
    const data = this.#data;
    this.#data = null;
    this.grad = null;
    this.gradFn = null;
    if (data instanceof DeviceArray) {
      collected.unregister(this);
      release(data);
    }
  }

  toString(): string {
    const grad = this.gradFn !== null ? `, gradFn=${this.gradFn.name}` : this.requiresGrad ? ', requiresGrad' : '';
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}, ${this.device}${grad}${this.disposed ? ', disposed' : ''})`;
  }

  [inspect.custom](): string {
    if (this.disposed || this.#data instanceof DeviceArray) return this.toString();
    const data = this.#data as TypedData;
    const head = Array.from(data.subarray(0, 8), (x) => +x.toPrecision(5)).join(', ');
    return `${this.toString().slice(0, -1)}, [${head}${data.length > 8 ? ', …' : ''}])`;
  }

  #live(what: string): Storage {
    if (this.#data === null) throw new DisposedError(`${what}() called on a disposed ${this.toString()}`);
    return this.#data;
  }

  /** A host copy of the elements. */
  #host(what: string): TypedData {
    const data = this.#live(what);
    return data instanceof DeviceArray ? download(data) : data.slice();
  }
}

/**
 * @internal The storage of `t` on either device, checked: a live tensor of `dtype`. `name` is the
 * argument's name in error messages.
 */
export function data(t: unknown, name: string, dtype: 'float32'): F32;
export function data(t: unknown, name: string, dtype: 'int32'): I32;
export function data(t: unknown, name: string, dtype: DType): Storage {
  if (!(t instanceof Tensor)) {
    throw new InvalidArgumentError(`Expected a Tensor for ${name} but received ${describe(t)}`);
  }
  const d = readData(t);
  if (d === null) throw new DisposedError(`Expected a live tensor for ${name} but it was disposed`);
  if (t.dtype !== dtype) throw new DTypeError(`Expected a ${dtype} tensor for ${name} but received ${t.dtype}`);
  return d;
}

/**
 * @internal Moves `t` to `device` in place (a module's parameters and buffers, which optimisers and
 * tied layers hold by reference). Its gradient moves with it.
 */
export function moveTo(t: Tensor, device: Device): void {
  const d = readData(t);
  if (d === null) throw new DisposedError(`Expected a live tensor to move but ${t.toString()} was disposed`);
  if (t.device === device) return;
  swapData(t, d instanceof DeviceArray ? download(d) : upload(d));
  if (t.grad !== null) moveTo(t.grad, device);
}

/**
 * @internal Puts a CPU float32 tensor's storage in shared memory (a SharedArrayBuffer), in place, and
 * returns it: worker threads then read the same weights without a copy (the decoding worker,
 * lib/decode/runner.ts), and in-place updates (an optimiser step, loadStateDict) reach them too.
 */
export function shareStorage(t: Tensor): Float32Array {
  const d = cpuData(t, 'tensor', 'float32');
  if (d.buffer instanceof SharedArrayBuffer) return d;
  const shared = new Float32Array(new SharedArrayBuffer(d.byteLength));
  shared.set(d);
  swapData(t, shared);
  return shared;
}

/** @internal Makes host `d` (t's size and dtype) the storage of t, without a copy. */
export function adoptStorage(t: Tensor, d: Float32Array): void {
  cpuData(t, 'tensor', 'float32');
  if (d.length !== t.size) throw new ShapeError(`Expected ${t.size} elements to adopt as storage but received ${d.length}`);
  swapData(t, d);
}

let writes = 0;

/**
 * @internal A count of in-place writes into existing storage by the paths weights change through
 * ({@link assign}: initialisation and loadStateDict; the Adam update). Code that keeps a derived copy of
 * weights (decoding's packed weights, lib/decode/packed.ts) rebuilds it when this has moved.
 */
export function writeGeneration(): number {
  return writes;
}

/** @internal Counts an in-place write into storage that may be a weight (see {@link writeGeneration}). */
export function noteWrite(): void {
  writes++;
}

/** @internal Writes host `values` (t.size of them, t's dtype) into t's storage on its device. */
export function assign(t: Tensor, values: TypedData): void {
  noteWrite();
  const d = data(t, 'tensor', t.dtype as 'float32');
  if (d instanceof DeviceArray) native().deviceUpload(d, values);
  else d.set(values);
}

/** @internal What storage lives in (an ArrayBuffer, or a GPU block's handle): equal for views of one. */
export function storageOf(d: Storage): unknown {
  return d instanceof DeviceArray ? d.handle : d.buffer;
}

/** @internal A copy of storage, on its device. */
export function cloneData(d: F32): F32 {
  return d instanceof DeviceArray ? deviceClone(d) : d.slice();
}

/** @internal dst[at, at + src.length) = src, both on one device. */
export function writeAt(dst: F32, src: F32, at: number): void {
  if (dst instanceof DeviceArray) {
    if (!(src instanceof DeviceArray)) throw new DeviceError('Expected src on cuda, the device of dst');
    native().deviceCopy(dst.subarray(at, at + src.length), src);
  } else {
    if (src instanceof DeviceArray) throw new DeviceError('Expected src on the cpu, the device of dst');
    dst.set(src, at);
  }
}

/** @internal Host data as storage on `device` (uploaded for the GPU, else itself). */
export function onDevice<T extends TypedData>(d: T, device: Device): T | DeviceArray {
  return device === 'cuda' ? upload(d) : d;
}

/**
 * @internal The CPU storage of `t`, checked as {@link data} and on the CPU: for code that reads or writes
 * elements in JS.
 */
export function cpuData(t: unknown, name: string, dtype: 'float32'): Float32Array;
export function cpuData(t: unknown, name: string, dtype: 'int32'): Int32Array;
export function cpuData(t: unknown, name: string, dtype: DType): TypedData {
  const d = data(t, name, dtype as 'float32');
  if (d instanceof DeviceArray) throw new DeviceError(`Expected a cpu tensor for ${name} but it is on cuda`);
  return d;
}

/**
 * @internal The device every tensor of `inputs` is on (null entries skipped); tensors on different
 * devices are a DeviceError naming two of them and the op.
 */
export function deviceOf(op: string, inputs: Record<string, Tensor | null | undefined>): Device {
  let first: [string, Tensor] | undefined;
  for (const [name, t] of Object.entries(inputs)) {
    if (!(t instanceof Tensor)) continue;
    if (first === undefined) first = [name, t];
    else if (t.device !== first[1].device) {
      throw new DeviceError(
        `${op}: expected every tensor on one device but ${first[0]} is on ${first[1].device} and ${name} on ${t.device}; move them with .to()`,
      );
    }
  }
  return first?.[1].device ?? 'cpu';
}

/**
 * @internal Zeroed storage for `size` elements of `dtype` on `device`; a size no typed array can hold is
 * a ShapeError naming the shape (not the bare RangeError of the typed array constructor).
 */
export function allocate(dtype: 'float32', size: number, shape: readonly number[]): Float32Array;
export function allocate(dtype: DType, size: number, shape: readonly number[]): TypedData;
export function allocate(dtype: 'float32', size: number, shape: readonly number[], device: Device): F32;
export function allocate(dtype: DType, size: number, shape: readonly number[], device: Device): Storage;
export function allocate(dtype: DType, size: number, shape: readonly number[], device: Device = 'cpu'): Storage {
  if (device === 'cuda') return deviceAlloc(dtype, size, true);
  try {
    return dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
  } catch (cause) {
    throw new ShapeError(`Cannot allocate a ${dtype} tensor of shape ${formatShape(shape)} (${size} elements)`, { cause });
  }
}

/**
 * @internal Storage on `device` for a kernel's output that the kernel writes in full: not zeroed first.
 * Zeroing costs a pass over memory the kernel is about to overwrite anyway (a few MB per activation of a
 * Transformer). Only for outputs whose every element the kernel writes; everything else uses
 * {@link allocate}.
 */
export function allocateOutput(size: number, shape: readonly number[]): Float32Array;
export function allocateOutput(size: number, shape: readonly number[], device: Device): F32;
export function allocateOutput(size: number, shape: readonly number[], device: Device = 'cpu'): F32 {
  if (device === 'cuda') return deviceAlloc('float32', size, false);
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
