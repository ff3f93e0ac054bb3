/**
 * The two shapes of a pair, text and token ids, and their checks. Both are `[source, target]` tuples:
 * encoded pairs are what `Trainer.fit` takes (`Array<[number[], number[]]>`).
 */
import { fail } from '../check.js';

/** A source text and its translation. */
export type TextPair = [src: string, tgt: string];

/** The token ids of a source and of its translation. */
export type EncodedPair = [src: number[], tgt: number[]];

/** Throws unless `pairs` is an array of `[string, string]`, naming the first element that is not. */
export function checkTextPairs(pairs: unknown, name: string): asserts pairs is readonly TextPair[] {
  if (!Array.isArray(pairs)) fail('an array of [source, target] string pairs', name, pairs);
  for (let i = 0; i < pairs.length; i++) {
    const p: unknown = pairs[i];
    if (!Array.isArray(p) || p.length !== 2) fail('a [source, target] pair', `${name}[${i}]`, p);
    if (typeof p[0] !== 'string') fail('a string', `${name}[${i}][0]`, p[0]);
    if (typeof p[1] !== 'string') fail('a string', `${name}[${i}][1]`, p[1]);
  }
}

/**
 * Throws unless `pairs` is an array of `[ids, ids]` (arrays of token ids; each checked by its length only,
 * the ids themselves where they are copied), naming the first element that is not.
 */
export function checkEncodedPairs(pairs: unknown, name: string): asserts pairs is readonly EncodedPair[] {
  if (!Array.isArray(pairs)) fail('an array of [source ids, target ids] pairs', name, pairs);
  for (let i = 0; i < pairs.length; i++) {
    const p: unknown = pairs[i];
    if (!Array.isArray(p) || p.length !== 2) fail('a [source ids, target ids] pair', `${name}[${i}]`, p);
    if (!Array.isArray(p[0])) fail('an array of token ids', `${name}[${i}][0]`, p[0]);
    if (!Array.isArray(p[1])) fail('an array of token ids', `${name}[${i}][1]`, p[1]);
  }
}

