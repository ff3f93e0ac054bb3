/**
 * Training checkpoints on disk. A checkpoint is a directory `step-00001234/` inside the run's checkpoint
 * directory, holding everything an exact resume needs:
 *
 *   config.json, model.safetensors   the model as Transformer.save writes it (so `Transformer.load` and
 *                                    `Translator.load` read a checkpoint directly)
 *   optimizer.safetensors            Adam's moments, `m.<i>` and `v.<i>` for parameter i
 *   trainer.json                     the step, the position in the data, Adam's step counts and
 *                                    hyper-parameters, the training time so far, the data's fingerprint
 *
 * It is written into a hidden temporary directory beside it and renamed into place when complete, so a
 * `step-*` directory is always a whole checkpoint, whenever the process dies. `history.json` (the run's
 * history up to the newest checkpoint) and `best.json` (which step scored best) sit beside the
 * checkpoints and are replaced atomically. Pruning keeps the newest k checkpoints and the best one.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { join } from 'node:path';

import { FormatError } from '../errors.js';
import { isAtomicTemp, syncDirectory, writeFileAtomic } from '../io/atomic.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import type { Transformer } from '../nn/transformer.js';
import type { Adam, AdamStateDict } from '../optim/adam.js';
import type { Tensor } from '../tensor/tensor.js';

/** Where the run stands after a step: what resuming needs besides the weights and the moments. */
export interface TrainerState {
  /** Optimiser updates done. */
  step: number;
  /** The epoch of the next batch (0-based) and that batch's index in the epoch's order. */
  epoch: number;
  batch: number;
  /** Milliseconds spent training (evaluation excluded), over every run so far. */
  trainMs: number;
  /** Identifies the training pairs, so a resume on other data is refused rather than silently inexact. */
  data: string;
  /** Adam's per-parameter step counts (null: no step yet) and its hyper-parameters. */
  optimizer: { steps: Array<number | null>; hyper: AdamStateDict['hyper'] };
}

export interface Best {
  step: number;
  metric: 'bleu' | 'validLoss';
  value: number;
}

const STEP_DIR = /^step-(\d{8,})$/;
const TEMP_PREFIX = '.tmp-step-';
const BEST_FILE = 'best.json';
const TRAINER_FILE = 'trainer.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

export const checkpointName = (step: number) => `step-${String(step).padStart(8, '0')}`;

/** The steps of the complete checkpoints in `dir`, oldest first (none when `dir` does not exist). */
export function listCheckpoints(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.flatMap((n) => {
    const m = STEP_DIR.exec(n);
    return m === null ? [] : [Number(m[1])];
  }).sort((a, b) => a - b);
}

/**
 * Removes the temporaries a killed writer left (one trainer writes a checkpoint directory): checkpoint
 * directories being written or deleted, and the temp files of history.json's and best.json's atomic writes.
 */
export function removeTemporaries(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const n of fs.readdirSync(dir)) {
    if (n.startsWith(TEMP_PREFIX) || isAtomicTemp(n)) fs.rmSync(join(dir, n), { recursive: true, force: true });
  }
}

/** A hidden temporary name for step's checkpoint directory (removeTemporaries sweeps it). */
const tempName = (dir: string, step: number) => join(dir, `${TEMP_PREFIX}${step}-${randomBytes(4).toString('hex')}`);

/**
 * Writes the checkpoint of `state.step` (a no-op when it exists: a step's state is the same whoever writes
 * it); fills `state.optimizer` from the optimiser.
 */
export async function writeCheckpoint(dir: string, model: Transformer, optimizer: Adam, state: TrainerState): Promise<string> {
  const final = join(dir, checkpointName(state.step));
  if (fs.existsSync(final)) return final;
  await fs.promises.mkdir(dir, { recursive: true });
  const temp = tempName(dir, state.step);
  try {
    await model.save(temp);
    const saved = optimizer.stateDict();
    state.optimizer = { steps: saved.state.map((s) => s?.step ?? null), hyper: saved.hyper };
    const moments = new Map<string, Tensor>();
    saved.state.forEach((s, i) => {
      if (s === null) return;
      moments.set(`m.${i}`, s.m);
      moments.set(`v.${i}`, s.v);
    });
    await saveSafetensors(join(temp, OPTIMIZER_FILE), moments);
    await writeFileAtomic(join(temp, TRAINER_FILE), `${JSON.stringify(state)}\n`);
    await fs.promises.rename(temp, final);
  } catch (err) {
    await fs.promises.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
  return final;
}

/** Reads the checkpoint of `step` into `model` and `optimizer`; returns the trainer's state. */
export async function readCheckpoint(dir: string, step: number, model: Transformer, optimizer: Adam): Promise<TrainerState> {
  const at = join(dir, checkpointName(step));
  const state = JSON.parse(await fs.promises.readFile(join(at, TRAINER_FILE), 'utf8')) as TrainerState;
  const { tensors: weights } = await loadSafetensors(join(at, 'model.safetensors'));
  const { tensors: moments } = await loadSafetensors(join(at, OPTIMIZER_FILE));
  const saved = state.optimizer;
  const dict: AdamStateDict = {
    hyper: saved.hyper,
    state: saved.steps.map((s, i) => {
      if (s === null) return null;
      const m = moments.get(`m.${i}`), v = moments.get(`v.${i}`);
      if (m === undefined || v === undefined) throw new FormatError(`${join(at, OPTIMIZER_FILE)} has no moments for parameter ${i}`);
      return { step: s, m, v };
    }),
  };
  // Both are checked in full before either changes anything.
  model.loadStateDict(weights);
  optimizer.loadStateDict(dict);
  return state;
}

/**
 * Deletes all but the newest `keep` checkpoints and the best one. Each is first renamed to a temporary
 * name, so that a process killed mid-deletion leaves no `step-*` directory with some of its files gone.
 */
export async function pruneCheckpoints(dir: string, keep: number, best: number | null): Promise<void> {
  const steps = listCheckpoints(dir);
  for (const s of steps.slice(0, Math.max(0, steps.length - keep))) {
    if (s === best) continue;
    const doomed = tempName(dir, s);
    try {
      await fs.promises.rename(join(dir, checkpointName(s)), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    await fs.promises.rm(doomed, { recursive: true, force: true });
  }
}

export async function readBest(dir: string): Promise<Best | null> {
  try {
    return JSON.parse(await fs.promises.readFile(join(dir, BEST_FILE), 'utf8')) as Best;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function writeBest(dir: string, best: Best): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, BEST_FILE), `${JSON.stringify(best)}\n`);
}
