/**
 * The Transformer of "Attention Is All You Need" (Figure 1): token embeddings ×√dModel plus sinusoidal
 * positions, an encoder and a decoder stack, and a generator (Linear dModel → tgtVocabSize) giving
 * logits. Sequences of unequal length are padded with `padId` and every attention masks the padded keys,
 * so padding never changes the logits of real positions.
 *
 * Weights are initialised as in PyTorch's translation tutorial: Xavier-uniform for every matrix, PyTorch's
 * defaults for the biases, seeded by `config.seed`.
 *
 * @example
 * const model = new Transformer({ srcVocabSize: 8000, tgtVocabSize: 8000, dModel: 256, heads: 4, encoderLayers: 3, decoderLayers: 3, ffnDim: 1024 });
 * const logits = model.forward([src1, src2], [tgtIn1, tgtIn2]);     // [2, Lt, 8000]
 * const loss = ops.crossEntropy(logits.reshape([-1, 8000]), targets, { labelSmoothing: 0.1, ignoreIndex: 0 });
 * loss.backward();
 * await model.save('checkpoints/step-1000');
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { checkBoolean, checkInteger, checkOneOf, checkOptions, describe, quoteList } from '../check.js';
import { generate, stream } from '../decode/generate.js';
import type { GenerateOptions } from '../decode/options.js';
import type { Hypothesis } from '../decode/search.js';
import { isGradEnabled } from '../autograd/tape.js';
import { DeviceError, FormatError, InvalidArgumentError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { decodeSafetensors, loadSafetensors, type SafetensorsFloatDType, saveSafetensors } from '../io/safetensors.js';
import { dequantize, int8Matrices, int8Values, quantizeMatrices } from '../quantize/int8.js';
import { Rng } from '../tensor/random.js';
import { cpuData, Tensor } from '../tensor/tensor.js';
import { type ResolvedConfig, resolveConfig, type TransformerConfig } from './config.js';
import { Decoder } from './decoder.js';
import { Embedding } from './embedding.js';
import { Encoder } from './encoder.js';
import { xavierUniform } from './init.js';
import { Linear } from './linear.js';
import { type LoadStateDictOptions, Module } from './module.js';
import { padBatch, type TokenBatch } from './batch.js';
import { PositionalEncoding } from './positional_encoding.js';
import { fromPyTorchPositional, POSITIONAL_BUFFER, toPyTorchLayout, toPyTorchName } from './pytorch.js';

export interface StateDictOptions {
  /** 'nodeformer' (default): our names; 'pytorch': the tutorial's Seq2SeqTransformer names and layouts. */
  format?: 'nodeformer' | 'pytorch';
}

const CONFIG_FILE = 'config.json';
const WEIGHTS_FILE = 'model.safetensors';

export interface SaveOptions {
  /**
   * How the float32 weights are stored: 'F32' (default), or 'F16' / 'BF16' (half the size, rounded to
   * nearest even). A quantized model's matrices are always stored as their int8 values (I8).
   */
  dtype?: SafetensorsFloatDType;
}

export interface LoadOptions {
  /** 'int8': quantize the model as it loads (as {@link Transformer.quantize}); a quantized checkpoint is int8 anyway. */
  quantize?: Quantization;
  /** With `quantize`: false keeps the generator in float32 (see {@link QuantizeOptions}). */
  quantizeGenerator?: boolean;
}

export interface QuantizeOptions {
  /**
   * false keeps the generator (the output projection, and the target embedding when tied to it) in
   * float32: decoding then multiplies it in float32 against its packed weights. Default true.
   */
  generator?: boolean;
}

/** How a model's matrices are stored: int8 values with a float32 scale per row (see `quantize`). */
export type Quantization = 'int8';

// A quantized matrix `name` is saved as its int8 values under `name` (I8) and its scales under `name.scale`.
const SCALE_SUFFIX = '.scale';

export class Transformer extends Module {
  readonly config: ResolvedConfig;
  readonly srcEmbedding: Embedding;
  readonly tgtEmbedding: Embedding;
  readonly positionalEncoding: PositionalEncoding;
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  readonly generator: Linear;
  // The generator every Dropout layer draws its mask seeds from (initialisation drew from it first).
  readonly #rng: Rng;
  // Per-row scales of each quantized matrix (by tensor), or null while the model is float32.
  #int8: Map<Tensor, Float32Array> | null = null;

  constructor(config: TransformerConfig) {
    super();
    const c = resolveConfig(config);
    this.config = c;
    const rng = new Rng(c.seed);
    this.#rng = rng;
    const scale = Math.sqrt(c.dModel);
    this.srcEmbedding = this.registerModule('srcEmbedding', new Embedding(c.srcVocabSize, c.dModel, scale));
    this.tgtEmbedding = this.registerModule('tgtEmbedding', new Embedding(c.tgtVocabSize, c.dModel, scale));
    this.positionalEncoding = this.registerModule('positionalEncoding', new PositionalEncoding(c.dModel, c.maxLength, c.dropout, rng));
    this.encoder = this.registerModule('encoder', new Encoder({ ...c, layers: c.encoderLayers }, rng));
    this.decoder = this.registerModule('decoder', new Decoder({ ...c, layers: c.decoderLayers }, rng));
    this.generator = this.registerModule('generator', new Linear(c.dModel, c.tgtVocabSize, { rng }));
    for (const p of this.parameters()) if (p.rank > 1) xavierUniform(p, rng);
    if (c.tieEmbeddings) this.generator.tie(this.tgtEmbedding.weight);
  }

  /**
   * Restarts the dropout layers' mask sequence from `seed`: the masks from here on depend on this seed
   * alone. The Trainer seeds every step from (its seed, the step), so a resumed run draws the masks an
   * uninterrupted one would have.
   */
  seedDropout(seed: number): void {
    this.#rng.reseed(checkInteger(seed, 'seed', 0, 2 ** 32 - 1));
  }

  /** Pads and checks a batch of source sequences. */
  srcBatch(src: TokenBatch): { ids: Tensor; lengths: Int32Array } {
    return padBatch(src, this.config.padId, this.config.srcVocabSize, this.config.maxLength, 'src', this.device);
  }

  /** Pads and checks a batch of target sequences. */
  tgtBatch(tgt: TokenBatch): { ids: Tensor; lengths: Int32Array } {
    return padBatch(tgt, this.config.padId, this.config.tgtVocabSize, this.config.maxLength, 'tgt', this.device);
  }

  /** The encoder's output [B, Ls, dModel] for a batch of source sequences. */
  encode(src: TokenBatch): Tensor {
    const { ids, lengths } = this.srcBatch(src);
    return this.encodeIds(ids, lengths);
  }

  /** @internal {@link encode} on an already padded batch. */
  encodeIds(ids: Tensor, lengths: Int32Array): Tensor {
    this.#checkInference();
    return this.encoder.forward(this.positionalEncoding.forward(this.srcEmbedding.forward(ids)), lengths);
  }

  /** Logits [B, Lt, tgtVocabSize] for target inputs given the encoder's memory and the source lengths. */
  decode(tgt: TokenBatch, memory: Tensor, srcLengths: Int32Array): Tensor {
    const { ids, lengths } = this.tgtBatch(tgt);
    if (!(srcLengths instanceof Int32Array) || srcLengths.length !== memory.shape[0]) {
      throw new InvalidArgumentError(`Expected an Int32Array of ${memory.shape[0]} source lengths for srcLengths but received ${describe(srcLengths)}`);
    }
    return this.decodeIds(ids, lengths, memory, srcLengths);
  }

  /** @internal {@link decode} on an already padded batch. */
  decodeIds(ids: Tensor, lengths: Int32Array, memory: Tensor, srcLengths: Int32Array): Tensor {
    this.#checkInference();
    const x = this.positionalEncoding.forward(this.tgtEmbedding.forward(ids));
    return this.generator.forward(this.decoder.forward(x, memory, lengths, srcLengths));
  }

  /** Logits [B, Lt, tgtVocabSize] of the target inputs `tgt` given the sources `src` (teacher forcing). */
  forward(src: TokenBatch, tgt: TokenBatch): Tensor {
    const s = this.srcBatch(src);
    const t = this.tgtBatch(tgt);
    if (s.lengths.length !== t.lengths.length) {
      throw new InvalidArgumentError(`Expected as many target sequences as source sequences (${s.lengths.length}) but received ${t.lengths.length}`);
    }
    return this.decodeIds(t.ids, t.lengths, this.encodeIds(s.ids, s.lengths), s.lengths);
  }

  /**
   * Decodes each source sequence (`src` as in {@link forward}) without blocking the event loop: greedy,
   * beam search or sampling with a key/value cache, in a worker thread for a CPU model (see
   * lib/decode/). Ids come without BOS and EOS; with `returnScores: true`, the nBest hypotheses per
   * source with their log-probability and score. An aborted `signal` rejects with an AbortError.
   *
   * @example
   * const [ids] = await model.generate([Int32Array.of(5, 7, 3)], { strategy: 'beam', beamSize: 4 });
   */
  generate(src: TokenBatch, opts: GenerateOptions & { returnScores: true }): Promise<Hypothesis[][]>;
  generate(src: TokenBatch, opts: GenerateOptions & { returnAttention: true }): Promise<Hypothesis[][]>;
  generate(src: TokenBatch, opts?: GenerateOptions & { returnScores?: false; returnAttention?: false }): Promise<number[][]>;
  generate(src: TokenBatch, opts?: GenerateOptions): Promise<number[][] | Hypothesis[][]>;
  generate(src: TokenBatch, opts?: GenerateOptions): Promise<number[][] | Hypothesis[][]> {
    return generate(this, src, opts);
  }

  /**
   * The ids of one source sequence as they are decided (greedy or sampling); `break` stops the work.
   *
   * @example
   * for await (const id of model.stream([src], { strategy: 'sample', topP: 0.9 })) console.log(id);
   */
  stream(src: TokenBatch, opts?: GenerateOptions): AsyncGenerator<number, void, undefined> {
    return stream(this, src, opts);
  }

  /** Parameters and buffers by name; `{ format: 'pytorch' }` gives the tutorial model's names and layouts. */
  override stateDict(opts?: StateDictOptions): Map<string, Tensor> {
    const state = super.stateDict();
    if (format(opts) === 'nodeformer') return state;
    return new Map([...state].map(([n, t]) => [toPyTorchName(n), toPyTorchLayout(n, t)]));
  }

  /** The gradient of every parameter that has one, by name (PyTorch names with `{ format: 'pytorch' }`). */
  gradients(opts?: StateDictOptions): Map<string, Tensor> {
    const pytorch = format(opts) === 'pytorch';
    const out = new Map<string, Tensor>();
    for (const [n, p] of this.#allNamedParameters()) {
      if (p.grad !== null) out.set(pytorch ? toPyTorchName(n) : n, p.grad);
    }
    return out;
  }

  // Every parameter name, tied ones included (PyTorch lists a tied weight under each name too).
  #allNamedParameters(): Array<[string, Tensor]> {
    return [...super.stateDict()].filter(([, t]) => t.requiresGrad);
  }

  /**
   * Quantizes the model in place for inference and returns it: every matrix (each Linear's weight, the
   * attention projections, the generator, both embedding tables) keeps int8 values with a float32 scale
   * per row (symmetric, as CTranslate2), and holds their dequantized values in float32. `generate` (and
   * the Translator) then multiply with int8 GEMMs on the CPU, quantizing the activations per row at run
   * time; `forward` under `noGrad` computes with the dequantized weights in float32; `save` writes the
   * int8 values (about a quarter of the bytes). Training a quantized model is an InvalidArgumentError
   * (forward outside noGrad), which changes nothing. CPU models only; quantizing twice changes nothing.
   * `{ generator: false }` leaves the generator (and a target embedding tied to it) in float32.
   *
   * @example
   * const model = (await Transformer.load('models/en-es')).quantize('int8');
   * await model.generate([[5, 9, 2]]);
   */
  quantize(kind: Quantization, options?: QuantizeOptions): this {
    checkOneOf(kind, 'kind', ['int8'] as const);
    const o = checkOptions<QuantizeOptions>(options, 'options', ['generator']);
    const generator = o.generator === undefined ? true : checkBoolean(o.generator, 'options.generator');
    if (this.device !== 'cpu') throw new DeviceError(`quantize('int8') needs a CPU model but this one is on ${this.device}; quantize it before moving it`);
    this.#int8 ??= quantizeMatrices(this, generator ? [] : [this.generator.weight]);
    return this;
  }

  /** 'int8' once {@link quantize}d (or loaded from a quantized checkpoint), else null. */
  get quantization(): Quantization | null {
    return this.#int8 === null ? null : 'int8';
  }

  /** @internal The per-row scales of quantized matrix `w`, or null (a float32 model or matrix). */
  int8Scales(w: Tensor): Float32Array | null {
    return this.#int8?.get(w) ?? null;
  }

  /** @internal Every quantized matrix's scales by its name (what a decoding worker needs), or null. */
  int8ScalesByName(): Record<string, Float32Array> | null {
    const int8 = this.#int8;
    return int8 === null ? null : Object.fromEntries(int8Matrices(this).filter(([, w]) => int8.has(w)).map(([name, w]) => [name, int8.get(w)!]));
  }

  /**
   * @internal Marks this model, whose matrices named in `scales` already hold q·s, as quantized with
   * those scales (the others stay float32).
   */
  adoptInt8Scales(scales: Record<string, Float32Array>): void {
    const matrices = new Map(this.#allNamedParameters().filter(([, t]) => t.rank === 2)); // a tied matrix under each name
    const bad = Object.keys(scales).filter((name) => scales[name]!.length !== matrices.get(name)?.shape[0]);
    if (bad.length > 0) throw new FormatError(`Expected int8 scales of a matrix of this model, one per row, but ${quoteList(bad, 3)} are not`);
    this.#int8 = new Map(Object.entries(scales).map(([name, s]) => [matrices.get(name)!, s]));
  }

  override loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, opts?: LoadStateDictOptions): void {
    if (this.#int8 !== null) throw new InvalidArgumentError('Cannot load a state dict into a quantized model (its scales would no longer match): load it into a float32 model, then quantize');
    super.loadStateDict(state, opts);
  }

  #checkInference(): void {
    if (this.#int8 !== null && isGradEnabled()) {
      throw new InvalidArgumentError('This model is quantized (int8) for inference: run forward under noGrad(), or train the float32 model and quantize it afterwards');
    }
  }

  /**
   * Writes `config.json` and `model.safetensors` into `dir` (created if needed), each atomically. `dtype`
   * 'F16' or 'BF16' stores the weights in half the bytes (rounded to nearest even); `load` widens them back.
   */
  async save(dir: string, options?: SaveOptions): Promise<void> {
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError(`Expected a directory path for dir but received ${describe(dir)}`);
    const o = checkOptions<SaveOptions>(options, 'options', ['dtype']);
    const state = super.stateDict();
    const int8 = new Set<string>();
    for (const [name, w] of state) {
      const scales = this.#int8?.get(w);
      if (scales === undefined) continue;
      state.set(name, new Tensor(Float32Array.from(int8Values(cpuData(w, name, 'float32'), scales, w.shape[1]!)), w.shape));
      state.set(`${name}${SCALE_SUFFIX}`, new Tensor(scales.slice(), Object.freeze([scales.length])));
      int8.add(name);
    }
    await mkdir(dir, { recursive: true });
    await saveSafetensors(join(dir, WEIGHTS_FILE), state, { format: 'nodeformer' }, { dtype: o.dtype, int8 });
    await writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(this.config, null, 2)}\n`);
  }

  /** A model saved by {@link save}; `{ quantize: 'int8' }` quantizes it as it loads. */
  static async load(dir: string, options?: LoadOptions): Promise<Transformer> {
    const o = checkOptions<LoadOptions>(options, 'options', ['quantize', 'quantizeGenerator']);
    const quantize = o.quantize === undefined ? null : checkOneOf(o.quantize, 'options.quantize', ['int8'] as const);
    const generator = o.quantizeGenerator === undefined ? true : checkBoolean(o.quantizeGenerator, 'options.quantizeGenerator');
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError(`Expected a directory path for dir but received ${describe(dir)}`);
    const configPath = join(dir, CONFIG_FILE);
    let text: string;
    try {
      text = await readFile(configPath, 'utf8');
    } catch (cause) {
      throw new FormatError(`Cannot read the model config ${configPath}: ${(cause as Error).message}`, { cause });
    }
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch (cause) {
      throw new FormatError(`${configPath} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
    const model = new Transformer(config as TransformerConfig);
    const { tensors } = await loadSafetensors(join(dir, WEIGHTS_FILE));
    // A quantized checkpoint: each matrix's int8 values beside its scales, dequantized into the weight.
    const scales: Record<string, Float32Array> = {};
    for (const [scaleName, s] of [...tensors].filter(([n]) => n.endsWith(SCALE_SUFFIX))) {
      const name = scaleName.slice(0, -SCALE_SUFFIX.length), q = tensors.get(name);
      if (q === undefined || q.rank !== 2 || s.rank !== 1 || s.shape[0] !== q.shape[0]) {
        throw new FormatError(`${join(dir, WEIGHTS_FILE)}: '${scaleName}' must hold one scale per row of a matrix '${name}'`);
      }
      scales[name] = s.toFloat32Array();
      tensors.set(name, new Tensor(dequantize(q.toFloat32Array(), scales[name], q.shape[1]!), q.shape));
      tensors.delete(scaleName);
    }
    model.loadStateDict(tensors);
    if (Object.keys(scales).length > 0) model.adoptInt8Scales(scales);
    else if (quantize !== null) model.quantize(quantize, { generator });
    return model;
  }

  /** The weights in the tutorial model's names and layouts, as a safetensors file PyTorch can load. */
  async savePyTorch(file: string): Promise<void> {
    await saveSafetensors(file, this.stateDict({ format: 'pytorch' }));
  }

  /**
   * A model with the weights of PyTorch's tutorial `Seq2SeqTransformer`, saved as safetensors (e.g.
   * `safetensors.torch.save_file(model.state_dict(), file)`). `config` gives what the weights do not
   * (heads, padId, …); every name and shape is checked against it.
   */
  static fromPyTorch(file: string, config: TransformerConfig): Transformer {
    if (typeof file !== 'string') throw new InvalidArgumentError(`Expected a file path for file but received ${describe(file)}`);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (cause) {
      throw new FormatError(`Cannot read the PyTorch weights ${file}: ${(cause as Error).message}`, { cause });
    }
    const { tensors } = decodeSafetensors(bytes);
    const model = new Transformer(config);
    // PyTorch's name of each of our parameters and buffers.
    const ourName = new Map([...model.stateDict().keys()].map((n) => [toPyTorchName(n), n]));
    for (const torchName of tensors.keys()) {
      if (!ourName.has(torchName)) {
        throw new FormatError(`${file} holds '${torchName}', which the tutorial's Seq2SeqTransformer with this config does not have`);
      }
    }
    const missing = [...ourName.keys()].filter((n) => !tensors.has(n));
    if (missing.length > 0) throw new FormatError(`${file} lacks ${quoteList(missing, 5)}`);
    const { maxLength, dModel } = model.config;
    model.loadStateDict(new Map([...ourName].map(([torchName, name]) => {
      const t = tensors.get(torchName)!;
      return [name, torchName === POSITIONAL_BUFFER ? fromPyTorchPositional(t, maxLength, dModel) : t];
    })));
    return model;
  }
}

function format(opts: StateDictOptions | undefined): 'nodeformer' | 'pytorch' {
  const o = checkOptions<StateDictOptions>(opts, 'options', ['format']);
  return o.format === undefined ? 'nodeformer' : checkOneOf(o.format, 'options.format', ['nodeformer', 'pytorch'] as const);
}
