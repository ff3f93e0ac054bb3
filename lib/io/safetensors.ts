/**
 * The safetensors format (https://github.com/huggingface/safetensors), written and read by hand:
 *
 *   8 bytes   N, the header length, a little-endian u64
 *   N bytes   UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, …,
 *             "__metadata__"?: { "<key>": "<string>" } }, padded with spaces so the data starts at a
 *             multiple of 8 (as the reference writer does)
 *   the rest  the tensors' raw little-endian bytes; offsets count from the start of this region
 *
 * Writing gives tensors in sorted name order: int32 tensors as I32, float32 tensors as F32 by default, or
 * narrowed to F16 or BF16 with `{ dtype: 'F16' | 'BF16' }` (half the bytes: how model weights are shipped),
 * and named float32 tensors of integers as I8 with `{ int8: names }` (a quantized model's int8 values).
 * Narrowing rounds to nearest, ties to even, as PyTorch's `.to(torch.float16)` does: NaN stays a (quiet)
 * NaN, ±Infinity and -0 stay, F16 overflows to ±Infinity from 65520 (65504 is its largest finite value)
 * and keeps subnormals down to 2^-24; see half.ts.
 *
 * Reading takes F32 and I32 as they are, converts F64, F16, BF16 and I8 to float32 (all but F64 exactly)
 * and I64 (PyTorch's type for index buffers) to int32, and checks everything the reference reader checks,
 * and gaps too: the ranges must tile the data exactly, with no overlap, gap or trailing byte. A bad file
 * is a FormatError that says what is wrong where; nothing is read out of bounds, and the tensors own
 * copies of their bytes.
 *
 * Like the reference reader, unknown fields inside a tensor entry are ignored, and a null `__metadata__`
 * counts as none. Byte order: every platform Node runs nodeformer on (x64, arm64) is little-endian, which
 * the raw F32 / I32 / F16 / BF16 copies rely on (as the native kernels do).
 *
 * @example
 * const bytes = encodeSafetensors({ 'w': randn([2, 3], { seed: 1 }) }, { format: 'pt' });
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * await saveSafetensors('model.safetensors', model.stateDict());
 * await saveSafetensors('model.f16.safetensors', model.stateDict(), undefined, { dtype: 'F16' });
 * const weights = (await loadSafetensors('model.safetensors')).tensors;
 */
import fs from 'node:fs';

import { checkOneOf, checkOptions, describe, fail, formatShape } from '../check.js';
import { FormatError, InvalidArgumentError, OutOfRangeError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { halfToFloat, narrowFloat32 } from './half.js';

/** How float32 tensors are stored; int32 tensors are always I32. */
export type SafetensorsFloatDType = 'F32' | 'F16' | 'BF16';
const FLOAT_DTYPES: readonly SafetensorsFloatDType[] = ['F32', 'F16', 'BF16'];

export interface SafetensorsWriteOptions {
  /** The dtype of the float32 tensors in the file (default 'F32'); 'F16' and 'BF16' round to nearest even. */
  dtype?: SafetensorsFloatDType;
  /**
   * Names of float32 tensors holding integers in [-128, 127] (a quantized model's int8 values) to store as
   * I8, a byte each; any other value is an OutOfRangeError.
   */
  int8?: ReadonlySet<string>;
}

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** The reference reader's limit: a longer header is a corrupt or hostile file, not a model. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

/** The dtypes read, their element size, and the element type they become. */
const READ_DTYPES = {
  F32: { bytes: 4, to: 'float32' },
  F64: { bytes: 8, to: 'float32' },
  F16: { bytes: 2, to: 'float32' },
  BF16: { bytes: 2, to: 'float32' },
  I32: { bytes: 4, to: 'int32' },
  I64: { bytes: 8, to: 'int32' },
  I8: { bytes: 1, to: 'float32' },
} as const;
type ReadDType = keyof typeof READ_DTYPES;
const READ_DTYPE_LIST = Object.keys(READ_DTYPES).join(', ');

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------- writing

function entriesOf(tensors: unknown): Array<[string, Tensor]> {
  let entries: Array<[unknown, unknown]>;
  if (tensors instanceof Map) entries = [...tensors.entries()];
  else if (tensors !== null && typeof tensors === 'object' && !Array.isArray(tensors)) entries = Object.entries(tensors);
  else fail('a Map or a record of Tensors', 'tensors', tensors);
  for (const [name, t] of entries) {
    if (typeof name !== 'string') fail('string tensor names', 'tensors', name);
    if (name === METADATA_KEY) fail(`a tensor name other than '${METADATA_KEY}' (reserved)`, 'tensors', name);
    if (!(t instanceof Tensor)) fail('a Tensor', `tensors[${JSON.stringify(name)}]`, t);
  }
  return (entries as Array<[string, Tensor]>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function checkMetadata(metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    fail('a record of strings', 'metadata', metadata);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') fail('a string', `metadata[${JSON.stringify(key)}]`, value);
  }
  return metadata as Record<string, string>;
}

function checkWriteOptions(options: unknown): { floatDType: SafetensorsFloatDType; int8: ReadonlySet<string> } {
  const o = checkOptions<SafetensorsWriteOptions>(options, 'options', ['dtype', 'int8']);
  if (o.int8 !== undefined && !(o.int8 instanceof Set)) fail('a Set of tensor names', 'options.int8', o.int8);
  return { floatDType: o.dtype === undefined ? 'F32' : checkOneOf(o.dtype, 'options.dtype', FLOAT_DTYPES), int8: o.int8 ?? new Set() };
}

/** The float32 tensor `name`'s values as I8 bytes; each must be an integer in [-128, 127]. */
function narrowInt8(x: Float32Array, name: string): Int8Array {
  const bad = x.findIndex((v) => !(Number.isInteger(v) && v >= -128 && v <= 127));
  if (bad >= 0) throw new OutOfRangeError(`Expected int8 values (integers in [-128, 127]) in '${name}' but element ${bad} is ${x[bad]}`);
  return Int8Array.from(x);
}

/**
 * The bytes of a safetensors file holding `tensors` and the string `metadata`: int32 tensors as I32,
 * float32 tensors as `options.dtype` (F32, or narrowed to F16 / BF16), those named in `options.int8` as I8.
 */
export function encodeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>, options?: SafetensorsWriteOptions,
): Uint8Array {
  const entries = entriesOf(tensors);
  const meta = checkMetadata(metadata);
  const { floatDType, int8 } = checkWriteOptions(options);
  for (const name of int8) {
    if (!entries.some(([n, t]) => n === name && t.dtype === 'float32')) fail('names of float32 tensors', 'options.int8', name);
  }
  const dtypeOf = (name: string, t: Tensor) => (t.dtype !== 'float32' ? 'I32' : int8.has(name) ? 'I8' : floatDType);
  // Host copies, read once: toFloat32Array / toInt32Array work on any device and throw on a disposed tensor.
  const datas = entries.map(([name, t]): Float32Array | Int32Array | Uint16Array | Int8Array => {
    const dtype = dtypeOf(name, t);
    if (dtype === 'I32') return t.toInt32Array();
    if (dtype === 'I8') return narrowInt8(t.toFloat32Array(), name);
    return dtype === 'F32' ? t.toFloat32Array() : narrowFloat32(t.toFloat32Array(), dtype);
  });
  const header: Record<string, unknown> = {};
  if (meta !== undefined) header[METADATA_KEY] = meta;
  let offset = 0;
  entries.forEach(([name, t], i) => {
    const end = offset + datas[i]!.byteLength;
    header[name] = { dtype: dtypeOf(name, t), shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  });
  const json = utf8Encoder.encode(JSON.stringify(header));
  const n = json.length + ((8 - (json.length % 8)) % 8);
  let out: Uint8Array;
  try {
    out = new Uint8Array(8 + n + offset);
  } catch (cause) {
    throw new InvalidArgumentError(`Cannot hold a safetensors file of ${8 + n + offset} bytes in one buffer`, { cause });
  }
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let at = 8 + n;
  for (const d of datas) {
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- reading

interface Entry {
  name: string;
  dtype: ReadDType;
  shape: number[];
  size: number;
  begin: number;
  end: number;
}

/** `src` names the bytes in messages: "the safetensors data" or `the safetensors file "<path>"`. */
function parseHeader(bytes: Uint8Array, src: string): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) {
    throw new FormatError(`Expected at least 8 bytes (the header length) in ${src} but received ${bytes.length}`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError(`Expected a header length ≤ ${MAX_HEADER_BYTES} bytes in ${src} but received ${n}`);
  }
  if (n > BigInt(bytes.length - 8)) {
    throw new FormatError(
      `Expected a header length ≤ ${bytes.length - 8} (the bytes after the length) in ${src} but received ${n}`,
    );
  }
  const dataStart = 8 + Number(n);
  let text: string;
  try {
    text = utf8Decoder.decode(bytes.subarray(8, dataStart));
  } catch (cause) {
    throw new FormatError(`Expected a UTF-8 header in ${src} but its bytes are not valid UTF-8`, { cause });
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (cause) {
    throw new FormatError(`Expected a JSON header in ${src} but it does not parse: ${(cause as Error).message}`, { cause });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new FormatError(`Expected a JSON object for the header of ${src} but received ${describe(header)}`);
  }
  return { header: header as Record<string, unknown>, dataStart };
}

function parseMetadata(value: unknown, src: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new FormatError(`Expected an object of strings for ${METADATA_KEY} in ${src} but received ${describe(value)}`);
  }
  const entries = Object.entries(value);
  for (const [key, v] of entries) {
    if (typeof v !== 'string') {
      throw new FormatError(`Expected a string for ${METADATA_KEY}[${JSON.stringify(key)}] in ${src} but received ${describe(v)}`);
    }
  }
  // fromEntries defines own properties, so even a key "__proto__" stays a plain entry.
  return Object.fromEntries(entries) as Record<string, string>;
}

function isIndex(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function parseEntry(name: string, value: unknown, dataLength: number, src: string): Entry {
  const of = `tensor ${JSON.stringify(name)} in ${src}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FormatError(`Expected an object { dtype, shape, data_offsets } for ${of} but received ${describe(value)}`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  for (const [field, v] of [['dtype', dtype], ['shape', shape], ['data_offsets', offsets]] as const) {
    if (v === undefined) throw new FormatError(`Expected a field '${field}' for ${of} but it is missing`);
  }
  if (typeof dtype !== 'string') throw new FormatError(`Expected a string for the dtype of ${of} but received ${describe(dtype)}`);
  if (!Object.hasOwn(READ_DTYPES, dtype)) {
    throw new FormatError(`Expected a dtype in ${READ_DTYPE_LIST} for ${of} but received the unsupported dtype '${dtype}'`);
  }
  if (!Array.isArray(shape)) throw new FormatError(`Expected an array for the shape of ${of} but received ${describe(shape)}`);
  let size = 1;
  shape.forEach((d: unknown, i) => {
    if (!isIndex(d)) throw new FormatError(`Expected a non-negative integer for shape[${i}] of ${of} but received ${describe(d)}`);
    size *= d;
  });
  if (!Number.isSafeInteger(size)) throw new FormatError(`Expected a shape of at most 2^53 elements for ${of} but received ${formatShape(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw new FormatError(`Expected an array [begin, end] for the data_offsets of ${of} but received ${describe(offsets)}`);
  }
  const [begin, end] = offsets as unknown[];
  if (!isIndex(begin)) throw new FormatError(`Expected a non-negative integer for data_offsets[0] of ${of} but received ${describe(begin)}`);
  if (!isIndex(end)) throw new FormatError(`Expected a non-negative integer for data_offsets[1] of ${of} but received ${describe(end)}`);
  if (begin > end) throw new FormatError(`Expected begin ≤ end in the data_offsets of ${of} but received [${begin}, ${end}]`);
  if (end > dataLength) {
    throw new FormatError(`Expected data_offsets within the ${dataLength} data bytes for ${of} but received [${begin}, ${end}]`);
  }
  const elementBytes = READ_DTYPES[dtype as ReadDType].bytes;
  // end − begin is at most the file's length, so only an exact product can match it.
  if (end - begin !== size * elementBytes) {
    throw new FormatError(
      `Expected ${size * elementBytes} bytes (shape ${formatShape(shape)} × ${elementBytes} bytes of ${dtype}) for ${of} `
      + `but its data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  // d + 0 turns JSON's -0 into 0.
  return { name, dtype: dtype as ReadDType, shape: (shape as number[]).map((d) => d + 0), size, begin, end };
}

/** The ranges must tile [0, dataLength) exactly, in some order: no overlap, no gap, nothing after the last. */
function checkTiling(entries: Entry[], dataLength: number, src: string): void {
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.begin !== at) {
      const where = previous === undefined ? 'at byte 0' : `at byte ${at}, where tensor ${JSON.stringify(previous.name)} ends,`;
      const why = e.begin < at
        ? `overlapping tensor ${JSON.stringify(previous!.name)} [${previous!.begin}, ${previous!.end}]`
        : `leaving ${e.begin - at} unused bytes before it (safetensors data must be covered exactly, without gaps)`;
      throw new FormatError(
        `Expected the data of tensor ${JSON.stringify(e.name)} in ${src} to start ${where} but its data_offsets are `
        + `[${e.begin}, ${e.end}], ${why}`,
      );
    }
    at = e.end;
    previous = e;
  }
  if (at !== dataLength) {
    throw new FormatError(
      `Expected the tensors of ${src} to cover all ${dataLength} data bytes but they end at byte ${at} `
      + `(${dataLength - at} unused bytes; safetensors data must be covered exactly)`,
    );
  }
}

/** The elements of one entry as a fresh float32 / int32 array (never a view on `bytes`). */
function readData(bytes: Uint8Array, start: number, e: Entry, src: string): Float32Array | Int32Array {
  const from = start + e.begin;
  // slice() copies into a new buffer at offset 0, so the typed-array view on it is aligned.
  if (e.dtype === 'F32') return new Float32Array(bytes.slice(from, start + e.end).buffer);
  if (e.dtype === 'I32') return new Int32Array(bytes.slice(from, start + e.end).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset + from, e.end - e.begin);
  if (e.dtype === 'I64') {
    const out = new Int32Array(e.size);
    for (let i = 0; i < e.size; i++) {
      const lo = view.getUint32(8 * i, true), hi = view.getInt32(8 * i + 4, true);
      // Fits int32 iff the high word is the sign extension of the low word's top bit.
      if (hi !== (lo >= 2 ** 31 ? -1 : 0)) {
        throw new OutOfRangeError(
          `Expected int32 values (in [-2^31, 2^31 - 1]) in the I64 tensor ${JSON.stringify(e.name)} of ${src} `
          + `but element ${i} is ${view.getBigInt64(8 * i, true)}`,
        );
      }
      out[i] = lo | 0;
    }
    return out;
  }
  const out = new Float32Array(e.size);
  if (e.dtype === 'I8') {
    for (let i = 0; i < e.size; i++) out[i] = view.getInt8(i);
  } else if (e.dtype === 'F64') {
    for (let i = 0; i < e.size; i++) out[i] = view.getFloat64(8 * i, true); // rounds to nearest; beyond float32 → ±Infinity
  } else if (e.dtype === 'BF16') {
    // A bfloat16 is the top half of a float32: exact.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < e.size; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < e.size; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

function decode(bytes: unknown, src: string): SafetensorsContents {
  if (!(bytes instanceof Uint8Array)) fail('a Uint8Array', 'bytes', bytes);
  // A plain Uint8Array view: a Buffer's slice() would alias instead of copying.
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { header, dataStart } = parseHeader(u8, src);
  const dataLength = u8.length - dataStart;
  const metadata = parseMetadata(header[METADATA_KEY], src);
  const entries = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, value]) => parseEntry(name, value, dataLength, src));
  checkTiling(entries, dataLength, src);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    tensors.set(e.name, new Tensor(readData(u8, dataStart, e, src), Object.freeze(e.shape)));
  }
  return { tensors, metadata };
}

/** The tensors and metadata of a safetensors file's bytes; see the module comment for what is checked. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContents {
  return decode(bytes, 'the safetensors data');
}

// ------------------------------------------------------------------------------------------------ files

/**
 * Writes `tensors` and `metadata` to `file` atomically (a crash leaves the old file or the new, whole);
 * `options.dtype` as in {@link encodeSafetensors}.
 */
export async function saveSafetensors(
  file: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>,
  options?: SafetensorsWriteOptions,
): Promise<void> {
  if (typeof file !== 'string' || file === '') fail('a non-empty file path', 'file', file);
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata, options));
}

/** Reads a safetensors file; an unreadable file is an InvalidArgumentError whose `cause` is the fs error. */
export async function loadSafetensors(file: string): Promise<SafetensorsContents> {
  if (typeof file !== 'string' || file === '') fail('a non-empty file path', 'file', file);
  let bytes: Uint8Array;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (cause) {
    throw new InvalidArgumentError(
      `Expected a readable safetensors file for file but could not read ${JSON.stringify(file)}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return decode(bytes, `the safetensors file ${JSON.stringify(file)}`);
}
