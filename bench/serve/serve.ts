// The HTTP server under load (npm run bench -- serve): `nodeformer serve` with the shipped model in a child
// process, POST /translate driven by autocannon at 1, 4, 16 and 64 concurrent clients, once with batching
// (the default flags) and once without (--no-batching: one generate at a time), a server each, both
// started before the load; the load generator runs at a lower priority (nice 10) so that it yields the
// shared cores to the server, as clients on other machines would.
//
// 1. A bare generate first, on a quiet machine: Translator.default().translate([text]) in this process,
//    one text at a time, over the texts the clients send.
// 2. Per mode and client count: completed requests/s and target tokens/s, p50 and p99 latency, non-2xx
//    replies, and from the server's /metrics its event-loop delay max and the mean rows per decoder step.
// 3. The targets' ratios: requests/s at 16 clients batching / no batching; p99 at 1 client through the
//    batching server / bare generate (target ≤ 1.2×); the batching server's event-loop delay max (≤ 20 ms).
//
// The texts: the English side of the Bible test set ($NODEFORMER_BIBLE_DATA, default ../shared/data/bible),
// else a built-in list; every level sends the same ones in the same order. The figures go to
// $NODEFORMER_SERVE_OUT (default a new temp folder) as serve.json, serve.svg and serve.png.
// NODEFORMER_SERVE_QUICK=1 runs 1 and 4 clients with few requests: a smoke run.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { panel, renderPng, type Series, svgDocument } from '../../lib/cli/plot.js';
import { backend, data, Translator } from '../../lib/index.js';
import { ROOT, TSX_IMPORT } from '../../test/helpers.js';
import { fixed, table } from '../common.js';

const QUICK = process.env.NODEFORMER_SERVE_QUICK === '1';
const LEVELS = QUICK ? [1, 4] : [1, 4, 16, 64];
/** Texts sent (and translated bare); a level sends every one at least once, the 64-client level 8 per client. */
const TEXTS = QUICK ? 16 : 200;
const requestsAt = (clients: number) => Math.max(TEXTS, 8 * clients);
/** A level that runs this long is stopped (its figures stand, flagged): the whole bench stays under ~10 minutes. */
const CAP_SECONDS = QUICK ? 30 : 60;
const TARGET_THROUGHPUT = 4, TARGET_P99_RATIO = 1.2, TARGET_LOOP_MS = 20;
/** The nice value of the load generator's thread (see benchServe). */
const LOAD_PRIORITY = 10;

/** Used when the Bible data is absent. */
const BUILT_IN = [
  'In the beginning God created the heavens and the earth.',
  'Jesus wept.',
  'The earth was formless and empty.',
  'Blessed are the peacemakers, for they shall be called children of God.',
  'The train leaves the station at seven in the morning.',
  'She opened the window and looked at the sea.',
  'We need more time to finish the work.',
  'My brother lives in a small house near the river.',
  'The children played in the garden until the sun went down.',
  'Do not be afraid, for I am with you.',
  'He wrote a long letter to his friends in the city.',
  'Where is the nearest hospital?',
  'The king gathered all his servants and spoke to them.',
  'Love is patient and kind.',
  'They walked for three days through the desert without water.',
  'I will give you a new heart and put a new spirit within you.',
];

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  setupRequest: (request: AutocannonRequest) => AutocannonRequest & { body: string };
  onResponse: (status: number, body: string) => void;
}
interface AutocannonRun extends PromiseLike<{ non2xx: number; errors: number }> {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  stop(): void;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string; connections: number; amount: number; timeout: number; requests: AutocannonRequest[];
}) => AutocannonRun;

interface Level {
  clients: number;
  completed: number;
  seconds: number;
  requestsPerSecond: number;
  tokensPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** Stopped at CAP_SECONDS before every request completed. */
  capped: boolean;
  /** The server's event-loop delay max during the level (a scrape before and after it); null when /metrics has none. */
  eventLoopMaxMs: number | null;
  /** Rows per decoder step during the level (the batch_rows histogram's mean over its new observations). */
  batchRows: number | null;
}

/** Nearest-rank percentile of ascending `sorted`. */
const percentile = (sorted: readonly number[], p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function texts(): Promise<{ source: string; texts: string[] }> {
  const dir = process.env.NODEFORMER_BIBLE_DATA ?? join(ROOT, '..', 'shared', 'data', 'bible');
  const file = join(dir, 'test.tsv');
  const found = existsSync(file);
  const list = found ? (await data.readPairs(file, { srcColumn: 'english_web', tgtColumn: 'spanish_rv1909' })).map(([en]) => en) : BUILT_IN;
  return { source: found ? file : 'built-in sentences', texts: Array.from({ length: TEXTS }, (_, i) => list[i % list.length]!) };
}

/** Per-call ms of the shipped model translating each text alone, in this process (after a few to warm up). */
async function bare(list: readonly string[]): Promise<{ p50Ms: number; p99Ms: number; requestsPerSecond: number }> {
  const translator = await Translator.default();
  for (const text of list.slice(0, 4)) await translator.translate([text]);
  const ms: number[] = [];
  for (const text of list) {
    const t0 = performance.now();
    await translator.translate([text]);
    ms.push(performance.now() - t0);
  }
  const total = ms.reduce((a, b) => a + b, 0);
  ms.sort((a, b) => a - b);
  return { p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), requestsPerSecond: ms.length / (total / 1000) };
}

/** `nodeformer serve` from the sources on a free port; resolves with its URL once it prints that it listens. */
async function startServer(flags: readonly string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...TSX_IMPORT, join(ROOT, 'lib', 'cli', 'bin.ts'), 'serve', '--host', '127.0.0.1', '--port', '0', ...flags],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    // Read every line, not just the first: a stdout pipe nobody drains would stall the server.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = / on (http:\/\/\S+)/.exec(line);
      if (m !== null) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`nodeformer serve ${flags.join(' ')} exited with ${code} before listening`)));
  });
  return { url, child };
}

/** SIGTERM, as an orchestrator stops it; resolves with the exit code (0 when it shut down gracefully). */
async function stopServer(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

const translate = async (url: string, text: string) => {
  const res = await fetch(`${url}/translate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
  if (res.status !== 200) throw new Error(`POST /translate answered ${res.status}: ${await res.text()}`);
  await res.json();
};

/**
 * From /metrics (lib/serve/server_metrics.ts): the event loop's delay max (ms) since the previous scrape
 * (each scrape resets it), and the batch_rows histogram's sum and count (NaN while it is absent).
 */
async function scrape(url: string): Promise<{ loopMaxMs: number | null; rowsSum: number; rowsCount: number }> {
  const page = await (await fetch(`${url}/metrics`)).text();
  let loop: number | null = null, rowsSum = NaN, rowsCount = NaN;
  for (const line of page.split('\n')) {
    const [, name, labels, value] = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line) ?? [];
    if (name === 'nodeformer_event_loop_delay_seconds' && labels === '{stat="max"}') loop = Number(value) * 1000;
    else if (name === 'nodeformer_batch_rows_sum') rowsSum = Number(value);
    else if (name === 'nodeformer_batch_rows_count') rowsCount = Number(value);
  }
  return { loopMaxMs: loop, rowsSum, rowsCount };
}

/** One level: `clients` connections, each sending its next text as soon as its last reply arrived. */
async function level(url: string, list: readonly string[], clients: number): Promise<Level> {
  const before = await scrape(url);
  const amount = requestsAt(clients);
  let next = 0, tokens = 0, capped = false;
  const ms: number[] = [];
  const start = performance.now();
  let last = start;
  const run = autocannon({
    url, connections: clients, amount, timeout: CAP_SECONDS,
    requests: [{
      method: 'POST', path: '/translate', headers: { 'content-type': 'application/json' },
      setupRequest: (request) => ({ ...request, body: JSON.stringify({ text: list[next++ % list.length] }) }),
      onResponse: (status, body) => {
        if (status === 200) tokens += (JSON.parse(body) as { tokens: number }).tokens;
      },
    }],
  });
  // Latency from each reply's own high-resolution time, with the same percentile as the bare generate's
  // (autocannon's histogram keeps whole milliseconds), and the end of the level at the last reply
  // (autocannon resolves on its next one-second tick).
  run.on('response', (_client, status, _bytes, responseMs) => {
    if (status === 200) ms.push(responseMs);
    last = performance.now();
  });
  const cap = setTimeout(() => {
    capped = true;
    run.stop();
  }, CAP_SECONDS * 1000);
  const result = await run;
  clearTimeout(cap);
  const after = await scrape(url);
  const seconds = (last - start) / 1000;
  ms.sort((a, b) => a - b);
  const rows = (after.rowsSum - before.rowsSum) / (after.rowsCount - before.rowsCount);
  return {
    clients, completed: ms.length, seconds, requestsPerSecond: ms.length / seconds, tokensPerSecond: tokens / seconds,
    p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), non2xx: result.non2xx, errors: result.errors, capped,
    eventLoopMaxMs: after.loopMaxMs, batchRows: Number.isFinite(rows) ? rows : null,
  };
}

/** A started server, warmed up, through every level; then SIGTERM. */
async function mode({ url, child }: { url: string; child: ChildProcess }, list: readonly string[]): Promise<{ levels: Level[]; exitCode: number | null }> {
  try {
    // Warm up one request alone, then a few together (the batched shapes).
    await translate(url, list[0]!);
    await Promise.all(list.slice(0, 8).map((text) => translate(url, text)));
    const levels: Level[] = [];
    for (const clients of LEVELS) levels.push(await level(url, list, clients));
    return { levels, exitCode: await stopServer(child) };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
}

function plot(modes: Record<string, Level[]>, bareFigures: { p50Ms: number; p99Ms: number }, title: string): string {
  const colors: Record<string, [string, string]> = { batching: ['#1f77b4', '#9ecae1'], 'no batching': ['#d62728', '#fc9272'] };
  const each = (f: (name: string, levels: Level[], color: [string, string]) => Series[]) =>
    Object.entries(modes).flatMap(([name, levels]) => f(name, levels, colors[name]!));
  const throughput = each((name, levels, [c]) => [{ name, color: c, dots: true, points: levels.map((l): [number, number] => [l.clients, l.requestsPerSecond]) }]);
  const latency = [
    ...each((name, levels, [p50, p99]) => [
      { name: `${name} p50`, color: p50, dots: true, points: levels.map((l): [number, number] => [l.clients, l.p50Ms]) },
      { name: `${name} p99`, color: p99, dots: true, points: levels.map((l): [number, number] => [l.clients, l.p99Ms]) },
    ]),
    { name: 'bare generate p50', color: '#2ca02c', points: [[1, bareFigures.p50Ms]] },
    { name: 'bare generate p99', color: '#a1d99b', points: [[1, bareFigures.p99Ms]] },
  ] satisfies Series[];
  const width = 1200, height = 450;
  return svgDocument(title, [
    panel({ title: 'Throughput (completed requests/s)', xLabel: 'concurrent clients', logXTicks: LEVELS, series: throughput }, 0, 30, width / 2, height - 30),
    panel({ title: 'Latency (ms)', xLabel: 'concurrent clients', logXTicks: LEVELS, series: latency }, width / 2, 30, width / 2, height - 30),
  ].join('\n'), width, height);
}

export async function benchServe(): Promise<void> {
  const { source, texts: list } = await texts();
  const out = process.env.NODEFORMER_SERVE_OUT ?? mkdtempSync(join(tmpdir(), 'nodeformer-serve-'));
  mkdirSync(out, { recursive: true });
  const threads = backend.info().threads;

  const bareFigures = await bare(list);
  // The load generator shares the machine's cores with the server; it yields to it (a lower priority for
  // this thread, where autocannon runs), as clients on other machines would. The servers start first:
  // a child takes the priority of the thread that spawns it.
  const servers = [await startServer([]), await startServer(['--no-batching'])] as const;
  try {
    setPriority(LOAD_PRIORITY);
  } catch {
    console.log('(could not lower the load generator\'s priority: it competes with the server for the cores)');
  }
  const batching = await mode(servers[0], list);
  const noBatching = await mode(servers[1], list);

  const modes = { batching: batching.levels, 'no batching': noBatching.levels };
  const dash = (x: number | null, digits = 1) => (x === null ? '—' : fixed(x, digits));
  table(`nodeformer serve under load: the shipped model, ${list.length} texts from ${source}, ${threads} threads, POST /translate (greedy)`,
    ['mode', 'clients', 'completed', 'requests/s', 'tokens/s', 'p50 ms', 'p99 ms', 'non-2xx / errors', 'event-loop max ms', 'rows/step'],
    [
      ['bare generate (in process)', 1, list.length, fixed(bareFigures.requestsPerSecond), '—', fixed(bareFigures.p50Ms), fixed(bareFigures.p99Ms), '—', '—', '—'],
      ...Object.entries(modes).flatMap(([name, levels]) => levels.map((l) => [
        name, l.clients, `${l.completed}${l.capped ? ` (stopped at ${CAP_SECONDS} s)` : ''}`, fixed(l.requestsPerSecond), fixed(l.tokensPerSecond, 0),
        fixed(l.p50Ms), fixed(l.p99Ms), `${l.non2xx} / ${l.errors}`, dash(l.eventLoopMaxMs), dash(l.batchRows, 2),
      ])),
    ]);

  const at = Math.min(16, LEVELS.at(-1)!);
  const find = (levels: Level[], clients: number) => levels.find((l) => l.clients === clients)!;
  const loopMax = (levels: Level[]) => (levels.some((l) => l.eventLoopMaxMs !== null) ? Math.max(...levels.map((l) => l.eventLoopMaxMs ?? 0)) : null);
  const ratios = {
    throughputBatchingOverNoBatching: { clients: at, ratio: find(batching.levels, at).requestsPerSecond / find(noBatching.levels, at).requestsPerSecond, target: TARGET_THROUGHPUT },
    p99ServerOverBare: { clients: 1, ratio: find(batching.levels, 1).p99Ms / bareFigures.p99Ms, target: TARGET_P99_RATIO },
    eventLoopMaxMs: { batching: loopMax(batching.levels), noBatching: loopMax(noBatching.levels), target: TARGET_LOOP_MS },
  };
  const met = (ok: boolean) => (ok ? 'met' : 'missed');
  const loop = ratios.eventLoopMaxMs.batching;
  table('Targets', ['figure', 'value', 'target', ''], [
    [`requests/s at ${at} clients, batching / no batching`, `${fixed(ratios.throughputBatchingOverNoBatching.ratio, 2)}×`, `≥ ${TARGET_THROUGHPUT}×`, met(ratios.throughputBatchingOverNoBatching.ratio >= TARGET_THROUGHPUT)],
    ['p99 at 1 client, batching server / bare generate', `${fixed(ratios.p99ServerOverBare.ratio, 2)}×`, `≤ ${TARGET_P99_RATIO}×`, met(ratios.p99ServerOverBare.ratio <= TARGET_P99_RATIO)],
    ['event-loop delay max, batching server (every level)', `${dash(loop)} ms`, `≤ ${TARGET_LOOP_MS} ms`, loop === null ? '—' : met(loop <= TARGET_LOOP_MS)],
  ]);
  for (const [name, m] of [['batching', batching], ['no batching', noBatching]] as const) {
    if (m.exitCode !== 0) console.log(`(the ${name} server exited with ${m.exitCode} after SIGTERM, not 0)`);
  }

  const figures = {
    machine: { threads, simd: backend.info().simd, node: process.versions.node }, loadGeneratorNice: LOAD_PRIORITY,
    texts: { source, count: list.length }, capSeconds: CAP_SECONDS,
    bare: bareFigures, modes: { batching: batching.levels, noBatching: noBatching.levels },
    exitCodes: { batching: batching.exitCode, noBatching: noBatching.exitCode }, ratios,
  };
  writeFileSync(join(out, 'serve.json'), `${JSON.stringify(figures, null, 2)}\n`);
  const svg = plot(modes, bareFigures, `nodeformer serve, shipped model, ${threads} threads: batching vs one generate at a time`);
  writeFileSync(join(out, 'serve.svg'), svg);
  writeFileSync(join(out, 'serve.png'), renderPng(svg));
  console.log(`\nFigures: ${join(out, 'serve.json')}, serve.svg and serve.png`);
}
