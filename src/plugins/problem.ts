import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, fromDatabaseError, type FieldError } from '../errors.js';
import { loggableError } from '../logger.js';
import { RouteTable } from './route-table.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const problemType = (code: string) => `urn:officer-registry:problem:${code}`;

export function problemBody(error: AppError, requestId: string, instance?: string) {
  return {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    ...(instance ? { instance } : {}),
    code: error.code,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
    ...(error.extensions ?? {}),
  };
}

const LOCATIONS = new Set(['body', 'querystring', 'params', 'headers']);

function fromValidation(error: FastifyError): AppError {
  const context = error.validationContext ?? 'body';
  const location = (context === 'querystring' ? 'query' : LOCATIONS.has(context) ? context : 'body') as FieldError['in'];
  const errors: FieldError[] = (error.validation ?? []).map((issue) => ({
    path: issue.instancePath || '/',
    message: issue.message ?? 'is invalid',
    in: location,
  }));
  return new AppError(400, 'validation_failed', 'Validation failed', {
    detail: `The request ${location === 'query' ? 'query string' : location} has invalid fields.`,
    errors,
  });
}

/** Maps anything thrown in a request to an AppError: ours, Fastify's, the database's, or an unexpected one. */
export function toAppError(error: unknown, route?: { bodyLimit?: number | undefined }): AppError {
  if (error instanceof AppError) return error;
  // Ours, wrapped by the query builder (a pool refusing a connection under load answers through drizzle).
  const wrapped = appErrorCause(error);
  if (wrapped) return wrapped;
  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError) || Array.isArray(fastifyError.validation)) return fromValidation(fastifyError);
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(400, 'malformed_json', 'Malformed JSON', { detail: 'The request body is not valid JSON.' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'payload_too_large', 'Payload too large', {
        detail: route?.bodyLimit
          ? `The request body is larger than this route accepts (${route.bodyLimit} bytes).`
          : 'The request body is larger than this route accepts.',
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new AppError(415, 'unsupported_media_type', 'Unsupported media type', {
        detail: 'Send the body as application/json (or application/merge-patch+json for PATCH).',
      });
    default:
      break;
  }
  if (isAbortedBody(error)) {
    // The client closed the connection mid-body, or the request time limit closed it: not the database's
    // ECONNRESET, and nobody is left to answer.
    return new AppError(408, 'request_timeout', 'Request timeout', {
      detail: 'The request body did not arrive: the connection closed before it ended (request time limit, or the client).',
    });
  }
  if (error instanceof SyntaxError && (fastifyError.statusCode === 400 || !fastifyError.statusCode)) {
    return new AppError(400, 'malformed_json', 'Malformed JSON', { detail: 'The request body is not valid JSON.' });
  }
  const fromDb = fromDatabaseError(error);
  if (fromDb) return fromDb;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // A plugin's own refusal (e.g. a Content-Encoding it cannot decode): the code its status stands for.
    if (status === 415) return new AppError(415, 'unsupported_media_type', 'Unsupported media type', { detail: fastifyError.message });
    if (status === 413) return new AppError(413, 'payload_too_large', 'Payload too large', { detail: fastifyError.message });
    return new AppError(status, 'bad_request', 'Bad request', { detail: fastifyError.message });
  }
  return new AppError(500, 'internal_error', 'Internal server error', {
    detail: 'An unexpected error occurred; it has been logged with the request id.',
    cause: error,
  });
}

/** Node's error on a request body whose connection closed before it ended (`connResetException('aborted')`). */
function isAbortedBody(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; syscall?: unknown } | null;
  return error instanceof Error && e?.code === 'ECONNRESET' && e.message === 'aborted' && e.syscall === undefined;
}

function appErrorCause(error: unknown): AppError | undefined {
  let current: unknown = error;
  for (let i = 0; i < 5 && typeof current === 'object' && current !== null && 'cause' in current; i++) {
    current = current.cause;
    if (current instanceof AppError) return current;
  }
  return undefined;
}

export async function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  for (const [name, value] of Object.entries(error.headers ?? {})) reply.header(name, value);
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).send(problemBody(error, request.id));
}

/** One error handler and one not-found handler: every failure leaves as an RFC 9457 problem. */
export const problemPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler(async (error, request, reply) => {
      const appError = toAppError(error, { bodyLimit: request.routeOptions.bodyLimit });
      // A refusal under load is the gate doing its job, many times a second in a flood: not an error to page on.
      if (appError.status >= 500 && appError.code !== 'overloaded') {
        const serialization = error instanceof Error && isResponseSerializationError(error as FastifyError & { method: string });
        request.log.error({ err: loggableError(error), serialization }, appError.code);
      } else {
        request.log.info({ code: appError.code, status: appError.status }, appError.detail ?? appError.title);
      }
      return sendProblem(request, reply, appError);
    });
    const routes = new RouteTable();
    app.addHook('onRoute', (route) => routes.add(route.url, route.method));
    app.setNotFoundHandler(async (request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      const allowed = routes.allowed(path);
      if (allowed.length > 0) {
        return sendProblem(
          request,
          reply,
          new AppError(405, 'method_not_allowed', 'Method not allowed', {
            detail: `${path} answers ${allowed.join(', ')}, not ${request.method}.`,
            headers: { allow: allowed.join(', ') },
          }),
        );
      }
      return sendProblem(request, reply, new AppError(404, 'not_found', 'Not found', { detail: `No route ${request.method} ${path}.` }));
    });
  },
  { name: 'problem' },
);
