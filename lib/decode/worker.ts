/**
 * The decoding worker's entry (a worker_threads thread per model, started by runner.ts). It rebuilds the
 * model around the main thread's weights, which sit in shared memory (nothing is copied), and runs each
 * request's decode loop to the end, one request at a time, checking the request's cancel flag between
 * steps. The native kernels it calls share the process's one thread pool.
 */
import { parentPort } from 'node:worker_threads';

import { noGrad } from '../autograd/tape.js';
import { withoutInit } from '../nn/init.js';
import { Transformer } from '../nn/transformer.js';
import { adoptStorage, Tensor } from '../tensor/tensor.js';
import { type Reply, type Request, serializeError } from './protocol.js';
import { searchSync } from './search.js';

const port = parentPort!;
let model: Transformer | null = null;

const send = (reply: Reply) => port.postMessage(reply);

port.on('message', (m: Request) => {
  if (m.type === 'model') {
    const built = withoutInit(() => new Transformer(m.config));
    for (const [name, t] of built.stateDict()) adoptStorage(t, m.weights[name]!);
    model = built.eval();
    return;
  }
  let steps = 0;
  try {
    const ids = new Tensor(m.ids, Object.freeze([m.lengths.length, m.ids.length / m.lengths.length]));
    const hooks = {
      onStep: () => steps++,
      ...(m.stream && { onToken: (source: number, token: number) => send({ type: 'token', id: m.id, source, token }) }),
    };
    const result = noGrad(() => searchSync(model!, ids, m.lengths, m.options, hooks, () => Atomics.load(m.cancel, 0) !== 0, m.generation));
    send({ type: 'done', id: m.id, result, steps });
  } catch (e) {
    send({ type: 'error', id: m.id, error: serializeError(e), steps });
  }
});
