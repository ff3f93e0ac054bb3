// Learning-rate schedules against their formulas at hand-picked steps.
import { describe, expect, it } from 'vitest';

import { learningRate } from '../../lib/train/schedule.js';

describe('learningRate', () => {
  const base = { lr: 2, warmupSteps: 4000, dModel: 256, totalSteps: 10_000 };
  it('noam: lr·d^-0.5·min(s^-0.5, s·w^-1.5), peaking at the warm-up step', () => {
    for (const s of [1, 100, 3999, 4000, 4001, 20_000]) {
      expect(learningRate({ ...base, schedule: 'noam' }, s)).toBeCloseTo(2 / 16 * Math.min(s ** -0.5, s * 4000 ** -1.5), 15);
    }
    const peak = learningRate({ ...base, schedule: 'noam' }, 4000);
    expect(learningRate({ ...base, schedule: 'noam' }, 3999)).toBeLessThan(peak);
    expect(learningRate({ ...base, schedule: 'noam' }, 4001)).toBeLessThan(peak);
    expect(peak).toBeCloseTo(2 / 16 / Math.sqrt(4000), 15);
  });
  it('constant: a linear warm-up to lr, then lr', () => {
    expect(learningRate({ ...base, schedule: 'constant' }, 1000)).toBeCloseTo(0.5, 15);
    expect(learningRate({ ...base, schedule: 'constant' }, 4000)).toBe(2);
    expect(learningRate({ ...base, schedule: 'constant' }, 9999)).toBe(2);
    expect(learningRate({ ...base, schedule: 'constant', warmupSteps: 0 }, 1)).toBe(2);
  });
  it('cosine: warm-up, then half a cosine to 0 at totalSteps, held there', () => {
    const c = { ...base, schedule: 'cosine' as const };
    expect(learningRate(c, 2000)).toBeCloseTo(1, 15);
    expect(learningRate(c, 4000)).toBeCloseTo(2, 15);
    expect(learningRate(c, 7000)).toBeCloseTo(1, 12);
    expect(learningRate(c, 10_000)).toBeCloseTo(0, 15);
    expect(learningRate(c, 12_000)).toBeCloseTo(0, 15);
  });
});
