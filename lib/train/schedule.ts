/**
 * Learning-rate schedules, as a function of the optimiser step s = 1, 2, … (the rate the s-th update uses).
 *
 * - `noam` (§5.3 of "Attention Is All You Need"): lr · dModel^-0.5 · min(s^-0.5, s · warmup^-1.5), a
 *   linear warm-up to its peak at s = warmup, then decay as 1/√s; `lr` is the paper's factor (2 in the
 *   annotated Transformer; the paper's own rate is factor 1).
 * - `constant`: lr after a linear warm-up over `warmup` steps (none when 0).
 * - `cosine`: the same warm-up, then half a cosine from lr down to 0 at `totalSteps` (held at 0 after).
 */
export type Schedule = 'noam' | 'constant' | 'cosine';

export interface ScheduleOptions {
  schedule: Schedule;
  lr: number;
  warmupSteps: number;
  dModel: number;
  /** The step where `cosine` reaches 0 (ignored by the others). */
  totalSteps: number;
}

/** The learning rate of update number `step` (≥ 1). */
export function learningRate(o: ScheduleOptions, step: number): number {
  const warm = o.warmupSteps > 0 ? Math.min(1, step / o.warmupSteps) : 1;
  switch (o.schedule) {
    case 'noam':
      return o.lr * o.dModel ** -0.5 * Math.min(step ** -0.5, step * Math.max(1, o.warmupSteps) ** -1.5);
    case 'constant':
      return o.lr * warm;
    case 'cosine': {
      if (step <= o.warmupSteps) return o.lr * warm;
      const progress = Math.min(1, (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps));
      return 0.5 * o.lr * (1 + Math.cos(Math.PI * progress));
    }
  }
}
