// The package root exports the metrics namespace with every function of lib/metrics.
import { describe, expect, it } from 'vitest';

import { metrics } from '../../lib/index.js';

describe('metrics namespace', () => {
  it('holds the metrics of the API contract, and sentence BLEU', () => {
    expect(Object.keys(metrics).sort()).toEqual(['accuracy', 'bleu', 'chrf', 'perplexity', 'precisionRecallF1', 'rouge', 'sentenceBleu']);
    expect(metrics.bleu(['a b c d'], ['a b c d']).score).toBeCloseTo(100, 10);
  });
});
