/**
 * Sampling the next token (strategy 'sample'): softmax(logits / temperature) over the allowed tokens,
 * cut to the topK most likely, then to the smallest most-likely set whose probability reaches topP
 * (each cut renormalises, as Hugging Face's warpers apply them in that order), then one draw.
 *
 * The draw walks the kept tokens in a fixed order (by probability, ties by id; by id when no cut needs an
 * order) with one uniform number from the source's own generator, so a seed gives the same text whatever
 * the batch, the thread count or the machine.
 */
import type { Rng } from '../tensor/random.js';
import type { Row } from './row.js';

export interface SampleOptions {
  temperature: number;
  topK: number;
  topP: number;
}

/** A token drawn from `row`'s distribution, or -1 when no token is allowed. */
export function sampleToken(row: Row, o: SampleOptions, rng: Rng): number {
  if (row.forced >= 0) return row.forced;
  const x = row.logits;
  const ids = o.topK > 0 && o.topK < x.length ? topKIds(row, o.topK) : allowedIds(row, o.topP < 1);
  if (ids.length === 0) return -1;
  // Weights relative to the largest logit: exp((x − max) / T) ≤ 1, never overflowing.
  let max = -Infinity;
  for (const v of ids) if (x[v]! > max) max = x[v]!;
  const w = ids.map((v) => Math.exp((x[v]! - max) / o.temperature));
  let total = w.reduce((a, b) => a + b, 0);
  let kept = ids.length;
  if (o.topP < 1) {
    // ids are in descending order here: keep tokens while the mass before them is below topP.
    let before = 0;
    for (kept = 0; kept < ids.length && before < o.topP * total; kept++) before += w[kept]!;
    total = before;
  }
  let u = rng.uniform() * total;
  for (let i = 0; i < kept - 1; i++) {
    u -= w[i]!;
    if (u < 0) return ids[i]!;
  }
  return ids[kept - 1]!;
}

/** Allowed ids, by id or (when `sorted`) by descending logit, ties by id. */
function allowedIds(row: Row, sorted: boolean): number[] {
  const ids: number[] = [];
  for (let v = 0; v < row.logits.length; v++) if (row.allowed(v)) ids.push(v);
  if (sorted) ids.sort((a, b) => row.logits[b]! - row.logits[a]! || a - b);
  return ids;
}

/** The k allowed ids of largest logit, in descending order (ties by id). */
function topKIds(row: Row, k: number): number[] {
  const x = row.logits;
  const ids: number[] = [];
  for (let v = 0; v < x.length; v++) {
    if (ids.length === k && !(x[v]! > x[ids[k - 1]!]!)) continue;
    if (!row.allowed(v)) continue;
    // Insertion into the sorted list: k is small in practice (tens).
    let i = ids.length < k ? ids.length : k - 1;
    while (i > 0 && x[ids[i - 1]!]! < x[v]!) {
      if (i < k) ids[i] = ids[i - 1]!;
      i--;
    }
    ids[i] = v;
  }
  return ids;
}
