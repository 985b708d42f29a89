/**
 * Every failure the API reports is an AppError, rendered as an RFC 9457 problem by the problem plugin.
 * PostgreSQL errors are translated here, in one place, by SQLSTATE — never by message text.
 */

export interface FieldError {
  /** JSON Pointer into the request part named by `in` (e.g. `/idCardNumber`, `/operations/3/data/name`). */
  path: string;
  message: string;
  in?: 'body' | 'query' | 'params' | 'headers';
}

export interface AppErrorOptions {
  detail?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(status: number, code: string, title: string, options: AppErrorOptions = {}) {
    super(options.detail ?? title, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers;
    this.extensions = options.extensions;
  }
}

export const validationFailed = (errors: FieldError[], detail = 'The request has invalid fields.') =>
  new AppError(400, 'validation_failed', 'Validation failed', { detail, errors });

/** A domain rule refused the write (422). `path` points at the field an operator should fix. */
/** `cause`: the database error when a constraint refused the write (lets the transaction be retried). */
export const ruleViolation = (path: string, message: string, cause?: unknown) =>
  new AppError(422, 'rule_violation', 'Rule violation', { detail: message, errors: [{ path, message, in: 'body' }], cause });

export const referenceNotFound = (path: string, message: string) =>
  new AppError(422, 'reference_not_found', 'Referenced record not found', {
    detail: message,
    errors: [{ path, message, in: 'body' }],
  });

export const notFound = (detail = 'No such record.') => new AppError(404, 'not_found', 'Not found', { detail });

export const versionConflict = (current: number | undefined, detail?: string) =>
  new AppError(412, 'version_conflict', 'Version conflict', {
    detail: detail ?? `The record has changed: its current version is ${current}. Read it again and retry.`,
    extensions: current === undefined ? {} : { currentVersion: current },
  });

export const forbiddenRegion = (regionCode: string, callerRegion: string) =>
  new AppError(403, 'forbidden_region', 'Region not covered by the token', {
    detail: `Region ${regionCode} is outside the token's region ${callerRegion}.`,
  });

export const missingScope = (scope: string) =>
  new AppError(403, 'insufficient_scope', 'Missing scope', {
    detail: `This operation needs the scope "${scope}".`,
    headers: { 'www-authenticate': `Bearer realm="officer-registry", error="insufficient_scope", scope="${scope}"` },
  });

export const unauthorized = (detail: string) =>
  new AppError(401, 'unauthorized', 'Unauthorized', {
    detail,
    headers: { 'www-authenticate': 'Bearer realm="officer-registry"' },
  });

export const serviceUnavailable = (detail = 'The database is unavailable; retry shortly.', cause?: unknown) =>
  new AppError(503, 'service_unavailable', 'Service unavailable', { detail, headers: { 'retry-after': '5' }, cause });

/** SQLSTATE classes that mean "retry the whole transaction". */
export const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
  detail?: unknown;
}

function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as PgLikeError).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Errors raised by the driver when the server cannot be reached or the connection dropped. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);

export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as PgLikeError).code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  const state = sqlState(err);
  // 08xxx connection exceptions, 57P01..57P03 admin shutdown / crash shutdown / cannot connect now.
  if (state && (state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03')) return true;
  // pg raises plain Errors for a pool timeout or a connection terminated mid-query; they carry no code.
  const message = err instanceof Error ? err.message : '';
  return (
    err instanceof Error &&
    !('code' in err) &&
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/.test(
      message,
    )
  );
}

export function constraintOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const c = (err as PgLikeError).constraint;
  return typeof c === 'string' ? c : undefined;
}

/** A unique index (23505) or an exclusion constraint (23P01) refused a row. */
export function isConstraintViolation(err: unknown): boolean {
  const state = sqlState(err);
  return state === '23505' || state === '23P01';
}

/** A statement the database ended for taking too long: the statement timeout (57014) or the lock timeout (55P03). */
export function isTimeout(err: unknown): boolean {
  const state = sqlState(err);
  return state === '57014' || state === '55P03';
}

export function isRetryable(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && RETRYABLE_SQLSTATES.has(state);
}

/** Walks `cause` chains: drizzle wraps driver errors in DrizzleQueryError. */
export function rootDbError(err: unknown): unknown {
  let current = err;
  for (let i = 0; i < 5; i++) {
    if (sqlState(current) || isConnectionError(current)) return current;
    if (typeof current === 'object' && current !== null && 'cause' in current && current.cause) current = current.cause;
    else break;
  }
  return err;
}

/** One place that turns a PostgreSQL error into an AppError, by SQLSTATE. */
export function fromDatabaseError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const root = rootDbError(err);
  if (isConnectionError(root)) return serviceUnavailable(undefined, err);
  const state = sqlState(root);
  if (!state) return undefined;
  switch (state) {
    case '23505':
    case '23P01':
      return new AppError(409, 'conflict', 'Conflict', {
        detail: 'A record already holds a value that must be unique; read it and update that record instead.',
        cause: err,
      });
    case '23503':
      return new AppError(422, 'reference_not_found', 'Referenced record not found', {
        detail: 'A referenced record does not exist.',
        cause: err,
      });
    case '23514':
    // 22021 / 22P05: text the database cannot hold (NUL, bad encoding); the input guard refuses it first.
    case '22021':
    case '22P05':
    case '22P02':
    case '22007':
    case '22008':
    case '22003':
      return new AppError(422, 'rule_violation', 'Rule violation', {
        detail: 'A value is out of the range the database accepts.',
        cause: err,
      });
    case '40001':
    case '40P01':
      return new AppError(503, 'retry', 'Concurrent update, retry', {
        detail: 'The write collided with a concurrent one; retry it.',
        headers: { 'retry-after': '1' },
        cause: err,
      });
    case '57014':
      return new AppError(503, 'query_timeout', 'Query timed out', {
        detail: 'The database took too long to answer; retry shortly.',
        headers: { 'retry-after': '5' },
        cause: err,
      });
    // lock_timeout (10 s, db/client.ts): another request held a row this one needed for that long.
    case '55P03':
      return new AppError(503, 'query_timeout', 'Query timed out', {
        detail: 'A record this request needed was held by another request for too long; retry shortly.',
        headers: { 'retry-after': '5' },
        cause: err,
      });
    case '53300':
    case '53400':
      return serviceUnavailable('The database has no free connections; retry shortly.', err);
    default:
      return undefined;
  }
}
