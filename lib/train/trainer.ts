/**
 * The training loop of a translation Transformer: batches of about `batchTokens` padded tokens, label-
 * smoothed cross-entropy, gradient clipping, Adam with β (0.9, 0.98) under the Noam (or a constant or
 * cosine) schedule, gradient accumulation; evaluation every `evalEvery` steps; checkpoints that resume a
 * run exactly.
 *
 * Pairs are token ids as `tokenizer.encode(text, { addSpecial: true })` gives them (data.encodePairs): the
 * source as the encoder reads it, the target `<bos> y₁ … yₙ <eos>`. The decoder reads `<bos> y₁ … yₙ` and
 * learns to predict `y₁ … yₙ <eos>` (data.prepareBatch), as `generate` then runs it.
 *
 * Exact resume: the batches of epoch e are `batchByTokens(pairs, { seed: seed + e })`, so a position in
 * the data is (epoch, batch index); the dropout masks of step s come from a generator seeded by (seed, s)
 * alone; Adam's moments and step counts are saved. A run stopped after step 10 and resumed to step 20
 * gives the bits an uninterrupted 20-step run gives.
 *
 * @example
 * const trainer = new Trainer(model, { checkpointDir: 'run/checkpoints', evalEvery: 500 });
 * const history = await trainer.fit(pairs, { maxMinutes: 45, valid: validPairs });
 */
import { checkFunction, checkInteger, checkNumber, checkOneOf, checkOptions, fail } from '../check.js';
import { batchByTokens, type PairBatch } from '../data/batch.js';
import type { EncodedPair } from '../data/pairs.js';
import { prepareBatch } from '../data/prepare.js';
import { InvalidArgumentError, NonFiniteError } from '../errors.js';
import type { Transformer } from '../nn/transformer.js';
import { crossEntropy } from '../ops/cross_entropy.js';
import { Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip_grad_norm.js';
import { tensor } from '../tensor/create.js';
import {
  checkpointName, listCheckpoints, pruneCheckpoints, readBest, readCheckpoint, removeTemporaries, type Best,
  type TrainerState, writeBest, writeCheckpoint,
} from './checkpoint.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { readHistory, writeHistory } from './history.js';
import { learningRate, type Schedule } from './schedule.js';

/** A training pair: source ids and target ids `<bos> … <eos>`. */
export type Pair = EncodedPair;

export interface TrainerOptions {
  /** The schedule's factor: Noam's `lr` (default 2, as the annotated Transformer), else the peak rate. */
  lr?: number;
  /** Linear warm-up steps (default 4000). */
  warmupSteps?: number;
  schedule?: Schedule;
  betas?: readonly [number, number];
  eps?: number;
  /** ε of label smoothing (default 0.1, as the paper). */
  labelSmoothing?: number;
  /** Clip the gradients' global norm to this (default 1; 0 turns clipping off). */
  clipNorm?: number;
  /** Padded tokens per batch (source or target, whichever is longer), default 4000. */
  batchTokens?: number;
  /** Batches whose gradients are summed before one update (default 1). */
  accumulate?: number;
  /** Seeds the batch order and the dropout masks (default 0). */
  seed?: number;
  /** Where checkpoints go; when it holds one, `fit` resumes from the newest. */
  checkpointDir?: string;
  /** Evaluate on `valid` every this many steps (and at the end); default: only at the end. */
  evalEvery?: number;
  /**
   * Also evaluate, and write a checkpoint, after every this many minutes of training (evaluation time
   * excluded), as time-to-quality curves need: a killed run then loses at most that much training.
   */
  evalEveryMinutes?: number;
  /** Write a checkpoint every this many steps (default: evalEvery, else 1000), and always at the end. */
  checkpointEvery?: number;
  /** Checkpoints kept besides the best one (default 3). */
  keepCheckpoints?: number;
  /** Validation pairs whose greedy translations are scored by BLEU (default 200; 0: no BLEU). */
  bleuSamples?: number;
  /** Target ids → text for BLEU (a tokenizer's decode); default: the ids as words. */
  detokenize?: (ids: number[]) => string;
}

export interface FitOptions {
  /** Stop after this many epochs, optimiser steps, or minutes of training (all counted over resumes). */
  epochs?: number;
  maxSteps?: number;
  maxMinutes?: number;
  valid?: readonly Pair[];
  onStep?: (entry: StepEntry) => void;
  onEval?: (entry: EvalEntry) => void;
  /** Stops after the current step; a checkpoint is written (when there is a checkpointDir) and fit resolves. */
  signal?: AbortSignal;
}

export interface StepEntry {
  kind: 'step';
  step: number;
  epoch: number;
  /** The label-smoothed loss per target token (what is minimised). */
  loss: number;
  lr: number;
  /** The gradients' global norm before clipping. */
  gradNorm: number;
  targetTokens: number;
  /** Target tokens per second of this step. */
  tokensPerSecond: number;
  /** Seconds of training so far (evaluation excluded), over every run. */
  trainSeconds: number;
}

export interface EvalEntry extends Evaluation {
  kind: 'eval';
  step: number;
  epoch: number;
  trainSeconds: number;
  /** Seconds this evaluation took. */
  evalSeconds: number;
}

export type HistoryEntry = StepEntry | EvalEntry;

interface Resolved {
  lr: number; warmupSteps: number; schedule: Schedule; betas: [number, number]; eps: number; labelSmoothing: number;
  clipNorm: number; batchTokens: number; accumulate: number; seed: number; checkpointDir: string | null;
  evalEvery: number; evalEveryMinutes: number; checkpointEvery: number; keepCheckpoints: number; bleuSamples: number;
  detokenize: (ids: number[]) => string;
}

const OPTIONS = [
  'lr', 'warmupSteps', 'schedule', 'betas', 'eps', 'labelSmoothing', 'clipNorm', 'batchTokens', 'accumulate', 'seed',
  'checkpointDir', 'evalEvery', 'evalEveryMinutes', 'checkpointEvery', 'keepCheckpoints', 'bleuSamples', 'detokenize',
] as const;
const FIT_OPTIONS = ['epochs', 'maxSteps', 'maxMinutes', 'valid', 'onStep', 'onEval', 'signal'] as const;

export class Trainer {
  readonly model: Transformer;
  readonly #o: Resolved;
  readonly #optimizer: Adam;
  #running = false;
  #history: HistoryEntry[] = [];

  constructor(model: Transformer, options?: TrainerOptions) {
    this.model = model;
    this.#o = resolve(options);
    this.#optimizer = new Adam(model.parameters(), { lr: 0, betas: this.#o.betas, eps: this.#o.eps });
  }

  /** The history of the current (or last) fit: every step and evaluation, earlier runs' included when resumed. */
  get history(): readonly HistoryEntry[] {
    return this.#history;
  }

  /**
   * Trains on `pairs` until the first of epochs / maxSteps / maxMinutes (one epoch when none is given),
   * resuming from the checkpoint directory when it holds a checkpoint. Resolves with the run's history
   * (one entry per step and per evaluation, earlier runs' included when resumed).
   */
  async fit(pairs: readonly Pair[], options?: FitOptions): Promise<HistoryEntry[]> {
    if (this.#running) throw new InvalidArgumentError('Expected one fit at a time on a Trainer but fit was called while one is running');
    const f = resolveFit(options, this.model);
    const train = checkPairs(pairs, 'pairs', this.model);
    if (train.length === 0) fail('at least one training pair', 'pairs', pairs);
    this.#running = true;
    try {
      return await this.#fit(train, f);
    } finally {
      this.#running = false;
    }
  }

  async #fit(pairs: readonly Pair[], f: ResolvedFit): Promise<HistoryEntry[]> {
    const o = this.#o, model = this.model, dir = o.checkpointDir;
    const fingerprint = dataFingerprint(pairs);
    let state: TrainerState = { step: 0, epoch: 0, batch: 0, trainMs: 0, data: fingerprint, optimizer: { steps: [], hyper: { lr: 0, betas: o.betas, eps: o.eps, weightDecay: 0, decoupled: false } } };
    let history: HistoryEntry[] = [];
    this.#history = history;
    let best: Best | null = null;
    if (dir !== null) {
      removeTemporaries(dir);
      const steps = listCheckpoints(dir);
      if (steps.length > 0) {
        const last = steps[steps.length - 1]!;
        state = await readCheckpoint(dir, last, model, this.#optimizer);
        if (state.data !== fingerprint) {
          throw new InvalidArgumentError(
            `Expected the training pairs of the run in ${dir} (fingerprint ${state.data}) but received other pairs (${fingerprint}): ` +
            'an exact resume needs the same data; use a new checkpointDir to start over',
          );
        }
        history = this.#history = (await readHistory(dir)).filter((e) => e.step <= last);
        best = await readBest(dir);
      }
    }
    const totalSteps = estimateTotalSteps(f, pairs, o, state);
    // The current epoch's batches, built when first needed.
    let epochBatches: PairBatch[] | null = null;
    const previous = history.filter((e) => e.kind === 'eval').pop();
    let lastEval = previous?.step ?? -1;
    // Training milliseconds at which the next timed evaluation is due.
    const period = o.evalEveryMinutes * 60_000;
    let nextTimedEval = period > 0 ? (Math.floor(state.trainMs / period) + 1) * period : Infinity;
    let lastCheckpoint = state.step;

    // Whether best.json is behind `best`.
    let bestChanged = false;
    // The order survives a kill between any two writes: the history first (a resume drops its entries past
    // the newest checkpoint; the other order would lose them), and best.json names the new best before
    // pruning may delete the old one.
    const checkpoint = async () => {
      if (dir === null || lastCheckpoint === state.step) return;
      await writeHistory(dir, history);
      await writeCheckpoint(dir, model, this.#optimizer, state);
      lastCheckpoint = state.step;
      if (bestChanged && best !== null) {
        await writeBest(dir, best);
        bestChanged = false;
      }
      await pruneCheckpoints(dir, o.keepCheckpoints, best?.step ?? null);
    };
    const runEval = async () => {
      if (f.valid === null || lastEval === state.step) return;
      lastEval = state.step;
      const t0 = performance.now();
      const result = await evaluate(model, f.valid, { batchTokens: o.batchTokens, bleuSamples: o.bleuSamples, detokenize: o.detokenize });
      const entry: EvalEntry = { kind: 'eval', step: state.step, epoch: state.epoch, ...result, trainSeconds: state.trainMs / 1000, evalSeconds: (performance.now() - t0) / 1000 };
      history.push(entry);
      f.onEval?.(entry);
      const candidate: Best = result.bleu === null
        ? { step: state.step, metric: 'validLoss', value: result.validLoss }
        : { step: state.step, metric: 'bleu', value: result.bleu };
      const better = best === null || best.metric !== candidate.metric ||
        (candidate.metric === 'bleu' ? candidate.value > best.value : candidate.value < best.value);
      if (better && dir !== null) {
        best = candidate;
        bestChanged = true;
        lastCheckpoint = -1; // the best must exist on disk
        await checkpoint();
      }
    };

    const done = () =>
      state.step >= f.maxSteps || state.epoch >= f.epochs || state.trainMs >= f.maxMinutes * 60_000 || f.signal?.aborted === true;
    while (!done()) {
      // One optimiser update over `accumulate` batches.
      const t0 = performance.now();
      const step = state.step + 1;
      const lr = learningRate({ ...o, dModel: model.config.dModel, totalSteps }, step);
      this.#optimizer.lr = lr;
      this.#optimizer.zeroGrad();
      model.train();
      model.seedDropout(mixSeed(o.seed, step));
      let lossSum = 0, tokens = 0;
      for (let a = 0; a < o.accumulate; a++) {
        epochBatches ??= batchesOf(pairs, o, state.epoch);
        const batch = epochBatches[state.batch++]!;
        // The position moves to the next epoch as soon as this one is used up, so an epoch limit stops here.
        if (state.batch === epochBatches.length) {
          state.epoch++;
          state.batch = 0;
          epochBatches = null;
        }
        const { loss, targetTokens } = this.#backward(batch, 1 / o.accumulate);
        lossSum += loss;
        tokens += targetTokens;
      }
      const loss = lossSum / o.accumulate;
      // The norm is wanted for the history and the NaN check even when clipping is off.
      const gradNorm = clipGradNorm(model.parameters(), o.clipNorm > 0 ? o.clipNorm : Infinity);
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        const lastGood = dir === null ? 'no checkpoint directory was given' : listCheckpoints(dir).map((s) => `${dir}/${checkpointName(s)}`).pop() ?? 'none written yet';
        throw new NonFiniteError(
          `Training stopped at step ${step}: the ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} is ${Number.isFinite(loss) ? gradNorm : loss} ` +
          `(lr ${lr.toPrecision(3)}). The model is left as it was after step ${state.step}; the last good checkpoint: ${lastGood}. ` +
          'Lower lr, raise warmupSteps or check the data for empty or extreme pairs.',
        );
      }
      this.#optimizer.step();
      state.step = step;
      const ms = performance.now() - t0;
      state.trainMs += ms;
      const entry: StepEntry = {
        kind: 'step', step, epoch: state.epoch, loss, lr, gradNorm, targetTokens: tokens,
        tokensPerSecond: tokens / (ms / 1000), trainSeconds: state.trainMs / 1000,
      };
      history.push(entry);
      f.onStep?.(entry);
      const timed = state.trainMs >= nextTimedEval;
      if ((o.evalEvery > 0 && step % o.evalEvery === 0) || timed) {
        while (nextTimedEval <= state.trainMs) nextTimedEval += period;
        await runEval();
      }
      if (timed || step % o.checkpointEvery === 0) await checkpoint();
      // A turn of the event loop between steps: timers, I/O and signals run.
      await new Promise((r) => setImmediate(r));
    }
    if (f.signal?.aborted !== true) await runEval();
    await checkpoint();
    if (dir !== null) await writeHistory(dir, history);
    return history;
  }

  /** Forward and backward of one batch, the loss scaled by `scale`; returns the (unscaled) loss. */
  #backward(batch: PairBatch, scale: number): { loss: number; targetTokens: number } {
    const model = this.model, { padId, tgtVocabSize } = model.config;
    const b = prepareBatch(batch, { padId });
    const logits = model.forward(tensor(b.src, b.srcShape), tensor(b.tgtIn, b.tgtShape));
    const loss = crossEntropy(logits.reshape([-1, tgtVocabSize]), b.tgtOut, { labelSmoothing: this.#o.labelSmoothing, ignoreIndex: padId });
    const value = loss.item();
    loss.backward(tensor([scale], []));
    return { loss: value, targetTokens: b.targetTokens };
  }
}

interface ResolvedFit {
  epochs: number;
  maxSteps: number;
  maxMinutes: number;
  valid: readonly Pair[] | null;
  onStep: ((e: StepEntry) => void) | undefined;
  onEval: ((e: EvalEntry) => void) | undefined;
  signal: AbortSignal | undefined;
}

function resolve(options: unknown): Resolved {
  const o = checkOptions<TrainerOptions>(options, 'options', OPTIONS);
  const betas = o.betas ?? [0.9, 0.98];
  if (!Array.isArray(betas) || betas.length !== 2) fail('an array [beta1, beta2]', 'options.betas', betas);
  const evalEvery = o.evalEvery === undefined ? 0 : checkInteger(o.evalEvery, 'options.evalEvery', 1);
  if (o.checkpointDir !== undefined && (typeof o.checkpointDir !== 'string' || o.checkpointDir === '')) {
    fail('a directory path', 'options.checkpointDir', o.checkpointDir);
  }
  if (o.detokenize !== undefined) checkFunction(o.detokenize, 'options.detokenize');
  return {
    lr: checkNumber(o.lr ?? 2, 'options.lr', 0, Infinity),
    warmupSteps: checkInteger(o.warmupSteps ?? 4000, 'options.warmupSteps', 0),
    schedule: checkOneOf(o.schedule ?? 'noam', 'options.schedule', ['noam', 'constant', 'cosine'] as const),
    betas: [checkNumber(betas[0], 'options.betas[0]', 0, 1, true), checkNumber(betas[1], 'options.betas[1]', 0, 1, true)],
    eps: checkNumber(o.eps ?? 1e-9, 'options.eps', Number.MIN_VALUE, Infinity),
    labelSmoothing: checkNumber(o.labelSmoothing ?? 0.1, 'options.labelSmoothing', 0, 1, true),
    clipNorm: checkNumber(o.clipNorm ?? 1, 'options.clipNorm', 0, Infinity),
    batchTokens: checkInteger(o.batchTokens ?? 4000, 'options.batchTokens', 1),
    accumulate: checkInteger(o.accumulate ?? 1, 'options.accumulate', 1),
    seed: checkInteger(o.seed ?? 0, 'options.seed', 0, 2 ** 31 - 1),
    checkpointDir: o.checkpointDir ?? null,
    evalEvery,
    evalEveryMinutes: o.evalEveryMinutes === undefined ? 0 : checkNumber(o.evalEveryMinutes, 'options.evalEveryMinutes', Number.MIN_VALUE, Infinity),
    checkpointEvery: o.checkpointEvery === undefined ? evalEvery || 1000 : checkInteger(o.checkpointEvery, 'options.checkpointEvery', 1),
    keepCheckpoints: checkInteger(o.keepCheckpoints ?? 3, 'options.keepCheckpoints', 1),
    bleuSamples: checkInteger(o.bleuSamples ?? 200, 'options.bleuSamples', 0),
    detokenize: o.detokenize ?? ((ids) => ids.join(' ')),
  };
}

function resolveFit(options: unknown, model: Transformer): ResolvedFit {
  const o = checkOptions<FitOptions>(options, 'fit options', FIT_OPTIONS);
  const limit = (v: unknown, name: string, integer: boolean) =>
    v === undefined ? Infinity : integer ? checkInteger(v, `options.${name}`, 1) : checkNumber(v, `options.${name}`, 0, Infinity);
  const none = o.epochs === undefined && o.maxSteps === undefined && o.maxMinutes === undefined;
  if (o.onStep !== undefined) checkFunction(o.onStep, 'options.onStep');
  if (o.onEval !== undefined) checkFunction(o.onEval, 'options.onEval');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) fail('an AbortSignal', 'options.signal', o.signal);
  return {
    epochs: none ? 1 : limit(o.epochs, 'epochs', true),
    maxSteps: limit(o.maxSteps, 'maxSteps', true),
    maxMinutes: limit(o.maxMinutes, 'maxMinutes', false),
    valid: o.valid === undefined ? null : checkPairs(o.valid, 'options.valid', model),
    onStep: o.onStep,
    onEval: o.onEval,
    signal: o.signal,
  };
}

/** Checks every pair (ids inside the vocabularies, a source token, a target `<bos> … <eos>`); returns them. */
function checkPairs(pairs: unknown, name: string, model: Transformer): readonly Pair[] {
  if (!Array.isArray(pairs)) fail('an array of [source ids, target ids] pairs', name, pairs);
  const { srcVocabSize, tgtVocabSize, maxLength, bosId, eosId } = model.config;
  pairs.forEach((p: unknown, i) => {
    if (!Array.isArray(p) || p.length !== 2) fail('a [source ids, target ids] pair', `${name}[${i}]`, p);
    const [src, tgt] = p as [unknown, unknown];
    for (const [ids, side, vocab, min] of [[src, 'source', srcVocabSize, 1], [tgt, 'target', tgtVocabSize, 2]] as const) {
      if (!Array.isArray(ids)) fail(`an array of ${side} token ids`, `${name}[${i}]`, ids);
      const list = ids as unknown[];
      if (list.length < min || list.length > maxLength) {
        throw new InvalidArgumentError(`Expected ${min}–${maxLength} ${side} tokens in ${name}[${i}] but it has ${list.length}: filter or truncate the data first`);
      }
      for (let j = 0; j < list.length; j++) {
        const id = list[j];
        if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= vocab) {
          throw new InvalidArgumentError(`Expected ${side} token ids in [0, ${vocab}) but ${name}[${i}] has ${String(id)} at position ${j}`);
        }
      }
    }
    const t = tgt as number[];
    if (t[0] !== bosId || t[t.length - 1] !== eosId) {
      throw new InvalidArgumentError(
        `Expected the target of ${name}[${i}] to start with <bos> (${bosId}) and end with <eos> (${eosId}) but it is [${t.slice(0, 3).join(', ')}${t.length > 3 ? ', …' : ''}]: ` +
        'encode targets with { addSpecial: true } (data.encodePairs does)',
      );
    }
  });
  return pairs as readonly Pair[];
}

/** The batches of epoch `epoch`: shuffled by (seed, epoch), so any epoch's order can be rebuilt on resume. */
function batchesOf(pairs: readonly Pair[], o: Resolved, epoch: number): PairBatch[] {
  return batchByTokens(pairs, { batchTokens: o.batchTokens, shuffle: true, seed: (o.seed + epoch) >>> 0 });
}

/** The step where training will end, for the cosine schedule (estimated from epochs when only they bound it). */
function estimateTotalSteps(f: ResolvedFit, pairs: readonly Pair[], o: Resolved, state: TrainerState): number {
  if (Number.isFinite(f.maxSteps)) return f.maxSteps;
  if (Number.isFinite(f.epochs)) return Math.ceil((f.epochs * batchesOf(pairs, o, 0).length) / o.accumulate);
  if (o.schedule === 'cosine') {
    throw new InvalidArgumentError(`Expected epochs or maxSteps with schedule 'cosine' (it decays to 0 at the last step) but only maxMinutes was given (at step ${state.step})`);
  }
  return Infinity;
}

/** A 32-bit seed for (seed, step): splitmix-style mixing, so neighbouring steps get unrelated masks. */
function mixSeed(seed: number, step: number): number {
  let z = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(step, 0xc2b2ae35)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over the pairs' ids and lengths: equal for the same data, different for almost any change. */
function dataFingerprint(pairs: readonly Pair[]): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => (h = Math.imul(h ^ x, 0x01000193) >>> 0);
  mix(pairs.length);
  for (const [s, t] of pairs) {
    mix(s.length);
    for (const id of s) mix(id);
    mix(t.length);
    for (const id of t) mix(id);
  }
  return `${pairs.length}:${h.toString(16).padStart(8, '0')}`;
}
