import { randomUUID } from 'node:crypto';
import { maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { PROBLEM_CONTENT_TYPE, problemType } from '../plugins/problem.js';

interface ClientError extends Error {
  code?: string;
  rawPacket?: unknown;
}

const PROBLEMS: Record<string, { status: number; code: string; title: string; reason: string; detail: string }> = {
  timeout: { status: 408, code: 'request_timeout', title: 'Request timeout', reason: 'Request Timeout', detail: 'The request was not received in time.' },
  headers: {
    status: 431,
    code: 'headers_too_large',
    title: 'Request headers too large',
    reason: 'Request Header Fields Too Large',
    detail: 'The request headers are too large.',
  },
  uri: { status: 414, code: 'uri_too_long', title: 'URI too long', reason: 'URI Too Long', detail: 'The request target (path and query string) is too long.' },
  other: { status: 400, code: 'bad_request', title: 'Bad request', reason: 'Bad Request', detail: 'The request is not valid HTTP.' },
};

/**
 * Node reports an over-long request line as a header overflow too. When the bytes it read start with the
 * request line and that line alone takes half the header allowance, the target is what is too long (414).
 */
function kindOf(err: ClientError): keyof typeof PROBLEMS {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'timeout';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    const raw = err.rawPacket;
    if (!Buffer.isBuffer(raw) || !/^[A-Z]+ /.test(raw.subarray(0, 16).toString('latin1'))) return 'headers';
    const lineEnd = raw.indexOf('\r\n');
    return (lineEnd < 0 ? raw.length : lineEnd) >= maxHeaderSize / 2 ? 'uri' : 'headers';
  }
  if (err.code === 'HPE_URI_TOO_LONG') return 'uri';
  return 'other';
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers too large, a request line too long,
 * a request that timed out, malformed HTTP) answered as RFC 9457 problems like every other error, then the
 * connection is closed. Replaces Fastify's default handler, which answers plain JSON.
 */
export function problemClientErrorHandler(this: FastifyInstance, err: ClientError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const problem = PROBLEMS[kindOf(err)]!;
  this.log.debug({ code: err.code }, `client error: ${problem.code}`);
  // A response already under way on this socket (e.g. a 401 sent before a slow body ended) cannot be followed by
  // another. A request still waiting for its body has a response object that has sent nothing: it gets the 408.
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  const responding = pending != null && pending.headersSent !== false;
  if (socket.writable && !responding) {
    // Like every other problem: its own request id, in the body and the header, to quote in a support request.
    const requestId = randomUUID();
    const body = JSON.stringify({
      type: problemType(problem.code),
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      code: problem.code,
      requestId,
    });
    socket.write(
      `HTTP/1.1 ${problem.status} ${problem.reason}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\n` +
        `X-Request-Id: ${requestId}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    socket.destroySoon();
    return;
  }
  socket.destroy();
}
