/**
 * Naive references for BPE, written for clarity and nothing else:
 * - `naiveEncode`: GPT-2's original loop — find the pair of lowest merge rank, merge every occurrence of it
 *   left to right, repeat — on token strings.
 * - `naiveTrain`: recount every pair of every word from scratch before each merge.
 * The library's heap-based encoder and incremental trainer must agree with them exactly.
 */
export function naiveEncode(word: string, merges: ReadonlyArray<readonly [string, string]>, prefix = '', suffix = ''): string[] {
  const rank = new Map(merges.map(([a, b], r) => [`${a}\u0000${b}`, r]));
  const chars = Array.from(word);
  let parts = chars.map((c, i) => (i > 0 ? prefix : '') + c + (i === chars.length - 1 ? suffix : ''));
  for (;;) {
    let best = Infinity;
    let pair: [string, string] | undefined;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = rank.get(`${parts[i]}\u0000${parts[i + 1]}`);
      if (r !== undefined && r < best) {
        best = r;
        pair = [parts[i]!, parts[i + 1]!];
      }
    }
    if (!pair) return parts;
    const next: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (i + 1 < parts.length && parts[i] === pair[0] && parts[i + 1] === pair[1]) {
        next.push(pair[0] + pair[1].slice(prefix.length));
        i++;
      } else next.push(parts[i]!);
    }
    parts = next;
  }
}

export function naiveTrain(
  words: ReadonlyMap<string, number>, vocabSize: number, minFrequency: number, specials: readonly string[], prefix = '',
): { tokens: string[]; merges: Array<[string, string]> } {
  const tokens: string[] = [...specials];
  const byCodePoint = (a: string, b: string) => a.codePointAt(0)! - b.codePointAt(0)!;
  const alphabet = [...new Set([...words.keys()].flatMap((w) => Array.from(w)))].sort(byCodePoint);
  for (const c of alphabet) if (!tokens.includes(c)) tokens.push(c);
  const split = [...words].map(([w, n]) => ({
    parts: Array.from(w).map((c, i) => {
      const t = (i > 0 ? prefix : '') + c;
      if (!tokens.includes(t)) tokens.push(t);
      return t;
    }),
    n,
  }));
  const merges: Array<[string, string]> = [];
  while (tokens.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const { parts, n } of split) {
      for (let i = 0; i + 1 < parts.length; i++) {
        const k = `${parts[i]}\u0000${parts[i + 1]}`;
        counts.set(k, (counts.get(k) ?? 0) + n);
      }
    }
    let best: [string, string] | undefined;
    let bestCount = 0;
    for (const [k, c] of counts) {
      const [a, b] = k.split('\u0000') as [string, string];
      const ids = (x: [string, string]) => [tokens.indexOf(x[0]), tokens.indexOf(x[1])];
      const [ia, ib] = ids([a, b]);
      const better = !best || c > bestCount || (c === bestCount && (ia! < ids(best)[0]! || (ia === ids(best)[0] && ib! < ids(best)[1]!)));
      if (better) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (!best || bestCount < Math.max(1, minFrequency)) break;
    const merged = best[0] + (best[1].startsWith(prefix) ? best[1].slice(prefix.length) : best[1]);
    if (!tokens.includes(merged)) tokens.push(merged);
    merges.push(best);
    for (const w of split) {
      const next: string[] = [];
      for (let i = 0; i < w.parts.length; i++) {
        if (i + 1 < w.parts.length && w.parts[i] === best[0] && w.parts[i + 1] === best[1]) {
          next.push(merged);
          i++;
        } else next.push(w.parts[i]!);
      }
      w.parts = next;
    }
  }
  return { tokens, merges };
}
