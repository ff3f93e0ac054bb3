// BatchedTranslator on the shipped model: every request gets exactly (ids, logProb, score) what a
// generate call of its text alone gives, whatever the interleaving and the options beside it; a full
// queue refuses with a QueueFullError; an aborted request leaves the queue or the decode and frees its
// slot; a bad request in a full batch fails alone; streams add up to the translation; close() finishes
// what it accepted.
import { describe, expect, it } from 'vitest';

import {
  AbortError, BatchedTranslator, ClosedError, InvalidArgumentError, QueueFullError, type RequestOptions, Translator,
} from '../../lib/index.js';
import { Rng } from '../../lib/tensor/random.js';

const translator = await Translator.default();
const TEXTS = [
  'In the beginning God created the heavens and the earth.',
  'Jesus wept.',
  'And God said, Let there be light: and there was light.',
  'The Lord is my shepherd; I shall not want.',
  'Blessed are the meek: for they shall inherit the earth.',
  'For God so loved the world, that he gave his only begotten Son.',
  'Love is patient, love is kind.',
  'Ask, and it shall be given you; seek, and ye shall find.',
];
const OPTIONS: RequestOptions[] = [{}, { strategy: 'sample', seed: 4, topP: 0.9 }, { strategy: 'beam', beamSize: 3 }, { maxLength: 6 }, { repetitionPenalty: 1.2 }];

/** What generate gives the text alone: the request's expected translation. */
async function alone(text: string, options: RequestOptions) {
  const src = Int32Array.from(translator.source.encode(text, { addSpecial: true }) as number[]);
  const h = (await translator.model.generate([src], { ...options, returnScores: true }))[0]![0]!;
  return { text: translator.target.decode(h.ids), ids: h.ids, logProb: h.logProb, score: h.score };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('BatchedTranslator', () => {
  it('gives each request exactly what generate gives it alone, whatever the interleaving, batching them', async () => {
    const requests = TEXTS.flatMap((text, i) => [{ text, options: OPTIONS[i % OPTIONS.length]! }, { text, options: OPTIONS[(i + 2) % OPTIONS.length]! }]);
    const want = [];
    for (const r of requests) want.push(await alone(r.text, r.options));
    const batched = new BatchedTranslator(translator);
    const stepsBefore = batched.stats().batchRows;
    const rng = new Rng(5);
    for (let round = 0; round < 2; round++) {
      const got = await Promise.all(requests.map(async (r) => {
        await sleep(Math.floor(rng.uniform() * 30));
        return batched.translate(r.text, r.options);
      }));
      expect(got).toEqual(want);
    }
    const s = batched.stats();
    expect(s).toMatchObject({ queued: 0, running: 0, completed: 2 * requests.length, failed: 0, cancelled: 0, rejected: 0 });
    expect(s.generatedTokens).toBe(2 * want.reduce((n, w) => n + w.ids.length, 0));
    // Steps of more than one row ran: requests shared the decoder.
    expect((s.batchRows.sum - stepsBefore.sum) / (s.batchRows.count - stepsBefore.count)).toBeGreaterThan(1.5);
  });

  it('refuses requests beyond the queue with a QueueFullError (backpressure)', async () => {
    const batched = new BatchedTranslator(translator, { maxBatchRequests: 1, maxQueue: 2 });
    const calls = TEXTS.slice(0, 5).map((t) => batched.translate(t).then((r) => r.text, (e: unknown) => e));
    expect(batched.stats()).toMatchObject({ running: 1, queued: 2, rejected: 2 });
    const results = await Promise.all(calls);
    for (const e of results.slice(3)) {
      expect(e).toBeInstanceOf(QueueFullError);
      expect((e as QueueFullError).message).toMatch(/queue is full \(2 requests waiting/);
    }
    for (const [i, text] of results.slice(0, 3).entries()) expect(text).toBe((await alone(TEXTS[i]!, {})).text);
  });

  it('an aborted request leaves the queue or the decode, frees its slot, and the others finish', async () => {
    const batched = new BatchedTranslator(translator, { maxBatchRequests: 1 });
    const running = new AbortController(), queued = new AbortController();
    // A long request (it may not end before maxLength 200), one queued behind it, then a normal one.
    const long = batched.translate(TEXTS[0]!, { minLength: 150, maxLength: 200, signal: running.signal });
    const waiting = batched.translate(TEXTS[1]!, { signal: queued.signal });
    const last = batched.translate(TEXTS[2]!);
    expect(batched.stats()).toMatchObject({ running: 1, queued: 2 });
    queued.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    expect(batched.stats()).toMatchObject({ running: 1, queued: 1, cancelled: 1 });
    await sleep(30);
    running.abort();
    await expect(long).rejects.toBeInstanceOf(AbortError);
    expect((await last).text).toBe((await alone(TEXTS[2]!, {})).text);
    expect(batched.stats()).toMatchObject({ running: 0, queued: 0, cancelled: 2, completed: 1 });
    // An already aborted signal never queues.
    await expect(batched.translate(TEXTS[3]!, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  });

  it('fails a bad request alone: the others in the same batch get their translations', async () => {
    const batched = new BatchedTranslator(translator);
    const bad: Array<[unknown, unknown, new (...a: never[]) => Error]> = [
      [TEXTS[0], { strategy: 'quick' }, InvalidArgumentError],
      [TEXTS[1], { beamSize: 0, strategy: 'beam' }, InvalidArgumentError],
      [TEXTS[2], { temperature: 0.5 }, InvalidArgumentError],
      ['word '.repeat(400), {}, InvalidArgumentError],
      [42, {}, InvalidArgumentError],
      [TEXTS[3], { prefix: [[5]] }, InvalidArgumentError],
      [TEXTS[4], { nBest: 2 }, InvalidArgumentError],
    ];
    const good = TEXTS.map((t) => batched.translate(t));
    const failing = bad.map(([text, options]) => batched.translate(text as string, options as RequestOptions).then(() => null, (e: unknown) => e));
    const errors = await Promise.all(failing);
    errors.forEach((e, i) => expect(e, `bad request ${i}`).toBeInstanceOf(bad[i]![2]));
    expect((errors[3] as Error).message).toMatch(/at most 256 tokens \(the model's maxLength\)/);
    const texts = (await Promise.all(good)).map((r) => r.text);
    for (const [i, t] of TEXTS.entries()) expect(texts[i]).toBe((await alone(t, {})).text);
    expect(batched.stats()).toMatchObject({ completed: TEXTS.length, failed: 0 });
  });

  it('streams pieces that add up to the translation, and leaving the loop cancels', async () => {
    const batched = new BatchedTranslator(translator);
    for (const options of [{}, { strategy: 'sample', seed: 2 }] as RequestOptions[]) {
      const want = await alone(TEXTS[5]!, options);
      const pieces = [];
      const it = batched.stream(TEXTS[5]!, options);
      let r = await it.next();
      for (; !r.done; r = await it.next()) pieces.push(r.value);
      expect(pieces.map((p) => p.token)).toEqual(want.ids);
      expect(pieces.map((p) => p.text).join('')).toBe(want.text);
      expect(r.value).toEqual(want);
    }
    for await (const piece of batched.stream(TEXTS[0]!, { minLength: 150, maxLength: 200 })) if (piece.token >= 0) break;
    await sleep(20);
    expect(batched.stats()).toMatchObject({ running: 0, cancelled: 1 });
    await expect(batched.stream(TEXTS[0]!, { strategy: 'beam' }).next()).rejects.toThrow(/strategy 'greedy' or 'sample'/);
  });

  it('waits up to maxWaitMs for companions when idle, then starts them together', async () => {
    const batched = new BatchedTranslator(translator, { maxWaitMs: 150 });
    const first = batched.translate(TEXTS[1]!);
    await sleep(20);
    const second = batched.translate(TEXTS[6]!);
    expect(batched.stats()).toMatchObject({ running: 0, queued: 2 });
    await sleep(200);
    expect(batched.stats().running + batched.stats().completed).toBe(2);
    expect([(await first).text, (await second).text]).toEqual([(await alone(TEXTS[1]!, {})).text, (await alone(TEXTS[6]!, {})).text]);
  });

  it('close() finishes what it accepted and refuses the rest', async () => {
    const batched = new BatchedTranslator(translator, { maxBatchRequests: 2 });
    const accepted = TEXTS.slice(0, 4).map((t) => batched.translate(t));
    const closed = batched.close();
    await expect(batched.translate(TEXTS[5]!)).rejects.toBeInstanceOf(ClosedError);
    await closed;
    expect(batched.stats()).toMatchObject({ queued: 0, running: 0, completed: 4, rejected: 1 });
    for (const [i, p] of accepted.entries()) expect((await p).text).toBe((await alone(TEXTS[i]!, {})).text);
  });

  it('translates a blank text to an empty string without decoding, as Translator does', async () => {
    const batched = new BatchedTranslator(translator);
    expect(await batched.translate(' \t')).toEqual({ text: '', ids: [], logProb: 0, score: 0 });
    const it = batched.stream('');
    expect(await it.next()).toEqual({ done: true, value: { text: '', ids: [], logProb: 0, score: 0 } });
    expect(batched.stats()).toMatchObject({ completed: 2, steps: batched.stats().steps });
    await expect(batched.translate('', { strategy: 'nope' } as never)).rejects.toThrow(/options.strategy/);
  });

  it('checks its options', () => {
    expect(() => new BatchedTranslator(translator, { maxQueue: -1 })).toThrow(/options.maxQueue/);
    expect(() => new BatchedTranslator(translator, { maxBatchTokenz: 5 } as never)).toThrow(/maxBatchTokenz/);
    expect(() => new BatchedTranslator({} as Translator)).toThrow(/Translator/);
  });
});
