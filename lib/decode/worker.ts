/**
 * The decoding worker's entry (a worker_threads thread per model, started by runner.ts). It rebuilds the
 * model around the main thread's weights, which sit in shared memory (nothing is copied), and decodes
 * every request it receives with the continuous-batching scheduler (scheduler.ts): requests that arrive
 * while others decode join them at the next step. The native kernels it calls share the process's one
 * thread pool.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

import { withoutInit } from '../nn/init.js';
import { Transformer } from '../nn/transformer.js';
import { adoptStorage, Tensor } from '../tensor/tensor.js';
import type { Reply, Request } from './protocol.js';
import { Scheduler } from './scheduler.js';

const port = parentPort!;
// This thread (on Linux a priority is a thread's) yields the CPU to the main thread, whose event loop must
// answer at once even while a batch decodes on every core; alone on the machine it loses nothing.
try {
  setPriority(10);
} catch {
  // Not permitted here: the decode simply runs at the main thread's priority.
}
let model: Transformer | null = null;

const scheduler = new Scheduler((reply: Reply) => port.postMessage(reply), (run) => setImmediate(run), (workerData as { stats: Float64Array }).stats);

port.on('message', (m: Request) => {
  if (m.type === 'model') {
    // Requests already decoding keep the model they started with; the next ones get this one.
    const built = withoutInit(() => new Transformer(m.config));
    for (const [name, t] of built.stateDict()) adoptStorage(t, m.weights[name]!);
    if (m.int8 !== null) built.adoptInt8Scales(m.int8);
    model = built.eval();
    return;
  }
  const ids = new Tensor(m.ids, Object.freeze([m.lengths.length, m.ids.length / m.lengths.length]));
  scheduler.submit({ id: m.id, model: model!, ids, lengths: m.lengths, options: m.options, stream: m.stream, cancel: m.cancel, generation: m.generation });
});
