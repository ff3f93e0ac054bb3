/**
 * One item ahead: `prepare(item i + 1)` runs while the consumer awaits its work on item i.
 *
 * JavaScript runs one thing at a time, so "while" means in the gaps: before yielding item i, the next
 * preparation is queued with `setImmediate`, which runs as soon as the consumer's step yields the event
 * loop (a training step that runs off the main thread and returns a Promise, a GPU step, an `await` of I/O).
 * It then costs no wall time: step i and the preparation of i + 1 overlap. A step that never yields the
 * event loop gains nothing (the preparation simply runs before the next item is handed over), and nothing is
 * lost either: the items, their order and the results are those of a plain loop.
 */
import { fail } from '../check.js';

/**
 * `prepare` of each item, in order, each one prepared while the previous one is in use. Errors from
 * `prepare` or the items surface at the item they concern; `break` stops the preparations.
 *
 * @example
 * for await (const b of data.prefetch(batches, (batch) => data.prepareBatch(batch))) {
 *   await step(b); // batch i + 1 is padded while this awaits
 * }
 */
export async function* prefetch<T, U>(items: Iterable<T>, prepare: (item: T, index: number) => U): AsyncGenerator<U, void, undefined> {
  if (items === null || typeof items !== 'object' || typeof (items as Iterable<T>)[Symbol.iterator] !== 'function') {
    fail('an iterable', 'prefetch items', items);
  }
  if (typeof prepare !== 'function') fail('a function', 'prefetch prepare', prepare);
  const it = items[Symbol.iterator]();
  let index = 0;
  let closed = false;
  const ahead = (): Promise<IteratorResult<U, undefined>> => {
    const p = new Promise<IteratorResult<U, undefined>>((resolve, reject) => {
      setImmediate(() => {
        if (closed) return resolve({ done: true, value: undefined });
        try {
          const r = it.next();
          resolve(r.done ? { done: true, value: undefined } : { done: false, value: prepare(r.value, index++) });
        } catch (e) {
          reject(e);
        }
      });
    });
    p.catch(() => {}); // a consumer that stops early never awaits it: not an unhandled rejection
    return p;
  };
  let next = ahead();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = ahead();
      yield r.value;
    }
  } finally {
    closed = true;
    it.return?.();
  }
}
