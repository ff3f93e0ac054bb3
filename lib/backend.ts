/**
 * What the native backend is and how it runs: SIMD level, threads, devices.
 *
 * @example
 * import { backend } from 'nodeformer';
 * backend.info();        // { simd: 'avx512', threads: 2, cuda: { compiled: false, available: false, devices: [] }, … }
 * backend.setThreads(1); // results are bit-identical whatever the thread count
 */
import { createRequire } from 'node:module';

import { checkInteger, checkOneOf } from './check.js';
import { DeviceError } from './errors.js';
import { native, type Simd } from './native/binding.js';

export type { Simd } from './native/binding.js';
export type Device = 'cpu' | 'cuda';
export const DEVICES: readonly Device[] = ['cpu', 'cuda'];
const SIMD_LEVELS: readonly Simd[] = ['avx512', 'avx2', 'neon', 'scalar'];

export interface BackendInfo {
  /** The SIMD kernels in use: the best this CPU and OS support, or what NODEFORMER_ISA / setSimd chose. */
  simd: Simd;
  /** Every level this machine can run, best last. */
  supportedSimd: Simd[];
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
let matmulPrecision: MatmulPrecision = 'high';

function cudaInfo(): BackendInfo['cuda'] {
  const s = cuda();
  return { compiled: s.compiled, available: s.available, devices: s.devices, ...(!s.available && { reason: s.reason }) };
}

/** How GEMM and attention multiply float32 on the GPU (the CPU always computes in float32). */
export type MatmulPrecision = 'highest' | 'high';

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
   * environment variable NODEFORMER_ISA does the same at load. Throws InvalidArgumentError otherwise.
   */
  setSimd(simd: Simd): Simd {
    return native().setSimd(checkOneOf(simd, 'simd', SIMD_LEVELS));
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
   * How float32 GEMMs and attention multiply on the GPU, as PyTorch's torch.set_float32_matmul_precision:
   * 'high' (the default) uses TF32 tensor cores (10-bit mantissa products, float32 sums; about 1e-3
   * relative error), 'highest' exact float32 arithmetic. The CPU kernels always use float32.
   */
  setMatmulPrecision(precision: MatmulPrecision): void {
    native().setTf32(checkOneOf(precision, 'precision', ['highest', 'high'] as const) === 'high');
    matmulPrecision = precision;
  },

  getMatmulPrecision(): MatmulPrecision {
    return matmulPrecision;
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
