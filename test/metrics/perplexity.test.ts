// perplexity = e^meanNll, checked on values whose answer is known exactly or by definition. Tolerance 1e-12 relative.
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { perplexity } from '../../lib/metrics/perplexity.js';

describe('perplexity', () => {
  it('is e^meanNll: a uniform choice among k tokens has perplexity k', () => {
    expect(perplexity(0)).toBe(1);
    for (const k of [2, 50, 32000]) expect(Math.abs(perplexity(Math.log(k)) - k) / k).toBeLessThan(1e-12);
    expect(perplexity(1)).toBe(Math.E);
  });

  it('rejects what is not a finite number', () => {
    expect(() => perplexity(Number.NaN)).toThrow(new InvalidArgumentError('Expected a finite number for meanNll but received the number NaN'));
    expect(() => perplexity('1' as unknown as number)).toThrow(InvalidArgumentError);
  });
});
