// Decoding (npm run bench -- decode), every figure a ratio taken in this run:
// 1. Greedy, batch 1, on the reference config (dModel 256, 4 heads, 3+3 layers, FFN 1024, vocab 8000):
//    a source of 32 tokens, exactly 64 new tokens (EOS forbidden before). ms/token of model.generate (the
//    worker), of the same search on the main thread, of our no-cache loop (the full decoder over the
//    prefix at every step, encoder once), of ONNX Runtime's no-cache decoder when it is set up (see
//    bench/peers/ort_decode.mjs), and the weight-streaming floor: the decoder's weights (what each token
//    must read) over this machine's triad bandwidth, measured here on as many bytes.
// 2. The event loop during a generate: 99th percentile of its delay (perf_hooks).
// 3. Beam 4 over 32 sentences on the Transformer-base shape (dModel 512, 8 heads, 6+6, FFN 2048, vocab
//    32,000), output lengths forced to 25: target tokens/s on 1 and 2 threads.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { resolveOptions } from '../../lib/decode/options.js';
import { searchSync } from '../../lib/decode/search.js';
import { backend, type GenerateOptions, noGrad, randn, Transformer, type TransformerConfig } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { fixed, medianMs, table } from '../common.js';

const REFERENCE: TransformerConfig = { srcVocabSize: 8000, tgtVocabSize: 8000, dModel: 256, heads: 4, encoderLayers: 3, decoderLayers: 3, ffnDim: 1024, dropout: 0 };
const BASE: TransformerConfig = { srcVocabSize: 32000, tgtVocabSize: 32000, dropout: 0 };
const SRC_LENGTH = 32, NEW_TOKENS = 64;

const source = (length: number, vocab: number, salt: number) => Int32Array.from({ length }, (_, i) => 3 + ((i * 7919 + salt * 104729) % (vocab - 3)));

/** Bytes of weights a decoder step reads: each layer but the cross-attention's K/V projection, and the generator. */
function decoderWeightBytes(c: Required<Pick<TransformerConfig, 'dModel' | 'ffnDim' | 'decoderLayers' | 'tgtVocabSize'>>): number {
  const d = c.dModel;
  const layer = 3 * d * d + d * d + d * d + d * d + 2 * d * c.ffnDim; // self in/out, cross q/out, FFN
  return 4 * (c.decoderLayers * layer + d * c.tgtVocabSize);
}

/**
 * GB/s of a = b + c over three arrays holding `bytes` in all: the native add kernel on the current
 * threads, into an output written before (no page faults in the timing).
 */
async function triadBandwidth(bytes: number): Promise<number> {
  const n = Math.floor(bytes / 12);
  const b = randn([n], { seed: 1 }).toFloat32Array(), c = randn([n], { seed: 2 }).toFloat32Array(), a = new Float32Array(n);
  const ms = await medianMs(() => native().addForward(a, b, c, n), { iterations: 31 });
  return (12 * n) / (ms * 1e6);
}

/** Greedy without a cache: the full decoder over BOS + the ids so far at every step (encoder once). */
function greedyNoCache(model: Transformer, src: Int32Array, steps: number): number[] {
  const v = model.config.tgtVocabSize;
  return noGrad(() => {
    const { ids, lengths } = model.srcBatch([src]);
    const memory = model.encodeIds(ids, lengths);
    const out: number[] = [];
    for (let t = 0; t < steps; t++) {
      const logits = model.decode([Int32Array.from([model.config.bosId, ...out])], memory, lengths).toFloat32Array().subarray(t * v);
      let best = 0;
      for (let j = 1; j < v; j++) if (j !== model.config.eosId && logits[j]! > logits[best]!) best = j;
      out.push(best);
    }
    return out;
  });
}

/**
 * ms/token of generate (the worker) and of the same search on the main thread, alternated run by run
 * so that both see the same machine (medians of 15 each).
 */
async function workerAndMain(model: Transformer, src: Int32Array, opts: GenerateOptions): Promise<{ worker: number; main: number }> {
  const worker: number[] = [], main: number[] = [];
  await model.generate([src], opts);
  onMainThread(model, [src], opts);
  for (let i = 0; i < 15; i++) {
    let t = performance.now();
    await model.generate([src], opts);
    worker.push(performance.now() - t);
    t = performance.now();
    onMainThread(model, [src], opts);
    main.push(performance.now() - t);
  }
  const med = (x: number[]) => x.sort((a, b) => a - b)[7]! / NEW_TOKENS;
  return { worker: med(worker), main: med(main) };
}

function onMainThread(model: Transformer, src: Int32Array[], opts: GenerateOptions): void {
  const { ids, lengths } = model.srcBatch(src);
  const o = resolveOptions(opts, { maxPositions: model.config.maxLength ?? 1024, tgtVocabSize: model.config.tgtVocabSize }, lengths);
  noGrad(() => searchSync(model, ids, lengths, o));
}

/**
 * ms/token of ONNX Runtime's no-cache greedy decoder by thread count (bench/peers/ort_decode.mjs), when
 * its directory is set up ($NODEFORMER_ORT_DIR, default /tmp/ort; see that script's header); else empty.
 */
function ortPeer(): Map<number, number> {
  const dir = process.env.NODEFORMER_ORT_DIR ?? '/tmp/ort';
  const out = new Map<number, number>();
  if (!existsSync(join(dir, 'node_modules', 'onnxruntime-node')) || !existsSync(join(dir, 'decoder.onnx'))) return out;
  try {
    const text = execFileSync(process.execPath, [new URL('../peers/ort_decode.mjs', import.meta.url).pathname, dir], { cwd: dir, encoding: 'utf8' });
    for (const line of text.trim().split('\n')) {
      const r = JSON.parse(line) as { threads: number; msPerToken: number };
      out.set(r.threads, r.msPerToken);
    }
  } catch (e) {
    console.log(`(ONNX Runtime peer failed: ${(e as Error).message.split('\n')[0]})`);
  }
  return out;
}

export async function benchDecode(): Promise<void> {
  const model = new Transformer(REFERENCE).eval();
  const src = source(SRC_LENGTH, 8000, 1);
  const greedy: GenerateOptions = { maxLength: NEW_TOKENS, minLength: NEW_TOKENS };
  const bytes = decoderWeightBytes({ dModel: 256, ffnDim: 1024, decoderLayers: 3, tgtVocabSize: 8000 });
  const threads = backend.info().threads;
  const rows: Array<Array<string | number>> = [];
  const orts = ortPeer();
  let bandwidth = 0;
  for (const t of [1, threads].filter((x, i, a) => a.indexOf(x) === i)) {
    backend.setThreads(t);
    const { worker, main } = await workerAndMain(model, src, greedy);
    const noCache = (await medianMs(() => greedyNoCache(model, src, NEW_TOKENS), { iterations: 3, time: 0 })) / NEW_TOKENS;
    // The machine's limit at t threads: the best bandwidth any thread count up to t reaches.
    bandwidth = Math.max(bandwidth, await triadBandwidth(bytes));
    const floor = bytes / bandwidth / 1e6;
    const ort = orts.get(t) ?? null;
    rows.push([
      t, fixed(worker, 3), fixed(main, 3), fixed(noCache, 3), ort === null ? '—' : fixed(ort, 3), fixed(floor, 3),
      ort === null ? '—' : `${fixed(ort / worker, 2)}×`, `${fixed(noCache / worker, 2)}×`, `${fixed(worker / floor, 2)}×`, `${fixed(main / worker, 3)}`,
    ]);
  }
  backend.setThreads(threads);
  table(`Greedy decoding, batch 1, reference config (source ${SRC_LENGTH}, ${NEW_TOKENS} new tokens; decoder weights ${fixed(bytes / 1e6)} MB), ms/token`,
    ['threads', 'generate (worker)', 'main thread', 'no-cache loop', 'ONNX Runtime no-cache', 'weight floor', 'ORT / ours', 'no-cache / ours', 'ours / floor', 'main / worker'], rows);

  // The event loop while a batch of 8 sentences decodes for 64 tokens each.
  const h = monitorEventLoopDelay({ resolution: 1 });
  const batch = Array.from({ length: 8 }, (_, i) => source(SRC_LENGTH, 8000, i + 2));
  h.enable();
  const t0 = performance.now();
  await model.generate(batch, greedy);
  const ms = performance.now() - t0;
  h.disable();
  table('Event loop during a generate (8 × 64 tokens, reference config)', ['generate ms', 'delay p50 ms', 'delay p99 ms', 'delay max ms'],
    [[fixed(ms), fixed(h.percentile(50) / 1e6, 2), fixed(h.percentile(99) / 1e6, 2), fixed(h.max / 1e6, 2)]]);

  // Beam 4 × 32 sentences on the base shape, 25 tokens each.
  const base = new Transformer(BASE).eval();
  const sentences = Array.from({ length: 32 }, (_, i) => source(20 + (i % 12), 32000, i + 100));
  const beam: GenerateOptions = { strategy: 'beam', beamSize: 4, maxLength: 25, minLength: 25 };
  const beamRows: Array<Array<string | number>> = [];
  for (const t of [1, threads].filter((x, i, a) => a.indexOf(x) === i)) {
    backend.setThreads(t);
    const ms = await medianMs(() => base.generate(sentences, beam), { iterations: 3, time: 0 });
    const perSecond = (32 * 25) / (ms / 1000);
    beamRows.push([t, fixed(ms), fixed(perSecond), fixed(perSecond / t), `${fixed(perSecond / t / 164.7, 2)}×`]);
  }
  backend.setThreads(threads);
  table('Beam 4, 32 sentences × 25 tokens, Transformer-base (CTranslate2 publishes 658.8 tokens/s fp32 on 4 threads of a Xeon 8275CL: 164.7 per thread)',
    ['threads', 'ms', 'tokens/s', 'tokens/s per thread', 'per thread / CTranslate2'], beamRows);

  await benchInt8([model, (m) => m.generate([src], greedy)], [base, (m) => m.generate(sentences, beam)]);
}

/**
 * int8 weights (model.quantize) against float32, one thread, same run: greedy batch 1 on the reference
 * config (ms/token) and beam 4 × 32 sentences on Transformer-base (tokens/s), with the generator quantized
 * and kept in float32 (a copy of each model). Quantizes the models.
 */
async function benchInt8(...runs: Array<[Transformer, (m: Transformer) => Promise<unknown>]>): Promise<void> {
  const threads = backend.info().threads;
  backend.setThreads(1);
  const [greedy, beam] = runs as [typeof runs[0], typeof runs[0]];
  const time = async (models: Transformer[]) => [
    (await medianMs(() => greedy[1](models[0]!), { iterations: 5, time: 0 })) / NEW_TOKENS,
    (32 * 25) / ((await medianMs(() => beam[1](models[1]!), { iterations: 3, time: 0 })) / 1000),
  ];
  const copy = (m: Transformer) => {
    const c = new Transformer(m.config).eval();
    c.loadStateDict(m.stateDict());
    return c;
  };
  const models = runs.map(([m]) => m), kept = models.map(copy);
  const [f32Greedy, f32Beam] = await time(models);
  const [i8Greedy, i8Beam] = await time(models.map((m) => m.quantize('int8')));
  const [keptGreedy, keptBeam] = await time(kept.map((m) => m.quantize('int8', { generator: false })));
  backend.setThreads(threads);
  const { simd, int8 } = backend.info();
  table(`int8 weights vs float32, 1 thread, ${simd} (${int8 ? 'VPDPBUSD' : 'int8 emulated: no AVX512_VNNI here'})`,
    ['what', 'float32', 'int8', 'int8 speed-up', 'int8, generator float32', 'speed-up'], [
      ['greedy, batch 1, reference config (ms/token)', fixed(f32Greedy!, 3), fixed(i8Greedy!, 3), `${fixed(f32Greedy! / i8Greedy!, 2)}×`,
        fixed(keptGreedy!, 3), `${fixed(f32Greedy! / keptGreedy!, 2)}×`],
      ['beam 4, 32 × 25 tokens, Transformer-base (tokens/s)', fixed(f32Beam!), fixed(i8Beam!), `${fixed(i8Beam! / f32Beam!, 2)}×`,
        fixed(keptBeam!), `${fixed(keptBeam! / f32Beam!, 2)}×`],
    ]);
}
