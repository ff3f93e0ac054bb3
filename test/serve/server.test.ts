// `nodeformer serve` in a child process on a loopback port, as a user runs it, with the shipped model:
// JSON and Server-Sent-Event translations equal to the in-process Translator's (greedy is deterministic),
// every error status, /health, /metrics, a client that leaves mid-stream, and a SIGTERM that drains; then
// in process, a full queue (429) and shutdown().
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BatchedTranslator } from '../../lib/serve/batched.js';
import { createTranslationServer } from '../../lib/serve/server.js';
import { Translator } from '../../lib/translator.js';
import { ROOT, TSX_IMPORT } from '../helpers.js';

const BIN = join(ROOT, 'lib', 'cli', 'bin.ts');
const TEXT = 'In the beginning God created the heavens and the earth.';
// Long enough that a request is still decoding when the test acts on it (a few hundred ms on 2 cores).
const LONG = { minLength: 150, maxLength: 200 };

interface Server {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `nodeformer serve --port 0` and resolves with its URL, read from its one stdout line. */
async function serve(): Promise<Server> {
  const child = spawn(process.execPath, [...TSX_IMPORT, BIN, 'serve', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /^nodeformer: serving the shipped model on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exit.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
  return { child, url, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Server-Sent Events, each `data: json\n\n` (the last `data: [DONE]`): their data, '[DONE]' as it is. */
function parseEvents(text: string): unknown[] {
  return text.split('\n\n').filter((block) => block !== '').map((block) => {
    const data = /^data: (.*)$/.exec(block)?.[1];
    if (data === undefined) throw new Error(`not an event: ${JSON.stringify(block)}`);
    return data === '[DONE]' ? data : JSON.parse(data) as unknown;
  });
}

/** Polls `done` every 20 ms, for at most 5 s. */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('timed out');
}

/** A metric's value on a /metrics page, 0 when the series is absent. */
function metric(page: string, series: string): number {
  const line = page.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('nodeformer serve', () => {
  let server: Server;
  let expected: string;
  const post = async (body: unknown, path = '/translate') => {
    const res = await fetch(server.url + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const json = async (body: unknown) => {
    const r = await post(body);
    return { ...r, body: JSON.parse(r.text) as Record<string, unknown> };
  };
  const get = async (path: string) => {
    const res = await fetch(server.url + path);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  beforeAll(async () => {
    server = await serve();
    [expected] = await (await Translator.default()).translate([TEXT]) as [string];
  }, 60_000);
  afterAll(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('POST /translate answers the translation, as the in-process Translator gives it, with its scores', async () => {
    const r = await json({ text: TEXT });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body.translation).toBe(expected);
    expect(Object.keys(r.body).sort()).toEqual(['logProb', 'ms', 'score', 'tokens', 'translation']);
    expect(Number.isInteger(r.body.tokens) && (r.body.tokens as number) > 0).toBe(true);
    expect(r.body.logProb).toBeLessThan(0);
    expect(typeof r.body.score).toBe('number');
    expect(r.body.ms).toBeGreaterThanOrEqual(0);
    // null is an unset option (JSON has no undefined).
    expect((await json({ text: TEXT, stream: null, strategy: null, topP: null })).body.translation).toBe(expected);
  });

  it('"stream": true sends one event per token, then the answer and [DONE]: the pieces add up to the translation', async () => {
    const r = await post({ text: TEXT, stream: true });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseEvents(r.text);
    const tokens = events.slice(0, -2) as Array<{ token: string; id: number }>;
    const done = events.at(-2) as Record<string, unknown>;
    expect(events.at(-1)).toBe('[DONE]');
    expect(tokens.every((e) => typeof e.token === 'string' && Number.isInteger(e.id))).toBe(true);
    expect(tokens.map((e) => e.token).join('')).toBe(done.translation);
    expect(done.translation).toBe(expected);
    expect(done.tokens).toBe(tokens.length);
  });

  it('answers every bad request with its status and {"error": message, "type"}', async () => {
    const cases: Array<[string, unknown, number, string, RegExp]> = [
      ['bad JSON', '{"text": "x"', 400, 'BadRequest', /not valid JSON/],
      ['not an object', '["x"]', 400, 'BadRequest', /JSON object/],
      ['no text', {}, 400, 'BadRequest', /string for text/],
      ['text not a string', { text: 3 }, 400, 'BadRequest', /string for text/],
      ['unknown key', { text: 'x', beam: 4 }, 400, 'BadRequest', /'beam'/],
      ['bad beamSize', { text: 'x', strategy: 'beam', beamSize: -1 }, 400, 'InvalidArgumentError', /beamSize/],
      ['bad strategy', { text: 'x', strategy: 'foo' }, 400, 'InvalidArgumentError', /strategy/],
      ['stream with beam', { text: 'x', stream: true, strategy: 'beam' }, 400, 'InvalidArgumentError', /beam/],
      ['body over 64 KiB', { text: 'x'.repeat(70_000) }, 413, 'PayloadTooLarge', /65536 bytes/],
      ['more tokens than the model takes', { text: 'the earth '.repeat(300) }, 413, 'PayloadTooLarge', /at most 256 tokens/],
    ];
    for (const [name, body, status, type, message] of cases) {
      const r = await post(body);
      expect(r.status, name).toBe(status);
      expect(r.headers.get('content-type'), name).toMatch(/^application\/json/);
      const answer = JSON.parse(r.text) as { error: string; type: string };
      expect(answer.type, name).toBe(type);
      expect(answer.error, name).toMatch(message);
    }
    const notFound = await get('/translations');
    expect(notFound.status).toBe(404);
    expect(JSON.parse(notFound.text)).toMatchObject({ type: 'NotFound', error: expect.stringMatching(/No route \/translations/) });
    const wrongMethod = await get('/translate');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect((await post({}, '/health')).headers.get('allow')).toBe('GET');
  });

  it('GET /health reports the model and an idle queue', async () => {
    const r = await get('/health');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ status: 'ok', model: 'the shipped model', queued: 0, running: 0 });
  });

  it('GET /metrics: the Prometheus page, whose counters move with each request', async () => {
    const before = await get('/metrics');
    expect(before.status).toBe(200);
    expect(before.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of ['nodeformer_requests_total', 'nodeformer_queue_depth', 'nodeformer_running_requests', 'nodeformer_generated_tokens_total',
      'nodeformer_tokens_per_second', 'nodeformer_request_duration_seconds', 'nodeformer_batch_rows', 'nodeformer_event_loop_delay_seconds']) {
      expect(before.text, name).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
    }
    const { body } = await json({ text: TEXT });
    const after = (await get('/metrics')).text;
    expect(metric(after, 'nodeformer_requests_total{status="200"}')).toBe(metric(before.text, 'nodeformer_requests_total{status="200"}') + 1);
    expect(metric(after, 'nodeformer_requests_total{status="400"}')).toBeGreaterThan(0);
    expect(metric(after, 'nodeformer_generated_tokens_total')).toBe(metric(before.text, 'nodeformer_generated_tokens_total') + (body.tokens as number));
    expect(metric(after, 'nodeformer_request_duration_seconds_count')).toBe(metric(before.text, 'nodeformer_request_duration_seconds_count') + 1);
    expect(metric(after, 'nodeformer_request_duration_seconds_bucket{le="+Inf"}')).toBe(metric(after, 'nodeformer_request_duration_seconds_count'));
    expect(metric(after, 'nodeformer_tokens_per_second')).toBeGreaterThan(0);
    // One decoder step per token at least (one row each, unless other requests shared the step).
    expect(metric(after, 'nodeformer_batch_rows_count')).toBeGreaterThanOrEqual(metric(before.text, 'nodeformer_batch_rows_count') + (body.tokens as number));
    expect(metric(after, 'nodeformer_batch_rows_bucket{le="+Inf"}')).toBe(metric(after, 'nodeformer_batch_rows_count'));
    expect(after).toMatch(/^nodeformer_event_loop_delay_seconds\{stat="p99"\} \d/m);
  });

  it('a client that leaves mid-stream frees its decode slot (counted as 499)', async () => {
    const tokensBefore = metric((await get('/metrics')).text, 'nodeformer_generated_tokens_total');
    const leave = new AbortController();
    const res = await fetch(`${server.url}/translate`, { method: 'POST', body: JSON.stringify({ text: TEXT, stream: true, ...LONG }), signal: leave.signal });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^data: \{"token":/);
    leave.abort();
    await reader.cancel().catch(() => undefined);
    await until(async () => (JSON.parse((await get('/health')).text) as { running: number }).running === 0);
    const page = (await get('/metrics')).text;
    expect(metric(page, 'nodeformer_requests_total{status="499"}')).toBe(1);
    // Cancelled, not finished: it generated nothing that counts.
    expect(metric(page, 'nodeformer_generated_tokens_total')).toBe(tokensBefore);
  });

  // Last: it stops the server.
  it('SIGTERM drains: the requests in flight complete with 200, then the process exits 0', async () => {
    const plain = json({ text: TEXT, ...LONG });
    const streamed = post({ text: TEXT, stream: true, ...LONG });
    await until(async () => {
      const h = JSON.parse((await get('/health')).text) as { queued: number; running: number };
      return h.queued + h.running === 2;
    });
    server.child.kill('SIGTERM');
    const [a, b] = await Promise.all([plain, streamed]);
    expect(a.status).toBe(200);
    expect((a.body.translation as string).startsWith(expected)).toBe(true);
    expect(b.status).toBe(200);
    expect(parseEvents(b.text).at(-1)).toBe('[DONE]');
    expect(await server.exit).toBe(0);
    expect(server.stdout().split('\n')).toHaveLength(2);
    expect(server.stderr()).toBe('');
  });
});

describe('createTranslationServer, in process', () => {
  it('answers 429 with Retry-After when the queue is full; shutdown() finishes what it accepted, then closes', async () => {
    const batched = new BatchedTranslator(await Translator.default(), { maxBatchRequests: 1, maxQueue: 1 });
    const { server, shutdown } = createTranslationServer(batched);
    // A keep-alive connection that shutdown forgot would hold it for a minute: past this test's timeout.
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const send = (body: unknown) => fetch(`http://127.0.0.1:${port}/translate`, { method: 'POST', body: JSON.stringify(body) });

    // A stream on a keep-alive connection, its headers sent before the drain (so they say keep-alive).
    const agent = new Agent({ keepAlive: true });
    let firstChunk!: () => void;
    const started = new Promise<void>((resolve) => (firstChunk = resolve));
    const streamed = new Promise<{ connection: string | undefined; text: string }>((resolve, reject) => {
      request({ port, path: '/translate', method: 'POST', agent }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
          firstChunk();
        });
        res.on('end', () => resolve({ connection: res.headers.connection, text }));
      }).on('error', reject).end(JSON.stringify({ text: TEXT, stream: true, ...LONG }));
    });
    await started;
    const queued = send({ text: TEXT });
    await until(async () => batched.stats().queued === 1);
    const refused = await send({ text: TEXT });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { type: string }).type).toBe('QueueFullError');

    const drained = shutdown();
    expect(shutdown()).toBe(drained);
    const s = await streamed;
    expect(s.connection).toBe('keep-alive');
    expect(parseEvents(s.text).at(-1)).toBe('[DONE]');
    expect((await queued).status).toBe(200);
    await drained;
    expect(server.listening).toBe(false);
    await expect(send({ text: TEXT })).rejects.toThrow();
    agent.destroy();
  });
});
