import { createRequire } from 'node:module';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { announcesBody } from '../http/client-error.js';

export interface HttpConventionsOptions {
  config: Pick<Config, 'RATE_LIMIT_MAX' | 'RATE_LIMIT_WINDOW_SECONDS'>;
}

/** Request headers a browser client may send, and response headers it may read, when CORS is on. */
export const CORS_ALLOWED_HEADERS = ['authorization', 'content-type', 'if-match', 'if-none-match', 'x-request-id'];
export const CORS_EXPOSED_HEADERS = [
  'etag',
  'location',
  'retry-after',
  'x-request-id',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
];

export interface ResponseHeadersOptions {
  config: Pick<Config, 'CORS_ORIGINS'>;
}

/**
 * Security headers for an API: it answers JSON, never a page, so nothing may be loaded or framed from a
 * response. Swagger UI sets its own, wider policy on its pages (`staticCSP` in the openapi plugin).
 */
export const SECURITY_HEADER_OPTIONS = {
  contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginEmbedderPolicy: false,
} as const;

type HeaderRecorder = { setHeader(name: string, value: string): void; removeHeader(name: string): void };
type HelmetMiddleware = (req: { method: string; url: string; headers: object }, res: HeaderRecorder, next: (err?: unknown) => void) => void;

/**
 * The headers `helmet` sets with `options`, worked out once. With static directives (no nonces, no
 * functions of the request) they are the same on every answer, and helmet's Fastify plugin rebuilt its
 * whole middleware chain from the options on every request to set them (10–20 µs of CPU each time, in two
 * hooks, one of them async).
 * helmet is the one @fastify/helmet wraps, so the values are exactly what that plugin sends.
 */
export function securityHeaders(options: object = SECURITY_HEADER_OPTIONS): Readonly<Record<string, string>> {
  const fromFastifyHelmet = createRequire(createRequire(import.meta.url).resolve('@fastify/helmet'));
  const helmet = fromFastifyHelmet('helmet') as (options: object) => HelmetMiddleware;
  const headers: Record<string, string> = {};
  let failure: unknown;
  helmet(options)(
    { method: 'GET', url: '/', headers: {} },
    {
      setHeader: (name, value) => void (headers[name.toLowerCase()] = String(value)),
      removeHeader: (name) => void delete headers[name.toLowerCase()],
    },
    (err) => void (failure = err),
  );
  if (failure) throw failure;
  return Object.freeze(headers);
}

/** Swagger UI and the document itself carry no personal data; everything else is `no-store`. */
const CACHEABLE = /^\/(docs(\/|$)|openapi\.json$)/;

/**
 * The headers every answer carries, set as the request arrives so the refusals of the gate and the token
 * check (503, 401, 403) carry them too — a browser client shown a 401 without `Access-Control-Allow-Origin`
 * reports a network error instead of the 401:
 * - CORS (off unless CORS_ORIGINS is set);
 * - the security headers (`securityHeaders`), computed once;
 * - `Cache-Control: no-store` wherever personal data can appear (a route may set its own);
 * - `X-Request-Id`, the id the request is logged and audited under.
 * One synchronous hook with precomputed values: no per-request work beyond copying them.
 */
export const responseHeadersPlugin = fp(
  async (app: FastifyInstance, { config }: ResponseHeadersOptions) => {
    // Before CORS, which answers a preflight from its own hook: the preflight carries them too.
    const security = securityHeaders();
    const documentHeaders = Object.entries(security);
    const apiHeaders = Object.entries({ ...security, 'cache-control': 'no-store' });
    app.addHook('onRequest', (request, reply, done) => {
      const headers = CACHEABLE.test(request.url) ? documentHeaders : apiHeaders;
      for (let i = 0; i < headers.length; i++) reply.header(headers[i]![0], headers[i]![1]);
      reply.header('x-request-id', request.id);
      done();
    });
    if (config.CORS_ORIGINS.length > 0) {
      await app.register(cors, {
        origin: [...config.CORS_ORIGINS],
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowedHeaders: CORS_ALLOWED_HEADERS,
        exposedHeaders: CORS_EXPOSED_HEADERS,
        maxAge: 600,
      });
    }
  },
  { name: 'response-headers' },
);

/**
 * The rate-limit bucket of a request: the token's client (`client_id`, else `sub`) once the auth hook has
 * verified it, else the peer address (public routes: health, discovery without a token, docs).
 */
export function rateLimitKey(request: FastifyRequest): string {
  const principal = (request.call as FastifyRequest['call'] | undefined)?.principal;
  if (principal) return `client:${principal.clientId ?? principal.sub}`;
  return `ip:${request.ip}`;
}

/**
 * Responses up to this size are compressed in one call on the event loop (a feed page of 1000 entries,
 * 700 KB: 2.9 ms at gzip level 1, 4.3 ms at brotli quality 4). The plugin's default (8 KB on two cores) sends
 * anything larger through a zlib stream whose every 16 KB of output is a round trip to libuv's thread pool
 * and back through the event loop: eight turns for such a page, each waiting behind whatever else is ready.
 * Beside four writers a reader then drained the feed at 4,400–5,900 changes/s; compressed in one call,
 * 5,600–6,900 (and 24,000 → 28,000–32,000 alone). Larger responses still stream.
 */
const COMPRESS_INLINE_BYTES = 4 * 1024 * 1024;

/**
 * The HTTP conventions integrators expect, from the Fastify team's own plugins: compression, and rate limiting
 * per client with `RateLimit-*` headers and 429 problems (CORS, security headers and `Cache-Control`:
 * `responseHeadersPlugin`).
 */
export const httpConventionsPlugin = fp(
  async (app: FastifyInstance, { config }: HttpConventionsOptions) => {
    // gzip and deflate at level 1, as nginx compresses by default: JSON of records still shrinks ninefold
    // (a feed page of 1000 entries: 849 KB → 104 KB in 3.3 ms, against 81 KB in 7 ms at zlib's default 6),
    // and a reader waits for the last compressed byte. Brotli keeps the plugin's quality 4.
    await app.register(compress, { global: true, encodings: ['br', 'gzip', 'deflate'], zlibOptions: { level: 1 }, syncThreshold: COMPRESS_INLINE_BYTES });
    // Request bodies may come compressed (br, gzip, deflate; the body limit applies to what they inflate to).
    // Content codings are case-insensitive and x-gzip is gzip (RFC 9110 §8.4.1), which the plugin compares
    // as given; a request without a body has nothing to decode, whatever its header says.
    app.addHook('onRequest', (request, _reply, done) => {
      const coding = request.headers['content-encoding'];
      if (coding !== undefined) {
        if (!announcesBody(request.headers)) {
          delete request.headers['content-encoding'];
        } else {
          const normal = coding.trim().toLowerCase();
          request.headers['content-encoding'] = normal === 'x-gzip' ? 'gzip' : normal;
        }
      }
      done();
    });

    await app.register(rateLimit, {
      global: true,
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
      // After the auth plugin's onRequest hook, so the bucket is the verified client, not a claimed one.
      hook: 'preParsing',
      keyGenerator: rateLimitKey,
      enableDraftSpec: true,
      errorResponseBuilder: (_request, context) =>
        new AppError(429, 'rate_limited', 'Too many requests', {
          detail: `More than ${context.max} requests in ${context.after}; retry after the Retry-After seconds.`,
          headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
        }),
    });
  },
  { name: 'http-conventions', dependencies: ['problem', 'auth'] },
);
