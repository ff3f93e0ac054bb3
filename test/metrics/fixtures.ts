/**
 * What the metric tests share: the JSON made by test/fixtures/metrics/make_metrics_fixtures.py, the verses of
 * test/fixtures/text/bible.tsv that it scored, and a closeness check that names the worst and first bad entry.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { expect } from 'vitest';

const FIXTURES = join(import.meta.dirname, '../fixtures');

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, 'metrics', name), 'utf8')) as T;
}

export interface Verse {
  readonly web: string;
  readonly spa: string;
  readonly kjv: string;
}

/** The verses, read as the fixture script reads them: rows after the header, columns split on tabs. */
export function bible(): Verse[] {
  const lines = readFileSync(join(FIXTURES, 'text/bible.tsv'), 'utf8').split('\n');
  return lines.slice(1).filter((l) => l !== '').map((l) => {
    const [, web, spa, kjv] = l.split('\t') as [string, string, string, string];
    return { web, spa, kjv };
  });
}

/**
 * The script's references of varying number and length per verse: the KJV, the WEB with every third word left out,
 * and for every third verse the Spanish ('' elsewhere: a missing reference).
 */
export function multiReferences(verses: readonly Verse[]): string[][] {
  return verses.map((v, i) => [v.kjv, v.web.split(' ').filter((_, k) => k % 3 !== 2).join(' '), i % 3 === 0 ? v.spa : '']);
}

/** Every |actual[i] − expected[i]| ≤ tol; on failure the message names the largest error and the first bad index. */
export function expectClose(actual: readonly number[], expected: readonly number[], tol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let worstAt = -1;
  let firstBad = -1;
  actual.forEach((a, i) => {
    const err = Math.abs(a - expected[i]!);
    if (!(err <= tol) && firstBad < 0) firstBad = i;
    if (!(err <= worst)) [worst, worstAt] = [err, i];
  });
  const report = `${what}: max error ${worst} at [${worstAt}] (${actual[worstAt]} vs ${expected[worstAt]}), first beyond ${tol} at [${firstBad}]`;
  expect(firstBad, report).toBe(-1);
}
