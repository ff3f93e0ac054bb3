/**
 * Learns BPE merges from word counts (Sennrich et al. 2016, as Hugging Face's BpeTrainer): start from the
 * characters, repeatedly merge the most frequent adjacent pair (ties: the lower pair of ids), until the
 * vocabulary is full or no pair occurs `minFrequency` times. Pair counts are updated incrementally: a
 * merge touches only the words that hold the pair (an index from pair to words), and the heap is lazy
 * (an entry whose count went stale is re-queued with the current count when it surfaces).
 */
import { Heap } from '../heap.js';

export interface TrainProgress {
  /** Tokens in the vocabulary so far. */
  readonly vocabSize: number;
  /** The size being trained to. */
  readonly target: number;
}

export interface BpeTrainerOptions {
  vocabSize: number;
  minFrequency: number;
  /** First in the vocabulary, in this order. */
  specialTokens: readonly string[];
  /** Characters kept whatever their count (all 256 byte characters for byte-level BPE). */
  initialAlphabet?: readonly string[];
  /** Keep only this many of the most frequent characters (plus `initialAlphabet`); the rest are unknown. */
  limitAlphabet?: number;
  /** Marks pieces after a word's first ("##" for WordPiece). */
  continuingSubwordPrefix?: string | null;
  onProgress?: (p: TrainProgress) => void;
}

export interface BpeTrainResult {
  tokens: string[];
  merges: Array<[string, string]>;
}

const SHIFT = 2 ** 21;
const byCodePoint = (a: string, b: string): number => a.codePointAt(0)! - b.codePointAt(0)!;

export function trainBpe(words: ReadonlyMap<string, number>, o: BpeTrainerOptions): BpeTrainResult {
  const prefix = o.continuingSubwordPrefix ?? '';
  const tokens: string[] = [];
  const ids = new Map<string, number>();
  const add = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      ids.set(t, id);
    }
    return id;
  };
  for (const t of o.specialTokens) add(t);
  const alphabet = computeAlphabet(words, o);
  for (const ch of alphabet) add(ch);

  // Each word as symbol ids; a character outside the alphabet is left out, as it can never be merged.
  const counts: number[] = [];
  const syms: number[][] = [];
  for (const [word, count] of words) {
    const s: number[] = [];
    Array.from(word).forEach((ch, i) => {
      if (!alphabet.has(ch)) return;
      s.push(add((i > 0 ? prefix : '') + ch));
    });
    syms.push(s);
    counts.push(count);
  }

  // Pairs: index ↔ key (left · 2^21 + right), current count, and the words that may hold it.
  const pairIndex = new Map<number, number>();
  const pairKey: number[] = [];
  const pairCount: number[] = [];
  const where: number[][] = [];
  const pair = (key: number): number => {
    let p = pairIndex.get(key);
    if (p === undefined) {
      p = pairKey.length;
      pairIndex.set(key, p);
      pairKey.push(key);
      pairCount.push(0);
      where.push([]);
    }
    return p;
  };
  const noteWord = (p: number, w: number): void => {
    const list = where[p]!;
    if (list[list.length - 1] !== w) list.push(w);
  };
  syms.forEach((s, w) => {
    for (let i = 0; i + 1 < s.length; i++) {
      const p = pair(s[i]! * SHIFT + s[i + 1]!);
      pairCount[p]! += counts[w]!;
      noteWord(p, w);
    }
  });

  // Heap entries are snapshots (pair, count); the most frequent comes first, the lower key on ties.
  const entryPair: number[] = [];
  const entryCount: number[] = [];
  const heap = new Heap((x, y) => entryCount[x]! > entryCount[y]! || (entryCount[x] === entryCount[y] && pairKey[entryPair[x]!]! < pairKey[entryPair[y]!]!));
  const enqueue = (p: number): void => {
    entryPair.push(p);
    entryCount.push(pairCount[p]!);
    heap.push(entryPair.length - 1);
  };
  for (let p = 0; p < pairKey.length; p++) enqueue(p);

  const merges: Array<[string, string]> = [];
  const seen = new Int32Array(syms.length).fill(-1);
  const minFrequency = Math.max(1, o.minFrequency);
  const progressEvery = Math.max(1, Math.floor((o.vocabSize - tokens.length) / 100));
  while (tokens.length < o.vocabSize && heap.size) {
    const e = heap.pop();
    const p = entryPair[e]!;
    if (entryCount[e] !== pairCount[p]) {
      if (pairCount[p]! > 0) enqueue(p);
      continue;
    }
    if (pairCount[p]! < minFrequency) break;
    const key = pairKey[p]!;
    const a = Math.floor(key / SHIFT);
    const b = key - a * SHIFT;
    const right = tokens[b]!;
    const merged = add(tokens[a]! + (prefix && right.startsWith(prefix) ? right.slice(prefix.length) : right));
    merges.push([tokens[a]!, right]);
    pairCount[p] = 0;

    // Apply the merge in every word that holds the pair, collecting the change of each neighbour pair.
    const delta = new Map<number, number>();
    const change = (x: number, y: number, by: number, w: number): void => {
      const q = pair(x * SHIFT + y);
      if (q === p) return;
      delta.set(q, (delta.get(q) ?? 0) + by);
      if (by > 0) noteWord(q, w);
    };
    for (const w of where[p]!) {
      if (seen[w] === merges.length) continue;
      seen[w] = merges.length;
      const s = syms[w]!;
      const c = counts[w]!;
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] !== a || s[i + 1] !== b) continue;
        if (i > 0) {
          change(s[i - 1]!, a, -c, w);
          change(s[i - 1]!, merged, c, w);
        }
        if (i + 2 < s.length) {
          change(b, s[i + 2]!, -c, w);
          change(merged, s[i + 2]!, c, w);
        }
        s[i] = merged;
        s.splice(i + 1, 1);
      }
    }
    where[p] = [];
    for (const [q, d] of delta) {
      pairCount[q]! += d;
      if (d > 0) enqueue(q);
    }
    if (o.onProgress && merges.length % progressEvery === 0) o.onProgress({ vocabSize: tokens.length, target: o.vocabSize });
  }
  o.onProgress?.({ vocabSize: tokens.length, target: o.vocabSize });
  return { tokens, merges };
}

/** The characters to start from: all seen (or the `limitAlphabet` most frequent) plus the initial ones, by code point. */
function computeAlphabet(words: ReadonlyMap<string, number>, o: BpeTrainerOptions): Set<string> {
  const freq = new Map<string, number>();
  for (const [word, count] of words) for (const ch of word) freq.set(ch, (freq.get(ch) ?? 0) + count);
  let kept = [...freq.keys()];
  if (o.limitAlphabet !== undefined && kept.length > o.limitAlphabet) {
    kept = kept.sort((x, y) => freq.get(y)! - freq.get(x)! || byCodePoint(x, y)).slice(0, o.limitAlphabet);
  }
  return new Set([...kept, ...(o.initialAlphabet ?? [])].sort(byCodePoint));
}
