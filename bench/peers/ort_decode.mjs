// ONNX Runtime peer of greedy decoding without a KV cache: the reference Transformer (exported as an encoder
// and a decoder step by bench/peers/export_onnx_decoder.py) encodes one source of 32 tokens once, then for
// each of 64 new tokens re-runs the decoder and generator over the whole prefix and takes the argmax of the
// last position; batch 1, on 1 and 2 threads, median of 5 runs after a warm-up. onnxruntime-node is not a
// dependency of nodeformer: install it in a scratch directory and run this from there (its install script
// downloads CUDA files unless told not to):
//
//   mkdir /tmp/ort && cd /tmp/ort && npm init -y && ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node
//   /usr/bin/python3 <repo>/bench/peers/export_onnx_decoder.py /tmp/ort
//   node <repo>/bench/peers/ort_decode.mjs /tmp/ort
import { createRequire } from 'node:module';

const ort = createRequire(`${process.cwd()}/`)('onnxruntime-node');
const dir = process.argv[2] ?? '.';
const LS = 32, NEW = 64, V = 8000, BOS = 2;

const ids = (a) => new ort.Tensor('int64', BigInt64Array.from(a, BigInt), [a.length, 1]);
const src = ids(Array.from({ length: LS }, (_, i) => 3 + ((i * 7919) % (V - 3))));

function argmax(x) {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

// Always NEW tokens: with random weights the argmax may hit EOS early, which would shorten the run.
async function decode(enc, dec) {
  const { memory } = await enc.run({ src });
  const tgt = [BOS];
  while (tgt.length <= NEW) {
    const { logits } = await dec.run({ tgt: ids(tgt), memory });
    tgt.push(argmax(logits.data));
  }
  return tgt;
}

for (const threads of [1, 2]) {
  const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const enc = await ort.InferenceSession.create(`${dir}/encoder.onnx`, opts);
  const dec = await ort.InferenceSession.create(`${dir}/decoder.onnx`, opts);
  await decode(enc, dec);
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await decode(enc, dec);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const msPerToken = Number((times[2] / NEW).toFixed(3));
  console.log(JSON.stringify({ peer: 'onnxruntime-node', what: 'greedy no-cache', threads, msPerToken }));
}
