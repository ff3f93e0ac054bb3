/**
 * The options of `generate` / `stream` (../../README.md, "Decoding"), checked and resolved before any
 * work: an impossible combination is a typed error naming the option, never a silent fallback.
 */
import { checkBoolean, checkInteger, checkNumber, checkOneOf, checkOptions, describe, fail } from '../check.js';
import { InvalidArgumentError, OutOfRangeError } from '../errors.js';

export type Strategy = 'greedy' | 'beam' | 'sample';

/** When beam search stops working on a source that has its nBest finished hypotheses. */
export type BeamStop = 'heuristic' | 'exact';

export interface GenerateOptions {
  /** 'greedy' (default), 'beam' or 'sample'. */
  strategy?: Strategy;
  /** Hypotheses kept per source by beam search (default 4). */
  beamSize?: number;
  /** α of score = logProb / n^α (default 1). */
  lengthPenalty?: number;
  /** Most tokens emitted per source, EOS included (default 1.5·srcLength + 10, capped by the model's maxLength). */
  maxLength?: number;
  /** EOS is forbidden until this many ids are out (default 0). */
  minLength?: number;
  /** Sampling temperature (default 1; 'sample' only). */
  temperature?: number;
  /** Sample among the k most likely tokens (default 0: off). */
  topK?: number;
  /** Sample among the smallest set of tokens whose probability reaches p (default 1: off). */
  topP?: number;
  /** Seed of the sampler (default 0); each source draws from its own generator seeded with it. */
  seed?: number;
  /** Forbid any n-gram of this size from appearing twice in a hypothesis (default 0: off). */
  noRepeatNgram?: number;
  /** CTRL's penalty on tokens already emitted: logit/θ if positive, logit·θ if not (default 1: off). */
  repetitionPenalty?: number;
  /** Forced first target tokens, one array per source (part of the returned ids). */
  prefix?: ReadonlyArray<ReadonlyArray<number>>;
  /** Cancels the call: it rejects with an AbortError and the model stays usable. */
  signal?: AbortSignal;
  /** Return the nBest hypotheses of each source with their logProb and score. */
  returnScores?: boolean;
  /** Hypotheses returned per source with returnScores (default 1; more needs 'beam', at most beamSize). */
  nBest?: number;
  /**
   * When a beam stops once it has nBest finished hypotheses: 'heuristic' (default) when no live
   * hypothesis, ended now, would score better than the worst of them; 'exact' only when none can ever
   * (its log-probability can only fall, so its best is bounded): slower, but what an exhaustive search finds.
   */
  beamStop?: BeamStop;
  /**
   * Also return each hypothesis's cross-attention weights (per layer and head, over the source tokens,
   * for every emitted token): generate then resolves with hypotheses, as with returnScores.
   */
  returnAttention?: boolean;
}

/** What the search loop needs: every option resolved and checked against the batch. */
export interface ResolvedOptions {
  strategy: Strategy;
  /** Rows per source: beamSize for 'beam', else 1. */
  beamSize: number;
  lengthPenalty: number;
  /** Per source. */
  maxLength: Int32Array;
  minLength: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  noRepeatNgram: number;
  repetitionPenalty: number;
  /** Per source (empty arrays when none). */
  prefix: number[][];
  returnScores: boolean;
  nBest: number;
  beamStop: BeamStop;
  returnAttention: boolean;
}

const KNOWN = [
  'strategy', 'beamSize', 'lengthPenalty', 'maxLength', 'minLength', 'temperature', 'topK', 'topP', 'seed',
  'noRepeatNgram', 'repetitionPenalty', 'prefix', 'signal', 'returnScores', 'nBest', 'beamStop', 'returnAttention',
] as const;

/** What resolution needs to know of the model. */
export interface DecodeLimits {
  /** Positions the decoder can take. */
  maxPositions: number;
  tgtVocabSize: number;
}

/**
 * Checks `opts` against the model and the batch's source lengths. The signal is checked too but not
 * returned: it stays on the calling thread.
 */
export function resolveOptions(opts: unknown, limits: DecodeLimits, srcLengths: Int32Array): ResolvedOptions {
  const o = checkOptions<GenerateOptions>(opts, 'options', KNOWN);
  const strategy = o.strategy === undefined ? 'greedy' : checkOneOf(o.strategy, 'options.strategy', ['greedy', 'beam', 'sample'] as const);
  const beam = strategy === 'beam';
  const beamSize = o.beamSize === undefined ? 4 : checkInteger(o.beamSize, 'options.beamSize', 1, 1024);
  const only = (name: keyof GenerateOptions, allowed: Strategy, value: unknown, off: unknown) => {
    if (value !== undefined && value !== off && strategy !== allowed) {
      throw new InvalidArgumentError(`options.${name} applies to strategy '${allowed}' but the strategy is '${strategy}'`);
    }
  };
  only('beamSize', 'beam', o.beamSize, undefined);
  only('beamStop', 'beam', o.beamStop, undefined);
  only('temperature', 'sample', o.temperature, 1);
  only('topK', 'sample', o.topK, 0);
  only('topP', 'sample', o.topP, 1);
  const lengthPenalty = o.lengthPenalty === undefined ? 1 : checkNumber(o.lengthPenalty, 'options.lengthPenalty');
  const minLength = o.minLength === undefined ? 0 : checkInteger(o.minLength, 'options.minLength');
  const temperature = o.temperature === undefined ? 1 : checkNumber(o.temperature, 'options.temperature', Number.MIN_VALUE);
  const topK = o.topK === undefined ? 0 : checkInteger(o.topK, 'options.topK');
  const topP = o.topP === undefined ? 1 : checkNumber(o.topP, 'options.topP', Number.MIN_VALUE, 1);
  const seed = o.seed === undefined ? 0 : checkInteger(o.seed, 'options.seed', 0, 2 ** 32 - 1);
  const noRepeatNgram = o.noRepeatNgram === undefined ? 0 : checkInteger(o.noRepeatNgram, 'options.noRepeatNgram');
  const repetitionPenalty = o.repetitionPenalty === undefined ? 1 : checkNumber(o.repetitionPenalty, 'options.repetitionPenalty', Number.MIN_VALUE);
  const returnScores = o.returnScores === undefined ? false : checkBoolean(o.returnScores, 'options.returnScores');
  const nBest = o.nBest === undefined ? 1 : checkInteger(o.nBest, 'options.nBest', 1);
  if (nBest > 1 && !beam) throw new InvalidArgumentError(`options.nBest ${nBest} needs strategy 'beam' (the others find one hypothesis per source)`);
  if (nBest > beamSize) throw new InvalidArgumentError(`Expected options.nBest ≤ options.beamSize (${beamSize}) but received ${nBest}`);
  if (nBest > 1 && !returnScores) throw new InvalidArgumentError('options.nBest > 1 needs returnScores: true (the plain result holds one hypothesis per source)');
  const beamStop = o.beamStop === undefined ? 'heuristic' : checkOneOf(o.beamStop, 'options.beamStop', ['heuristic', 'exact'] as const);
  const returnAttention = o.returnAttention === undefined ? false : checkBoolean(o.returnAttention, 'options.returnAttention');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) fail('an AbortSignal', 'options.signal', o.signal);

  const prefix = resolvePrefix(o.prefix, srcLengths.length, limits.tgtVocabSize);
  const maxLength = new Int32Array(srcLengths.length);
  for (let s = 0; s < maxLength.length; s++) {
    const cap = limits.maxPositions;
    const m = o.maxLength === undefined ? Math.min(Math.floor(1.5 * srcLengths[s]!) + 10, cap) : checkInteger(o.maxLength, 'options.maxLength', 1, cap);
    if (minLength > m) throw new InvalidArgumentError(`Expected options.minLength ≤ maxLength (${m}) but received ${minLength}`);
    if (prefix[s]!.length > m) {
      throw new OutOfRangeError(`Expected at most maxLength ${m} tokens in options.prefix[${s}] but it has ${prefix[s]!.length}`);
    }
    maxLength[s] = m;
  }
  return {
    strategy, beamSize: beam ? beamSize : 1, lengthPenalty, maxLength, minLength, temperature, topK, topP, seed,
    noRepeatNgram, repetitionPenalty, prefix, returnScores, nBest, beamStop, returnAttention,
  };
}

function resolvePrefix(value: unknown, sources: number, vocab: number): number[][] {
  if (value === undefined) return Array.from({ length: sources }, () => []);
  if (!Array.isArray(value) || value.length !== sources) {
    fail(`an array of ${sources} token arrays (one per source)`, 'options.prefix', value);
  }
  return value.map((p: unknown, s) => {
    if (!Array.isArray(p) && !(p instanceof Int32Array)) fail('an array of token ids', `options.prefix[${s}]`, p);
    return Array.from(p as ArrayLike<unknown>, (id, j) => {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new OutOfRangeError(`Expected token ids in [0, ${vocab}) but options.prefix[${s}][${j}] is ${describe(id)}`);
      }
      return id;
    });
  });
}
