// The addon in worker_threads: each worker loads its own instance (context-aware N-API) and they all
// share the one native thread pool; concurrent products must still be right, and bad input in a worker
// is an error there, not a crash of the process.
import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { bitsEqual, f32 } from '../helpers.js';

// The path node-gyp-build would load (or NODEFORMER_ADDON), for workers that require it directly.
const require = (await import('node:module')).createRequire(import.meta.url);
const addonPath: string = process.env.NODEFORMER_ADDON || require('node-gyp-build').resolve(new URL('../..', import.meta.url).pathname);

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const n = require(workerData.addonPath);
const { m, k, nn, a, b } = workerData;
const results = [];
for (let i = 0; i < 20; i++) {
  const c = new Float32Array(m * nn);
  n.matmulForward(c, a, b, m, k, nn, false, true, false, 1, null, null, null);
  results.push(c);
}
let error = null;
try { n.matmulForward(new Float32Array(1), a, b, m, k, nn, false, true, false, 1, null, null, null); } catch (e) { error = e.message; }
parentPort.postMessage({ results, error });
`;

describe('worker_threads', () => {
  it('four workers multiplying at once agree with the main thread, bit for bit', async () => {
    const m = 70, k = 300, nn = 90;
    const a = f32(m * k, 21), b = f32(nn * k, 22);
    const want = new Float32Array(m * nn);
    native().matmulForward(want, a, b, m, k, nn, false, true, false, 1, null, null, null);
    const outs = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<{ results: Float32Array[]; error: string | null }>((resolve, reject) => {
            const w = new Worker(WORKER, { eval: true, workerData: { addonPath, m, k, nn, a, b } });
            w.once('message', resolve);
            w.once('error', reject);
          }),
      ),
    );
    for (const { results, error } of outs) {
      expect(results).toHaveLength(20);
      for (const c of results) expect(bitsEqual(c, want)).toBe(true);
      expect(error).toMatch(/Expected .* elements in c/);
    }
  });
});
