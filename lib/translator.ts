/**
 * A translation model with its tokenizers, saved and loaded as one folder:
 *
 *   config.json, model.safetensors   the Transformer (Transformer.save)
 *   tokenizer.json                   one tokenizer for both sides (a shared vocabulary), or
 *   source.tokenizer.json, target.tokenizer.json
 *
 * `translate` encodes the sources as training did (`<bos> … <eos>`), decodes them in batches of similar
 * length (little padding, rows that finish together), and returns the texts in input order.
 *
 * @example
 * const translator = await Translator.default();             // the English→Spanish model in the package
 * const [es] = await translator.translate('In the beginning God created the heavens and the earth.');
 * const n = await translator.translate(['Jesus wept.'], { strategy: 'beam', beamSize: 4 });
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, fail } from './check.js';
import type { AttentionMap } from './decode/attention.js';
import type { GenerateOptions } from './decode/options.js';
import { FormatError, InvalidArgumentError } from './errors.js';
import type { Hypothesis } from './decode/search.js';
import { type LoadOptions, type SaveOptions, Transformer } from './nn/transformer.js';
import { Tokenizer } from './tokenizer/tokenizer.js';

const SHARED = 'tokenizer.json', SOURCE = 'source.tokenizer.json', TARGET = 'target.tokenizer.json';
/** Rows of one generate call: enough for the GEMMs to be efficient, few enough that a long row does not hold many. */
const BATCH_ROWS = 32;

/** A translation with the cross-attention behind it ({@link Translator.attend}). */
export interface Alignment {
  text: string;
  /** The source's tokens as the model saw them, `<bos>` and `<eos>` included: the map's source axis. */
  sourceTokens: string[];
  /** The emitted target tokens (no BOS, no EOS): the map's target axis. */
  targetTokens: string[];
  /** Weights [layers, heads, target, source], per layer and head (average them for one picture). */
  attention: AttentionMap;
}

export type { AttentionMap };

/** The folder of the model that ships in the package. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../models/en-es', import.meta.url));

export class Translator {
  readonly model: Transformer;
  readonly source: Tokenizer;
  readonly target: Tokenizer;

  /** `target` defaults to `source` (one shared vocabulary). */
  constructor(model: Transformer, source: Tokenizer, target: Tokenizer = source) {
    if (!(model instanceof Transformer)) fail('a Transformer', 'model', model);
    if (!(source instanceof Tokenizer)) fail('a Tokenizer', 'source', source);
    if (!(target instanceof Tokenizer)) fail('a Tokenizer', 'target', target);
    const c = model.config;
    if (source.vocabSize > c.srcVocabSize) {
      throw new InvalidArgumentError(`Expected a source tokenizer of at most srcVocabSize ${c.srcVocabSize} tokens but it has ${source.vocabSize}`);
    }
    if (target.vocabSize > c.tgtVocabSize) {
      throw new InvalidArgumentError(`Expected a target tokenizer of at most tgtVocabSize ${c.tgtVocabSize} tokens but it has ${target.vocabSize}`);
    }
    this.model = model.eval();
    this.source = source;
    this.target = target;
  }

  /**
   * A translator saved by {@link save} (or a training run's output folder); `{ quantize: 'int8' }`
   * quantizes its model as it loads (see {@link Transformer.quantize}: int8 GEMMs in decoding).
   */
  static async load(dir: string, options?: LoadOptions): Promise<Translator> {
    if (typeof dir !== 'string' || dir === '') fail('a directory path', 'dir', dir);
    if (!existsSync(join(dir, 'config.json'))) throw new FormatError(`${dir} holds no translator: config.json is missing`);
    const tokenizers = await Translator.loadTokenizers(dir);
    if (tokenizers === null) throw new FormatError(`${dir} has a model but no tokenizer: expected ${SHARED}, or ${SOURCE} and ${TARGET}`);
    return new Translator(await Transformer.load(dir, options), tokenizers.source, tokenizers.target);
  }

  /** The tokenizers of a translator folder (the same object twice when shared), or null when it has none. */
  static async loadTokenizers(dir: string): Promise<{ source: Tokenizer; target: Tokenizer } | null> {
    if (existsSync(join(dir, SHARED))) {
      const shared = await Tokenizer.load(join(dir, SHARED));
      return { source: shared, target: shared };
    }
    if (existsSync(join(dir, SOURCE)) && existsSync(join(dir, TARGET))) {
      return { source: await Tokenizer.load(join(dir, SOURCE)), target: await Tokenizer.load(join(dir, TARGET)) };
    }
    return null;
  }

  /** Writes the tokenizers as a translator folder holds them (one file when they are the same object). */
  static async saveTokenizers(dir: string, source: Tokenizer, target: Tokenizer): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (source === target) await source.save(join(dir, SHARED));
    else {
      await source.save(join(dir, SOURCE));
      await target.save(join(dir, TARGET));
    }
  }

  /** The small English→Spanish model that ships inside the package (no download). */
  static async default(): Promise<Translator> {
    return Translator.load(DEFAULT_MODEL_DIR);
  }

  /**
   * Writes the files {@link load} reads into `dir` (created if needed; other files there, such as a training
   * run's checkpoints, stay), each atomically; `dtype` as {@link Transformer.save} ('F16' halves the weights).
   */
  async save(dir: string, options?: SaveOptions): Promise<void> {
    if (typeof dir !== 'string' || dir === '') fail('a directory path', 'dir', dir);
    await Translator.saveTokenizers(dir, this.source, this.target);
    // The model last: a folder with config.json is a translator to load.
    await this.model.save(dir, options);
  }

  /**
   * Translates `texts` (one string or many) with the generate options (greedy by default); resolves with
   * one translation per text, in order. An empty or blank text translates to ''.
   */
  async translate(texts: string | readonly string[], options?: GenerateOptions): Promise<string[]> {
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list)) fail('a string or an array of strings', 'texts', texts);
    list.forEach((t, i) => {
      if (typeof t !== 'string') fail('a string', `texts[${i}]`, t);
    });
    if (options !== undefined && (options === null || typeof options !== 'object')) fail('an options object', 'options', options);
    if (options?.prefix !== undefined) {
      throw new InvalidArgumentError(`options.prefix takes token ids per source; translate takes texts, so it is not supported here (received ${describe(options.prefix)})`);
    }
    const { maxLength } = this.model.config;
    const out = new Array<string>(list.length).fill('');
    const encoded = list.map((t) => (t.trim() === '' ? null : this.source.encode(t, { addSpecial: true }) as number[]));
    encoded.forEach((ids, i) => {
      if (ids !== null && ids.length > maxLength) {
        throw new InvalidArgumentError(`Expected texts of at most ${maxLength} tokens (the model's maxLength) but texts[${i}] has ${ids.length}`);
      }
    });
    const order = encoded.flatMap((ids, i) => (ids === null ? [] : [i])).sort((a, b) => encoded[a]!.length - encoded[b]!.length);
    for (let c = 0; c < order.length; c += BATCH_ROWS) {
      const chunk = order.slice(c, c + BATCH_ROWS);
      const ids = await this.model.generate(chunk.map((i) => Int32Array.from(encoded[i]!)), { ...options, returnScores: false, returnAttention: false });
      chunk.forEach((i, j) => (out[i] = this.target.decode(ids[j]!)));
    }
    return out;
  }

  /**
   * Translates one text and returns where each output token looked: the cross-attention weights of every
   * layer and head over the source tokens (the alignment of the paper's §3.2.3), with the tokens of both
   * axes. `nodeformer attend` draws it.
   */
  async attend(text: string, options?: GenerateOptions): Promise<Alignment> {
    if (typeof text !== 'string') fail('a string', 'text', text);
    if (options !== undefined && (options === null || typeof options !== 'object')) fail('an options object', 'options', options);
    if (options?.prefix !== undefined) throw new InvalidArgumentError('options.prefix takes token ids; attend takes a text, so it is not supported here');
    const src = this.source.encode(text, { addSpecial: true }) as number[];
    const { maxLength } = this.model.config;
    if (src.length > maxLength) throw new InvalidArgumentError(`Expected a text of at most ${maxLength} tokens (the model's maxLength) but it has ${src.length}`);
    const [[best]] = await this.model.generate([Int32Array.from(src)], { ...options, returnAttention: true, nBest: 1 }) as [[Hypothesis]];
    const token = (t: Tokenizer) => (id: number) => t.idToToken(id) ?? `<${id}>`;
    return { text: this.target.decode(best.ids), sourceTokens: src.map(token(this.source)), targetTokens: best.ids.map(token(this.target)), attention: best.attention! };
  }
}
