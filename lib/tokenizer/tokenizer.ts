/**
 * The `Tokenizer`: text ↔ token ids through Hugging Face's pipeline of components — added tokens, then
 * normalizer, pre-tokenizer, model, post-processor; and back through the decoder. The trainable kinds
 * (`CharTokenizer`, `WordTokenizer`, `BPETokenizer`, `WordPieceTokenizer`) are presets of it, and its
 * JSON form is Hugging Face's tokenizer.json, so one file format serves both directions.
 *
 * @example
 * const tok = BPETokenizer.train(lines, { vocabSize: 8000 });
 * const ids = tok.encode('In the beginning', { addSpecial: true }); // [1, …, 2]: <bos> … <eos>
 * tok.decode(ids); // 'In the beginning'
 * await tok.save('tokenizer.json');
 */
import { readFile } from 'node:fs/promises';

import { checkOptions, describe, fail } from '../check.js';
import { FormatError, InvalidArgumentError, OutOfRangeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type AddedToken, addedTokenJson, AddedTokens } from './added_tokens.js';
import { byteOffsets, toByteChars } from './byte_level.js';
import type { DecoderStep } from './decoder.js';
import { parseTokenizerJson } from './huggingface.js';
import type { Model } from './models/model.js';
import { aligned, type NormalizerStep, spanOf } from './normalizer.js';
import type { PostProcessor } from './post_processor.js';
import { forEachPiece, positionIn, preTokenize, type PreTokenizerStep } from './pre_tokenizer.js';

/** The components of a tokenizer, as tokenizer.json lists them. */
export interface Pipeline {
  readonly normalizer: NormalizerStep | null;
  readonly preTokenizer: PreTokenizerStep | null;
  readonly model: Model;
  readonly postProcessor: PostProcessor | null;
  readonly decoder: DecoderStep | null;
  readonly addedTokens: readonly AddedToken[];
}

export interface EncodeOptions {
  /** Add the special tokens around the text (`<bos>` … `<eos>`; BERT's `[CLS]` … `[SEP]`). Default false: only when asked. */
  addSpecial?: boolean;
  /** Return an {@link Encoding} with each token's string and its span in the input. Default false. */
  offsets?: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens (`<pad>`, `<bos>`, `<eos>`, …) but not the unknown token. Default true. */
  skipSpecial?: boolean;
}

/** Token ids with what they stand for: `text.slice(...offsets[i])` is the text of token i. */
export interface Encoding {
  readonly ids: number[];
  readonly tokens: string[];
  /** [start, end) in UTF-16 units of the input; special tokens added around it have [0, 0]. */
  readonly offsets: Array<[number, number]>;
}

/** A subclass that `Tokenizer.fromJSON` can produce: it says which pipelines are its own. */
interface Kind {
  new (pipeline: Pipeline): Tokenizer;
  accepts(pipeline: Pipeline): boolean;
}

const KINDS: Kind[] = [];

/** Registers a subclass for `fromJSON` (each subclass module does this when it loads). */
export function registerKind(kind: Kind): void {
  KINDS.push(kind);
}

/** Pieces up to this length are cached (piece → ids): real text repeats its words. */
const CACHE_PIECE_LENGTH = 64;
const CACHE_ENTRIES = 1 << 16;

const PAD_NAMES = ['<pad>', '[PAD]', '<|pad|>'];
const BOS_NAMES = ['<bos>', '<s>', '[CLS]', '<|begin_of_text|>', '<|endoftext|>'];
const EOS_NAMES = ['<eos>', '</s>', '[SEP]', '<|end_of_text|>', '<|endoftext|>'];

export class Tokenizer {
  /** Number of ids: the model's vocabulary and the added tokens. */
  readonly vocabSize: number;
  /** Ids of the usual special tokens, where the vocabulary has them (this package's own: 0, 1, 2, 3). */
  readonly padId: number | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly unkId: number | undefined;
  readonly #pipeline: Pipeline;
  readonly #added: AddedTokens;
  readonly #byteLevel: boolean;
  readonly #cache = new Map<string, number[]>();

  /** Tokenizers come from `train` or `fromJSON`; this assembles one from its components. */
  constructor(pipeline: Pipeline) {
    this.#pipeline = pipeline;
    this.#added = new AddedTokens(pipeline.addedTokens);
    this.#byteLevel = pipeline.preTokenizer?.byteLevel ?? false;
    const model = pipeline.model;
    this.vocabSize = Math.max(model.vocab.size, ...pipeline.addedTokens.map((t) => t.id + 1));
    const find = (names: string[]) => {
      for (const n of names) {
        const id = this.tokenToId(n);
        if (id !== undefined) return id;
      }
      return undefined;
    };
    this.padId = find(PAD_NAMES);
    this.bosId = find(BOS_NAMES);
    this.eosId = find(EOS_NAMES);
    this.unkId = model.unkToken === null ? undefined : this.tokenToId(model.unkToken);
  }

  /** The token string of `id`, or undefined outside the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.#added.byId.get(id)?.content ?? this.#pipeline.model.vocab.tokens[id];
  }

  /** The id of a token string (a vocabulary entry such as "##ing" or "Ġthe", not text), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.#added.byContent.get(token)?.id ?? this.#pipeline.model.vocab.id(token);
  }

  /** Token ids of `text`; with `{ offsets: true }`, an {@link Encoding} with tokens and spans. */
  encode(text: string, options?: EncodeOptions & { offsets?: false }): number[];
  encode(text: string, options: EncodeOptions & { offsets: true }): Encoding;
  encode(text: string, options?: EncodeOptions): number[] | Encoding;
  encode(text: string, options: EncodeOptions = {}): number[] | Encoding {
    if (typeof text !== 'string') fail('a string', 'text', text);
    const { addSpecial, offsets } = checkEncodeOptions(options);
    return offsets ? this.#encodeWithOffsets(text, addSpecial) : this.#encodeIds(text, addSpecial);
  }

  /** `encode` of each text. */
  encodeBatch(texts: readonly string[], options?: EncodeOptions & { offsets?: false }): number[][];
  encodeBatch(texts: readonly string[], options: EncodeOptions & { offsets: true }): Encoding[];
  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): number[][] | Encoding[] {
    if (!Array.isArray(texts)) fail('an array of strings', 'texts', texts);
    texts.forEach((t, i) => typeof t === 'string' || fail('a string', `texts[${i}]`, t));
    const { addSpecial, offsets } = checkEncodeOptions(options);
    return offsets ? texts.map((t) => this.#encodeWithOffsets(t, addSpecial)) : texts.map((t) => this.#encodeIds(t, addSpecial));
  }

  /** Text of token ids (an array or typed array of integers in [0, vocabSize)). */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (!Array.isArray(ids) && !ArrayBuffer.isView(ids)) fail('an array of token ids', 'ids', ids);
    const skipSpecial = checkOptions<DecodeOptions>(options, 'decode options', ['skipSpecial']).skipSpecial ?? true;
    if (typeof skipSpecial !== 'boolean') fail('a boolean', 'options.skipSpecial', skipSpecial);
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const token = typeof id === 'number' && Number.isInteger(id) ? this.idToToken(id) : undefined;
      if (token === undefined) {
        throw new OutOfRangeError(`ids[${i}] is ${describe(id)}: token ids are integers in [0, ${this.vocabSize})`);
      }
      // `<unk>` stands for text that was there, so it stays.
      if (skipSpecial && id !== this.unkId && this.#added.byId.get(id)?.special) continue;
      tokens.push(token);
    }
    const decoder = this.#pipeline.decoder;
    return decoder ? decoder.decode(tokens).join('') : tokens.join(' ');
  }

  /** `decode` of each sequence. */
  decodeBatch(batch: ReadonlyArray<ArrayLike<number>>, options: DecodeOptions = {}): string[] {
    if (!Array.isArray(batch)) fail('an array of id sequences', 'batch', batch);
    return batch.map((ids) => this.decode(ids, options));
  }

  /** Hugging Face's tokenizer.json form: `JSON.stringify` it, load it here or in `tokenizers`. */
  toJSON(): Record<string, unknown> {
    const p = this.#pipeline;
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: p.addedTokens.map(addedTokenJson),
      normalizer: p.normalizer?.json ?? null,
      pre_tokenizer: p.preTokenizer?.json ?? null,
      post_processor: p.postProcessor?.json ?? null,
      decoder: p.decoder?.json ?? null,
      model: p.model.json(),
    };
  }

  /**
   * A tokenizer from its JSON (an object or a string): what `toJSON` wrote, or any supported Hugging Face
   * tokenizer.json. Called on a subclass (`BPETokenizer.fromJSON`), the JSON must be of that kind.
   */
  static fromJSON<T extends Tokenizer>(this: { prototype: T }, json: unknown): T {
    const pipeline = parseTokenizerJson(typeof json === 'string' ? parseText(json, 'tokenizer JSON') : json);
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass the call was made on (BPETokenizer.fromJSON)
    const self = this as unknown as Kind;
    if ((self as unknown) !== Tokenizer) {
      if (!self.accepts(pipeline)) {
        throw new InvalidArgumentError(`${self.name}.fromJSON: this JSON is a ${kindName(pipeline)} tokenizer; load it with Tokenizer.fromJSON`);
      }
      return new self(pipeline) as T;
    }
    const kind = KINDS.find((k) => k.accepts(pipeline));
    return (kind ? new kind(pipeline) : new Tokenizer(pipeline)) as T;
  }

  /** A Hugging Face tokenizer.json (BPE, byte-level BPE, WordPiece, WordLevel models); same as `fromJSON`. */
  static fromHuggingFace(tokenizerJson: unknown): Tokenizer {
    return Tokenizer.fromJSON(tokenizerJson);
  }

  /** Writes `toJSON()` to `path` atomically. */
  async save(path: string): Promise<void> {
    await writeFileAtomic(path, JSON.stringify(this.toJSON()));
  }

  /** Reads a tokenizer.json file. */
  static async load(path: string): Promise<Tokenizer> {
    if (typeof path !== 'string' || !path) fail('a file path', 'path', path);
    return Tokenizer.fromJSON(parseText(await readFile(path, 'utf8'), path));
  }

  #encodeIds(text: string, addSpecial: boolean): number[] {
    const { normalizer, postProcessor } = this.#pipeline;
    const ids: number[] = [];
    if (addSpecial && postProcessor) ids.push(...postProcessor.before);
    for (const seg of this.#added.split(text)) {
      if (seg.id !== undefined) {
        ids.push(seg.id);
        continue;
      }
      const raw = text.slice(seg.from, seg.to);
      forEachPiece(this.#pipeline.preTokenizer, normalizer ? normalizer.apply(raw) : raw, (piece) => this.#tokenizePiece(piece.text, ids));
    }
    if (addSpecial && postProcessor) ids.push(...postProcessor.after);
    return ids;
  }

  /** Appends the ids of one piece, through the cache where the model benefits from one. */
  #tokenizePiece(piece: string, ids: number[]): void {
    const model = this.#pipeline.model;
    if (!model.cacheable) {
      model.tokenize(this.#byteLevel ? toByteChars(piece) : piece, ids);
      return;
    }
    const cached = this.#cache.get(piece);
    if (cached) {
      for (const id of cached) ids.push(id);
      return;
    }
    const from = ids.length;
    model.tokenize(this.#byteLevel ? toByteChars(piece) : piece, ids);
    if (piece.length <= CACHE_PIECE_LENGTH) {
      if (this.#cache.size >= CACHE_ENTRIES) this.#cache.clear();
      this.#cache.set(piece, ids.slice(from));
    }
  }

  #encodeWithOffsets(text: string, addSpecial: boolean): Encoding {
    const { normalizer, postProcessor, model } = this.#pipeline;
    const ids: number[] = [];
    const offsets: Array<[number, number]> = [];
    const special = (list: readonly number[]) => list.forEach((id) => (ids.push(id), offsets.push([0, 0])));
    if (addSpecial && postProcessor) special(postProcessor.before);
    for (const seg of this.#added.split(text)) {
      if (seg.id !== undefined) {
        ids.push(seg.id);
        offsets.push([seg.from, seg.to]);
        continue;
      }
      const raw = aligned(text.slice(seg.from, seg.to));
      const norm = normalizer ? normalizer.applyAligned(raw) : raw;
      for (const piece of preTokenize(this.#pipeline.preTokenizer, norm.text)) {
        const ends: number[] = [];
        const from = ids.length;
        const word = this.#byteLevel ? toByteChars(piece.text) : piece.text;
        model.tokenize(word, ids, ends);
        // Token ends are in `word` units: bytes for byte-level models, else units of the piece.
        const bytes = this.#byteLevel ? byteOffsets(piece.text) : null;
        let prev = 0;
        for (let k = 0; k < ids.length - from; k++) {
          const a = bytes ? bytes.start[prev]! : prev;
          const b = bytes ? bytes.end[ends[k]!]! : ends[k]!;
          const [s, e] = spanOf(norm, positionIn(piece, a), positionIn(piece, b));
          offsets.push([seg.from + s, seg.from + e]);
          prev = ends[k]!;
        }
      }
    }
    if (addSpecial && postProcessor) special(postProcessor.after);
    return { ids, tokens: ids.map((id) => this.idToToken(id)!), offsets };
  }
}

function checkEncodeOptions(options: unknown): { addSpecial: boolean; offsets: boolean } {
  const o = checkOptions<EncodeOptions>(options, 'encode options', ['addSpecial', 'offsets']);
  const addSpecial = o.addSpecial ?? false;
  const offsets = o.offsets ?? false;
  if (typeof addSpecial !== 'boolean') fail('a boolean', 'options.addSpecial', addSpecial);
  if (typeof offsets !== 'boolean') fail('a boolean', 'options.offsets', offsets);
  return { addSpecial, offsets };
}

function parseText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(`Expected JSON in ${what} but it does not parse: ${(e as Error).message}`, { cause: e });
  }
}

function kindName(p: Pipeline): string {
  return KINDS.find((k) => k.accepts(p))?.name ?? p.model.constructor.name;
}
