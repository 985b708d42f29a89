import compress from '@fastify/compress';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';

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
 * CORS (off unless CORS_ORIGINS is set) and security headers for an API, on every answer: registered before
 * the admission gate and the token check, so their refusals (503, 401, 403) carry them too — a browser client
 * shown a 401 without `Access-Control-Allow-Origin` reports a network error instead of the 401.
 */
export const responseHeadersPlugin = fp(
  async (app: FastifyInstance, { config }: ResponseHeadersOptions) => {
    if (config.CORS_ORIGINS.length > 0) {
      await app.register(cors, {
        origin: [...config.CORS_ORIGINS],
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowedHeaders: CORS_ALLOWED_HEADERS,
        exposedHeaders: CORS_EXPOSED_HEADERS,
        maxAge: 600,
      });
    }

    // An API answers JSON, never a page: nothing may be loaded or framed from a response. Swagger UI sets
    // its own, wider policy on its pages (`staticCSP` in the openapi plugin).
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginEmbedderPolicy: false,
    });
  },
  { name: 'response-headers' },
);

/** Swagger UI and the document itself carry no personal data; everything else is `no-store`. */
const CACHEABLE = /^\/(docs(\/|$)|openapi\.json$)/;

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
 * The HTTP conventions integrators expect, from the Fastify team's own plugins: compression, rate limiting
 * per client with `RateLimit-*` headers and 429 problems, and `Cache-Control: no-store` wherever personal
 * data can appear (CORS and security headers: `responseHeadersPlugin`).
 */
export const httpConventionsPlugin = fp(
  async (app: FastifyInstance, { config }: HttpConventionsOptions) => {
    // gzip and deflate at level 1, as nginx compresses by default: JSON of records still shrinks ninefold
    // (a feed page of 1000 entries: 849 KB → 104 KB in 3.3 ms, against 81 KB in 7 ms at zlib's default 6),
    // and a reader waits for the last compressed byte. Brotli keeps the plugin's quality 4.
    await app.register(compress, { global: true, encodings: ['br', 'gzip', 'deflate'], zlibOptions: { level: 1 } });
    // Request bodies may come compressed (br, gzip, deflate; the body limit applies to what they inflate to).
    // Content codings are case-insensitive and x-gzip is gzip (RFC 9110 §8.4.1), which the plugin compares
    // as given; a request without a body has nothing to decode, whatever its header says.
    app.addHook('onRequest', async (request) => {
      const coding = request.headers['content-encoding'];
      if (coding === undefined) return;
      const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
      if (!hasBody) {
        delete request.headers['content-encoding'];
        return;
      }
      const normal = coding.trim().toLowerCase();
      request.headers['content-encoding'] = normal === 'x-gzip' ? 'gzip' : normal;
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

    app.addHook('onSend', async (request, reply) => {
      if (!reply.hasHeader('cache-control') && !CACHEABLE.test(request.url)) reply.header('cache-control', 'no-store');
    });
  },
  { name: 'http-conventions', dependencies: ['problem', 'auth'] },
);
