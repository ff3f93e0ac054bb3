// ONNX Runtime peer of `npm run bench -- transformer`: the inference forward of the reference Transformer
// (exported by bench/peers/export_onnx.py), a batch of 32 × 64 source and target tokens, on 1 and 2
// threads. onnxruntime-node is not a dependency of nodeformer: install it in a scratch directory and run
// this from there (its install script downloads CUDA files unless told not to):
//
//   mkdir /tmp/ort && cd /tmp/ort && npm init -y && ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node
//   /usr/bin/python3 <repo>/bench/peers/export_onnx.py /tmp/ort/model.onnx
//   node <repo>/bench/peers/ort_transformer.mjs /tmp/ort/model.onnx
import { createRequire } from 'node:module';

const ort = createRequire(`${process.cwd()}/`)('onnxruntime-node');
const file = process.argv[2] ?? 'model.onnx';
const L = 64, B = 32, V = 8000;

const ids = () => new ort.Tensor('int64', BigInt64Array.from({ length: L * B }, (_, i) => BigInt(3 + ((i * 7919) % (V - 3)))), [L, B]);
const mask = new Float32Array(L * L);
for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) mask[i * L + j] = -Infinity;

for (const threads of [1, 2]) {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const feeds = { src: ids(), tgt: ids(), mask: new ort.Tensor('float32', mask, [L, L]) };
  await session.run(feeds);
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`| onnxruntime-node forward | ${threads} | ${times[2].toFixed(0)} |`);
}
