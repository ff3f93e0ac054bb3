// Concurrency (issue 16): worker_threads that each load the package and run the shipped translator and a
// training step, beside the same work on the main thread; concurrent async calls on one model; the HTTP
// server under concurrent load. Every result is bit for bit the sequential one, nothing deadlocks (each
// test has a bound) and a process that leaves while its workers decode exits cleanly.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { beforeAll, describe, expect, it } from 'vitest';

import { BatchedTranslator, createTranslationServer, type GenerateOptions, Translator } from '../../lib/index.js';
import { bitsEqual, ROOT, TSX_IMPORT } from '../helpers.js';
import { TEXTS, type Workload, workload } from './fixtures/workload.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  (await import('tsx/esm/api')).register();
  const { workload } = await import(workerData.fixture);
  parentPort.postMessage(await workload());
})().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

function expectSame(got: Workload, want: Workload) {
  expect({ ...got, gradient: null }).toEqual({ ...want, gradient: null });
  expect(Object.is(got.loss, want.loss)).toBe(true);
  expect(bitsEqual(got.gradient, want.gradient)).toBe(true);
}

describe('concurrency', () => {
  let sequential: Workload;
  beforeAll(async () => {
    sequential = await workload();
  }, 60_000);

  it('two worker_threads loading the package, and the main thread, all get the sequential results', async () => {
    const fixture = new URL('./fixtures/workload.ts', import.meta.url).href;
    const inWorkers = [0, 1].map(() => new Promise<Workload & { error?: string }>((resolve, reject) => {
      const w = new Worker(WORKER, { eval: true, workerData: { fixture } });
      w.once('message', resolve);
      w.once('error', reject);
    }));
    const results = await Promise.all([...inWorkers, workload()]);
    for (const r of results) {
      expect((r as { error?: string }).error).toBeUndefined();
      expectSame(r, sequential);
    }
  }, 120_000);

  it('concurrent translate calls on one Translator, every strategy interleaved, give the sequential results', async () => {
    const t = await Translator.default();
    const calls: Array<{ text: string; opts: GenerateOptions }> = [];
    TEXTS.forEach((text, i) => {
      calls.push({ text, opts: {} }, { text, opts: { strategy: 'beam', beamSize: 2 + i } }, { text, opts: { strategy: 'sample', seed: i, topP: 0.9 } });
    });
    const want: string[] = [];
    for (const c of calls) want.push((await t.translate([c.text], c.opts))[0]!);
    const got = await Promise.all(calls.map(async (c) => (await t.translate([c.text], c.opts))[0]!));
    expect(got).toEqual(want);
  }, 60_000);

  it('the server under 18 concurrent requests answers each as the Translator does alone', async () => {
    const translator = await Translator.default();
    const bodies = Array.from({ length: 18 }, (_, i) => ({ text: TEXTS[i % TEXTS.length]!, ...(i % 3 === 1 ? { strategy: 'beam', beamSize: 3 } : {}), ...(i % 3 === 2 ? { stream: true } : {}) }));
    const want = await Promise.all(bodies.map(async (b) => (await translator.translate([b.text], 'strategy' in b ? { strategy: 'beam', beamSize: 3 } : {}))[0]!));
    const { server, shutdown } = createTranslationServer(new BatchedTranslator(translator));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/translate`;
    const got = await Promise.all(bodies.map(async (b) => {
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(b) });
      expect(res.status).toBe(200);
      const text = await res.text();
      if (!('stream' in b)) return (JSON.parse(text) as { translation: string }).translation;
      const events = text.split('\n\n').filter((e) => e.startsWith('data: {'));
      return (JSON.parse(events.at(-1)!.slice(6)) as { translation: string }).translation;
    }));
    expect(got).toEqual(want);
    await shutdown();
  }, 60_000);

  for (const mode of ['exit', 'terminate']) {
    it(`a process whose workers are mid-decode exits cleanly (${mode === 'exit' ? 'process.exit' : 'worker.terminate'})`, () => {
      const r = spawnSync(process.execPath, [...TSX_IMPORT, join(ROOT, 'test', 'reliability', 'fixtures', 'exit_child.ts'), mode], { cwd: ROOT, encoding: 'utf8', timeout: 50_000 });
      expect(r.stderr).toBe('');
      expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    }, 60_000);
  }
});
