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

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, pretty = false): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } } } : {}),
  };
}
