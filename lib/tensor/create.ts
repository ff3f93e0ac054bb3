/**
 * Tensor factories. Every one validates its arguments and copies what it is given, so a tensor never
 * changes when the caller later writes to the array it came from.
 *
 * @example
 * const a = tensor([1, 2, 3, 4], [2, 2]);
 * const ids = tensor(new Int32Array([5, 9]), [2]);   // int32
 * const w = randn([512, 512], { seed: 42 });
 */
import { checkInteger, checkOneOf, checkOptions, checkShape, describe, formatShape } from '../check.js';
import { DTypeError, InvalidArgumentError, ShapeError } from '../errors.js';
import { backend, checkCuda, DEVICES, type Device } from '../backend.js';
import { Rng } from './random.js';
import { upload } from './device_array.js';
import { allocate, type DType, Tensor, type TypedData } from './tensor.js';

export interface TensorOptions {
  /** Element type; defaults to the data's (Int32Array → int32, otherwise float32). */
  dtype?: DType;
  /** Defaults to backend.getDevice(). */
  device?: Device;
  requiresGrad?: boolean;
}

const DTYPES: readonly DType[] = ['float32', 'int32'];
const TENSOR_OPTIONS = ['dtype', 'device', 'requiresGrad'] as const;

function resolve(opts: unknown, name: string, fallback: DType): { dtype: DType; device: Device; requiresGrad: boolean } {
  const o = checkOptions<TensorOptions>(opts, name, TENSOR_OPTIONS);
  const dtype = o.dtype === undefined ? fallback : checkOneOf(o.dtype, `${name}.dtype`, DTYPES);
  const device = o.device === undefined ? backend.getDevice() : checkOneOf(o.device, `${name}.device`, DEVICES);
  if (device === 'cuda') checkCuda();
  if (o.requiresGrad !== undefined && typeof o.requiresGrad !== 'boolean') {
    throw new InvalidArgumentError(`Expected a boolean for ${name}.requiresGrad but received ${describe(o.requiresGrad)}`);
  }
  if (o.requiresGrad && dtype !== 'float32') {
    throw new DTypeError(`Only float32 tensors can require gradients, but ${name}.dtype is ${dtype}`);
  }
  return { dtype, device, requiresGrad: o.requiresGrad ?? false };
}

/** A tensor of host `data` placed on `device` (uploaded for the GPU). */
function placed(data: TypedData, shape: readonly number[], device: Device, requiresGrad: boolean): Tensor {
  return new Tensor(device === 'cuda' ? upload(data) : data, shape, requiresGrad);
}

/** A tensor holding a copy of `data` (row-major) with the given shape. */
export function tensor(data: Float32Array | Int32Array | readonly number[], shape: readonly number[], opts?: TensorOptions): Tensor {
  const isTyped = data instanceof Float32Array || data instanceof Int32Array;
  if (!isTyped && !Array.isArray(data)) {
    throw new InvalidArgumentError(`Expected a Float32Array, Int32Array or number[] for data but received ${describe(data)}`);
  }
  const { shape: s, size } = checkShape(shape);
  if (data.length !== size) {
    throw new ShapeError(`Expected ${size} elements for shape ${formatShape(s)} but data has ${data.length}`);
  }
  const { dtype, device, requiresGrad } = resolve(opts, 'options', data instanceof Int32Array ? 'int32' : 'float32');
  if (!isTyped) {
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      if (typeof x !== 'number') throw new InvalidArgumentError(`Expected a number for data[${i}] but received ${describe(x)}`);
      if (dtype === 'int32' && !(Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31)) {
        throw new DTypeError(`Expected an int32 value for data[${i}] but received ${describe(x)}`);
      }
    }
  }
  const out = allocate(dtype, size, s);
  out.set(data as ArrayLike<number>);
  return placed(out, s, device, requiresGrad);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], opts?: TensorOptions): Tensor {
  const { shape: s, size } = checkShape(shape);
  const { dtype, device, requiresGrad } = resolve(opts, 'options', 'float32');
  return new Tensor(allocate(dtype, size, s, device), s, requiresGrad);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], opts?: TensorOptions): Tensor {
  const { shape: s, size } = checkShape(shape);
  const { dtype, device, requiresGrad } = resolve(opts, 'options', 'float32');
  return placed(allocate(dtype, size, s).fill(1), s, device, requiresGrad);
}

export interface RandnOptions {
  /** The same seed gives the same numbers everywhere; without one the seed is random. */
  seed?: number;
  /** Standard deviation (default 1). */
  std?: number;
  device?: Device;
  requiresGrad?: boolean;
}

/** A float32 tensor of normal samples (mean 0, standard deviation `std`). */
export function randn(shape: readonly number[], opts?: RandnOptions): Tensor {
  const { shape: s, size } = checkShape(shape);
  const o = checkOptions<RandnOptions>(opts, 'options', ['seed', 'std', 'device', 'requiresGrad']);
  const seed = o.seed === undefined ? (Math.random() * 2 ** 32) >>> 0 : checkInteger(o.seed, 'options.seed', 0, 2 ** 32 - 1);
  const std = o.std ?? 1;
  if (typeof std !== 'number' || !Number.isFinite(std) || std < 0) {
    throw new InvalidArgumentError(`Expected a finite number ≥ 0 for options.std but received ${describe(std)}`);
  }
  const { device, requiresGrad } = resolve({ device: o.device, requiresGrad: o.requiresGrad }, 'options', 'float32');
  const rng = new Rng(seed);
  const out = allocate('float32', size, s);
  for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
  return placed(out, s, device, requiresGrad);
}
