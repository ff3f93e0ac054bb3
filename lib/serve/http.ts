/**
 * The HTTP vocabulary of the server: JSON bodies in and out, and every failure as one JSON shape,
 * `{"error": message, "type": name}` (../shared's API contract: `error` is the message), with the status
 * that says whose fault it was.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

import {
  AbortError, ClosedError, DTypeError, InvalidArgumentError, OutOfRangeError, QueueFullError, ShapeError,
} from '../errors.js';

/** A failure of the request itself (bad JSON, unknown route, a body too large): its status and type name. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly headers: OutgoingHttpHeaders;
  constructor(status: number, type: string, message: string, headers: OutgoingHttpHeaders = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.type = type;
    this.headers = headers;
  }
}

export interface ErrorReply {
  status: number;
  headers: OutgoingHttpHeaders;
  body: { error: string; type: string };
}

/**
 * What to answer for an error, or null when there is no one to answer (the client aborted). Errors we
 * did not foresee are logged to stderr and answered with a generic message: their text may hold internals.
 */
export function errorReply(e: unknown): ErrorReply | null {
  if (e instanceof AbortError) return null;
  if (e instanceof HttpError) return reply(e.status, e.type, e.message, e.headers);
  if (e instanceof InvalidArgumentError || e instanceof OutOfRangeError || e instanceof ShapeError || e instanceof DTypeError) {
    return reply(400, e.name, e.message);
  }
  // Backpressure: the queue drains in about the time of one decode.
  if (e instanceof QueueFullError) return reply(429, e.name, e.message, { 'Retry-After': '1' });
  if (e instanceof ClosedError) return reply(503, e.name, e.message);
  process.stderr.write(`nodeformer serve: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return reply(500, 'InternalServerError', 'The server failed to handle the request; the details are in its log');
}

function reply(status: number, type: string, message: string, headers: OutgoingHttpHeaders = {}): ErrorReply {
  return { status, headers, body: { error: message, type } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request's body parsed as JSON, whatever its Content-Type says. A body over `maxBytes` is an
 * HttpError 413 at once: the rest is drained unread (never buffered) and the connection closed after the
 * reply. A body that is not UTF-8 (a BOM is skipped) or not JSON is a 400.
 */
export function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new HttpError(413, 'PayloadTooLarge', `Expected a body of at most ${maxBytes} bytes`, { Connection: 'close' });
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > maxBytes) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      reject(tooLarge());
    };
    const onEnd = () => {
      let text: string;
      try {
        // JSON is UTF-8 (RFC 8259): other bytes are refused, not read as U+FFFD and translated.
        text = UTF8.decode(Buffer.concat(chunks));
      } catch {
        reject(new HttpError(400, 'BadRequest', 'The body is not UTF-8 text'));
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new HttpError(400, 'BadRequest', `The body is not valid JSON: ${(e as Error).message}`));
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    // The client closed the connection mid-body: no one is left to answer.
    req.on('error', (e) => reject(new AbortError('The client closed the connection while sending the body', { cause: e })));
  });
}
