// prepareBatch against the padding written out by hand; prefetch: the same items as a plain loop, item i + 1
// prepared while step i awaits (by the order of events, and by the wall time it saves), errors where they
// belong, nothing prepared after a break.
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, OutOfRangeError } from '../../lib/errors.js';
import { data } from '../../lib/index.js';
import { Rng } from '../../lib/tensor/random.js';

const PAD = 0;

describe('prepareBatch', () => {
  it('pads sources, and splits targets into decoder input and the ids to predict', () => {
    const pairs: data.EncodedPair[] = [
      [[1, 7, 8, 2], [1, 9, 2]],
      [[1, 2], [1, 5, 6, 7, 2]],
    ];
    const [batch] = data.batchByTokens(pairs, { batchTokens: 100, shuffle: false });
    const b = data.prepareBatch(batch!);
    expect(b.indices).toEqual([0, 1]); // by the longer side: 4 tokens, then 5
    expect(b.rows).toBe(2);
    expect(b.srcShape).toEqual([2, 4]);
    expect([...b.src]).toEqual([1, 7, 8, 2, /**/ 1, 2, PAD, PAD]);
    expect([...b.srcLengths]).toEqual([4, 2]);
    expect(b.tgtShape).toEqual([2, 4]);
    expect([...b.tgtIn]).toEqual([1, 9, PAD, PAD, /**/ 1, 5, 6, 7]);
    expect([...b.tgtOut]).toEqual([9, 2, PAD, PAD, /**/ 5, 6, 7, 2]);
    expect([...b.tgtLengths]).toEqual([2, 4]);
    expect(b.targetTokens).toBe(6);
    expect([...data.prepareBatch(batch!, { padId: 99 }).tgtOut]).toEqual([9, 2, 99, 99, 5, 6, 7, 2]);
  });

  it('agrees with padding written out, on random batches', () => {
    const rng = new Rng(5);
    const ids = (n: number) => Array.from({ length: n }, () => 3 + (rng.nextUint32() % 1000));
    const pairs = Array.from({ length: 500 }, (): data.EncodedPair => [ids(1 + (rng.nextUint32() % 40)), ids(2 + (rng.nextUint32() % 40))]);
    for (const batch of data.batchByTokens(pairs, { batchTokens: 300, seed: 1 })) {
      const b = data.prepareBatch(batch);
      const [rows, ls] = b.srcShape;
      const lt = b.tgtShape[1];
      expect(rows).toBe(batch.pairs.length);
      batch.pairs.forEach(([s, t], r) => {
        const row = (a: Int32Array, l: number) => [...a.subarray(r * l, (r + 1) * l)];
        const padded = (x: number[], l: number) => [...x, ...Array<number>(l - x.length).fill(PAD)];
        expect(row(b.src, ls)).toEqual(padded(s, ls));
        expect(row(b.tgtIn, lt)).toEqual(padded(t.slice(0, -1), lt));
        expect(row(b.tgtOut, lt)).toEqual(padded(t.slice(1), lt));
      });
      expect(b.targetTokens).toBe(batch.pairs.reduce((n, [, t]) => n + t.length - 1, 0));
    }
  });

  it('rejects what it cannot train on', () => {
    const batchOf = (pairs: unknown[]) => ({ indices: pairs.map((_, i) => i), pairs, srcLength: 0, tgtLength: 0, paddedTokens: 0 }) as data.PairBatch;
    expect(() => data.prepareBatch(batchOf([[[1, 2], [1]]]))).toThrow(
      'Expected a target of at least 2 tokens (<bos> … <eos>) in row 0 of prepareBatch batch (pair 0) but received 1',
    );
    expect(() => data.prepareBatch(batchOf([[[1, 2], [1, 2]], [[], [1, 2]]]))).toThrow(InvalidArgumentError);
    expect(() => data.prepareBatch(batchOf([[[1, 2], [1, 2]], [[1, 2.5], [1, 2]]]))).toThrow(OutOfRangeError);
    expect(() => data.prepareBatch(batchOf([[[1, 2], [1, -4, 2]]]))).toThrow(
      'Expected token ids that are non-negative integers but the target of pair 0 (row 0) holds the number -4 at 1',
    );
    expect(() => data.prepareBatch(batchOf([]))).toThrow('Expected a batch of at least one pair');
    expect(() => data.prepareBatch(batchOf([[[1], [1, 2]]]), { padId: -1 })).toThrow('prepareBatch options.padId');
    expect(() => data.prepareBatch([] as unknown as data.PairBatch)).toThrow('Expected a batch from batchByTokens for prepareBatch batch');
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Holds the thread for `ms` (a preparation that really costs CPU time). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('prefetch', () => {
  it('yields prepare(item, index) of every item in order, as a plain loop does', async () => {
    const out: string[] = [];
    for await (const x of data.prefetch(['a', 'b', 'c'], (item, i) => `${item}${i}`)) out.push(x);
    expect(out).toEqual(['a0', 'b1', 'c2']);
    for await (const _ of data.prefetch([], () => 1)) throw new Error('no items, no iterations');
  });

  it('prepares item i + 1 while step i awaits', async () => {
    const events: string[] = [];
    const items = [0, 1, 2, 3];
    for await (const i of data.prefetch(items, (item) => (events.push(`prepare ${item}`), item))) {
      events.push(`step ${i} start`);
      await sleep(5); // an off-thread step
      events.push(`step ${i} end`);
    }
    expect(events).toEqual([
      'prepare 0', 'step 0 start', 'prepare 1', 'step 0 end', 'step 1 start', 'prepare 2', 'step 1 end',
      'step 2 start', 'prepare 3', 'step 2 end', 'step 3 start', 'step 3 end',
    ]);
  });

  it('saves the preparation time when steps await', async () => {
    // 8 items, 15 ms to prepare each (CPU), 15 ms per step (awaited): about 240 ms in a plain loop and
    // 8 · 15 + 15 = 135 ms overlapped.
    const items = Array.from({ length: 8 }, (_, i) => i);
    const prepare = (i: number) => (busy(15), i);
    let t = performance.now();
    for (const i of items) {
      prepare(i);
      await sleep(15);
    }
    const plain = performance.now() - t;
    t = performance.now();
    for await (const _ of data.prefetch(items, prepare)) await sleep(15);
    const overlapped = performance.now() - t;
    expect(overlapped, `${overlapped.toFixed(0)} ms overlapped, ${plain.toFixed(0)} ms plain`).toBeLessThan(0.8 * plain);
  });

  it('an error in prepare surfaces at its item, after the items before it', async () => {
    const seen: number[] = [];
    const run = async () => {
      for await (const x of data.prefetch([0, 1, 2, 3], (i) => {
        if (i === 2) throw new RangeError('bad item 2');
        return i;
      })) seen.push(x);
    };
    await expect(run()).rejects.toThrow('bad item 2');
    expect(seen).toEqual([0, 1]);
  });

  it('prepares nothing after a break, and closes the items iterator', async () => {
    const prepared: number[] = [];
    let closed = false;
    function* items() {
      try {
        for (let i = 0; i < 100; i++) yield i;
      } finally {
        closed = true;
      }
    }
    for await (const x of data.prefetch(items(), (i) => (prepared.push(i), i))) {
      if (x === 3) break;
      await sleep(1);
    }
    await sleep(5); // any preparation still queued would have run by now
    expect(prepared).toEqual([0, 1, 2, 3]); // 4 was queued when 3 was handed over, but the break came first
    expect(closed).toBe(true);
  });

  it('rejects bad arguments', async () => {
    await expect(data.prefetch(5 as unknown as number[], (x) => x).next()).rejects.toThrow('Expected an iterable for prefetch items but received the number 5');
    await expect(data.prefetch([1], 'f' as unknown as () => number).next()).rejects.toThrow(InvalidArgumentError);
  });
});
