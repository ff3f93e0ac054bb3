// The key/value cache: every step's logits equal the full decoder's (teacher forcing over each row's own
// history) within 1e-5, through beam reorders (rows gathered in any order, repeated), sources leaving the
// batch and sources joining it at later steps (rows at different positions), with padded sources, for
// post- and pre-norm models.
import { describe, expect, it } from 'vitest';

import { IncrementalDecoder } from '../../lib/decode/incremental.js';
import { noGrad, type TransformerConfig } from '../../lib/index.js';
import { BOS, randomModel, seq } from './helpers.js';

const TOL = 1e-5;
const V = 23;
const CONFIGS: Record<string, TransformerConfig> = {
  'post-norm relu': { srcVocabSize: 19, tgtVocabSize: V, dModel: 16, heads: 4, encoderLayers: 2, decoderLayers: 2, ffnDim: 24, maxLength: 40 },
  'pre-norm gelu': { srcVocabSize: 19, tgtVocabSize: V, dModel: 24, heads: 3, encoderLayers: 1, decoderLayers: 3, ffnDim: 20, maxLength: 40, normFirst: true, activation: 'gelu' },
};

/** Logits [V] of the last position of `history` (BOS first) given `src`, by the full forward. */
function fullLogits(model: ReturnType<typeof randomModel>, src: Int32Array, history: number[]): Float32Array {
  const logits = noGrad(() => model.forward([src], [Int32Array.from(history)])).toFloat32Array();
  return logits.subarray((history.length - 1) * V);
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.each(Object.entries(CONFIGS))('IncrementalDecoder (%s)', (_, config) => {
  const model = randomModel(config, 7);
  const sources = [seq(3, 4, 5, 6, 7, 8, 9), seq(10, 11), seq(12, 13, 14, 15)];

  // Each row's history (BOS first) and its source; rows are source-major, k per source.
  type Rows = Array<{ src: Int32Array; history: number[] }>;

  /** One step of every row, checked against the full decoder; returns the worst logit difference. */
  function stepAndCheck(dec: IncrementalDecoder, rows: Rows): number {
    let worst = 0;
    const { logits, lse } = dec.step(Int32Array.from(rows.map((r) => r.history.at(-1)!)), Int32Array.from(rows.map((r) => r.history.length - 1)));
    rows.forEach((row, r) => {
      const want = fullLogits(model, row.src, row.history);
      worst = Math.max(worst, maxAbs(logits.subarray(r * V, (r + 1) * V), want));
      let z = 0;
      for (const x of want) z += Math.exp(x);
      expect(Math.abs(lse[r]! - Math.log(z))).toBeLessThanOrEqual(TOL);
    });
    return worst;
  }

  it('matches the full decoder step by step through reorders and sources leaving', () => {
    noGrad(() => {
      const { ids, lengths } = model.srcBatch(sources);
      const k = 3;
      const dec = new IncrementalDecoder(model, k, 0);
      dec.add(ids, lengths, 12);
      let rows: Rows = Array.from({ length: sources.length * k }, (_, r) => ({ src: sources[Math.floor(r / k)]!, history: [BOS] }));
      let worst = 0;
      for (let t = 0; t < 9; t++) {
        worst = Math.max(worst, stepAndCheck(dec, rows));
        // Next tokens differ per row; then a reorder: row b of each source takes the cache of row (b + t) % k,
        // and at t = 4 the middle source leaves.
        rows.forEach((row, r) => row.history.push(3 + ((r * 5 + t * 7) % (V - 3))));
        const keepSources = t === 4 ? [0, 2] : [0, 1, 2].slice(0, rows.length / k);
        const keep = keepSources.flatMap((s) => Array.from({ length: k }, (_, b) => s * k + ((b + t) % k)));
        rows = keep.map((r) => ({ src: rows[r]!.src, history: rows[r]!.history.slice() }));
        dec.select(Int32Array.from(keep), Int32Array.from(keepSources));
      }
      expect(worst).toBeLessThanOrEqual(TOL);
    });
  });

  it('takes sources that join at later steps, each row at its own position, growing its buffers', () => {
    noGrad(() => {
      const k = 2;
      const dec = new IncrementalDecoder(model, k, 0);
      // One short source first (small buffers); a longer one joins at step 2 (more source tokens, more
      // positions, more rows), two more at step 4; the first leaves at step 6, and everything empties.
      const joins = new Map<number, Int32Array[]>([[0, [sources[1]!]], [2, [sources[0]!]], [4, [sources[2]!, seq(5, 6, 7, 8, 9, 10, 11, 12, 13)]]]);
      const capacity = new Map([[0, 5], [2, 14], [4, 9]]);
      let rows: Rows = [];
      let worst = 0;
      for (let t = 0; t < 10; t++) {
        const joining = joins.get(t);
        if (joining !== undefined) {
          const { ids, lengths } = model.srcBatch(joining);
          dec.add(ids, lengths, capacity.get(t)!);
          for (const src of joining) for (let b = 0; b < k; b++) rows.push({ src, history: [BOS] });
        }
        expect(dec.rows).toBe(rows.length);
        worst = Math.max(worst, stepAndCheck(dec, rows));
        rows.forEach((row, r) => row.history.push(3 + ((r * 3 + t * 5) % (V - 3))));
        // The first source's rows swap (a beam reorder); at t = 6 it leaves; after t = 8 all leave.
        const sourcesNow = rows.length / k;
        const keepSources = t === 8 ? [] : t === 6 ? Array.from({ length: sourcesNow - 1 }, (_, s) => s + 1) : Array.from({ length: sourcesNow }, (_, s) => s);
        const keep = keepSources.flatMap((s) => Array.from({ length: k }, (_, b) => s * k + (s === 0 ? 1 - b : b)));
        rows = keep.map((r) => ({ src: rows[r]!.src, history: rows[r]!.history.slice() }));
        dec.select(Int32Array.from(keep), Int32Array.from(keepSources));
        if (t === 8) break;
      }
      expect(dec.rows).toBe(0);
      expect(worst).toBeLessThanOrEqual(TOL);
      dec.dispose();
    });
  });
});
