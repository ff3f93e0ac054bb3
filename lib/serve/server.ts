/**
 * A BatchedTranslator over HTTP, on plain node:http:
 *
 * - `POST /translate` `{"text": "…", "stream"?: true, …generate options}` (null: the default) answers
 *   `{"translation", "tokens", "logProb", "score", "ms"}`, or with `"stream": true` Server-Sent Events
 *   (plain `data:` events, what EventSource's onmessage gets): `{"token": "<text it adds>", "id"}` per
 *   token, then the whole answer, then `[DONE]` (or `{"error", "type"}` when decoding fails after the
 *   first token). A client that disconnects aborts its request, which frees its place in the batch.
 * - `GET /health`: `{"status": "ok", "model", "queued", "running"}`; 503 `{"status": "draining"}` while shutting down.
 * - `GET /metrics`: Prometheus' text format (./server_metrics.ts).
 *
 * Every failure is `{"error": message, "type"}` (./http.ts): 400 for a bad request, 413 for a body or
 * text too large, 429 + Retry-After when the queue is full, 503 while shutting down.
 *
 * @example
 * const { server, shutdown } = createTranslationServer(new BatchedTranslator(await Translator.default()));
 * server.listen(8080);
 * process.once('SIGTERM', () => void shutdown());
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import { checkInteger, checkOptions, describe, fail, quoteList } from '../check.js';
import type { BatchedTranslator, RequestOptions, StreamPiece, Translation } from './batched.js';
import { errorReply, HttpError, readJson, sendJson } from './http.js';
import { CONTENT_TYPE } from './metrics.js';
import { type ServerMetrics, serverMetrics } from './server_metrics.js';

export interface ServerOptions {
  /** Largest request body read, in bytes (default 65536); a larger one is answered 413. */
  maxBodyBytes?: number;
  /** The model's name in /health (default 'nodeformer'). */
  modelName?: string;
}

export interface TranslationServer {
  /** Not yet listening: call `server.listen(port, host)`. */
  readonly server: Server;
  /**
   * Graceful drain: stops accepting connections, answers new requests 503, lets every accepted request
   * finish (streams included), closes the connections and resolves once the server has closed.
   */
  shutdown(): Promise<void>;
}

const GENERATE_KEYS = [
  'strategy', 'beamSize', 'lengthPenalty', 'maxLength', 'minLength', 'temperature', 'topK', 'topP', 'seed', 'noRepeatNgram', 'repetitionPenalty',
] as const;
const BODY_KEYS: readonly string[] = ['text', 'stream', ...GENERATE_KEYS];
const ROUTES: Readonly<Record<string, 'GET' | 'POST'>> = { '/translate': 'POST', '/health': 'GET', '/metrics': 'GET' };

interface TranslateRequest {
  text: string;
  stream: boolean;
  options: RequestOptions;
}

export function createTranslationServer(batched: BatchedTranslator, options: ServerOptions = {}): TranslationServer {
  const o = checkOptions<ServerOptions>(options, 'options', ['maxBodyBytes', 'modelName']);
  const maxBodyBytes = o.maxBodyBytes === undefined ? 65536 : checkInteger(o.maxBodyBytes, 'options.maxBodyBytes', 1);
  if (o.modelName !== undefined && typeof o.modelName !== 'string') fail('a string', 'options.modelName', o.modelName);
  const modelName = o.modelName ?? 'nodeformer';
  const metrics = serverMetrics(batched);
  // Responses not yet closed: shutdown waits for them before it closes the connections.
  const open = new Set<ServerResponse>();
  let allClosed: (() => void) | null = null;
  let draining: Promise<void> | null = null;

  const server = createServer((req, res) => {
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      if (open.size === 0) allClosed?.();
    });
    // While draining, every answer closes its connection: keep-alive clients go elsewhere.
    if (draining !== null) res.setHeader('Connection', 'close');
    route(req, res).catch((e: unknown) => answerError(res, e));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = ROUTES[path];
    if (method === undefined) throw new HttpError(404, 'NotFound', `No route ${path}: the routes are POST /translate, GET /health and GET /metrics`);
    if (req.method !== method) throw new HttpError(405, 'MethodNotAllowed', `${path} takes ${method}, not ${req.method}`, { Allow: method });
    if (path === '/health') {
      if (draining !== null) return sendJson(res, 503, { status: 'draining' });
      const { queued, running } = batched.stats();
      return sendJson(res, 200, { status: 'ok', model: modelName, queued, running });
    }
    if (path === '/metrics') {
      if (draining !== null) throw shuttingDown();
      const page = metrics.registry.render();
      res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(page) });
      res.end(page);
      return;
    }
    await translate(req, res);
  }

  async function translate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const abort = new AbortController();
    res.on('close', () => {
      // Closed before the answer was written: the client left, so its decode slot is freed.
      if (!res.writableFinished) abort.abort();
      metrics.request(res.writableFinished ? res.statusCode : 499, (performance.now() - started) / 1000);
    });
    if (draining !== null) throw shuttingDown();
    const r = parseRequest(await readJson(req, maxBodyBytes));
    // The drain may have begun while the body arrived.
    if (draining !== null) throw shuttingDown();
    checkLength(batched, r.text);
    const options = { ...r.options, signal: abort.signal };
    if (r.stream) return stream(res, batched.stream(r.text, options), started, metrics);
    const t = await batched.translate(r.text, options);
    metrics.generated(t.ids.length);
    sendJson(res, 200, answer(t, started));
  }

  function answerError(res: ServerResponse, e: unknown): void {
    const r = errorReply(e);
    if (r === null || res.headersSent) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    sendJson(res, r.status, r.body, r.headers);
  }

  function shutdown(): Promise<void> {
    draining ??= (async () => {
      const closed = new Promise<void>((resolve, reject) => {
        server.close((e) => (e === undefined || (e as NodeJS.ErrnoException).code === 'ERR_SERVER_NOT_RUNNING' ? resolve() : reject(e)));
      });
      for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
      await batched.close();
      if (open.size > 0) await new Promise<void>((resolve) => (allClosed = resolve));
      // Streams answered before the drain kept their connections alive: idle now, they can go.
      server.closeIdleConnections();
      await closed;
      metrics.stop();
    })();
    return draining;
  }

  return { server, shutdown };
}

function shuttingDown(): HttpError {
  return new HttpError(503, 'ServiceUnavailable', 'The server is shutting down: it finishes the requests it accepted and takes no more');
}

function parseRequest(body: unknown): TranslateRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'BadRequest', `Expected a JSON object {"text": …} for the body but received ${describe(body)}`);
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).find((k) => !BODY_KEYS.includes(k));
  if (unknown !== undefined) throw new HttpError(400, 'BadRequest', `Unknown key '${unknown}' in the body; known keys are ${quoteList(BODY_KEYS)}`);
  if (typeof b.text !== 'string') throw new HttpError(400, 'BadRequest', `Expected a string for text but received ${describe(b.text)}`);
  // JSON has no undefined: many clients write an unset field as null, so null means "the default".
  if (b.stream != null && typeof b.stream !== 'boolean') throw new HttpError(400, 'BadRequest', `Expected a boolean for stream but received ${describe(b.stream)}`);
  // The values are the BatchedTranslator's to check: its typed errors become 400s.
  const options: Record<string, unknown> = {};
  for (const k of GENERATE_KEYS) if (b[k] != null) options[k] = b[k];
  return { text: b.text, stream: b.stream === true, options: options as RequestOptions };
}

// A text longer than the model takes is too large a payload, not a malformed one.
function checkLength(batched: BatchedTranslator, text: string): void {
  const tokens = batched.translator.source.encode(text, { addSpecial: true }).length;
  const { maxLength } = batched.translator.model.config;
  if (tokens > maxLength) throw new HttpError(413, 'PayloadTooLarge', `Expected a text of at most ${maxLength} tokens (the model's maxLength) but it has ${tokens}`);
}

function answer(t: Translation, started: number) {
  return { translation: t.text, tokens: t.ids.length, logProb: t.logProb, score: t.score, ms: Math.round(performance.now() - started) };
}

/**
 * Sends a stream as Server-Sent Events. The first token is awaited before the headers, so that a request
 * refused at once (a beam search, a full queue) still gets its status code.
 */
async function stream(res: ServerResponse, tokens: AsyncGenerator<StreamPiece, Translation>, started: number, metrics: ServerMetrics): Promise<void> {
  let next = await tokens.next();
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  try {
    while (next.done !== true) {
      event(res, { token: next.value.text, id: next.value.token });
      next = await tokens.next();
    }
    metrics.generated(next.value.ids.length);
    event(res, answer(next.value, started));
    res.write('data: [DONE]\n\n');
  } catch (e) {
    const r = errorReply(e);
    // null: the client left, no one to tell.
    if (r !== null) event(res, r.body);
  }
  res.end();
}

function event(res: ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}
