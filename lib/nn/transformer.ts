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

import { checkInteger, checkOneOf, checkOptions, describe, quoteList } from '../check.js';
import { generate, stream } from '../decode/generate.js';
import type { GenerateOptions } from '../decode/options.js';
import type { Hypothesis } from '../decode/search.js';
import { FormatError, InvalidArgumentError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { decodeSafetensors, loadSafetensors, type SafetensorsFloatDType, saveSafetensors } from '../io/safetensors.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ResolvedConfig, resolveConfig, type TransformerConfig } from './config.js';
import { Decoder } from './decoder.js';
import { Embedding } from './embedding.js';
import { Encoder } from './encoder.js';
import { xavierUniform } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
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
  /** How the weights are stored: 'F32' (default), or 'F16' / 'BF16' (half the size, rounded to nearest even). */
  dtype?: SafetensorsFloatDType;
}

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
   * Writes `config.json` and `model.safetensors` into `dir` (created if needed), each atomically. `dtype`
   * 'F16' or 'BF16' stores the weights in half the bytes (rounded to nearest even); `load` widens them back.
   */
  async save(dir: string, options?: SaveOptions): Promise<void> {
    if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError(`Expected a directory path for dir but received ${describe(dir)}`);
    const o = checkOptions<SaveOptions>(options, 'options', ['dtype']);
    await mkdir(dir, { recursive: true });
    await saveSafetensors(join(dir, WEIGHTS_FILE), super.stateDict(), { format: 'nodeformer' }, { dtype: o.dtype });
    await writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(this.config, null, 2)}\n`);
  }

  /** A model saved by {@link save}. */
  static async load(dir: string): Promise<Transformer> {
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
    model.loadStateDict(tensors);
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
