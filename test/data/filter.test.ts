// filterByLength: what is kept, dropped and truncated, and a report that adds up; checked against a
// per-pair rule written out separately on random pairs.
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { data } from '../../lib/index.js';
import { Rng } from '../../lib/tensor/random.js';

const EOS = 2;
/** `<bos>`, n ids from 10 on, `<eos>`: n + 2 tokens. */
const seq = (n: number) => [1, ...Array.from({ length: n }, (_, i) => 10 + i), EOS];

describe('filterByLength', () => {
  const pairs: data.EncodedPair[] = [
    [seq(3), seq(4)], // 5, 6: fits
    [seq(0), seq(2)], // 2, 4: an empty source
    [seq(9), seq(3)], // 11, 5: source too long
    [seq(2), seq(12)], // 4, 14: target too long, ratio 3.5
    [seq(6), seq(6)], // 8, 8: fits exactly
  ];

  it('drops pairs over the maximum or under the minimum, and reports why', () => {
    const { pairs: kept, report } = data.filterByLength(pairs, { maxSrc: 8, maxTgt: 8, minLength: 3 });
    expect(kept).toEqual([pairs[0], pairs[4]]);
    expect(kept[0]).toBe(pairs[0]); // untouched pairs are not copied
    expect(report).toEqual({ total: 5, kept: 2, dropped: 3, truncated: 0, tooShort: 1, badRatio: 0, tooLong: 2 });
  });

  it('truncates instead, keeping <eos> last; a pair is dropped for its ratio before it is cut', () => {
    const { pairs: kept, report } = data.filterByLength(pairs, { maxSrc: 8, maxTgt: 8, mode: 'truncate', maxRatio: 3 });
    expect(report).toEqual({ total: 5, kept: 4, dropped: 1, truncated: 1, tooShort: 0, badRatio: 1, tooLong: 0 });
    expect(kept[2]).toEqual([[1, 10, 11, 12, 13, 14, 15, EOS], seq(3)]);
    expect(kept[2]![1]).toBe(pairs[2]![1]); // the side that fits is not copied
    expect(pairs[2]![0]).toEqual(seq(9)); // the input is not changed
    const plain = data.filterByLength(pairs, { maxSrc: 8, maxTgt: 8, mode: 'truncate', eosId: null });
    expect(plain.pairs[2]![0]).toEqual([1, 10, 11, 12, 13, 14, 15, 16]);
    expect(plain.pairs[3]![1]).toEqual(seq(12).slice(0, 8));
    expect(plain.report.truncated).toBe(2);
  });

  it('with no options keeps everything but empty sequences', () => {
    const withEmpty: data.EncodedPair[] = [...pairs, [[], [1]]];
    const { pairs: kept, report } = data.filterByLength(withEmpty);
    expect(kept).toEqual(pairs);
    expect(report).toEqual({ total: 6, kept: 5, dropped: 1, truncated: 0, tooShort: 1, badRatio: 0, tooLong: 0 });
  });

  it('agrees with the rule written out, on random pairs', () => {
    const rng = new Rng(3);
    const int = (n: number) => rng.nextUint32() % n;
    for (let trial = 0; trial < 200; trial++) {
      const input: data.EncodedPair[] = Array.from({ length: 20 }, () => [seq(int(30)), seq(int(30))]);
      const maxSrc = 2 + int(30), maxTgt = 2 + int(30), minLength = int(3), maxRatio = 1 + int(40) / 10;
      const mode = int(2) === 0 ? 'drop' : 'truncate';
      const { pairs: kept, report } = data.filterByLength(input, { maxSrc, maxTgt, minLength, maxRatio, mode });
      const expected: data.EncodedPair[] = [];
      const counts = { tooShort: 0, badRatio: 0, tooLong: 0, truncated: 0 };
      for (const [s, t] of input) {
        const [a, b] = [s.length, t.length].sort((x, y) => x - y) as [number, number];
        if (s.length < minLength || t.length < minLength) counts.tooShort++;
        else if (b / a > maxRatio) counts.badRatio++;
        else if (s.length <= maxSrc && t.length <= maxTgt) expected.push([s, t]);
        else if (mode === 'drop') counts.tooLong++;
        else {
          counts.truncated++;
          const cut = (x: number[], max: number) => (x.length <= max ? x : [...x.slice(0, max - 1), EOS]);
          expected.push([cut(s, maxSrc), cut(t, maxTgt)]);
        }
      }
      expect(kept).toEqual(expected);
      const dropped = counts.tooShort + counts.badRatio + counts.tooLong;
      expect(report).toEqual({ total: 20, kept: 20 - dropped, dropped, ...counts });
      for (const [s, t] of kept) expect(s.length <= maxSrc && t.length <= maxTgt).toBe(true);
    }
  });

  it('rejects bad options', () => {
    const bad: Array<[unknown, unknown, string]> = [
      [pairs, { maxSrc: 0 }, 'Expected an integer ≥ 1 for filterByLength options.maxSrc but received the number 0'],
      [pairs, { maxTgt: 2.5 }, 'filterByLength options.maxTgt'],
      [pairs, { maxRatio: 0.5 }, 'Expected a number in [1, ∞) for filterByLength options.maxRatio'],
      [pairs, { mode: 'cut' }, "Expected one of 'drop', 'truncate' for filterByLength options.mode"],
      [pairs, { eosId: -1 }, 'filterByLength options.eosId'],
      [pairs, { maxLen: 5 }, "Unknown option 'maxLen' in filterByLength options"],
      [pairs, { minLength: 9, maxSrc: 8 }, 'Expected filterByLength options.minLength to be at most maxSrc and maxTgt'],
      [[[[1], 'x']], {}, 'Expected an array of token ids for filterByLength pairs[0][1] but received the string "x"'],
    ];
    for (const [p, o, message] of bad) {
      expect(() => data.filterByLength(p as data.EncodedPair[], o as data.LengthFilterOptions), message).toThrow(InvalidArgumentError);
      expect(() => data.filterByLength(p as data.EncodedPair[], o as data.LengthFilterOptions)).toThrow(message);
    }
  });
});
