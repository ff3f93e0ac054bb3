/**
 * One step of beam search for one source, as fairseq and Hugging Face run it: the 2·K best extensions
 * of its K live hypotheses (by summed search log-probability) are walked best first; an extension that
 * ends (EOS, or the source's maxLength reached) is finished if it ranks among the first K, and the first
 * K that do not end are the next beams. Finished hypotheses are ranked by score = sum / n^α.
 *
 * Stopping rule, once nBest hypotheses are finished: 'heuristic' stops when the best live beam, ended
 * now, would not score above the worst of the nBest; 'exact' only when no continuation of any live beam
 * can (log-probabilities only fall as tokens are added, so a live sum s bounds every continuation's
 * score by s / maxLength^α for α > 0, s / n^α otherwise). A source also stops when no beam is live.
 */
import type { Row } from './row.js';

/** A live hypothesis (one row of the decoder). */
export interface Beam {
  /** Emitted ids (prefix included; no BOS, no EOS). */
  ids: number[];
  /** The model's log-probability of them. */
  logProb: number;
  /** The search's (penalised) log-probability of them; −∞ marks an empty row. */
  sum: number;
  /** With returnAttention: each id's cross-attention block. */
  attention?: Float32Array[];
}

/** A finished hypothesis. */
export interface Finished {
  ids: number[];
  logProb: number;
  /** Tokens emitted, EOS included when it ended with EOS. */
  length: number;
  /** sum / length^α: what the search ranks by. */
  rank: number;
  attention?: Float32Array[];
}

export interface BeamOptions {
  beamSize: number;
  lengthPenalty: number;
  nBest: number;
  beamStop: 'heuristic' | 'exact';
}

/** The result of one step: the next beams (K rows, −∞ sums for empty ones) and the row each came from. */
export interface BeamStep {
  beams: Beam[];
  parents: number[];
  done: boolean;
}

/**
 * Extends `beams` (K rows, scored by `rows`) by one token; finished hypotheses are added to `finished`
 * (kept sorted, best first). `t` is the number of tokens the beams hold.
 */
export function beamStep(
  beams: readonly Beam[], rows: readonly Row[], t: number, maxLength: number, eos: number, o: BeamOptions, finished: Finished[],
): BeamStep {
  const k = o.beamSize;
  const cand = topCandidates(beams, rows, 2 * k);
  const next: Beam[] = [];
  const parents: number[] = [];
  const n = t + 1;
  for (let i = 0; i < cand.count && next.length < k; i++) {
    const b = cand.beam[i]!, v = cand.token[i]!;
    const parent = beams[b]!;
    const logProb = parent.logProb + rows[b]!.logProb(v);
    const attention = parent.attention && [...parent.attention, rows[b]!.attention!];
    if (v === eos || n === maxLength) {
      // Ends here; extensions past the first K that end are dropped, as in fairseq and Hugging Face.
      if (i < k) {
        insertFinished(finished, {
          ids: v === eos ? parent.ids : [...parent.ids, v], logProb, length: n, rank: lengthScore(cand.value[i]!, n, o.lengthPenalty),
          ...(attention && { attention: v === eos ? parent.attention! : attention }),
        });
      }
    } else {
      next.push({ ids: [...parent.ids, v], logProb, sum: cand.value[i]!, ...(attention && { attention }) });
      parents.push(b);
    }
  }
  const live = next.length;
  while (next.length < k) {
    next.push({ ids: [], logProb: 0, sum: -Infinity, ...(beams[0]!.attention && { attention: [] }) });
    parents.push(0);
  }
  return { beams: next, parents, done: live === 0 || stops(next, finished, n, maxLength, o) };
}

/** score = logProb / n^α (n ≥ 1: a hypothesis forced to end before any token counts as one). */
export function lengthScore(logProb: number, length: number, alpha: number): number {
  return logProb / Math.max(length, 1) ** alpha;
}

function stops(next: readonly Beam[], finished: readonly Finished[], n: number, maxLength: number, o: BeamOptions): boolean {
  if (finished.length < o.nBest) return false;
  const worst = finished[o.nBest - 1]!.rank;
  const best = Math.max(...next.map((b) => b.sum));
  const alpha = o.lengthPenalty;
  const bound = o.beamStop === 'exact' && alpha > 0 ? best / maxLength ** alpha : best / n ** alpha;
  return bound <= worst;
}

function insertFinished(finished: Finished[], f: Finished): void {
  let i = finished.length;
  while (i > 0 && finished[i - 1]!.rank < f.rank) i--;
  finished.splice(i, 0, f);
}

interface Candidates {
  count: number;
  value: Float64Array;
  beam: Int32Array;
  token: Int32Array;
}

/**
 * The `m` best (beam, token) extensions by sum + search log-probability, best first (ties: lower beam,
 * then lower token). One pass over each row: a token enters only if it beats the current m-th.
 */
function topCandidates(beams: readonly Beam[], rows: readonly Row[], m: number): Candidates {
  const c: Candidates = { count: 0, value: new Float64Array(m), beam: new Int32Array(m), token: new Int32Array(m) };
  const insert = (value: number, b: number, v: number) => {
    let i = c.count < m ? c.count++ : m - 1;
    while (i > 0 && c.value[i - 1]! < value) {
      c.value[i] = c.value[i - 1]!;
      c.beam[i] = c.beam[i - 1]!;
      c.token[i] = c.token[i - 1]!;
      i--;
    }
    c.value[i] = value;
    c.beam[i] = b;
    c.token[i] = v;
  };
  beams.forEach((beam, b) => {
    if (beam.sum === -Infinity) return;
    const row = rows[b]!;
    if (row.forced >= 0) {
      insert(beam.sum + row.searchLogProb(row.forced), b, row.forced);
      return;
    }
    // The hot loop (rows × vocabulary per step) compares raw logits with the m-th value moved into logit units.
    const x = row.logits;
    const offset = beam.sum - row.lse;
    let threshold = c.count === m ? c.value[m - 1]! - offset : -Infinity;
    for (let v = 0; v < x.length; v++) {
      if (!(x[v]! > threshold) || !row.allowed(v)) continue;
      insert(x[v]! + offset, b, v);
      if (c.count === m) threshold = c.value[m - 1]! - offset;
    }
  });
  return c;
}
