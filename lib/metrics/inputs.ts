/**
 * The argument checks the text metrics share: hypotheses are a non-empty array of strings, and references come one
 * entry per hypothesis, in the same order.
 */
import { fail } from '../check.js';

export function checkHypotheses(value: unknown, name: string): readonly string[] {
  if (!Array.isArray(value)) fail('an array of strings', name, value);
  // The reference tools cannot score an empty corpus either: sacreBLEU fails on it, and a mean over no sentence is
  // undefined.
  if (value.length === 0) fail('a non-empty array of strings', name, value);
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'string') fail('a string', `${name}[${i}]`, v);
  });
  return value as readonly string[];
}

/** One reference string per hypothesis (ROUGE). */
export function checkReferences(value: unknown, name: string, count: number): readonly string[] {
  if (!Array.isArray(value) || value.length !== count) fail(`an array of ${count} strings (one per hypothesis)`, name, value);
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'string') fail('a string', `${name}[${i}]`, v);
  });
  return value as readonly string[];
}

/**
 * One reference, or an array of references, per hypothesis (BLEU, chrF), as the list of each one's references.
 */
export function checkReferenceSets(value: unknown, name: string, count: number): string[][] {
  if (!Array.isArray(value) || value.length !== count) {
    fail(`an array of ${count} references or arrays of references (one per hypothesis)`, name, value);
  }
  return value.map((item: unknown, i) => checkReferenceSet(item, `${name}[${i}]`));
}

/**
 * One hypothesis' references: a string or an array of strings. An empty string stands for a missing reference and
 * is skipped, as sacreBLEU does to allow a varying number of references (Metric._cache_references); as there, a
 * hypothesis left with none is an error.
 */
export function checkReferenceSet(value: unknown, name: string): string[] {
  const refs: unknown[] = typeof value === 'string' ? [value]
    : Array.isArray(value) ? value
    : fail('a string or an array of strings', name, value);
  refs.forEach((r, k) => {
    if (typeof r !== 'string') fail('a string', `${name}[${k}]`, r);
  });
  const kept = (refs as string[]).filter((r) => r !== '');
  if (kept.length === 0) fail('at least one non-empty reference (an empty one counts as missing)', name, value);
  return kept;
}
