// Crash safety (issue 16, item 4): a child process SIGKILLed at seeded moments while the Trainer trains
// and checkpoints, or while it saves a model, always leaves complete, loadable checkpoints (every tensor
// from one step, bit for bit what an uninterrupted run wrote at that step), no growing litter of temp
// files, and a run that resumes from its newest checkpoint to the uninterrupted run's bits.
//
// The kill points come from a seeded generator (NODEFORMER_CRASH_SEED=<n> replays or varies them; every
// failure message names the seed and the kill): half at a time within a step, half aimed at a write (as
// soon as the parent sees its temp entry). How many kills left a write half-done is printed.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, describe, expect, it } from 'vitest';

import { isAtomicTemp } from '../../lib/io/atomic.js';
import { Transformer } from '../../lib/index.js';
import { Adam } from '../../lib/optim/adam.js';
import { Rng } from '../../lib/tensor/random.js';
import { checkpointName, listCheckpoints, readCheckpoint, type TrainerState } from '../../lib/train/checkpoint.js';
import { bitsEqual, ROOT, TSX_IMPORT } from '../helpers.js';
import { CONFIG } from './fixtures/crash_child.js';

const SEED = Number(process.env.NODEFORMER_CRASH_SEED ?? 16_004);
const CHILD = join(ROOT, 'test', 'train', 'fixtures', 'crash_child.ts');
const work = mkdtempSync(join(tmpdir(), 'nodeformer-crash-'));
const live = new Set<ChildProcess>();
afterAll(() => {
  for (const c of live) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

interface Child {
  pid: number;
  /** Set once it has exited: its exit code (null when killed) and signal. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  exited: Promise<void>;
  kill: () => Promise<void>;
  stderr: () => string;
}

/** crash_child.ts with `args`, through tsx; its stderr is kept for failure messages. */
function start(args: string[]): Child {
  const proc = spawn(process.execPath, [...TSX_IMPORT, CHILD, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(proc);
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const child: Child = {
    pid: proc.pid!,
    exit: null,
    exited: new Promise((resolve) => proc.on('exit', (code, signal) => {
      child.exit = { code, signal };
      live.delete(proc);
      resolve();
    })),
    kill: async () => {
      proc.kill('SIGKILL');
      await child.exited;
    },
    stderr: () => err,
  };
  return child;
}

/** The "<pid> <n> <ms>" lines a child appended to `log`, complete lines only: [n, ms] pairs. */
function logged(log: string, pid: number): Array<[number, number]> {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').slice(0, -1).map((l) => l.split(' ').map(Number))
    .filter(([p]) => p === pid).map(([, n, ms]) => [n!, ms!]);
}

const hidden = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.')).sort() : []);
const isFinite32 = (a: Float32Array) => a.every((x) => Number.isFinite(x));

/**
 * Where to kill a child that appends a line to its log after each step (or save): once it has logged
 * more than `after` lines, either `fraction` of its last interval between lines later ('time'), or the
 * moment the parent sees a new hidden entry that `aim` accepts (a temp entry: a write under way), at most
 * 8 lines later.
 */
interface KillPoint {
  after: number;
  fraction: number;
  aim: ((name: string) => boolean) | null;
  label: string;
}

const describePoint = (p: KillPoint, unit: string) =>
  `${p.label}: ${p.after} ${unit}${p.aim === null ? ` + ${p.fraction.toFixed(2)} of one` : ', then the next write seen'}`;

/** Polls (every millisecond) for the kill point, then SIGKILLs; false when the child finished first (exit 0). */
async function killAt(child: Child, log: string, dir: string, point: KillPoint, stale: readonly string[], where: string): Promise<boolean> {
  const t0 = Date.now();
  const poll = async (ready: () => boolean) => {
    while (!ready()) {
      if (child.exit !== null) {
        if (child.exit.code === 0) return false;
        throw new Error(`${where}: the child exited first (${JSON.stringify(child.exit)}): ${child.stderr()}`);
      }
      if (Date.now() - t0 > 60_000) throw new Error(`${where}: timed out after 60 s`);
      await sleep(1);
    }
    return true;
  };
  if (!(await poll(() => logged(log, child.pid).length > point.after))) return false;
  if (point.aim === null) {
    const lines = logged(log, child.pid);
    const interval = lines.length > 1 ? lines.at(-1)![1] - lines.at(-2)![1] : 20;
    await sleep(Math.round(point.fraction * interval));
  } else {
    const aim = point.aim;
    const seen = () => hidden(dir).some((n) => aim(n) && !stale.includes(n));
    // No await between seeing the entry and the signal: the write is still under way.
    if (!(await poll(() => seen() || logged(log, child.pid).length > point.after + 8))) return false;
  }
  if (child.exit?.code === 0) return false;
  await child.kill();
  return true;
}

const CHECKPOINT_FILES = ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer.json'];

/** The uninterrupted run to `steps` in a child of its own, every step's checkpoint kept. */
class Reference {
  readonly dir = join(work, 'reference');
  readonly child: Child;

  constructor(steps: number) {
    this.child = start(['reference', this.dir, String(steps), join(work, 'reference.log')]);
  }

  /** Waits for its checkpoint of `step`. */
  async reached(step: number): Promise<void> {
    while (!existsSync(join(this.dir, checkpointName(step)))) {
      if (this.child.exit !== null) throw new Error(`the reference run has no checkpoint of step ${step} (${JSON.stringify(this.child.exit)}): ${this.child.stderr()}`);
      await sleep(5);
    }
  }
}

/**
 * Every `step-*` directory of `dir` is whole, loads into a fresh model and optimiser with every tensor
 * present and finite, and holds one step: the trainer state's step and every Adam step count are the
 * directory's, and its weights and moments are the bytes the uninterrupted run wrote at that step (its
 * trainer.json too, but for the training time). history.json and best.json, when there, parse. Returns the steps.
 */
async function checkCheckpoints(dir: string, ref: Reference, where: string): Promise<number[]> {
  const steps = listCheckpoints(dir);
  for (const s of steps) {
    const name = checkpointName(s), at = join(dir, name), ctx = `${where}: ${name}`;
    expect(readdirSync(at).sort(), ctx).toEqual(CHECKPOINT_FILES);
    const model = new Transformer({ ...CONFIG, seed: 77 });
    const optimizer = new Adam(model.parameters(), { lr: 0 });
    const state = await readCheckpoint(dir, s, model, optimizer);
    expect(state.step, ctx).toBe(s);
    expect(state.optimizer.steps, ctx).toEqual(model.parameters().map(() => s));
    for (const [n, t] of model.stateDict()) expect(isFinite32(t.toFloat32Array()), `${ctx}: ${n} finite`).toBe(true);
    for (const [i, p] of optimizer.stateDict().state.entries()) {
      expect(p !== null && isFinite32(p.m.toFloat32Array()) && isFinite32(p.v.toFloat32Array()), `${ctx}: moments ${i} finite`).toBe(true);
    }
    // The model part alone, as Transformer.load (and Translator.load) read a checkpoint.
    const alone = await Transformer.load(at);
    for (const [n, t] of alone.stateDict()) expect(bitsEqual(t.toFloat32Array(), model.stateDict().get(n)!.toFloat32Array()), `${ctx}: ${n}`).toBe(true);
    // One step, every tensor: the uninterrupted run's bytes at this step.
    await ref.reached(s);
    const refAt = join(ref.dir, name);
    for (const f of ['model.safetensors', 'optimizer.safetensors']) {
      expect(readFileSync(join(at, f)).equals(readFileSync(join(refAt, f))), `${ctx}: ${f} is the uninterrupted run's`).toBe(true);
    }
    // A resumed child builds its model from another seed; the rest of the config is the run's.
    const config = (file: string) => ({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), seed: 0 });
    expect(config(join(at, 'config.json')), ctx).toEqual(config(join(refAt, 'config.json')));
    const { trainMs: _a, ...got } = state;
    const { trainMs: _b, ...want } = JSON.parse(readFileSync(join(refAt, 'trainer.json'), 'utf8')) as TrainerState;
    expect(got, `${ctx}: trainer.json`).toEqual(want);
  }
  for (const f of ['history.json', 'best.json']) {
    if (existsSync(join(dir, f))) expect(() => JSON.parse(readFileSync(join(dir, f), 'utf8')), `${where}: ${f} parses`).not.toThrow();
  }
  return steps;
}

describe('crash safety under SIGKILL', () => {
  it('while training: every checkpoint left is whole and from one step, temporaries do not pile up, and the run resumes to the uninterrupted bits', async () => {
    // A kill costs the run about 5 steps (at most 1 + 5 + 8): 12 fit before FINAL. Should the run reach
    // FINAL first, the kills end there (at least half of them must have happened).
    const FINAL = 120, KILLS = 12;
    const ref = new Reference(FINAL);
    const dir = join(work, 'run'), log = join(work, 'train.log');
    const rng = new Rng(SEED);
    const checkpointTemp = (n: string) => n.startsWith('.tmp-step-');
    let newest = 0; // the checkpoint the next child resumes from (0: none)
    let leftover: string[] = [];
    let kills = 0;
    const hits = { checkpoint: 0, prune: 0, atomic: 0 };
    for (let k = 0; k < KILLS; k++) {
      // A step here is about 10 ms of compute then 30 of writes: checkpoint, history.json (best.json), pruning.
      const r = rng.nextUint32() % 4;
      const point: KillPoint = {
        after: rng.nextUint32() % 6,
        fraction: rng.nextUint32() / 2 ** 32,
        aim: r < 2 ? null : r === 2 ? checkpointTemp : isAtomicTemp,
        label: r < 2 ? 'time' : r === 2 ? 'aimed at a checkpoint write' : 'aimed at an atomic write',
      };
      const where = `seed ${SEED}, kill ${k + 1}/${KILLS} (${describePoint(point, 'steps')} after resuming from step ${newest})`;
      const child = start(['train', dir, String(FINAL), log]);
      if (!(await killAt(child, log, dir, point, leftover, where))) break; // it reached FINAL
      kills++;
      expect(child.exit, where).toEqual({ code: null, signal: 'SIGKILL' });

      const steps = logged(log, child.pid).map(([s]) => s);
      expect(steps.length, where).toBeGreaterThan(point.after);
      // It swept what the last kill left before its first step, and resumed from the newest checkpoint.
      expect(hidden(dir).filter((n) => leftover.includes(n)), `${where}: the last kill's temporaries are removed on restart`).toEqual([]);
      expect(steps, `${where}: resumes at the step after the newest checkpoint, then step by step`)
        .toEqual(Array.from({ length: steps.length }, (_, i) => newest + 1 + i));
      leftover = hidden(dir);
      // Writes run one at a time: a kill leaves at most one temporary (a checkpoint's temp directory or an atomic write's temp file).
      expect(leftover.length, `${where}: temporaries ${leftover.join(', ')}`).toBeLessThanOrEqual(1);
      expect(leftover.every((n) => checkpointTemp(n) || isAtomicTemp(n)), `${where}: ${leftover.join(', ')}`).toBe(true);
      const left = await checkCheckpoints(dir, ref, where);
      // Killed before the first checkpoint was complete, the run has none and starts over.
      expect(left.at(-1) ?? 0, `${where}: the newest checkpoint is kept`).toBeGreaterThanOrEqual(newest);
      newest = left.at(-1) ?? 0;
      // A temp directory of a step past the newest was a checkpoint being written; of an older step, one being pruned.
      const temp = leftover[0];
      if (temp !== undefined) {
        const m = /^\.tmp-step-(\d+)-/.exec(temp);
        if (m === null) hits.atomic++;
        else if (Number(m[1]) > newest) hits.checkpoint++;
        else hits.prune++;
      }
    }

    // The last run, uninterrupted, resumes and goes on to FINAL: the uninterrupted run's bits.
    const where = `seed ${SEED}, the final run from step ${newest}`;
    const child = start(['train', dir, String(FINAL), log]);
    await child.exited;
    expect(child.exit, `${where}: ${child.stderr()}`).toEqual({ code: 0, signal: null });
    expect(logged(log, child.pid).map(([s]) => s), where).toEqual(Array.from({ length: FINAL - newest }, (_, i) => newest + 1 + i));
    expect(hidden(dir), `${where}: no temporaries`).toEqual([]);
    expect((await checkCheckpoints(dir, ref, where)).at(-1), where).toBe(FINAL);
    await ref.child.exited;
    expect(ref.child.exit, `the reference run: ${ref.child.stderr()}`).toEqual({ code: 0, signal: null });
    const [resumed, straight] = await Promise.all([Transformer.load(join(dir, checkpointName(FINAL))), Transformer.load(join(ref.dir, checkpointName(FINAL)))]);
    for (const [n, t] of straight.stateDict()) {
      expect(bitsEqual(resumed.stateDict().get(n)!.toFloat32Array(), t.toFloat32Array()), `${where}: ${n} is the uninterrupted run's`).toBe(true);
    }
    // No kill lost a record: history.json holds every step once and the uninterrupted run's evaluations, and
    // best.json names a checkpoint that exists.
    const history = (d: string) => JSON.parse(readFileSync(join(d, 'history.json'), 'utf8')) as Array<{ kind: string; step: number }>;
    const stepsOf = (d: string, kind: string) => history(d).filter((e) => e.kind === kind).map((e) => e.step);
    expect(stepsOf(dir, 'step'), `${where}: history.json's steps`).toEqual(Array.from({ length: FINAL }, (_, i) => i + 1));
    expect(stepsOf(dir, 'eval'), `${where}: history.json's evaluations`).toEqual(stepsOf(ref.dir, 'eval'));
    const best = JSON.parse(readFileSync(join(dir, 'best.json'), 'utf8')) as { step: number };
    expect(existsSync(join(dir, checkpointName(best.step))), `${where}: best.json names step ${best.step}, which exists`).toBe(true);
    expect(kills, `seed ${SEED}: kills before the run reached step ${FINAL}`).toBeGreaterThanOrEqual(KILLS / 2);
    console.info(
      `crash.test (seed ${SEED}): of ${kills} kills while training, ${hits.checkpoint} left a checkpoint half-written, ` +
      `${hits.prune} one half-pruned, ${hits.atomic} history.json or best.json half-written`,
    );
  }, 120_000);

  it('while saving a model: the target always loads as one whole iteration, and each kill leaves at most one temp file', async () => {
    const KILLS = 10;
    const dir = join(work, 'saved'), log = join(work, 'save.log');
    const rng = new Rng(SEED ^ 0x5a5a);
    let temps: string[] = [];
    let hits = 0;
    for (let k = 0; k < KILLS; k++) {
      const aimed = rng.nextUint32() % 2 === 0;
      const point: KillPoint = {
        after: rng.nextUint32() % 4, fraction: rng.nextUint32() / 2 ** 32, aim: aimed ? isAtomicTemp : null, label: aimed ? 'aimed at a write' : 'time',
      };
      const where = `seed ${SEED}, kill ${k + 1}/${KILLS} (${describePoint(point, 'saves')})`;
      // Each child counts from its own range, so a value names the child and the iteration.
      const child = start(['save', dir, String((k + 1) * 100_000), log]);
      expect(await killAt(child, log, dir, point, temps, where), where).toBe(true);
      expect(child.exit, where).toEqual({ code: null, signal: 'SIGKILL' });

      // The last save it finished, or the one it was in (model.safetensors renamed into place, config.json not yet).
      const last = logged(log, child.pid).at(-1)![0];
      const model = await Transformer.load(dir);
      const values = new Set<number>();
      for (const [, t] of model.stateDict()) for (const x of t.toFloat32Array()) values.add(x);
      expect([...values], `${where}: every tensor holds one iteration`).toHaveLength(1);
      const v = [...values][0]!;
      expect([last, last + 1], `${where}: the weights are of iteration ${v}`).toContain(v);
      // iteration.txt is written after the model: the same iteration or the one before.
      const n = Number(readFileSync(join(dir, 'iteration.txt'), 'utf8'));
      expect([v - 1, v], `${where}: iteration.txt holds ${n}`).toContain(n);

      const now = hidden(dir);
      expect(now.every(isAtomicTemp), `${where}: ${now.join(', ')}`).toBe(true);
      const added = now.filter((f) => !temps.includes(f));
      expect(added.length, `${where}: new temp files ${added.join(', ')}`).toBeLessThanOrEqual(1);
      // Nothing sweeps a plain model directory: earlier kills' temp files stay, and only those (one a kill at most).
      expect(now, where).toEqual([...temps, ...added].sort());
      hits += added.length;
      temps = now;
    }
    console.info(`crash.test (seed ${SEED}): of ${KILLS} kills while saving, ${hits} left an atomic write's temp file`);
  }, 90_000);
});
