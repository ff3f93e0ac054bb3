/**
 * One hypothesis's next-token distribution at one step, as every strategy sees it: the logits after the
 * repetition penalty, which tokens are forbidden (EOS before minLength, n-grams already seen) or forced
 * (a prefix), and the model's own log-probability of any token (what `logProb` reports).
 *
 * Penalised logits are written in place over the step's logits (the raw values of the few penalised
 * tokens are kept aside); masks are tests, not −∞ writes, so nothing renormalises over them: the search
 * log-probability of an allowed token is its penalised logit minus the penalised log-sum-exp (with no
 * penalty: exactly the model's log-probability).
 */
import type { ResolvedOptions } from './options.js';

export class Row {
  /** The penalised logits [V] (a view of the step's output). */
  readonly logits: Float32Array;
  /** The forced token (prefix), or -1. */
  readonly forced: number;
  /** With returnAttention: this row's cross-attention block at this step. */
  readonly attention: Float32Array | undefined;
  readonly #rawLse: number;
  readonly #lse: number;
  readonly #eos: number;
  readonly #eosBanned: boolean;
  readonly #banned: Set<number> | null;
  readonly #raw: Map<number, number> | null;

  /** `ids`: the hypothesis's emitted ids so far (t = ids.length of them); `prefix`: its source's. */
  constructor(
    logits: Float32Array, rawLse: number, ids: readonly number[], prefix: readonly number[], o: ResolvedOptions, eos: number, attention?: Float32Array,
  ) {
    this.logits = logits;
    this.attention = attention;
    this.#rawLse = rawLse;
    this.#eos = eos;
    const t = ids.length;
    this.forced = t < prefix.length ? prefix[t]! : -1;
    this.#eosBanned = t < o.minLength;
    this.#banned = o.noRepeatNgram > 0 ? ngramBans(ids, o.noRepeatNgram) : null;
    this.#raw = o.repetitionPenalty !== 1 && t > 0 ? penalise(logits, ids, o.repetitionPenalty) : null;
    this.#lse = this.#raw === null ? rawLse : logSumExp(logits);
  }

  /** Whether the search may pick `v` (forced tokens are always allowed). */
  allowed(v: number): boolean {
    if (this.forced >= 0) return v === this.forced;
    return !(v === this.#eos && this.#eosBanned) && !(this.#banned?.has(v));
  }

  /** The search's log-probability of `v`: penalised logit − penalised log-sum-exp. */
  searchLogProb(v: number): number {
    return this.logits[v]! - this.#lse;
  }

  /** The search's log-sum-exp (what to subtract from a penalised logit). */
  get lse(): number {
    return this.#lse;
  }

  /** The model's log-probability of `v` (eval mode, temperature 1, no penalty). */
  logProb(v: number): number {
    return (this.#raw?.get(v) ?? this.logits[v]!) - this.#rawLse;
  }

  /** The allowed token with the largest penalised logit (the smallest id on ties), or -1 if none is. */
  argmax(): number {
    if (this.forced >= 0) return this.forced;
    const x = this.logits;
    let best = -1, bestValue = -Infinity;
    for (let v = 0; v < x.length; v++) {
      if (x[v]! > bestValue && this.allowed(v)) {
        best = v;
        bestValue = x[v]!;
      }
    }
    return best;
  }
}

/** Tokens that would complete an n-gram already in `ids` (after its last n − 1 ids). */
function ngramBans(ids: readonly number[], n: number): Set<number> {
  const bans = new Set<number>();
  const t = ids.length;
  if (t < n - 1 || n === 0) return bans;
  for (let i = 0; i + n - 1 < t; i++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = ids[i + j] === ids[t - n + 1 + j];
    if (same) bans.add(ids[i + n - 1]!);
  }
  return bans;
}

/** CTRL's repetition penalty on every token of `ids`, in place; returns the raw values it replaced. */
function penalise(logits: Float32Array, ids: readonly number[], theta: number): Map<number, number> {
  const raw = new Map<number, number>();
  for (const v of ids) {
    if (raw.has(v)) continue;
    const x = logits[v]!;
    raw.set(v, x);
    logits[v] = x > 0 ? x / theta : x * theta;
  }
  return raw;
}

/** log Σ exp(x), max-shifted, in float64. */
function logSumExp(x: Float32Array): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i]! > m) m = x[i]!;
  if (m === -Infinity) return m;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i]! - m);
  return m + Math.log(s);
}
