// The Trainer: it learns the copy task, a run stopped and resumed gives the bits of an uninterrupted one,
// a non-finite loss stops with a typed error and keeps the last good checkpoint, and abort checkpoints.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { data, NonFiniteError, Trainer, Transformer, type TransformerConfig } from '../../lib/index.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { Rng } from '../../lib/tensor/random.js';

const work = mkdtempSync(join(tmpdir(), 'nodeformer-train-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const TINY: TransformerConfig = { srcVocabSize: 16, tgtVocabSize: 16, dModel: 32, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 64, maxLength: 32 };

/** Copy-task pairs: random sequences of ids 4…15, the target <bos> + the same ids + <eos>. */
function copyPairs(n: number, seed: number, min = 2, max = 8): Array<[number[], number[]]> {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const ids = Array.from({ length: min + (rng.nextUint32() % (max - min + 1)) }, () => 4 + (rng.nextUint32() % 12));
    return [ids, [1, ...ids, 2]];
  });
}

const weights = (m: Transformer) => new Map([...m.stateDict()].map(([k, t]) => [k, t.toFloat32Array()]));

describe('Trainer', () => {
  it('learns the copy task: greedy decodes of unseen sequences copy them', async () => {
    const model = new Transformer({ ...TINY, dropout: 0, seed: 3 });
    const trainer = new Trainer(model, { schedule: 'constant', lr: 3e-3, warmupSteps: 50, batchTokens: 256, labelSmoothing: 0 });
    const history = await trainer.fit(copyPairs(2000, 1), { maxSteps: 800 });
    const losses = history.filter((e) => e.kind === 'step').map((e) => e.loss);
    expect(losses.length).toBe(800);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 10);
    const test = copyPairs(50, 99);
    const out = await model.eval().generate(test.map(([s]) => Int32Array.from(s)));
    const exact = out.filter((ids, i) => ids.join() === test[i]![0].join()).length;
    expect(exact / test.length).toBeGreaterThanOrEqual(0.9);
  }, 60_000);

  it('resumes exactly: 10 steps, stop, 10 more gives the weights of 20 straight (dropout on, accumulation 2)', async () => {
    const pairs = copyPairs(300, 2);
    const options = { batchTokens: 64, accumulate: 2, warmupSteps: 5, checkpointEvery: 10, seed: 7 };
    const straight = new Transformer({ ...TINY, dropout: 0.1, seed: 5 });
    await new Trainer(straight, { ...options, checkpointDir: join(work, 'straight') }).fit(pairs, { maxSteps: 20 });

    const dir = join(work, 'resumed');
    await new Trainer(new Transformer({ ...TINY, dropout: 0.1, seed: 5 }), { ...options, checkpointDir: dir }).fit(pairs, { maxSteps: 10 });
    // A new process would build a fresh model: its weights come from the checkpoint.
    const resumed = new Transformer({ ...TINY, dropout: 0.1, seed: 123 });
    const history = await new Trainer(resumed, { ...options, checkpointDir: dir }).fit(pairs, { maxSteps: 20 });

    expect(history.filter((e) => e.kind === 'step').map((e) => e.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const a = weights(straight), b = weights(resumed);
    for (const [name, w] of a) expect(b.get(name), name).toEqual(w);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]); // no temporary litter
  }, 60_000);

  it('refuses to resume on other data', async () => {
    const dir = join(work, 'other-data');
    await new Trainer(new Transformer({ ...TINY, seed: 1 }), { checkpointDir: dir, batchTokens: 64 }).fit(copyPairs(50, 3), { maxSteps: 2 });
    await expect(new Trainer(new Transformer({ ...TINY, seed: 1 }), { checkpointDir: dir, batchTokens: 64 }).fit(copyPairs(50, 4), { maxSteps: 4 }))
      .rejects.toThrow(/other pairs/);
  });

  it('stops on a non-finite loss with NonFiniteError and keeps the last good checkpoint', async () => {
    const dir = join(work, 'nan');
    const pairs = copyPairs(200, 5);
    const model = new Transformer({ ...TINY, dropout: 0, seed: 2 });
    await new Trainer(model, { checkpointDir: dir, batchTokens: 64, checkpointEvery: 5 }).fit(pairs, { maxSteps: 5 });
    const good = weights(model);
    // A rate of 1e30 blows the weights up at the next update; the loss after it is not finite.
    const blowUp = new Trainer(model, { checkpointDir: dir, batchTokens: 64, checkpointEvery: 50, schedule: 'constant', lr: 1e30, warmupSteps: 0 });
    const err = await blowUp.fit(pairs, { maxSteps: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as Error).message).toMatch(/step-00000005/);
    const restored = new Transformer({ ...TINY, dropout: 0, seed: 9 });
    await new Trainer(restored, { checkpointDir: dir, batchTokens: 64, checkpointEvery: 5 }).fit(pairs, { maxSteps: 5 }); // resumes, nothing to do
    const back = weights(restored);
    for (const [name, w] of good) expect(back.get(name), name).toEqual(w);
  });

  it('keeps the newest k checkpoints and the best; an aborted fit writes a checkpoint and resolves', async () => {
    const dir = join(work, 'keep');
    const pairs = copyPairs(300, 6);
    const model = new Transformer({ ...TINY, dropout: 0, seed: 4 });
    const trainer = new Trainer(model, { checkpointDir: dir, batchTokens: 64, evalEvery: 2, keepCheckpoints: 2, bleuSamples: 8 });
    const evals: number[] = [];
    await trainer.fit(pairs, { maxSteps: 8, valid: copyPairs(16, 7), onEval: (e) => evals.push(e.step) });
    expect(evals).toEqual([2, 4, 6, 8]);
    const steps = readdirSync(dir).filter((n) => n.startsWith('step-')).sort();
    expect(steps.slice(-2)).toEqual(['step-00000006', 'step-00000008']);
    expect(steps.length).toBeLessThanOrEqual(3);
    expect(existsSync(join(dir, 'history.json'))).toBe(true);

    const controller = new AbortController();
    const more = await trainer.fit(pairs, { maxSteps: 1000, signal: controller.signal, onStep: (e) => e.step === 11 && controller.abort() });
    expect(more.at(-1)!.step).toBe(11);
    expect(existsSync(join(dir, 'step-00000011'))).toBe(true);
  }, 60_000);

  it('an epoch limit stops at the end of that epoch: every pair seen once per epoch', async () => {
    const pairs = copyPairs(120, 10);
    const perEpoch = data.batchByTokens(pairs, { batchTokens: 64 }).length;
    const history = await new Trainer(new Transformer({ ...TINY, seed: 8 }), { batchTokens: 64 }).fit(pairs, { epochs: 2 });
    const steps = history.filter((e) => e.kind === 'step');
    expect(steps).toHaveLength(2 * perEpoch);
    expect(steps.slice(0, perEpoch).reduce((n, e) => n + e.targetTokens, 0)).toBe(pairs.reduce((n, [, t]) => n + t.length - 1, 0));
  });

  it('evaluates and checkpoints after every evalEveryMinutes of training time, best or not', async () => {
    const model = new Transformer({ ...TINY, seed: 8 });
    const evals: number[] = [];
    const dir = join(work, 'timed');
    // lr 0: the validation loss never improves, so only step 1 is ever the best.
    await new Trainer(model, { batchTokens: 64, evalEveryMinutes: 1e-9, bleuSamples: 0, schedule: 'constant', lr: 0, checkpointDir: dir, keepCheckpoints: 10 })
      .fit(copyPairs(100, 8), { maxSteps: 4, valid: copyPairs(8, 9), onEval: (e) => evals.push(e.step) });
    expect(evals).toEqual([1, 2, 3, 4]);
    expect(readdirSync(dir).filter((f) => f.startsWith('step-')).sort()).toEqual(['step-00000001', 'step-00000002', 'step-00000003', 'step-00000004']);
  });

  it('rejects bad options and pairs with typed errors before any work', async () => {
    const model = new Transformer(TINY);
    expect(() => new Trainer(model, { schedule: 'linear' as 'noam' })).toThrow(InvalidArgumentError);
    expect(() => new Trainer(model, { batchTokens: 0 })).toThrow(/batchTokens/);
    expect(() => new Trainer(model, { betas: [0.9, 1] })).toThrow(/betas\[1\]/);
    expect(() => new Trainer(model, { nope: 1 } as object)).toThrow(/nope/);
    const trainer = new Trainer(model);
    await expect(trainer.fit([[[4, 99], [1, 5, 2]]])).rejects.toThrow(/\[0, 16\).*99/);
    await expect(trainer.fit([[[], [1, 5, 2]]])).rejects.toThrow(/source tokens/);
    await expect(trainer.fit([[[4], [5, 6]]])).rejects.toThrow(/<bos>.*addSpecial/);
    await expect(trainer.fit([])).rejects.toThrow(/at least one/);
    await expect(trainer.fit(copyPairs(4, 1), { maxSteps: 0 })).rejects.toThrow(/maxSteps/);
    await expect(new Trainer(model, { schedule: 'cosine' }).fit(copyPairs(4, 1), { maxMinutes: 1 })).rejects.toThrow(/cosine/);
  });
});
