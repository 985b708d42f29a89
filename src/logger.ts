import type { FastifyServerOptions } from 'fastify';
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

const PERSONAL_QUERY_PARAMS = /([?&](?:idCardNumber|phone)=)[^&#]*/gi;

/** Request URLs lose the values of personal query parameters (`?idCardNumber=…` look-ups). */
export function redactUrl(url: string): string {
  return url.replace(PERSONAL_QUERY_PARAMS, '$1[redacted]');
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
