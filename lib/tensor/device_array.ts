/**
 * GPU storage. A {@link DeviceArray} is to a block of GPU memory what a Float32Array is to an ArrayBuffer: a
 * typed view (`offset`, `length` in elements, `dtype`) that `subarray` narrows without copying. Native
 * kernels take DeviceArrays wherever they take typed arrays and then run on the GPU
 * (native/bindings/device.cc reads `handle`, `offset`, `length` and `dtype`).
 *
 * A block is freed when the last tensor using it is disposed ({@link retain} / {@link release}, called by
 * Tensor). Tensors that are garbage-collected without `dispose()` release theirs through a
 * FinalizationRegistry (lib/tensor/tensor.ts): the safety net, not the plan, since a collection may come
 * long after the memory is needed. The addon reports GPU bytes to V8 as external memory, which makes
 * collections come sooner as GPU memory fills.
 *
 * @example
 * const x = randn([1024, 1024], { seed: 1 }).to('cuda');   // a DeviceArray behind x
 * const y = ops.matmul(x, x);                              // runs on the GPU, y stays there
 * y.toFloat32Array();                                      // copies back
 * x.dispose(); y.dispose();                                // GPU memory back to the cache now
 */
import { native } from '../native/binding.js';

export type DeviceDType = 'float32' | 'int32';

/** One GPU allocation and the number of tensors that hold it. */
class Block {
  refs = 0;
  constructor(readonly handle: unknown) {}
}

export class DeviceArray {
  /** @internal */
  constructor(
    /** The block's native handle (what the addon reads). */
    readonly handle: unknown,
    /** First element of the view within the block. */
    readonly offset: number,
    /** Elements in the view. */
    readonly length: number,
    readonly dtype: DeviceDType,
    /** @internal */
    readonly block: Block,
  ) {}

  /** The elements [start, end) of this view, sharing its memory (as TypedArray.subarray). */
  subarray(start: number, end: number = this.length): DeviceArray {
    const s = Math.max(0, Math.min(start, this.length)), e = Math.max(s, Math.min(end, this.length));
    return new DeviceArray(this.handle, this.offset + s, e - s, this.dtype, this.block);
  }
}

/** New GPU memory for `length` elements, zeroed when `zero` (else whatever the cache held). */
export function deviceAlloc(dtype: DeviceDType, length: number, zero: boolean): DeviceArray {
  const handle = native().deviceAlloc(length * 4, zero);
  return new DeviceArray(handle, 0, length, dtype, new Block(handle));
}

/** A GPU copy of host data. */
export function upload(data: Float32Array | Int32Array): DeviceArray {
  const out = deviceAlloc(data instanceof Float32Array ? 'float32' : 'int32', data.length, false);
  native().deviceUpload(out, data);
  return out;
}

/** A host copy of GPU data (waits for the kernels that write it). */
export function download(src: DeviceArray): Float32Array | Int32Array {
  const out = src.dtype === 'float32' ? new Float32Array(src.length) : new Int32Array(src.length);
  native().deviceDownload(out, src);
  return out;
}

/** A new GPU copy of a view. */
export function deviceClone(src: DeviceArray): DeviceArray {
  const out = deviceAlloc(src.dtype, src.length, false);
  native().deviceCopy(out, src);
  return out;
}

/** One more tensor holds the view's block. */
export function retain(a: DeviceArray): void {
  a.block.refs++;
}

/** One tensor fewer holds the view's block; the last one frees it. */
export function release(a: DeviceArray): void {
  if (--a.block.refs === 0) native().deviceFree(a.handle);
}
