/**
 * N-gram counting for BLEU, chrF and ROUGE. An n-gram is keyed by its units joined with a separator that cannot
 * occur inside a unit (a space between whitespace-split tokens; nothing between characters, whose n-grams of one
 * order all have n code points), so equal keys are equal n-grams, as the tuples of the Python references.
 */

/** How often each n-gram of `units` occurs. */
export function ngramCounts(units: readonly string[], n: number, separator: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= units.length; i++) {
    const key = units.slice(i, i + n).join(separator);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The number of n-grams counted. */
export function countOf(counts: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const c of counts.values()) sum += c;
  return sum;
}

/** The clipped matches: Σ over the n-grams of `a` of min(count in a, count in b). */
export function matchesOf(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const [key, c] of a) sum += Math.min(c, b.get(key) ?? 0);
  return sum;
}
