import type { IncomingMessage, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import { closeGently, isEnding } from './client-error.js';

/** The Fastify constructor options that bound how long and how many clients may hold the server. */
export interface HttpServerOptions {
  requestTimeout: number;
  connectionTimeout: number;
  keepAliveTimeout: number;
  maxRequestsPerSocket: number;
  http: ServerOptions;
}

type LimitsConfig = Pick<
  Config,
  | 'HTTP_REQUEST_TIMEOUT_MS'
  | 'HTTP_HEADERS_TIMEOUT_MS'
  | 'HTTP_CONNECTION_TIMEOUT_MS'
  | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'
  | 'HTTP_MAX_REQUESTS_PER_SOCKET'
  | 'HTTP_MAX_CONNECTIONS'
>;

/**
 * Time limits on every connection (DESIGN §5, slow or dripping clients):
 * - headers must arrive within HTTP_HEADERS_TIMEOUT_MS and the whole request (headers and body) within
 *   HTTP_REQUEST_TIMEOUT_MS, else Node answers 408 and closes the connection — a client that drips a body
 *   a byte at a time is cut off even though it is never idle;
 * - a connection idle for HTTP_CONNECTION_TIMEOUT_MS (nothing read or written, e.g. a client that stops
 *   reading a response) is destroyed;
 * - an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS.
 * Node checks the header and request limits on a timer (30 s by default), so the timer runs at a tenth of
 * the header limit (between 0.1 and 1 s) for the limits to hold to within about a second.
 */
export function httpServerOptions(config: LimitsConfig): HttpServerOptions {
  return {
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.HTTP_CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: config.HTTP_MAX_REQUESTS_PER_SOCKET,
    http: {
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 10))),
    },
  };
}

/** Connections beyond the cap are closed as they arrive, so a flood cannot use up the process's file descriptors. */
export function capConnections(server: { maxConnections: number }, config: LimitsConfig): void {
  server.maxConnections = config.HTTP_MAX_CONNECTIONS;
}

/**
 * Requests one connection may have read and not yet answered. A client may pipeline, but one that sends
 * thousands without reading an answer had them all parsed and worked through — Node stops reading a
 * connection only once answers pile up unsent, and one packet holds some two thousand small requests — so
 * 100 such connections without a token kept the process busy for a quarter of a minute and /healthz with it.
 * Past the limit nothing more read on the connection is served. A connection with only reads unanswered is
 * cut off at once: the requests parsed behind it are then garbage, where waiting kept them all (100 such
 * connections took the process past the image's 256 MB heap). One with a write still running stops being
 * read, has the requests it took answered, and then closes: cut off, the writes running would commit
 * unanswered — unless it sends as many again meanwhile, which Node would keep until the connection closes
 * (a client that floods past the limit behind a write took the process past its heap): then it is cut off,
 * and its writes' answers are lost as on any broken connection.
 * No client that waits for its answers comes near the limit.
 */
export const MAX_PIPELINED_REQUESTS = 32;

interface Unanswered {
  requests: number;
  writes: number;
  over: boolean;
  /** Requests read past the limit (not served). */
  dropped: number;
}

const unansweredOn = new WeakMap<Socket, Unanswered>();
/** Methods RFC 9110 calls safe: reads, which may run side by side and are cut off rather than drained. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Counts `request` on its connection until it is answered; false past the limit (then the request is not served). */
export function withinPipelineLimit(request: IncomingMessage, response: { once(event: 'close', listener: () => void): unknown }): boolean {
  const socket = request.socket;
  if (socket.destroyed) return false;
  let unanswered = unansweredOn.get(socket);
  if (!unanswered) {
    unanswered = { requests: 0, writes: 0, over: false, dropped: 0 };
    unansweredOn.set(socket, unanswered);
  }
  if (unanswered.over) {
    // Still read while its writes are answered (Node resumes a connection once its answers drain): each one read
    // is kept by Node until the connection closes, so past as many again it is cut off all the same.
    if (++unanswered.dropped > MAX_PIPELINED_REQUESTS) socket.destroy();
    return false;
  }
  if (unanswered.requests >= MAX_PIPELINED_REQUESTS) {
    unanswered.over = true;
    if (unanswered.writes === 0) socket.destroy();
    else socket.pause();
    return false;
  }
  const write = !SAFE.has(request.method ?? 'GET');
  unanswered.requests++;
  if (write) unanswered.writes++;
  const state = unanswered;
  response.once('close', () => {
    state.requests--;
    if (write) state.writes--;
    if (state.over && state.requests === 0) closeGently(socket);
  });
  return true;
}


interface InOrder {
  /** Requests of the connection being worked out (started and not yet answered). */
  running: number;
  /** Whether one of them is unsafe (a write). */
  writing: boolean;
  /** Requests read behind a write, or a write read behind anything: started in order, as the ones ahead are answered. */
  waiting: { unsafe: boolean; start: () => void }[];
}

const orderOn = new WeakMap<Socket, InOrder>();

/**
 * Starts `serve` for a request only once the requests read before it on its connection allow: a write
 * (any unsafe method) waits for every request ahead of it to be answered, and any request read behind a
 * write waits for that write. Node parses a packet of pipelined requests at once and emits them all, and
 * Fastify ran them all at once: a PUT and the GET of the same key behind it answered 201 and 404, a PUT then
 * DELETE left the record in place (the DELETE answered 404 before the PUT had committed), eight PUTs of one
 * key stored whichever ran last. RFC 9112 §9.3.2 lets a server work pipelined requests in parallel only when
 * all are safe — reads behind reads still run at once. A request whose turn comes after its connection began
 * to close (any answer saying `Connection: close`), or broke, is not served: its answer could not be sent.
 */
export function inRequestOrder(request: IncomingMessage, response: { once(event: 'close', listener: () => void): unknown }, serve: () => void): void {
  const socket = request.socket;
  let order = orderOn.get(socket);
  if (!order) {
    order = { running: 0, writing: false, waiting: [] };
    orderOn.set(socket, order);
  }
  const state = order;
  const unsafe = !SAFE.has(request.method ?? 'GET');
  const start = () => {
    // Ended by an answer that said `Connection: close` (a 400 for a body that is not JSON, a client asking to
    // close), or breaking: a write started now would commit unanswered.
    if (socket.destroyed || !socket.writable || isEnding(socket)) {
      request.resume();
      return;
    }
    state.running++;
    if (unsafe) state.writing = true;
    response.once('close', () => {
      state.running--;
      if (unsafe) state.writing = false;
      startWaiting(state);
    });
    serve();
  };
  if (state.waiting.length === 0 && mayStart(state, unsafe)) start();
  else state.waiting.push({ unsafe, start });
}

const mayStart = (state: InOrder, unsafe: boolean) => !state.writing && !(unsafe && state.running > 0);

function startWaiting(state: InOrder) {
  while (state.waiting.length > 0 && mayStart(state, state.waiting[0]!.unsafe)) state.waiting.shift()!.start();
}
