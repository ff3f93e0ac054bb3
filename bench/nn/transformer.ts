// The reference Transformer of issue 4 (dModel 256, 4 heads, 3+3 layers, FFN 1024, vocab 8000, post-LN,
// batch 32 × 64 source and target tokens): a training step (forward, label-smoothed loss, backward, Adam)
// and an inference forward (noGrad), on 1 and 2 threads, with target tokens/s, the share of peak, and
// the share of time per kernel family (native calls timed by wrapping the binding's functions). Then, on one
// thread in the same run: precision 'medium' (bf16 GEMMs) against float32 and against PyTorch's float32
// (bench/peers/torch_transformer.py, where /usr/bin/python3 has torch).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { backend, type MatmulPrecision, noGrad, ops, optim, Transformer } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { Rng } from '../../lib/tensor/random.js';
import { fixed, medianMs, ROOT, table } from '../common.js';

const CONFIG = { srcVocabSize: 8000, tgtVocabSize: 8000, dModel: 256, heads: 4, encoderLayers: 3, decoderLayers: 3, ffnDim: 1024, dropout: 0.1 };
const BATCH = 32, LENGTH = 64;

/** Forward FLOPs of one batch (GEMMs and attention, 2 per multiply-add). */
function forwardFlops(): number {
  const d = CONFIG.dModel, f = CONFIG.ffnDim, tokens = BATCH * LENGTH;
  const attention = (lq: number, lk: number) => 2 * 2 * BATCH * lq * lk * d; // QKᵀ and PV
  const enc = CONFIG.encoderLayers * (tokens * 2 * (4 * d * d + 2 * d * f) + attention(LENGTH, LENGTH));
  const dec = CONFIG.decoderLayers * (tokens * 2 * (8 * d * d + 2 * d * f) + attention(LENGTH, LENGTH) / 2 + attention(LENGTH, LENGTH));
  return enc + dec + tokens * 2 * d * CONFIG.tgtVocabSize;
}

/** Native time per kernel family while fn runs, in ms (family = export name without Forward/Backward/Naive). */
function profile(fn: () => void): { total: number; families: Map<string, number> } {
  const binding = native() as unknown as Record<string, unknown>;
  const saved = new Map<string, unknown>();
  const families = new Map<string, number>();
  for (const [name, f] of Object.entries(binding)) {
    if (typeof f !== 'function') continue;
    const family = name.replace(/(Forward|Backward|Update)?(Naive)?$/, '');
    saved.set(name, f);
    binding[name] = (...args: unknown[]) => {
      const t = performance.now();
      try {
        return (f as (...a: unknown[]) => unknown)(...args);
      } finally {
        families.set(family, (families.get(family) ?? 0) + performance.now() - t);
      }
    };
  }
  const t = performance.now();
  try {
    fn();
  } finally {
    for (const [name, f] of saved) binding[name] = f;
  }
  return { total: performance.now() - t, families };
}

function batch(rng: Rng, vocab: number): Int32Array[] {
  return Array.from({ length: BATCH }, () => Int32Array.from({ length: LENGTH }, () => 3 + (rng.nextUint32() % (vocab - 3))));
}

export async function benchTransformer(): Promise<void> {
  const model = new Transformer(CONFIG);
  const rng = new Rng(1);
  const src = batch(rng, CONFIG.srcVocabSize), tgt = batch(rng, CONFIG.tgtVocabSize);
  const targets = Int32Array.from(batch(rng, CONFIG.tgtVocabSize).flatMap((r) => [...r]));
  const adam = new optim.Adam(model.parameters(), { lr: 1e-4 });
  const trainStep = () => {
    model.train();
    const logits = model.forward(src, tgt);
    const loss = ops.crossEntropy(logits.reshape([-1, CONFIG.tgtVocabSize]), targets, { labelSmoothing: 0.1, ignoreIndex: 0 });
    adam.zeroGrad();
    loss.backward();
    adam.step();
  };
  const forward = () => {
    model.eval();
    noGrad(() => model.forward(src, tgt));
  };
  const flops = forwardFlops();
  const peak = native().fmaPeak(backend.info().simd, 0.2, 1);
  const rows: Array<Array<string | number>> = [];
  const shares: Array<[string, number, Map<string, number>]> = [];
  const before = backend.info().threads;
  // The median of n profiled runs after a warm-up.
  const profiled = (fn: () => void, n: number) => {
    fn();
    const runs = Array.from({ length: n }, () => profile(fn));
    runs.sort((a, b) => a.total - b.total);
    return runs[Math.floor(runs.length / 2)]!;
  };
  for (const threads of [1, 2]) {
    backend.setThreads(threads);
    for (const [name, fn, work] of [['training step', trainStep, 3 * flops], ['forward (noGrad)', forward, flops]] as const) {
      const med = profiled(fn, name === 'training step' ? 3 : 5);
      const gflops = work / med.total / 1e6;
      rows.push([name, threads, fixed(med.total, 0), fixed((BATCH * LENGTH) / (med.total / 1000), 0), fixed(gflops, 0), `${fixed((100 * gflops) / (peak * threads), 0)}%`]);
      shares.push([`${name}, ${threads} thread${threads > 1 ? 's' : ''}`, med.total, med.families]);
    }
  }
  // Where a bf16 step's time goes once its GEMMs are faster.
  backend.setThreads(1);
  backend.setMatmulPrecision('medium');
  try {
    const med = profiled(trainStep, 3);
    shares.push([`training step, 1 thread, 'medium'`, med.total, med.families]);
  } finally {
    backend.setMatmulPrecision('high');
  }
  backend.setThreads(before);
  table(
    `Transformer, reference config (dModel 256, 4 heads, 3+3 layers, FFN 1024, vocab 8000, batch ${BATCH}×${LENGTH})`,
    ['what', 'threads', 'ms', 'target tok/s', 'GFLOP/s', 'of peak'],
    rows,
  );
  await benchPrecision(trainStep, forward);
  const families = [...new Set(shares.flatMap(([, , m]) => [...m.keys()]))]
    .sort((a, b) => (shares[0]![2].get(b) ?? 0) - (shares[0]![2].get(a) ?? 0));
  table('Share of time per kernel family (the rest: JavaScript)', ['run', ...families, 'JS'], shares.map(([n, total, m]) => {
    const native = [...m.values()].reduce((a, b) => a + b, 0);
    return [n, ...families.map((f) => `${fixed((100 * (m.get(f) ?? 0)) / total, 0)}%`), `${fixed((100 * (total - native)) / total, 0)}%`];
  }));
}

async function benchPrecision(trainStep: () => void, forward: () => void): Promise<void> {
  const before = backend.info().threads;
  backend.setThreads(1);
  const ms = new Map<string, [number, number]>();
  for (const p of ['high', 'medium'] as MatmulPrecision[]) {
    backend.setMatmulPrecision(p);
    try {
      ms.set(p, [await medianMs(trainStep, { time: 1, iterations: 5 }), await medianMs(forward, { time: 1, iterations: 5 })]);
    } finally {
      backend.setMatmulPrecision('high');
    }
  }
  backend.setThreads(before);
  let torch: { framework: string; trainMs: number; forwardMs: number } | undefined;
  try {
    torch = JSON.parse(execFileSync('/usr/bin/python3', [join(ROOT, 'bench/peers/torch_transformer.py'), '1', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch (e) {
    console.log(`(PyTorch peer not run: ${(e as Error).message.split('\n')[0]})`);
  }
  const [f32Train, f32Fwd] = ms.get('high')!;
  const row = (what: string, train: number, fwd: number) => [what, fixed(train, 0), fixed((BATCH * LENGTH) / (train / 1000), 0), `${fixed(f32Train / train, 2)}×`,
    torch ? `${fixed(torch.trainMs / train, 2)}×` : '–', fixed(fwd, 0), `${fixed(f32Fwd / fwd, 2)}×`];
  const { simd, bf16, amx } = backend.info();
  const rows = [
    row(`nodeformer float32 ('high')`, f32Train, f32Fwd),
    row(`nodeformer bf16 GEMMs ('medium', ${amx ? 'AMX tiles' : bf16 ? 'AVX512_BF16' : 'emulated'})`, ...ms.get('medium')!),
  ];
  if (torch) rows.push(row(`${torch.framework} float32`, torch.trainMs, torch.forwardMs));
  table(`Precision, reference config, 1 thread, ${simd} (training step and forward, ms)`,
    ['what', 'train ms', 'target tok/s', 'train vs float32', 'train vs PyTorch', 'forward ms', 'forward vs float32'], rows);
}
