import { randomUUID } from 'node:crypto';
import { maxHeaderSize, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
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

/** The response a socket is writing, or has queued first: Node's own `_httpMessage`. */
interface PendingResponse {
  headersSent: boolean;
  writableFinished: boolean;
  req?: { complete?: boolean };
  once(event: 'finish', listener: () => void): unknown;
}

/** Requests answered before their body arrived, by connection (app.ts notes them as they are answered). */
const answeredEarly = new WeakMap<Socket, IncomingMessage>();

function noteEarlyAnswer(request: IncomingMessage): void {
  if (request.socket) answeredEarly.set(request.socket, request);
}

/** Whether a request's headers announce a body: chunked, or a length above zero. */
export function announcesBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/**
 * Whether the request announced a body that has not all been read yet. A request without one (a GET) is not
 * `complete` either while its 'request' event runs — Node marks it so right after — so `complete` alone
 * would take every answer given synchronously, such as the early 503 of a saturated list, for one that came
 * too soon, and close a connection a client means to reuse.
 */
function bodyStillComing(request: IncomingMessage): boolean {
  return !request.complete && announcesBody(request.headers);
}

/** Connections being closed (`closeGently`): requests read on them from now on are not served. */
const ending = new WeakSet<Socket>();

/**
 * Whether the connection is being closed: a request read on it now would never be answered, so it is not
 * served (`refuseEarlyOn`), nor is one whose body arrives after the connection began to close (app.ts).
 */
export const isEnding = (socket: Socket | null): boolean => socket !== null && ending.has(socket);

/**
 * Runs `then` once the packet a request came in has been read, when its body was not all there yet. Node
 * emits a request when its headers are parsed and runs what that starts — a 401 from the token check, an
 * early 503 — before it parses the rest of the packet, so a body sent with its headers looks still to come
 * while its answer is being given. After the packet, it is there or it is not.
 */
export function whenPacketRead(request: IncomingMessage, then: () => void): void {
  if (bodyStillComing(request)) setImmediate(then);
  else then();
}

/**
 * Ends a connection with its answer when the answer says so (`Connection: close`), and makes an answer given
 * before its request's body arrived (a 401, 413, 415, 503 … while the body is still coming) say so. Called
 * once the packet has been read (`whenPacketRead`: a body sent with its headers keeps its connection) and
 * before the answer's head is written.
 *
 * Reading on for a body no one will use held the connection — one of HTTP_MAX_CONNECTIONS — until the request
 * time limit, so a client without a token, dripping bodies, could hold them all and /healthz's with them.
 * Unannounced, the close came as a reset to a client that sent its next request on the connection it had been
 * told to keep (a keep-alive agent whose token expired mid-sync got ECONNRESET on the request after the 401).
 *
 * Whatever made the answer say it (this, or Fastify's 400 for a body it could not parse), nothing read on the connection from now on is served (`isEnding`): its answer could not be sent, and
 * a write that commits unanswered is a write its client cannot know of. Node ends such a connection through
 * `destroySoon` once the answer is out, which resets it if the client is still sending; it is ended by
 * `closeGently` instead, which reads and drops what still comes for LINGER_MS.
 */
export function closeAfterEarlyAnswer(request: IncomingMessage, response: ServerResponse): void {
  // An injected request (light-my-request) has no connection to end.
  const socket = request.socket;
  if (!(socket instanceof Socket)) return;
  if (bodyStillComing(request)) {
    noteEarlyAnswer(request);
    response.setHeader('connection', 'close');
  }
  if (String(response.getHeader('connection')).toLowerCase() !== 'close') return;
  ending.add(socket);
  socket.destroySoon = () => closeGently(socket);
}

/** Connections whose parser error is being answered: Node raises one for every later chunk of bytes. */
const handled = new WeakSet<Socket>();

/** How long a closing connection still reads (and drops) what the client sends, so its answers are not reset. */
const LINGER_MS = 2000;

/** Connections `closeGently` has ended: one timer each, however many times it is asked. */
const lingering = new WeakSet<Socket>();

/**
 * Closes after the answers queued on the connection: FIN once they are out, while what the client still sends
 * is read and dropped — closing a socket with unread bytes makes the kernel reset it and drop the answers
 * not yet delivered. A client that does not close its side is cut off after LINGER_MS. Nothing read meanwhile
 * is served (`isEnding`): after a 408 or an early answer, a write that arrived in those seconds committed,
 * its answer written to a connection already closed.
 */
export function closeGently(socket: Socket): void {
  ending.add(socket);
  if (lingering.has(socket)) return;
  lingering.add(socket);
  socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers too large, a request line too long,
 * a request that timed out, malformed HTTP) answered as RFC 9457 problems like every other error, then the
 * connection is closed. Replaces Fastify's default handler, which answers plain JSON.
 *
 * Answers to earlier requests of the connection (pipelined, or still being worked out) go out first and in
 * order: a problem written ahead of them would be read as their answer — a 400 for a write that committed.
 * The one answer not waited for is the timed-out request's own, while it has not started: the 408 is it. A
 * request already answered before its body arrived (a 401 to a write without a token) gets no second answer
 * when that body times out: the connection just closes.
 */
export function problemClientErrorHandler(this: FastifyInstance, err: ClientError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || handled.has(socket)) return;
  handled.add(socket);
  const kind = kindOf(err);
  const problem = PROBLEMS[kind]!;
  this.log.debug({ code: err.code }, `client error: ${problem.code}`);
  const answer = () => {
    if (socket.destroyed) return;
    const pending = (socket as Socket & { _httpMessage?: PendingResponse | null })._httpMessage;
    if (pending && !pending.writableFinished) {
      const ownTimeout = kind === 'timeout' && pending.req?.complete === false && !pending.headersSent;
      if (!ownTimeout) {
        // After it finishes Node hands the socket to the next queued answer, if any: look again then.
        pending.once('finish', () => setImmediate(answer));
        return;
      }
    }
    // Already closing (an answer asked for it): Node ends the connection once that answer is out.
    if (!socket.writable) return;
    if (kind === 'timeout' && answeredEarly.get(socket)?.complete === false) {
      closeGently(socket);
      return;
    }
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
    closeGently(socket);
  };
  answer();
}
