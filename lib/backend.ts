/**
 * What the native backend is and how it runs: SIMD level, threads, devices.
 *
 * @example
 * import { backend } from 'nodeformer';
 * backend.info();        // { simd: 'avx512', threads: 2, cuda: { compiled: false, available: false, devices: [] }, … }
 * backend.setThreads(1); // results are bit-identical whatever the thread count
 */
import { createRequire } from 'node:module';

import { checkInteger, checkOneOf, checkOptions } from './check.js';
import { DeviceError } from './errors.js';
import { native, type Simd } from './native/binding.js';

export type { Simd } from './native/binding.js';
export type Device = 'cpu' | 'cuda';

export interface SimdOptions {
  /**
   * 'native' (the default) runs the low-precision GEMMs with the CPU's best instructions where it has them:
   * AMX tiles, else AVX512_BF16 / AVX512_VNNI. 'vector' keeps to the vector instructions (no AMX), whose
   * results are defined to the bit; 'emulate' runs their exact emulation (the same bits, to test or
   * compare). Stays until changed.
   */
  lowPrecision?: LowPrecisionKernels;
}
export type LowPrecisionKernels = 'native' | 'vector' | 'emulate';
const LOW_PRECISION_KERNELS: readonly LowPrecisionKernels[] = ['native', 'vector', 'emulate'];
export const DEVICES: readonly Device[] = ['cpu', 'cuda'];
const SIMD_LEVELS: readonly Simd[] = ['avx512', 'avx2', 'neon', 'scalar'];

export interface BackendInfo {
  /** The SIMD kernels in use: the best this CPU and OS support, or what NODEFORMER_ISA / setSimd chose. */
  simd: Simd;
  /** Every level this machine can run, best last. */
  supportedSimd: Simd[];
  /**
   * Whether the bf16 GEMM (precision 'medium') runs the CPU's own instructions (AVX512_BF16 with the
   * avx512 level) rather than their emulation, which gives the same bits more slowly.
   */
  bf16: boolean;
  /**
   * Whether the bf16 GEMM runs on AMX tiles (AMX-BF16: Sapphire Rapids and later), which sum in their own
   * order: within float32's error bound of the vector instructions' result rather than bit for bit.
   */
  amx: boolean;
  /**
   * Whether int8 inference (`model.quantize('int8')`) multiplies with the CPU's VPDPBUSD (AVX512_VNNI
   * with the avx512 level) rather than an exact emulation, which gives the same bits more slowly.
   */
  int8: boolean;
  /** Threads a kernel may use, the caller's included. */
  threads: number;
  /** CPUs this process may run on. */
  hardwareThreads: number;
  /**
   * Whether freed tensor memory stays in the process for reuse (glibc: big blocks from the heap, no trim
   * below 1 GiB), which spares the page faults of re-mapping it every training step. Set at load; the
   * environment variable NODEFORMER_MALLOC=system turns it off. See {@link backend.releaseMemory}.
   */
  retainsFreedMemory: boolean;
  /**
   * The CUDA backend: whether this addon has CUDA kernels (`npm run build:cuda` builds them), whether a
   * GPU can be used, the GPUs ("NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)"), and why not when it cannot.
   */
  cuda: { compiled: boolean; available: boolean; devices: string[]; reason?: string };
  /** The default device of new tensors. */
  device: Device;
  version: string;
}

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
let defaultDevice: Device = 'cpu';

function cudaInfo(): BackendInfo['cuda'] {
  const s = cuda();
  return { compiled: s.compiled, available: s.available, devices: s.devices, ...(!s.available && { reason: s.reason }) };
}

/** How GEMM and attention multiply float32: see {@link backend.setMatmulPrecision}. */
export type MatmulPrecision = 'highest' | 'high' | 'medium';
const PRECISIONS: readonly MatmulPrecision[] = ['highest', 'high', 'medium'];

interface CudaStatus {
  compiled: boolean;
  available: boolean;
  reason: string;
  devices: string[];
}

let cudaStatus: CudaStatus | undefined;

function cuda(): CudaStatus {
  // The first call initialises the GPU (or finds out why it cannot), once per process.
  cudaStatus ??= native().cudaStatus();
  return cudaStatus;
}

/** @internal Throws a DeviceError saying why unless CUDA can be used. */
export function checkCuda(): void {
  const s = cuda();
  if (!s.available) throw new DeviceError(`CUDA is not available: ${s.reason}. Use device 'cpu'.`);
}

export interface GpuMemory {
  /** Bytes held by live tensors. */
  allocated: number;
  /** Bytes freed by tensors and kept by the caching allocator for reuse. */
  cached: number;
  /** The most `allocated` has been. */
  peak: number;
}

export const backend = {
  info(): BackendInfo {
    const n = native().info();
    return {
      simd: n.simd,
      supportedSimd: n.supportedSimd,
      bf16: n.bf16,
      amx: n.amx,
      int8: n.int8,
      threads: n.threads,
      hardwareThreads: n.hardwareThreads,
      retainsFreedMemory: n.retainsFreedMemory,
      cuda: cudaInfo(),
      device: defaultDevice,
      version: VERSION,
    };
  },

  /** Sets how many threads kernels use (the caller's included); returns the new count. */
  setThreads(threads: number): number {
    return native().setThreads(checkInteger(threads, 'threads', 1, 1024));
  },

  /**
   * Selects a SIMD level this machine supports (to compare kernels, or to rule one out); the
   * environment variables NODEFORMER_ISA and NODEFORMER_LOW_PRECISION (native | vector | emulate) do the same at
   * load. Throws InvalidArgumentError otherwise.
   */
  setSimd(simd: Simd, opts?: SimdOptions): Simd {
    const o = checkOptions<SimdOptions>(opts, 'options', ['lowPrecision']);
    const level = checkOneOf(simd, 'simd', SIMD_LEVELS);
    const lowPrecision = o.lowPrecision === undefined ? undefined : checkOneOf(o.lowPrecision, 'options.lowPrecision', LOW_PRECISION_KERNELS);
    const chosen = native().setSimd(level);
    if (lowPrecision) native().setLowPrecision(lowPrecision);
    return chosen;
  },

  /**
   * Returns the freed memory the process keeps for reuse to the operating system (glibc's malloc_trim),
   * e.g. after training, before serving. Tensors still in use are untouched.
   */
  releaseMemory(): void {
    native().releaseMemory();
    native().deviceEmptyCache();
  },

  /** The default device of new tensors. 'cuda' throws a DeviceError saying why when no GPU can be used. */
  setDevice(device: Device): void {
    const d = checkOneOf(device, 'device', DEVICES);
    if (d === 'cuda') checkCuda();
    defaultDevice = d;
  },

  /**
   * How float32 GEMMs multiply, as PyTorch's torch.set_float32_matmul_precision; one setting for the whole
   * process (worker threads included).
   * - 'highest': exact float32 everywhere.
   * - 'high' (the default): float32 on the CPU; TF32 tensor cores on the GPU (10-bit mantissa products,
   *   float32 sums; about 1e-3 relative error).
   * - 'medium': on the CPU every GEMM of ops.matmul and Linear, forward and backward, rounds its inputs to
   *   bfloat16 (nearest even) and sums in float32: twice the multiply rate where the CPU has AVX512_BF16
   *   (see `info().bf16`), about 4e-3 relative error per input. Weights, LayerNorm, softmax, the loss and
   *   Adam stay float32 (mixed precision). The GPU uses TF32, as with 'high'.
   *
   * @example
   * backend.setMatmulPrecision('medium');  // bf16 training on a Zen 4/5 or Sapphire Rapids CPU
   */
  setMatmulPrecision(precision: MatmulPrecision): void {
    const p = checkOneOf(precision, 'precision', PRECISIONS);
    native().setMatmulPrecision(p);
    native().setTf32(p !== 'highest');
  },

  getMatmulPrecision(): MatmulPrecision {
    return native().getMatmulPrecision();
  },

  /** GPU memory in use and cached by nodeformer's caching allocator (zeros without CUDA). */
  gpuMemory(): GpuMemory {
    return native().deviceMemory();
  },

  /**
   * Waits until every GPU kernel queued so far has finished (for timing; reading a tensor back with
   * toFloat32Array() already waits for what wrote it). A no-op without a GPU.
   */
  synchronize(): void {
    if (cuda().available) native().deviceSynchronize();
  },

  getDevice(): Device {
    return defaultDevice;
  },
};
