import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';

/**
 * Never log a token, an ID number or a phone number (PIPL art. 51): these paths are redacted wherever
 * a request, a body or an error lands in a log line.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.idCardNumber',
  '*.phone',
  '*.*.idCardNumber',
  '*.*.phone',
  'body',
  'req.body',
];

const PERSONAL_QUERY_PARAMS = new Set(['idcardnumber', 'phone']);

function decodedName(raw: string): string | undefined {
  try {
    // `idCardNumber[]`, `idCardNumber[0]`: the name a client meant, whatever the server makes of the brackets.
    return decodeURIComponent(raw.replace(/\+/g, ' ')).replace(/\[.*$/s, '').trim().toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Request URLs lose the values of personal query parameters (`?idCardNumber=…` look-ups) in every spelling
 * the server would accept or a client might send: names are percent-decoded (`%69dCardNumber`), read without
 * a bracketed suffix (`idCardNumber[]`) and compared without case. A name that cannot be decoded loses its
 * value too.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const end = hash < 0 ? url.length : hash;
  const params = url
    .slice(q + 1, end)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = decodedName(pair.slice(0, eq));
      return name === undefined || PERSONAL_QUERY_PARAMS.has(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    });
  return `${url.slice(0, q + 1)}${params.join('&')}${url.slice(end)}`;
}

/** The bound values of a failed query, which drizzle writes into its error message after "params:". */
const QUERY_PARAMS = /\nparams: [\s\S]*?(?=\n {4}at |$)/;

export interface LoggedError {
  type: string;
  message: string;
  stack: string;
  [key: string]: unknown;
}

const isLoggedError = (value: unknown): value is LoggedError =>
  typeof value === 'object' && value !== null && !(value instanceof Error) && typeof (value as LoggedError).type === 'string';

/**
 * An error as it may be logged: message, stack and causes without SQL parameters (names, birth dates,
 * ciphertexts, blind indexes), and a PostgreSQL error without `detail`/`where`, which can quote row values.
 * Also pino's `err` serializer, so an already scrubbed error passes through unchanged.
 */
export function loggableError(err: unknown, depth = 0): LoggedError {
  if (isLoggedError(err)) return err;
  if (!(err instanceof Error)) return { type: typeof err, message: String(err), stack: '' };
  const scrub = (text: string | undefined) => (text ?? '').replace(QUERY_PARAMS, '\nparams: [redacted]');
  const source: Record<string, unknown> = { ...err };
  const out: LoggedError = { type: err.name, message: scrub(err.message), stack: scrub(err.stack) };
  for (const key of ['code', 'severity', 'constraint', 'table', 'column', 'routine', 'statusCode']) {
    if (source[key] !== undefined) out[key] = source[key];
  }
  if (err.cause !== undefined && depth < 4) out['cause'] = loggableError(err.cause, depth + 1);
  return out;
}

interface LoggedRequest {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  socket?: { remoteAddress?: string; remotePort?: number };
}

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, pretty = false): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      err: (err: Error) => loggableError(err),
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: redactUrl(req.url),
        host: typeof req.headers['host'] === 'string' ? req.headers['host'] : undefined,
        remoteAddress: req.socket?.remoteAddress,
        remotePort: req.socket?.remotePort,
      }),
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } } } : {}),
  };
}

/**
 * Fastify's two lines about every request, "incoming request" and "request completed", written as Fastify
 * writes them but without running REDACT_PATHS over them. Their objects are fixed shapes made by the
 * serializers — `req`: method, URL with personal parameters already out (`redactUrl`), host, peer; `res`: the
 * status; the time taken — which no redaction path can match, and matching the paths against them was two
 * thirds of their cost (some 16 of 24 µs per request). Everything else — errors, a failed request's line,
 * whatever a route logs — goes through the request's own, redacting logger as before.
 */
export class RequestLogLines extends LogController {
  /** Per server logger, a child of it that redacts nothing (pino compiles redaction per logger, once). */
  private readonly unredacted = new WeakMap<FastifyBaseLogger, Logger>();

  private lineLogger(request: FastifyRequest): Logger | undefined {
    // At the request's own level: a route logging above info writes neither line.
    if (!(request.log as Logger).isLevelEnabled('info')) return undefined;
    const server = request.server.log;
    let logger = this.unredacted.get(server);
    if (!logger) this.unredacted.set(server, (logger = (server as Logger).child({}, { redact: [] })));
    return logger;
  }

  override incomingRequest(request: FastifyRequest, _reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    this.lineLogger(request)?.info({ [this.requestIdLogLabel]: request.id, req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply);
    if (this.isLogDisabled(request)) return;
    this.lineLogger(request)?.info({ [this.requestIdLogLabel]: request.id, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
