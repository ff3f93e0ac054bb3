/**
 * Byte-pair encoding by merge rank (Sennrich et al.; GPT-2): a piece starts as its characters (with the
 * continuation prefix on all but the first, the end-of-word suffix on the last), then the adjacent pair
 * with the lowest merge rank is merged, leftmost first, until no pair has a merge. A heap of candidate
 * pairs over a linked list of symbols makes that O(n log n) in the piece's length, so a long run without
 * spaces costs no more than its size.
 */
import { FormatError } from '../../errors.js';
import { Heap } from '../heap.js';
import type { Vocab } from '../vocab.js';
import { type Model, unknown } from './model.js';

export interface BpeModelOptions {
  unkToken?: string | null;
  continuingSubwordPrefix?: string | null;
  endOfWordSuffix?: string | null;
  /** Consecutive unknown characters become one unknown token. */
  fuseUnk?: boolean;
  /** An unknown character becomes its UTF-8 bytes as `<0xXX>` tokens (when they are all in the vocabulary). */
  byteFallback?: boolean;
  /** A piece that is itself a token is taken whole, before any merge (Llama 3). */
  ignoreMerges?: boolean;
}

/** Pair keys and merge values pack two numbers below 2^21 into one double, exactly. */
const SHIFT = 2 ** 21;
const POS = 2 ** 31;
const utf8 = new TextEncoder();

export class BpeModel implements Model {
  readonly unkToken: string | null;
  readonly continuingSubwordPrefix: string | null;
  readonly endOfWordSuffix: string | null;
  readonly fuseUnk: boolean;
  readonly byteFallback: boolean;
  readonly ignoreMerges: boolean;
  readonly cacheable: boolean;
  /** With none, the model only maps characters to ids (the CharTokenizer). */
  readonly mergeCount: number;
  /** (left id, right id) → rank · 2^21 + merged id. */
  private readonly ranks = new Map<number, number>();
  private readonly merges: ReadonlyArray<readonly [string, string]>;

  constructor(readonly vocab: Vocab, merges: ReadonlyArray<readonly [string, string]>, o: BpeModelOptions = {}) {
    if (vocab.size >= SHIFT) throw new FormatError(`Expected at most ${SHIFT - 1} tokens in a BPE vocabulary but received ${vocab.size}`);
    this.unkToken = o.unkToken ?? null;
    this.continuingSubwordPrefix = o.continuingSubwordPrefix ?? null;
    this.endOfWordSuffix = o.endOfWordSuffix ?? null;
    this.fuseUnk = o.fuseUnk ?? false;
    this.byteFallback = o.byteFallback ?? false;
    this.ignoreMerges = o.ignoreMerges ?? false;
    this.merges = merges;
    const prefixLength = this.continuingSubwordPrefix?.length ?? 0;
    merges.forEach(([a, b], rank) => {
      const left = vocab.id(a);
      const right = vocab.id(b);
      const merged = vocab.id(a + b.slice(prefixLength));
      const missing = left === undefined ? a : right === undefined ? b : merged === undefined ? a + b.slice(prefixLength) : null;
      if (missing !== null) {
        throw new FormatError(`Expected the tokens of BPE merge ${rank} (${JSON.stringify(a)} ${JSON.stringify(b)}) in the vocabulary but ${JSON.stringify(missing)} is not`);
      }
      const key = left! * SHIFT + right!;
      if (!this.ranks.has(key)) this.ranks.set(key, rank * SHIFT + merged!);
    });
    this.mergeCount = merges.length;
    this.cacheable = merges.length > 0;
  }

  json(): Record<string, unknown> {
    const spaced = this.merges.some(([a, b]) => a.includes(' ') || b.includes(' '));
    return {
      type: 'BPE', dropout: null, unk_token: this.unkToken, continuing_subword_prefix: this.continuingSubwordPrefix,
      end_of_word_suffix: this.endOfWordSuffix, fuse_unk: this.fuseUnk, byte_fallback: this.byteFallback,
      ignore_merges: this.ignoreMerges, vocab: this.vocab.toObject(),
      // "a b" is the form every version of the tokenizers library reads; pairs only where a token has a space.
      merges: spaced ? this.merges.map(([a, b]) => [a, b]) : this.merges.map(([a, b]) => `${a} ${b}`),
    };
  }

  tokenize(word: string, ids: number[], ends?: number[]): void {
    if (this.ignoreMerges) {
      const id = this.vocab.id(word);
      if (id !== undefined) {
        ids.push(id);
        ends?.push(word.length);
        return;
      }
    }
    const sym: number[] = [];
    const end: number[] = [];
    this.symbols(word, sym, end);
    if (this.cacheable && sym.length > 1) this.mergeAll(sym, end);
    for (const id of sym) ids.push(id);
    if (ends) for (const e of end) ends.push(e);
  }

  /** The piece's characters as ids, with what unknown characters become. */
  private symbols(word: string, sym: number[], end: number[]): void {
    const prefix = this.continuingSubwordPrefix ?? '';
    const suffix = this.endOfWordSuffix ?? '';
    let lastUnk = false;
    for (let i = 0; i < word.length; ) {
      const cp = word.codePointAt(i)!;
      const j = i + (cp > 0xffff ? 2 : 1);
      const ch = word.slice(i, j);
      const id = this.vocab.id((i > 0 ? prefix : '') + ch + (j === word.length ? suffix : ''));
      if (id !== undefined) {
        sym.push(id);
        end.push(j);
        lastUnk = false;
      } else if (!this.pushBytes(ch, j, sym, end)) {
        if (this.fuseUnk && lastUnk) end[end.length - 1] = j;
        else {
          sym.push(unknown(this.vocab, this.unkToken, `the character ${JSON.stringify(ch)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`));
          end.push(j);
        }
        lastUnk = true;
      }
      i = j;
    }
  }

  /** Byte fallback: the character as `<0xXX>` tokens, if enabled and all of them exist. */
  private pushBytes(ch: string, j: number, sym: number[], end: number[]): boolean {
    if (!this.byteFallback) return false;
    const bytes = utf8.encode(ch);
    const byteIds = Array.from(bytes, (b) => this.vocab.id(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
    if (byteIds.some((id) => id === undefined)) return false;
    for (const id of byteIds) {
      sym.push(id!);
      end.push(j);
    }
    return true;
  }

  /** Merges in place, lowest rank first and leftmost among equals. */
  private mergeAll(sym: number[], end: number[]): void {
    const n = sym.length;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new Heap((a, b) => a < b);
    const offer = (i: number): void => {
      const j = next[i]!;
      if (j < 0) return;
      const v = this.ranks.get(sym[i]! * SHIFT + sym[j]!);
      if (v !== undefined) heap.push(Math.floor(v / SHIFT) * POS + i);
    };
    for (let i = 0; i < n - 1; i++) offer(i);
    while (heap.size) {
      const top = heap.pop();
      const rank = Math.floor(top / POS);
      const i = top - rank * POS;
      const j = next[i]!;
      if (j < 0 || sym[i]! < 0) continue;
      const v = this.ranks.get(sym[i]! * SHIFT + sym[j]!);
      // Stale: one side was merged since this pair was offered.
      if (v === undefined || Math.floor(v / SHIFT) !== rank) continue;
      sym[i] = v - rank * SHIFT;
      end[i] = end[j]!;
      sym[j] = -1;
      next[i] = next[j]!;
      if (next[j]! >= 0) prev[next[j]!] = i;
      if (prev[i]! >= 0) offer(prev[i]!);
      offer(i);
    }
    let w = 0;
    for (let i = 0; i >= 0; i = next[i]!) {
      sym[w] = sym[i]!;
      end[w++] = end[i]!;
    }
    sym.length = w;
    end.length = w;
  }
}
