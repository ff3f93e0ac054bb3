// lib/tensor/random.ts: the seeded generator's bulk uniform fill (what weight initialisation uses).
import { describe, expect, it } from 'vitest';

import { Rng } from '../../lib/tensor/random.js';

describe('Rng.fillUniform', () => {
  it('draws the same stream as nextUint32, scaled into [lo, hi]', () => {
    const a = new Rng(42), b = new Rng(42);
    const out = new Float32Array(1000);
    a.fillUniform(out, -0.5, 1.5);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBe(Math.fround(-0.5 + (b.nextUint32() * 2) / 2 ** 32));
    expect(a.nextUint32()).toBe(b.nextUint32()); // the state moved on by exactly one draw per element
  });

  it('is uniform: mean, variance and every decile as expected for 100,000 draws', () => {
    const out = new Float32Array(100_000);
    new Rng(7).fillUniform(out, -1, 1);
    let sum = 0, sq = 0;
    const deciles = new Array<number>(10).fill(0);
    for (const x of out) {
      expect(x).toBeGreaterThanOrEqual(-1);
      expect(x).toBeLessThanOrEqual(1);
      sum += x;
      sq += x * x;
      deciles[Math.min(9, Math.floor((x + 1) * 5))]!++;
    }
    expect(Math.abs(sum / out.length)).toBeLessThan(0.01); // σ of the mean ≈ 0.0018
    expect(Math.abs(sq / out.length - 1 / 3)).toBeLessThan(0.01);
    for (const d of deciles) expect(Math.abs(d - 10_000)).toBeLessThan(500); // σ ≈ 95
  });
});
