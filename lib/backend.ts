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
  cuda: { compiled: boolean; available: boolean; devices: string[] };
  /** The default device of new tensors. */
  device: Device;
  version: string;
}

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
let defaultDevice: Device = 'cpu';

export function cudaUnavailable(): DeviceError {
  return new DeviceError(
    "CUDA is not available: this build of nodeformer was compiled without CUDA kernels (backend.info().cuda.compiled is false). Use device 'cpu'.",
  );
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
      cuda: { compiled: n.cudaCompiled, available: false, devices: [] },
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
  },

  /** The default device of new tensors. 'cuda' throws a DeviceError saying why when no GPU can be used. */
  setDevice(device: Device): void {
    const d = checkOneOf(device, 'device', DEVICES);
    if (d === 'cuda') throw cudaUnavailable();
    defaultDevice = d;
  },

  getDevice(): Device {
    return defaultDevice;
  },
};
