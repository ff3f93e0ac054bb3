/**
 * The one place that loads the native addon. It is loaded on first use (tokenizers and metrics work
 * without it), its error codes are checked against lib/errors.ts, and the error classes are registered
 * so that native code throws the same typed errors as TypeScript.
 *
 * Search order: $NODEFORMER_ADDON (a path to a .node file) if set, else node-gyp-build's order:
 * build/Release, build/Debug, then prebuilds/<platform>-<arch>/ of the package.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ERROR_CLASSES, InvalidArgumentError, NativeLoadError } from '../errors.js';
import type { DeviceArray } from '../tensor/device_array.js';
import type { F32, I32 } from '../tensor/tensor.js';

const require = createRequire(import.meta.url);

/** The package root: lib/native/ and dist/native/ both sit two levels below it. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type Simd = 'avx512' | 'avx2' | 'neon' | 'scalar';

export interface NativeInfo {
  simd: Simd;
  supportedSimd: Simd[];
  bf16: boolean;
  amx: boolean;
  int8: boolean;
  threads: number;
  hardwareThreads: number;
  retainsFreedMemory: boolean;
  cudaCompiled: boolean;
}

export type ActivationKind = 'relu' | 'gelu';

/** Element offsets of each batch's matrix, or null for contiguous batches. */
type Offsets = Float64Array | null;

/** The addon's exports (native/bindings/*.cc). Arguments are checked again in C++. */
export interface NativeBinding {
  errorCodes: string[];
  registerErrorClasses(classes: Record<string, new (message: string) => Error>): void;
  info(): NativeInfo;
  setThreads(threads: number): number;
  setSimd(simd: string): Simd;
  setLowPrecision(mode: 'native' | 'vector' | 'emulate'): void;
  setMatmulPrecision(precision: string): void;
  getMatmulPrecision(): 'highest' | 'high' | 'medium';
  releaseMemory(): void;
  fmaPeak(simd: string, seconds: number, threads: number): number;
  /**
   * c = op(a)·op(b) (c += … when accumulate), plus `bias` [n] on every row when given, for `batch`
   * products; see native/bindings/matmul.cc.
   */
  matmulForward(
    c: F32, a: F32, b: F32, m: number, k: number, n: number,
    transA: boolean, transB: boolean, accumulate: boolean, batch: number, aOffsets: Offsets, bOffsets: Offsets,
    bias: F32 | null,
  ): void;
  matmulForwardNaive: NativeBinding['matmulForward'];
  /** dA += ∂/∂a and dB += ∂/∂b of c = op(a)·op(b), given dC; null skips a gradient. */
  matmulBackward(
    dA: F32 | null, dB: F32 | null, dC: F32, a: F32, b: F32,
    m: number, k: number, n: number, transA: boolean, transB: boolean, batch: number, aOffsets: Offsets,
    bOffsets: Offsets,
  ): void;
  matmulBackwardNaive: NativeBinding['matmulBackward'];
  /** Elements of the packed form of an n×k weight: ceil(n / 16)·16·k; see native/kernels/matmul_packed.h. */
  matmulPackedSize(n: number, k: number): number;
  /** packed ← w [n, k] (a Linear layer's weight) in the layout of matmulPackedForward; CPU only. */
  matmulPack(packed: F32, w: F32, n: number, k: number): void;
  /** q [rows·k] and scales [rows] ← x [rows, k]: symmetric per-row int8 (native/kernels/matmul_int8.h). */
  quantizeRows(q: Int8Array, scales: F32, x: F32, rows: number, k: number): void;
  matmulInt8PackedBytes(n: number, k: number): number;
  matmulInt8Pack(packed: Int8Array, wq: Int8Array, n: number, k: number): void;
  /** y [m, n] = dequant(quant(x [m, k]) · wqᵀ) (+ bias [n]) against matmulInt8Pack's packed weight. */
  matmulInt8Forward(y: F32, x: F32, packed: Int8Array, wScales: F32, m: number, k: number, n: number, bias: F32 | null): void;
  /** The same from the unpacked wq [n, k], by the reference loops. */
  matmulInt8ForwardNaive(y: F32, x: F32, wq: Int8Array, wScales: F32, m: number, k: number, n: number, bias: F32 | null): void;
  /**
   * c [batch, m, n] = a_i [m, k] · wᵀ (+ bias [n] on every row) with w packed by matmulPack, a_i at
   * aOffsets[i] (null: contiguous batches); CPU only. See native/bindings/matmul_packed.cc.
   */
  matmulPackedForward(
    c: F32, a: F32, packed: F32, m: number, k: number, n: number, batch: number, aOffsets: Offsets,
    bias: F32 | null,
  ): void;
  matmulPackedForwardNaive: NativeBinding['matmulPackedForward'];
  /** out, lse ← attention of q, k, v; see native/bindings/attention.cc. */
  attentionForward(
    out: F32, lse: F32, q: F32, k: F32, v: F32, batch: number,
    heads: number, lq: number, lk: number, d: number, causal: boolean, scale: number, kvLengths: Int32Array | null,
  ): void;
  attentionForwardNaive: NativeBinding['attentionForward'];
  /** dq, dk, dv ← gradients of the attention output given dout (written, not accumulated). */
  attentionBackward(
    dq: F32, dk: F32, dv: F32, q: F32, k: F32, v: F32,
    out: F32, lse: F32, dout: F32, batch: number, heads: number, lq: number, lk: number,
    d: number, causal: boolean, scale: number, kvLengths: Int32Array | null,
  ): void;
  attentionBackwardNaive: NativeBinding['attentionBackward'];
  /** y = f(x + bias) over [rows, cols] (bias [cols] or null); see native/bindings/activation.cc. */
  activationForward(
    y: F32, x: F32, bias: F32 | null, rows: number, cols: number, kind: ActivationKind,
  ): void;
  activationForwardNaive: NativeBinding['activationForward'];
  /** dx = dy·f'(x + bias); dBias += Σ_rows dx (dBias given exactly when bias is). */
  activationBackward(
    dx: F32, dBias: F32 | null, x: F32, bias: F32 | null, dy: F32,
    rows: number, cols: number, kind: ActivationKind,
  ): void;
  activationBackwardNaive: NativeBinding['activationBackward'];
  /** y = x + bias, bias [cols] broadcast over rows. */
  addBiasForward(y: F32, x: F32, bias: F32, rows: number, cols: number): void;
  addBiasForwardNaive: NativeBinding['addBiasForward'];
  /** dBias += the column sums of dy [rows, cols]. */
  addBiasBackward(dBias: F32, dy: F32, rows: number, cols: number): void;
  addBiasBackwardNaive: NativeBinding['addBiasBackward'];
  /** y = a + b, all of n elements. */
  addForward(y: F32, a: F32, b: F32, n: number): void;
  addForwardNaive: NativeBinding['addForward'];
  /** y = x·mask/(1 − p) with the mask a pure function of (seed, offset + i); also the backward, on dy. */
  dropoutForward(y: F32, x: F32, p: number, seed: number, offset: number): void;
  dropoutForwardNaive: NativeBinding['dropoutForward'];
  /** out[i, :] = weight[ids[i], :]; every id is checked against vocab. */
  embeddingForward(out: F32, weight: F32, ids: I32, vocab: number, cols: number): void;
  embeddingForwardNaive: NativeBinding['embeddingForward'];
  /** dWeight[ids[i], :] += dOut[i, :] except for ids equal to paddingIdx (null: none). */
  embeddingBackward(
    dWeight: F32, ids: I32, dOut: F32, vocab: number, cols: number, paddingIdx: number | null,
  ): void;
  embeddingBackwardNaive: NativeBinding['embeddingBackward'];
  /** One Adam / AdamW step, in place on param, m and v; see native/kernels/adam.h. */
  adamUpdate(
    param: F32, grad: F32, m: F32, v: F32, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number,
  ): void;
  adamUpdateNaive: NativeBinding['adamUpdate'];
  /**
   * y = LayerNorm(x (+ residual)) over rows of c; sum = x + residual (both null or both given);
   * mean, rstd [n] saved for backward. See native/bindings/layer_norm.cc.
   */
  layerNormForward(
    y: F32, sum: F32 | null, mean: F32, rstd: F32, x: F32,
    residual: F32 | null, gamma: F32, beta: F32, n: number, c: number, eps: number,
  ): void;
  layerNormForwardNaive: NativeBinding['layerNormForward'];
  /** dx = ∂L/∂s (assigned), dgamma += ∂L/∂γ, dbeta += ∂L/∂β, given dy; s is x or the saved sum. */
  layerNormBackward(
    dx: F32, dgamma: F32, dbeta: F32, dy: F32, s: F32,
    gamma: F32, mean: F32, rstd: F32, n: number, c: number,
  ): void;
  layerNormBackwardNaive: NativeBinding['layerNormBackward'];
  /** y = softmax(x) over rows of c. */
  softmaxForward(y: F32, x: F32, n: number, c: number): void;
  softmaxForwardNaive: NativeBinding['softmaxForward'];
  /** dx = y ∘ (dy − Σ dy∘y) (assigned). */
  softmaxBackward(dx: F32, dy: F32, y: F32, n: number, c: number): void;
  softmaxBackwardNaive: NativeBinding['softmaxBackward'];
  /** The mean cross-entropy over rows whose target is not ignoreIndex (NaN if none); lse [n] saved. */
  crossEntropyForward(
    lse: F32, logits: F32, targets: I32, n: number, v: number, labelSmoothing: number,
    ignoreIndex: number,
  ): number;
  crossEntropyForwardNaive: NativeBinding['crossEntropyForward'];
  /** dLogits = ∂(gradOutput · mean loss)/∂logits (assigned). */
  crossEntropyBackward(
    dLogits: F32, logits: F32, targets: I32, lse: F32, n: number, v: number,
    labelSmoothing: number, ignoreIndex: number, gradOutput: number,
  ): void;
  crossEntropyBackwardNaive: NativeBinding['crossEntropyBackward'];
  /**
   * For every index i of shape (rank ≤ 6): dst[dstOffset + Σ i_k·dstStrides_k] = src[srcOffset + Σ i_k·srcStrides_k].
   * Strides and offsets in elements, ≥ 0; dst written once per element, apart from src; see native/bindings/strided_copy.cc.
   */
  stridedCopy(
    dst: F32, src: F32, shape: readonly number[], dstStrides: readonly number[],
    srcStrides: readonly number[], dstOffset: number, srcOffset: number,
  ): void;
  stridedCopyNaive: NativeBinding['stridedCopy'];

  // GPU memory and the GPU-only glue kernels (native/bindings/device.cc).
  cudaStatus(): { compiled: boolean; available: boolean; reason: string; devices: string[] };
  deviceAlloc(bytes: number, zero: boolean): unknown;
  deviceFree(handle: unknown): void;
  deviceUpload(dst: DeviceArray, src: Float32Array | Int32Array): void;
  deviceDownload(dst: Float32Array | Int32Array, src: DeviceArray): void;
  deviceCopy(dst: DeviceArray, src: DeviceArray): void;
  deviceMemory(): { allocated: number; cached: number; peak: number };
  deviceEmptyCache(): void;
  deviceSynchronize(): void;
  setTf32(enabled: boolean): void;
  /** out[i] = a[Σ i_k·aStrides_k] op b[Σ i_k·bStrides_k] over the index space of shape (out contiguous). */
  binaryForward(
    op: 'add' | 'sub' | 'mul', out: DeviceArray, a: DeviceArray, b: DeviceArray, shape: readonly number[],
    aStrides: readonly number[], bStrides: readonly number[],
  ): void;
  /** out[Σ i_k·outStrides_k] = scale · Σ x[i] over the index space of shape (a stride 0 reduces that dim). */
  reduceSum(out: DeviceArray, x: DeviceArray, shape: readonly number[], outStrides: readonly number[], scale: number): void;
  scaleForward(y: DeviceArray, x: DeviceArray, s: number): void;
  fillForward(y: DeviceArray, value: number): void;
  sumSquares(x: DeviceArray): number;
}

let loaded: NativeBinding | undefined;

function placesTried(): string[] {
  const places: string[] = [];
  if (process.env.NODEFORMER_ADDON) places.push(`${process.env.NODEFORMER_ADDON} (from NODEFORMER_ADDON)`);
  places.push(
    join(PACKAGE_ROOT, 'build', 'Release', 'nodeformer.node'),
    join(PACKAGE_ROOT, 'build', 'Debug', 'nodeformer.node'),
    join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`, '*.node'),
  );
  return places;
}

function load(): NativeBinding {
  const explicit = process.env.NODEFORMER_ADDON;
  try {
    if (explicit) {
      if (!existsSync(explicit)) throw new Error(`no file at ${explicit}`);
      return require(explicit) as NativeBinding;
    }
    return (require('node-gyp-build') as (dir: string) => NativeBinding)(PACKAGE_ROOT);
  } catch (cause) {
    // The addon loaded but refused a setting (a bad NODEFORMER_ISA): that is the user's to fix, not the build.
    if ((cause as { code?: unknown } | null)?.code === 'ERR_INVALID_ARGUMENT') {
      throw new InvalidArgumentError((cause as Error).message, { cause });
    }
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new NativeLoadError(
      [
        `Could not load the nodeformer native addon for ${process.platform}-${process.arch} (Node ${process.versions.node}, N-API ${process.versions.napi}): ${reason}`,
        'Looked in:',
        ...placesTried().map((p) => `  - ${p}`),
        'To fix it:',
        '  - reinstall so the prebuilt binary is unpacked: npm install nodeformer',
        '  - or build from source (needs python3, make and a C++17 compiler): npm rebuild nodeformer',
        '  - or point NODEFORMER_ADDON at a nodeformer.node you built',
      ].join('\n'),
      { cause },
    );
  }
}

/** The addon, loaded and checked on first call. Throws NativeLoadError if it cannot be loaded. */
export function native(): NativeBinding {
  if (loaded) return loaded;
  const addon = load();
  const known = Object.keys(ERROR_CLASSES);
  const missing = addon.errorCodes.filter((code) => !known.includes(code));
  if (missing.length > 0 || addon.errorCodes.length !== known.length) {
    throw new NativeLoadError(
      `The native addon's error codes (${addon.errorCodes.join(', ')}) do not match this version of nodeformer's ` +
        `(${known.join(', ')}): the addon was built from other sources. Rebuild it: npm rebuild nodeformer`,
    );
  }
  addon.registerErrorClasses(ERROR_CLASSES);
  loaded = addon;
  return addon;
}
