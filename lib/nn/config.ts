/**
 * The hyper-parameters of a Transformer, validated in one place. Defaults are the paper's base model
 * (Table 3): dModel 512, 8 heads, 6 + 6 layers, FFN 2048, dropout 0.1, post-norm, ReLU.
 */
import { checkBoolean, checkInteger, checkNumber, checkOneOf, checkOptions, describe } from '../check.js';
import { InvalidArgumentError } from '../errors.js';
import type { Activation } from './feed_forward.js';

export interface TransformerConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  dModel?: number;
  heads?: number;
  encoderLayers?: number;
  decoderLayers?: number;
  ffnDim?: number;
  /** Dropout probability after every sublayer, on the embeddings and inside the FFN. */
  dropout?: number;
  /** The longest sequence (rows of the positional table). */
  maxLength?: number;
  activation?: Activation;
  /** Pre-norm residual connections (false: the paper's post-norm). */
  normFirst?: boolean;
  /** The generator reuses the target embedding table. */
  tieEmbeddings?: boolean;
  padId?: number;
  bosId?: number;
  eosId?: number;
  /** Seeds the initial weights and the dropout masks (default 0). */
  seed?: number;
}

export type ResolvedConfig = Required<TransformerConfig>;

const KEYS = [
  'srcVocabSize', 'tgtVocabSize', 'dModel', 'heads', 'encoderLayers', 'decoderLayers', 'ffnDim', 'dropout',
  'maxLength', 'activation', 'normFirst', 'tieEmbeddings', 'padId', 'bosId', 'eosId', 'seed',
] as const;

const MAX_DIM = 2 ** 24;

/**
 * Checks `config` (unknown keys are errors, except `extraKeys`, which the caller checks) and fills in the
 * defaults. An encoder-only model (the task heads) needs no tgtVocabSize.
 */
export function resolveConfig(config: unknown, opts: { encoderOnly?: boolean; extraKeys?: readonly string[] } = {}, name = 'config'): ResolvedConfig {
  const extraKeys = opts.extraKeys ?? [];
  if (config === undefined) throw new InvalidArgumentError(`Expected a config object for ${name} but received undefined`);
  const c = checkOptions<TransformerConfig>(config, name, [...KEYS, ...extraKeys]);
  const int = (key: keyof TransformerConfig, fallback: number | undefined, min: number, max = MAX_DIM) => {
    const v = c[key];
    if (v === undefined) {
      if (fallback === undefined) throw new InvalidArgumentError(`Expected an integer for ${name}.${key} but received ${describe(v)}`);
      return fallback;
    }
    return checkInteger(v, `${name}.${key}`, min, max);
  };
  const srcVocabSize = int('srcVocabSize', undefined, 1);
  const tgtVocabSize = int('tgtVocabSize', opts.encoderOnly ? srcVocabSize : undefined, 1);
  const dModel = int('dModel', 512, 1);
  const heads = int('heads', 8, 1, dModel);
  if (dModel % heads !== 0) {
    throw new InvalidArgumentError(`Expected ${name}.dModel (${dModel}) to be a multiple of ${name}.heads (${heads})`);
  }
  const vocab = Math.min(srcVocabSize, tgtVocabSize);
  const resolved: ResolvedConfig = {
    srcVocabSize,
    tgtVocabSize,
    dModel,
    heads,
    encoderLayers: int('encoderLayers', 6, 0, 1024),
    decoderLayers: int('decoderLayers', 6, 0, 1024),
    ffnDim: int('ffnDim', 2048, 1),
    dropout: c.dropout === undefined ? 0.1 : checkNumber(c.dropout, `${name}.dropout`, 0, 1, true),
    maxLength: int('maxLength', 1024, 1),
    activation: c.activation === undefined ? 'relu' : checkOneOf(c.activation, `${name}.activation`, ['relu', 'gelu'] as const),
    normFirst: c.normFirst === undefined ? false : checkBoolean(c.normFirst, `${name}.normFirst`),
    tieEmbeddings: c.tieEmbeddings === undefined ? false : checkBoolean(c.tieEmbeddings, `${name}.tieEmbeddings`),
    padId: int('padId', 0, 0, vocab - 1),
    bosId: int('bosId', Math.min(1, vocab - 1), 0, vocab - 1),
    eosId: int('eosId', Math.min(2, vocab - 1), 0, vocab - 1),
    seed: int('seed', 0, 0, 2 ** 32 - 1),
  };
  return resolved;
}
